# Entry points. Each installs the missing dependencies of its own need first
# (Debian 12, as root): build/install/deb the build tools and libraries, demo
# also python3-protobuf, test also GoogleTest and Chromium, bench the peers.
BUILD ?= build
JOBS ?= 2
PREFIX ?= /usr/local
DEMO_WORKLOADS = eventfd_pingpong shim_select syscall_burst
BENCH_WORKLOADS = eventfd_pingpong syscall_burst task_churn

.PHONY: all deps build test-build demo test test-asan test-valgrind fuzz bench clean install deb

all: build

deps:
	@bash scripts/install-deps.sh

build:
	@bash scripts/install-deps.sh build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory | grep -v "^\[" || true

# bin/probe-agent, bin/probe-report, lib/probe/libprobe_preload.so, include/probe.h,
# man pages, bash completion and the Python reader under $(PREFIX).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# A Debian package (probe_VERSION_ARCH.deb) in $(BUILD).
deb: build
	cd $(BUILD) && cpack -G DEB

# Records the bundled demo workload and prints its report.
demo: build
	@bash scripts/install-deps.sh demo
	@cmake --build $(BUILD) -j$(JOBS) --target $(DEMO_WORKLOADS) -- --no-print-directory | grep -v "^\[" || true
	@rm -f demo.ptrace
	PROBE_PINGPONG=$(BUILD)/tests/eventfd_pingpong PROBE_SHIM_SELECT=$(BUILD)/tests/shim_select \
	  PROBE_SHIM_SELECT_PY=tests/workloads/shim_select.py \
	  $(BUILD)/agent/probe-agent --preload -o demo.ptrace -- tests/workloads/demo.sh
	$(BUILD)/report/probe-report demo.ptrace --interval BEFORE_SELECT..AFTER_SELECT
	@echo
	@echo "== exports of the same file: Chrome/Perfetto trace, CSV, HTML, and Python =="
	$(BUILD)/report/probe-report demo.ptrace --no-progress --chrome demo-trace.json --csv demo-csv \
	  --html demo-report.html > /dev/null
	@ls -l demo-trace.json demo-report.html demo-csv | sed 's/^/  /'
	@echo "  open demo-trace.json in https://ui.perfetto.dev (or chrome://tracing), demo-report.html in a browser"
	PROBE_BUILD_DIR=$(BUILD) /usr/bin/python3 python/examples/slowest_waits.py demo.ptrace -n 3
	@echo
	@echo "== overload: 2 million polls in about a second, 1 syscall record in 100 kept, histograms exact =="
	$(BUILD)/agent/probe-agent --events process,syscalls --sample syscalls=1/100 -f -o demo-burst.ptrace \
	  -- $(BUILD)/tests/syscall_burst --events 2000000 --kind poll0
	$(BUILD)/report/probe-report demo-burst.ptrace | sed -n '/^syscalls/,/^percentiles/p;/^counters/,$$p'

test:
	@bash scripts/install-deps.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory | grep -v "^\[" || true
	@cd $(BUILD) && ctest --output-on-failure -j1

# The whole suite with ASan + UBSan (not the shim, the workloads or the BPF
# objects; see PROBE_SANITIZE in CMakeLists.txt) in build-asan; ~10 minutes to build.
ASAN_BUILD ?= build-asan
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DPROBE_SANITIZE=ON -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS) -- --no-print-directory | grep -v "^\[" || true
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j1

# The fuzzers alone for longer than the test suite's 30 s each (ASan + UBSan):
# make fuzz FUZZ_SECONDS=3600. New inputs that grow coverage stay in
# $(BUILD)/tests/NAME_corpus; copy the small ones to tests/fuzz_corpus/NAME.
FUZZ_SECONDS ?= 300
fuzz: test-build
	@set -e; for f in record_reader event_decoder shim_consumer; do \
	  mkdir -p $(BUILD)/tests/$${f}_corpus; cp -r tests/fuzz_corpus/$$f/. $(BUILD)/tests/$${f}_corpus/; \
	  echo "== $$f, $(FUZZ_SECONDS) s"; \
	  $(BUILD)/tests/$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -print_final_stats=1 \
	    $(BUILD)/tests/$${f}_corpus 2>&1 | grep -E "^(stat::|==|SUMMARY|Done)" ; \
	done

# The agent under valgrind for a short traced run: fails on a definite leak.
test-valgrind: test-build
	@bash tests/valgrind_agent.sh $(BUILD)

# Foundation (process lifetimes), syscall-latency, shim and throughput benchmarks; ~7 minutes.
bench: build
	@bash scripts/install-deps.sh demo
	@bash scripts/install-bench-deps.sh
	@cmake --build $(BUILD) -j$(JOBS) --target $(BENCH_WORKLOADS) -- --no-print-directory | grep -v "^\[" || true
	@python3 bench/foundation_bench.py $(BUILD)
	@python3 bench/syscall_bench.py $(BUILD)
	@python3 bench/shim_bench.py $(BUILD)
	@python3 bench/throughput_bench.py $(BUILD)
	@python3 bench/report_bench.py $(BUILD)

# The build with the tests, without running them (fuzz, test-valgrind).
test-build:
	@bash scripts/install-deps.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory | grep -v "^\[" || true

clean:
	rm -rf $(BUILD) demo.ptrace demo-burst.ptrace demo-trace.json demo-report.html demo-csv
