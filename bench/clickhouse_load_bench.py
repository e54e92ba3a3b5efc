#!/usr/bin/env python3
"""probe-report --clickhouse: load rate into a real clickhouse-server on this
machine (rows/s and MB/s of record file), side by side with probe-report
--csv on the same file (the same records turned into rows, written to local
files instead of sent over HTTP), and probe-report's peak memory on two file
sizes (it streams: memory must not grow with the file).

Records the files with the real agent (tests/workloads/syscall_burst, eventfd
write/read pairs on 2 threads), starts Debian's clickhouse-server itself on
free 127.0.0.1 ports with a temporary data directory (stopped at the end,
whatever happens), and loads each file into a fresh database per block so
nothing is skipped as already loaded. Blocks alternate the order of the two
sides.

Usage: bench/clickhouse_load_bench.py BUILD_DIR [--events N] [--blocks B]"""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

from benchlib import arg, build_dir, log, rotated, run_main, time_v

build = build_dir()
events = arg("--events", 2_000_000)
blocks = arg("--blocks", 3)
agent = os.path.join(build, "agent/probe-agent")
report = os.path.join(build, "report/probe-report")
burst = os.path.join(build, "tests/syscall_burst")
tmp = tempfile.mkdtemp(prefix="probe_chbench_")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_server():
    d = os.path.join(tmp, "ch")
    os.makedirs(d)
    http, tcp, inter = free_ports(3)
    with open(os.path.join(d, "config.xml"), "w") as f:
        f.write(f"""<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog><console>0</console></logger>
<listen_host>127.0.0.1</listen_host><http_port>{http}</http_port><tcp_port>{tcp}</tcp_port>
<interserver_http_port>{inter}</interserver_http_port>
<path>{d}/data/</path><tmp_path>{d}/data/tmp/</tmp_path><user_files_path>{d}/data/user_files/</user_files_path>
<format_schema_path>{d}/data/format_schemas/</format_schema_path>
<users_config>{d}/users.xml</users_config><default_profile>default</default_profile>
<default_database>default</default_database><mark_cache_size>67108864</mark_cache_size>
<timezone>UTC</timezone></yandex>""")
    with open(os.path.join(d, "users.xml"), "w") as f:
        f.write("""<?xml version="1.0"?><yandex><profiles><default></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile>
<quota>default</quota></default></users><quotas><default></default></quotas></yandex>""")
    log_file = open(os.path.join(d, "stdout.log"), "w")
    proc = subprocess.Popen(["/usr/sbin/clickhouse-server", f"--config-file={d}/config.xml"],
                            stdout=log_file, stderr=log_file)
    url = f"http://127.0.0.1:{http}/"
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if proc.poll() is not None:
            sys.exit("clickhouse_load_bench: clickhouse-server exited at start")
        try:
            if urllib.request.urlopen(url + "ping", timeout=1).read() == b"Ok.\n":
                return proc, url, time.monotonic() - t0
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("clickhouse_load_bench: clickhouse-server did not answer within 60 s")


def query(url, sql):
    return urllib.request.urlopen(url, data=sql.encode()).read().decode()


def record(n, path):
    r = subprocess.run([agent, "--ring-buffer", "64M", "-f", "-o", path, "--", burst, "--events",
                        str(n), "--threads", "2", "--kind", "eventfd"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"clickhouse_load_bench: agent failed: {r.stderr.strip()}")
    return os.path.getsize(path)


def timed(args):
    r, rss, secs = time_v([report, "--no-progress"] + args, stdout=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"clickhouse_load_bench: probe-report {' '.join(args)} failed: {r.stderr.strip()}")
    return secs, rss, r.stdout


def rows_of(out):
    return sum(int(n) for n in re.findall(r"(?:runs|processes|syscalls|wakeups|syscall_histograms|"
                                          r"sched_histograms|shim_calls|markers|counters) (\d+)", out))


def main():
    big, small = os.path.join(tmp, "big.ptrace"), os.path.join(tmp, "small.ptrace")
    log(f"clickhouse_load_bench: recording {events:,} and {events // 10:,} eventfd syscalls")
    big_bytes, small_bytes = record(events, big), record(events // 10, small)
    server, url, start_s = start_server()
    try:
        version = query(url, "SELECT version()").strip()
        print(f"clickhouse_load_bench: clickhouse-server {version} (answered {start_s:.2f} s after "
              f"start), files of {big_bytes / 1e6:.1f} MB and {small_bytes / 1e6:.1f} MB")
        print(f"   {'block':<6} {'side':<14} {'seconds':>8} {'rows/s':>10} {'MB/s':>7} {'peak RSS':>9}")
        results = {"clickhouse": [], "csv": []}
        rows = 0
        for b in range(blocks):
            for side in rotated(["clickhouse", "csv"], b):
                if side == "clickhouse":
                    secs, rss, out = timed([big, "--clickhouse", url, "--database", f"bench{b}"])
                    rows = rows_of(out)
                else:
                    secs, rss, _ = timed([big, "--csv", os.path.join(tmp, f"csv{b}")])
                    shutil.rmtree(os.path.join(tmp, f"csv{b}"), ignore_errors=True)
                results[side].append((secs, rss))
                print(f"   {b:<6} {side:<14} {secs:>8.2f} {rows / secs:>10,.0f} "
                      f"{big_bytes / 1e6 / secs:>7.1f} {rss:>7.1f} M")
        stored = int(query(url, "SELECT count() FROM bench0.syscalls").strip())
        small_secs, small_rss, _ = timed([small, "--clickhouse", url, "--database", "bench_small"])
        med = lambda side: sorted(s for s, _ in results[side])[len(results[side]) // 2]
        ch, csv = med("clickhouse"), med("csv")
        print(f"median: --clickhouse {ch:.2f} s = {rows / ch:,.0f} rows/s, {big_bytes / 1e6 / ch:.1f} MB/s "
              f"of record file ({rows:,} rows, {stored:,} in syscalls); --csv {csv:.2f} s; "
              f"ratio clickhouse/csv {ch / csv:.2f}")
        print(f"peak RSS of --clickhouse: {max(r for _, r in results['clickhouse']):.1f} MiB on the "
              f"{big_bytes / 1e6:.0f} MB file, {small_rss:.1f} MiB on the {small_bytes / 1e6:.1f} MB file")
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


run_main(main, tmp)
