"""A process's own CPU time, read while it runs (/proc) and at its exit
(wait4's rusage)."""
import os, signal, time


def cpu_ns(pid):
    """CPU time of every live thread of pid, ns (se.sum_exec_runtime, µs
    precision); falls back to /proc/PID/stat utime+stime (clock ticks)."""
    total, found = 0.0, False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/sched") as f:
                    for line in f:
                        if line.startswith("se.sum_exec_runtime"):
                            total += float(line.split(":")[1]) * 1e6  # ms -> ns
                            found = True
                            break
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        return None
    if found:
        return total
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, IndexError):
        return None


def wait_rusage(proc, timeout, what):
    """Waits for proc with wait4(); returns (cpu_ns, exited_by_itself). SIGINT
    after timeout, SIGKILL 30 s later."""
    deadline = time.monotonic() + timeout
    by_itself = True
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return (ru.ru_utime + ru.ru_stime) * 1e9, by_itself
        if time.monotonic() > deadline:
            if not by_itself:
                proc.kill()
                deadline = time.monotonic() + 30
                continue
            by_itself = False
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 30
        time.sleep(0.005)
