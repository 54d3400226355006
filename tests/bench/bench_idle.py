"""The idle cell: a crowd of keep-alive connections (one GET each, then idle) against the
serving tpcd: its RSS before and with them, nginx's for reference, the 64-connection
throughput without and with the crowd (alternated, ABBA), and whether every idle
connection still answers afterwards."""

import socket
import time

import bench_report
from bench_lib import ARGS, median, note, raw_get, read_response, rss_mb, verdict, wrk


def open_crowd(port, path, n):
    """n keep-alive connections, each having had one GET answered; left idle."""
    req = raw_get(port, path)
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(s)
            s.sendall(req)
            st = read_response(s)
            if st != 200:
                raise RuntimeError("crowd GET: %d" % st)
    except Exception:
        close_crowd(socks)
        raise
    return socks


def crowd_alive(socks, port, path):
    """Sends one more GET on every idle connection: how many still answer 200."""
    req = raw_get(port, path)
    alive = 0
    for s in socks:
        try:
            s.sendall(req)
            if read_response(s) == 200:
                alive += 1
        except OSError:
            pass
    return alive


def close_crowd(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def idle(t, ngx, info):
    n = ARGS.idle
    path = info["small"]["path"]
    wrk(t.port, path, 64, 2, False, t.pids)	# warm-up: tpcd was just restarted
    time.sleep(0.5)
    rss0 = rss_mb(t.pids)
    base, withc, rss1, alive, opened = [], [], [], [], []
    for rnd in range(ARGS.rounds):
        # alternated, and the order flipped every round (ABBA): no drift favours one side
        for crowd in ((False, True) if rnd % 2 == 0 else (True, False)):
            if not crowd:
                base.append(wrk(t.port, path, 64, ARGS.duration, False, t.pids))
                continue
            o0 = time.monotonic()
            socks = open_crowd(t.port, path, n)
            opened.append(time.monotonic() - o0)
            try:
                time.sleep(0.5)
                rss1.append(rss_mb(t.pids))
                withc.append(wrk(t.port, path, 64, ARGS.duration, False, t.pids))
                alive.append(crowd_alive(socks, t.port, path))
            finally:
                close_crowd(socks)
            time.sleep(0.5)
        note("idle round %d: %.0f req/s without, %.0f with %d idle; RSS %.1f MB; %d alive"
             % (rnd + 1, base[-1]["rps"], withc[-1]["rps"], n, rss1[-1], alive[-1]))
    # nginx, for reference: memory only
    time.sleep(0.5)
    nrss0 = rss_mb(ngx.pids)
    socks = open_crowd(ngx.port, path, n)
    try:
        time.sleep(0.5)
        nrss1 = rss_mb(ngx.pids)
    finally:
        close_crowd(socks)
    return {"rss0": rss0, "rss1": max(rss1), "base": base, "with": withc, "alive": min(alive),
            "opened": median(opened), "nrss0": nrss0, "nrss1": nrss1, "n": n}


def figures(r, onote):
    b, w = median([x["rps"] for x in r["base"]]), median([x["rps"] for x in r["with"]])
    drop = (b - w) / b * 100
    per = (r["rss1"] - r["rss0"]) * 1024 / r["n"]
    nper = (r["nrss1"] - r["nrss0"]) * 1024 / r["n"]
    return ["{:,}".format(r["n"]) + " idle keep-alive connections (one GET each, "
            "then idle; opened in %.1fs; %d/%d still answered afterwards): tpcd RSS "
            "%.1f -> %.1f MB (%.1f KB/conn)   target <= 100 MB  %s" % (
                r["opened"], r["alive"], r["n"], r["rss0"], r["rss1"], per,
                verdict(r["rss1"] <= 100)),
            "   nginx for reference: RSS (master+workers) %.1f -> %.1f MB "
            "(%.1f KB/conn)" % (r["nrss0"], r["nrss1"], nper),
            "   small identity at 64 conns: %s req/s without, %s with the idle "
            "crowd (medians of %d alternated runs%s): %s %.1f %%   target drop "
            "< 10 %%  %s" % ("{:,.0f}".format(b), "{:,.0f}".format(w), ARGS.rounds,
                             onote, "drop" if drop >= 0 else "gain", abs(drop),
                             verdict(drop < 10))]


def table(r, state):
    b, w = median([x["rps"] for x in r["base"]]), median([x["rps"] for x in r["with"]])
    drop = (b - w) / b * 100
    cell = "{:,}".format(r["n"]) + " idle keep-alive connections"
    bench_report.add(cell, "RSS with them", "%.1f MB" % r["rss1"], "%.1f MB" % r["nrss1"],
                     "", "<= 100 MB", verdict(r["rss1"] <= 100), state)
    bench_report.add(cell, "64-conn req/s drop", "%.1f %%" % drop, "", "", "< 10 %",
                     verdict(drop < 10))
    bench_report.add(cell, "still answering", "%d/%d" % (r["alive"], r["n"]), "", "", "all",
                     verdict(r["alive"] == r["n"]))
