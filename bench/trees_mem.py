#!/usr/bin/python3
"""Peak memory of PostgreSQL processes, for bench/trees.sh.

    /usr/bin/python3 bench/trees_mem.py POSTMASTER_PID OUTFILE &

Samples /proc every 50 ms until SIGTERM.  The children of the postmaster
alive at start (checkpointer, walwriter, ...) are ignored; every child that
appears later (the training session's backend and its parallel workers) is
followed.  On SIGTERM writes one line to OUTFILE:

    backend_hwm_mib workers_hwm_mib sum_hwm_mib peak_anon_mib n_workers

backend_hwm: VmHWM (peak resident set) of the process that lived longest
(the session's backend); workers_hwm: the largest VmHWM among the others;
sum_hwm: the sum of all their VmHWM (an upper bound of the joint peak, as
workers may not peak together); peak_anon: the largest sampled sum of
RssAnon (private memory, excluding shared buffers that VmHWM counts once
touched) over the followed processes alive at one instant.
"""
import os
import signal
import sys
import time


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def status(pid):
    got = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "RssAnon"):
                    got[k] = int(v.split()[0]) / 1024.0
    except OSError:
        return None
    return got


def main():
    ppid, out = int(sys.argv[1]), sys.argv[2]
    ignore = set(children(ppid))
    hwm, first, last = {}, {}, {}
    peak_anon = 0.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        anon = 0.0
        now = time.monotonic()
        for pid in children(ppid):
            if pid in ignore:
                continue
            s = status(pid)
            if not s:
                continue
            hwm[pid] = max(hwm.get(pid, 0.0), s.get("VmHWM", 0.0))
            first.setdefault(pid, now)
            last[pid] = now
            anon += s.get("RssAnon", 0.0)
        peak_anon = max(peak_anon, anon)
        time.sleep(0.05)
    if not hwm:
        line = "nan nan nan nan 0"
    else:
        backend = max(hwm, key=lambda p: last[p] - first[p])
        others = [v for p, v in hwm.items() if p != backend]
        line = "%.1f %.1f %.1f %.1f %d" % (hwm[backend], max(others) if others else 0.0,
                                           sum(hwm.values()), peak_anon, len(others))
    with open(out, "w") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
