"""The restart cell: SIGTERM the serving tpcd, exec it again on its existing store and
time exec -> the first 200 of the small aggregate (a 1 ms connect/GET loop), five times.
Target (issue 15): <= 10 ms."""

import socket
import time

import bench_report
from bench_lib import fmt_ms, median, raw_get, read_response, verdict

TARGET_MS = 10


def restart(t, info):
    """exec -> first 200 of the small aggregate on the existing store, median of 5."""
    req = raw_get(t.port, info["small"]["path"])
    times, stops = [], []
    for i in range(5):
        s0 = time.monotonic()
        rc = t.stop()
        if rc != 0:
            raise RuntimeError("tpcd did not exit 0 on SIGTERM (%s):\n%s" % (rc, t.tail()))
        stops.append((time.monotonic() - s0) * 1000)
        t0 = time.monotonic()
        t.start(wait=False)
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", t.port), timeout=5)
                try:
                    s.sendall(req)
                    if read_response(s) == 200:
                        break
                finally:
                    s.close()
            except OSError:
                pass
            t.alive()
            if time.monotonic() - t0 > 30:
                raise RuntimeError("no 200 within 30 s of restart")
            time.sleep(0.001)
        times.append((time.monotonic() - t0) * 1000)
    return times, stops


def figures(r, onote):
    times, stops = r
    m = median(times)
    return ["restart -> first 200 (existing store, warm page cache, exec to 200 of "
            "the small aggregate): median %s (runs %s; SIGTERM->exit %s%s)   "
            "target <= %d ms  %s" % (
                fmt_ms(m), " ".join(fmt_ms(x) for x in times),
                fmt_ms(median(stops)), onote, TARGET_MS, verdict(m <= TARGET_MS))]


def table(r, state):
    times, stops = r
    m = median(times)
    bench_report.add("restart -> first 200 (existing store)", "median of %d" % len(times),
                     fmt_ms(m), "", "", "<= %d ms" % TARGET_MS, verdict(m <= TARGET_MS),
                     state)
