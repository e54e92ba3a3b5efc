#!/usr/bin/python3
# Starts Debian's redis-server on a free 127.0.0.1 port (no persistence, not
# the system service), drives it with redis-benchmark, and prints the server's
# pid, its threads' kernel counters just before and just
# after the benchmark ("thread ..." lines), and redis's own statistics (a
# "redis ..." line). Stops the server. The server runs on one CPU
# (truth_lib.pin_to_one_cpu says why); the benchmark may run anywhere.
# Usage: redis_drive.py DIR REQUESTS
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth_lib  # noqa: E402


def cli(port, *args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                          capture_output=True, text=True, timeout=10).stdout


def info(port, section):
    out = {}
    for line in cli(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.strip().split(":", 1)
            out[k] = v
    return out


def main():
    workdir, requests = sys.argv[1], int(sys.argv[2])
    port = truth_lib.free_port()
    # hz 1: the server's own timer fires once a second, so it is asleep
    # while its counters are read.
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--hz", "1", "--daemonize", "no", "--dir", workdir,
         "--logfile", os.path.join(workdir, "redis.log")],
        preexec_fn=truth_lib.pin_to_one_cpu)
    try:
        for _ in range(200):
            if cli(port, "PING").strip() == "PONG":
                break
            time.sleep(0.05)
        time.sleep(0.2)
        stats0 = info(port, "stats")
        before = truth_lib.thread_counters(server.pid)
        bench = subprocess.run(
            ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests),
             "-c", "10", "-t", "get,set", "-q"], capture_output=True, text=True, timeout=60)
        time.sleep(0.05)
        after = truth_lib.thread_counters(server.pid)
        stats1 = info(port, "stats")
        cmds = info(port, "commandstats")
        cmd = {k[len("cmdstat_"):]: int(v.split(",")[0].split("=")[1])
               for k, v in cmds.items() if k.startswith("cmdstat_")}
        print(f"redis pid={server.pid} bench_rc={bench.returncode} "
              f"get={cmd.get('get', 0)} set={cmd.get('set', 0)} "
              f"config={cmd.get('config|get', 0)} "
              f"commands={int(stats1['total_commands_processed']) - int(stats0['total_commands_processed'])} "
              f"connections={int(stats1['total_connections_received']) - int(stats0['total_connections_received'])}",
              flush=True)
        truth_lib.print_threads(before, after)
        cli(port, "SHUTDOWN", "NOSAVE")
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
