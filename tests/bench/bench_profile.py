"""--profile: `perf record -g` of tpcd during one named serve cell and one ingest cell, each
an extra run after the cell's measured ones (so the figures are not perturbed), and the top
self-time symbols of each (perf report --no-children --sort dso,symbol), printed after the
final table: the closing note's flame-graph summary from one command. Records and reports only;
the cells decide when (serve(), ingest()) and never depend on it succeeding."""

import os
import re
import shutil
import signal
import subprocess
import time

from bench_lib import (ARGS, children, fmt_bytes, note, out, spawn, stop, wait_for, wrk)

TOP = 15
_profiles = []		# (title, [lines] or None, why-not)


def wanted(cell):
    """Whether --profile names this cell (a serve cell id, or ingest / ingest-big)."""
    return cell in (ARGS.profile or ())


def available():
    """Why perf cannot record here, or None."""
    if not shutil.which("perf"):
        return "perf not found"
    try:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            paranoid = int(f.read().strip())
    except (OSError, ValueError):
        paranoid = 2
    if os.geteuid() != 0 and paranoid > 1:
        return "kernel.perf_event_paranoid is %d (needs <= 1, or root)" % paranoid
    return None


def _record_args(data):
    return ["perf", "record", "-g", "-F", "999", "-o", data]


def _wait_started(p, data):
    """perf writes its file's header once the counters are open: poll for it."""
    def started():
        if p.poll() is not None:
            raise RuntimeError("perf record exited with %d" % p.returncode)
        return os.path.exists(data) and os.path.getsize(data) > 0
    wait_for(started, "perf record to start", deadline=30)


def _finish(p, data, title, log):
    """Stops perf (SIGINT: it writes its data and exits) and keeps its top symbols."""
    rc = stop(p, sig=signal.SIGINT, timeout=120)
    if not os.path.exists(data) or os.path.getsize(data) == 0:
        _profiles.append((title, None, "perf record failed (%s): %s" % (rc, _tail(log))))
        return
    _profiles.append((title, top_symbols(data), None))


def _tail(log):
    try:
        with open(log, errors="replace") as f:
            return " ".join(f.read().split()[-40:])
    except OSError:
        return ""


def top_symbols(data):
    """The TOP self-time symbols of a perf.data, from perf report's `12.34%  dso  [.] name`
    lines; addresses perf could not name (a stripped library's static functions) are summed
    per library, so that one zlib loop is one entry and not fifty addresses."""
    r = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                        "--sort", "dso,symbol", "-g", "none"],
                       capture_output=True, text=True, timeout=600)
    head, pct, order = [], {}, []
    for line in r.stdout.splitlines():
        m = re.match(r"# Samples: (\S+)", line)
        if m and not head:
            head.append("(%s samples)" % m.group(1))
        # perf may pad the empty callchain columns with ` -`
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)(\s+-)*\s*$", line)
        if not m:
            continue
        where = "kernel" if m.group(3) == "k" else "user"
        sym = m.group(4)
        if re.match(r"0x[0-9a-f]+$", sym):
            sym = "(unnamed code in %s)" % os.path.basename(m.group(2))
        key = (where, sym)
        if key not in pct:
            order.append(key)
            pct[key] = 0.0
        pct[key] += float(m.group(1))
    top = sorted(order, key=lambda k: -pct[k])[:TOP]
    lines = ["%6.2f %%  %-6s %s" % (pct[k], k[0], k[1]) for k in top]
    if not lines:
        lines.append("(no samples: %s)" % " ".join((r.stderr or r.stdout).split()[-30:]))
    return head + lines


def serve(t, cid, path, conns, gz, work):
    """One more wrk run of a serve cell with perf attached to the serving tpcd."""
    why = available()
    title = "serve cell %s (tpcd, %d s of wrk -c%d)" % (cid, ARGS.duration, conns)
    if why:
        _profiles.append((title, None, why))
        return
    data = os.path.join(work, "perf-%s.data" % cid)
    log = data + ".log"
    p = spawn(_record_args(data) + ["-p", str(t.proc.pid)], "perf", log=log)
    try:
        _wait_started(p, data)
    except RuntimeError as e:		# a profile is extra: the bench goes on without it
        stop(p, sig=signal.SIGINT)
        _profiles.append((title, None, "%s: %s" % (e, _tail(log))))
        return
    note("profiling %s: perf record -g -p %d" % (cid, t.proc.pid))
    wrk(t.port, path, conns, ARGS.duration, gz, t.pids)
    _finish(p, data, title, log)


def ingest(t, cell, rows, work):
    """A fresh tpcd (its own empty store) started under perf record, profiled through its
    first refresh of the ingest aggregate; t is a Tpcd not started yet."""
    why = available()
    title = "ingest cell %s (tpcd from exec to its first snapshot, %s rows)" % (
        cell, "{:,}".format(rows))
    if why:
        _profiles.append((title, None, why))
        return
    data = os.path.join(work, "perf-%s.data" % cell)
    log = t.log		# perf's own messages go where tpcd's do
    t.wrap = _record_args(data) + ["--"]
    t.start(wait=False)
    note("profiling %s: perf record -g of a fresh tpcd's first refresh" % cell)
    try:
        t.wait_healthy(deadline=1800)
    except RuntimeError as e:		# a profile is extra: the bench goes on without it
        t.stop()
        _profiles.append((title, None, "perf record -- tpcd: %s: %s" % (
            str(e).splitlines()[0].rstrip(":"), _tail(t.log))))
        return
    kids = children(t.proc.pid)		# perf's child is tpcd: stop it, perf then exits
    for k in kids:
        try:
            os.kill(k, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 120
    while t.proc.poll() is None and time.monotonic() < deadline:
        try:
            t.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
    _finish(t.proc, data, title, log)
    t.proc = None
    if os.path.exists(data):
        note("perf data of %s: %s" % (cell, fmt_bytes(os.path.getsize(data))))


def print_profiles():
    if not ARGS.profile:
        return
    out("")
    out("Profiles (--profile: perf record -g -F 999 of tpcd, perf report --no-children "
        "--sort dso,symbol; top %d self-time symbols, unnamed addresses summed per "
        "library)" % TOP)
    named = set(ARGS.profile)
    done = set()
    for title, lines, why in _profiles:
        out(title + ":")
        done.add(title.split()[2])
        if lines is None:
            out("   not recorded: " + why)
            continue
        for line in lines:
            out("   " + line)
    for cell in sorted(named - done):
        out("%s: not recorded (the cell did not run; see --only / --cells)" % cell)
