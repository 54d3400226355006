#!/usr/bin/python3
"""make bench: tpcd against Debian's nginx serving the very same bytes, plus restart time,
memory with 10 000 idle keep-alive connections, a healthy client among 3 000 slow ones and
refresh ingest from fakesnow (1 M and 10 M rows); at the end one table of every figure
beside its target, ready to paste into README.md.

Everything runs in one temporary directory: the demo data, a bench catalogue (the real
one plus a large `daily_product_sales`), tpcd on a free loopback port with an API token,
nginx with its own configuration (loopback only, `gzip_static`, the bodies exported from
tpcd as static files), and a fakesnow holding a dynamic table of >= 1 M, then >= 10 M rows.

A benchmark, not a test: figures are printed with their targets and PASS/MISS; the exit
status is 0 whatever the numbers, non-zero only when something broke. Every process and
the temporary directory are cleaned up on exit, Ctrl-C included.

    tests/bench/bench.py [-d SECONDS] [-r ROUNDS]
                         [--only serve,restart,idle,slow,never_waits,ingest]
                         [--cells small-plain-64,...] [--idle N] [--slow-head N]
                         [--slow-body N] [--slow-seconds N] [--ingest-rows N]
                         [--ingest-big-rows N] [--partition-rows N]
                         [--never-waits-rows N] [--profile [CELL,...]] [--keep]

The cells live beside this entry point, one module per family: bench_serve (setup and the
wrk table), bench_restart, bench_idle, bench_slow, bench_never_waits, bench_ingest; the
servers in bench_servers; what they share (processes, /proc figures, wrk) in bench_lib;
the final table in bench_report; --profile's perf recording in bench_profile.
"""

import argparse
import os
import platform
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback

import bench_idle
import bench_ingest
import bench_never_waits
import bench_profile
import bench_report
import bench_restart
import bench_serve
import bench_slow
from bench_lib import (ARGS, FAKESNOW, ROOT, THREADS, TPCD, Others, cleanup,
                       on_signal, others_note, out, sh, status_like)

_work = None		# the temporary directory


# ------------------------------------------------------------------------- machine

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        mem = status_like("/proc/meminfo", "MemTotal") / 1048576.0
    except OSError:
        pass
    try:
        with open("/etc/debian_version") as f:
            deb = "Debian " + f.read().strip()
    except OSError:
        deb = platform.platform()
    aff = len(os.sched_getaffinity(0))
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    out("machine: %d CPUs (%d usable), %s; kernel %s; %.1f GiB RAM; %s; load average %s"
        % (os.cpu_count(), aff, model, platform.release(), mem, deb, load))
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    ngx = sh([shutil.which("nginx") or "/usr/sbin/nginx", "-v"]).replace("nginx version: ", "")
    wrkv = sh(["wrk", "-v"]).splitlines()
    lev = sh(["pkg-config", "--modversion", "libevent"])
    out("software: tpcd %s (git %s%s), %s, %s, libevent %s" % (
        os.path.relpath(TPCD, ROOT), rev or "?", "+local changes" if dirty else "", ngx,
        wrkv[0].split(" [")[0] if wrkv else "wrk ?", lev or "?"))



# ---------------------------------------------------------------------------- main

def run():
    global _work
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile != resource.RLIM_INFINITY and ARGS.idle > nofile - 500:
        ARGS.idle = max(100, nofile - 500)
    for tool in ("wrk",):
        if not shutil.which(tool):
            raise RuntimeError("%s not found (make bench installs it)" % tool)
    for b in (TPCD, FAKESNOW):
        if not os.access(b, os.X_OK):
            raise RuntimeError("%s not built (make all)" % b)
    started = time.monotonic()
    out("== tpcd bench, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    machine()
    _work = tempfile.mkdtemp(prefix="tpcd-bench-")
    only = set(ARGS.only)
    broken = []
    t = ngx = info = None
    if only & {"serve", "restart", "idle", "slow"}:
        t, ngx, info = bench_serve.setup_serving(_work)
        bench_serve.print_setup(t, info, nofile)
    results = bench_serve.serving(t, ngx, info, _work) if "serve" in only else {}
    if results:
        bench_serve.print_serving(results, info)
    figures = []
    if "restart" in only:
        o = Others()
        r = bench_restart.restart(t, info)
        figures += bench_restart.figures(r, others_note(o))
        bench_restart.table(r, o)
    if "idle" in only:
        o = Others()
        r = bench_idle.idle(t, ngx, info)
        figures += bench_idle.figures(r, others_note(o))
        bench_idle.table(r, o)
    if "slow" in only:
        o = Others()
        r = bench_slow.slow(t, info)
        figures += bench_slow.figures(r, others_note(o))
        bench_slow.table(r, o)
    if t and t.stop() != 0:
        broken.append("tpcd did not exit 0 on SIGTERM:\n" + t.tail())
    if ngx:
        ngx.stop()
    if "never_waits" in only:
        o = Others()
        r = bench_never_waits.never_waits(_work)
        figures += bench_never_waits.figures(r, others_note(o))
        bench_never_waits.table(r, o)
        broken += bench_never_waits.broken(r)
    if "ingest" in only:
        first = None
        for cell, rows in bench_ingest.plan():
            o = Others()
            why = bench_ingest.fits(_work, first, rows) if first else None
            r = (bench_ingest.skipped(cell, rows, why) if why else
                 bench_ingest.ingest(_work, cell, rows, reference=first is None))
            figures += bench_ingest.figures(r, others_note(o))
            bench_ingest.table(r, o)
            first = first or r
    if figures:
        out("")
        out("Other figures")
        for f in figures:
            out(f)
    bench_report.print_table(bench_serve.summary(results))
    bench_profile.print_profiles()
    out("")
    out("bench: %.0f s" % (time.monotonic() - started))
    if broken:
        raise RuntimeError("\n".join(broken))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-d", "--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("-r", "--rounds", type=int, default=3, help="A/B rounds per cell")
    ap.add_argument("--only", default="serve,restart,idle,slow,never_waits,ingest")
    ap.add_argument("--never-waits-rows", type=int, default=1000000)
    ap.add_argument("--cells", default="", help="e.g. small-plain-64,large-gzip-256")
    ap.add_argument("--idle", type=int, default=10000, help="idle connections")
    ap.add_argument("--slow-head", type=int, default=2000, help="slow-head clients")
    ap.add_argument("--slow-body", type=int, default=1000, help="slow-body clients")
    ap.add_argument("--slow-seconds", type=int, default=20, help="of slow clients")
    ap.add_argument("--ingest-rows", type=int, default=1000000)
    ap.add_argument("--ingest-big-rows", type=int, default=10000000,
                    help="rows of the second ingest cell (0: not run)")
    ap.add_argument("--partition-rows", type=int, default=100000)
    ap.add_argument("--profile", nargs="?", const="small-plain-64,ingest", default="",
                    help="perf record -g of tpcd during these cells (a serve cell id, "
                    "ingest or ingest-big; bare: small-plain-64,ingest)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.parse_args(namespace=ARGS)
    ARGS.only = [x for x in ARGS.only.split(",") if x]
    ARGS.cells = [x for x in ARGS.cells.split(",") if x]
    ARGS.profile = [x for x in ARGS.profile.split(",") if x]
    ARGS.threads = THREADS
    signal.signal(signal.SIGINT, on_signal)		# also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    rc = 0
    try:
        run()
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted\n")
        rc = 130
    except Exception:
        traceback.print_exc()
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cleanup(_work)
    sys.exit(rc)


if __name__ == "__main__":
    main()
