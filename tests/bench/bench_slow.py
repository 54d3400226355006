"""The slow-client cell: slow-head and slow-body attackers (one byte a second each,
re-opened when the server cuts them) against the default deadlines, while one healthy
client GETs the small body: its latencies and failures, tpcd's RSS and log volume."""

import http.client
import socket
import time

import bench_report
from bench_lib import ARGS, TOKEN, fmt_ms, rss_mb, verdict


def slow_open(port, body):
    """One attacker: a head that never ends, or a 64 KB login body that never comes."""
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return {"sock": s, "body": body, "sent": 0, "head": False}


def slow_tick(c):
    """Sends this client's next byte; False once the server has cut it."""
    s = c["sock"]
    try:
        if c["body"] and not c["head"]:
            s.send(b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                   b"\r\nContent-Length: 65536\r\n\r\n")
            c["head"] = True
        elif c["sent"] == 0 and not c["body"]:
            s.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            s.send(b"a")
        c["sent"] += 1
        if s.recv(4096, socket.MSG_DONTWAIT) == b"":
            return False
    except BlockingIOError:
        pass
    except OSError:
        return False
    return True


def slow(t, info):
    """2 000 slow-head and 1 000 slow-body clients (one byte a second each, re-opened when
    cut) against the default deadlines, while one healthy client GETs the small body."""
    path = info["small"]["path"]
    n_head, n_body, secs = ARGS.slow_head, ARGS.slow_body, ARGS.slow_seconds
    log0 = sum(1 for _ in open(t.log, errors="replace"))
    rss0 = rss_mb(t.pids)
    clients = [slow_open(t.port, False) for _ in range(n_head)] + \
        [slow_open(t.port, True) for _ in range(n_body)]
    lat, failed, cut, rss = [], 0, 0, rss0
    end = time.monotonic() + secs
    next_tick = 0.0
    conn = None
    while time.monotonic() < end:
        if time.monotonic() >= next_tick:	# every attacker sends one byte a second
            for i, c in enumerate(clients):
                if not slow_tick(c):
                    cut += 1
                    c["sock"].close()
                    clients[i] = slow_open(t.port, c["body"])
            next_tick = time.monotonic() + 1.0
            rss = max(rss, rss_mb(t.pids))
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=10)
            conn.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                failed += 1
            lat.append((time.monotonic() - t0) * 1000)
        except (OSError, http.client.HTTPException):
            failed += 1
            conn = None
        time.sleep(0.02)
    for c in clients:
        c["sock"].close()
    lines = sum(1 for _ in open(t.log, errors="replace")) - log0
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
    return {"n": len(lat), "failed": failed, "p50": p(0.5), "p99": p(0.99),
            "max": lat[-1] if lat else float("nan"), "rss0": rss0, "rss": rss, "cut": cut,
            "lines": lines, "n_head": n_head, "n_body": n_body, "secs": secs}


def figures(r, onote):
    return ["%d slow-head + %d slow-body clients for %d s (one byte/s each, "
            "re-opened when cut; %d cuts): healthy GET of the small body %d answered, "
            "%d failed; p50 %s p99 %s max %s%s   target all answered, p99 <= 50 ms  %s"
            % (r["n_head"], r["n_body"], r["secs"], r["cut"], r["n"], r["failed"],
               fmt_ms(r["p50"]), fmt_ms(r["p99"]), fmt_ms(r["max"]), onote,
               verdict(r["failed"] == 0 and r["p99"] <= 50)),
            "   tpcd RSS %.1f -> %.1f MB at most; %d log lines meanwhile" % (
                r["rss0"], r["rss"], r["lines"])]


def table(r, state):
    cell = "%d slow-head + %d slow-body clients" % (r["n_head"], r["n_body"])
    bench_report.add(cell, "healthy GET p99", fmt_ms(r["p99"]), "", "", "<= 50 ms",
                     verdict(r["p99"] <= 50), state)
    bench_report.add(cell, "healthy GETs failed", "%d (%d answered)" % (r["failed"], r["n"]),
                     "", "", "0", verdict(r["failed"] == 0))
