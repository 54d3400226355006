"""The bench's shared machinery (tests/bench/bench.py is the entry point): constants and
the parsed options, every process the bench starts (stopped at exit, Ctrl-C included),
/proc figures, formatting, HTTP helpers and the wrk runner. Knows no cell: the cell
modules (bench_serve, bench_restart, bench_idle, bench_slow, bench_never_waits,
bench_ingest) import from here, never the other way round."""

import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import harness  # noqa: E402  (wait_for, free_port: one copy for tests and bench)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TPCD = os.path.join(ROOT, os.environ.get("TPCD_BIN", "build/tpcd"))
FAKESNOW = os.path.join(ROOT, os.environ.get("FAKESNOW_BIN", "build/fakesnow"))
TOKEN = "tpcdt_bench_" + os.urandom(24).hex()
THREADS = 2
BRANDS = (("a", "brand_a"), ("b", "brand_b"))
TICK = os.sysconf("SC_CLK_TCK")

# The command line, filled in place by bench.py's main (parse_args(namespace=ARGS)), so
# that every module's `from bench_lib import ARGS` sees the same object.
ARGS = argparse.Namespace()

# ------------------------------------------------------------------- process hygiene

_procs = []		# (Popen, name): every process the bench started, stopped at exit


def out(*a):
    print(*a, flush=True)


def note(msg):
    """Progress, on stderr so that stdout holds the report."""
    sys.stderr.write("  .. %s\n" % msg)
    sys.stderr.flush()


def spawn(args, name, log=None, **kw):
    f = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT if log else f,
                         start_new_session=True, **kw)
    if log:
        f.close()
    _procs.append((p, name))
    return p


def stop(p, sig=signal.SIGTERM, timeout=30):
    """Stops one process the bench started (and its process group: nginx's workers)."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
    _procs[:] = [(q, n) for q, n in _procs if q is not p]
    return p.returncode


def cleanup(work):
    """Stops every process still running; removes the temporary directory unless --keep."""
    for p, _ in list(reversed(_procs)):
        try:
            stop(p, timeout=10)
        except Exception:
            pass
        try:		# anything left in its session (a worker whose master died)
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    if work and not ARGS.keep:
        shutil.rmtree(work, ignore_errors=True)
    elif work:
        sys.stderr.write("kept %s\n" % work)


def on_signal(signum, frame):
    raise KeyboardInterrupt


# ------------------------------------------------------------------------- helpers

def wait_for(cond, what, deadline=120, interval=0.02):
    """The tests' poll-until-deadline (tests/integration/harness.py), with the bench's
    longer default: a busy 2-core machine starts servers slowly."""
    return harness.wait_for(cond, what, deadline, interval)


free_port = harness.free_port


def get(port, path, headers=None, token=TOKEN):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    try:
        c.request("GET", path, headers=h)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def get_json(port, path):
    st, _, body = get(port, path)
    if st != 200:
        raise RuntimeError("GET %s: %d %r" % (path, st, body[:300]))
    return json.loads(body)


def proc_stat_ticks(pid):
    """utime + stime (clock ticks) of a process, all its threads."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return 0
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pids):
    return sum(proc_stat_ticks(p) for p in pids) / TICK


def sys_ticks():
    """(process time, total) clock ticks of the whole machine, all CPUs, from /proc/stat:
    user + nice + system; interrupts and softirqs (the loopback traffic's receive
    side, which no process is charged for) are left out."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[0] + v[1] + v[2], sum(v)


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def loadavg():
    """The machine's 1-minute load average: printed before every cell, so that a run on a
    busy machine shows in its figures."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Others:
    """How much of the machine other processes took during a section: process time of the
    machine minus the bench's own (itself, waited children, live servers, nginx workers).
    Also keeps the load average from before the section; freeze() fixes the share at the
    section's end, so that the final table reports the section and not what came after."""

    @staticmethod
    def ours():
        me = resource.getrusage(resource.RUSAGE_SELF)
        pids = []
        for p, name in _procs:
            pids.append(p.pid)
            if name == "nginx":
                pids += children(p.pid)
        return me.ru_utime + me.ru_stime + children_cpu() + cpu_seconds(pids)

    def __init__(self):
        self.load = loadavg()
        self.frozen = None
        self.t0, self.o0 = sys_ticks(), self.ours()

    def freeze(self):
        self.frozen = self.share()
        return self

    def share(self):
        if self.frozen is not None:
            return self.frozen
        t1, o1 = sys_ticks(), self.ours()
        total = (t1[1] - self.t0[1]) / TICK
        if total <= 0:
            return 0.0
        return max(0.0, ((t1[0] - self.t0[0]) / TICK - (o1 - self.o0)) / total)


def others_note(o):
    sh = o.freeze().share()
    return "; load average %.1f before; others took %.0f %% of the machine%s" % (
        o.load, sh * 100, " (perturbed)" if sh > 0.05 else "")


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        if int(s[s.rindex(")") + 2:].split()[1]) == pid:
            kids.append(int(d))
    return kids


def status_like(path, key):
    """The number after `KEY:` in a /proc file laid out like /proc/PID/status."""
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def status_kb(pid, key):
    return status_like("/proc/%d/status" % pid, key)


def rss_mb(pids, key="VmRSS"):
    return sum(status_kb(p, key) for p in pids) / 1024.0


def fmt_ms(ms):
    if ms is None:
        return "-"
    if ms < 1:
        return "%.0fus" % (ms * 1000)
    if ms < 10:
        return "%.2fms" % ms
    if ms < 100:
        return "%.1fms" % ms
    return "%.0fms" % ms


def fmt_bytes(n):
    if n >= 1 << 30:
        return "%.1f GB" % (n / 1073741824.0)
    if n >= 1 << 20:
        return "%.1f MB" % (n / 1048576.0)
    if n >= 10 << 10:
        return "%.0f KB" % (n / 1024.0)
    if n >= 1024:
        return "%.1f KB" % (n / 1024.0)
    return "%d B" % n


def verdict(ok):
    return "PASS" if ok else "MISS"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def sh(args):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


# ---------------------------------------------------------------------------- wrk

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_lat(s):
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", s)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None


def wrk(port, path, conns, seconds, gz, pids):
    """One wrk run; returns req/s, p50, p99 (ms), requests, errors, server CPU us/req."""
    args = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency",
            "-H", "Authorization: Bearer " + TOKEN]
    if gz:
        args += ["-H", "Accept-Encoding: gzip"]
    args.append("http://127.0.0.1:%d%s" % (port, path))
    c0, b0, w0 = cpu_seconds(pids), sys_ticks(), children_cpu()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _procs.append((p, "wrk"))
    text, _ = p.communicate(timeout=seconds + 60)
    _procs[:] = [(q, n) for q, n in _procs if q is not p]
    c1, b1, w1 = cpu_seconds(pids), sys_ticks(), children_cpu()
    total = b1[1] - b0[1]
    # the machine's busy time not spent by the server or wrk: other processes
    foreign = ((b1[0] - b0[0]) / TICK - (c1 - c0) - (w1 - w0)) / (total / TICK) if total else 0
    r = {"rps": None, "foreign": max(0.0, foreign), "wrk_cpu": w1 - w0, "p50": None,
         "p99": None, "requests": 0, "errors": 0, "raw": text}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if p.returncode != 0 or not m:
        raise RuntimeError("wrk failed (%s):\n%s" % (p.returncode, text))
    r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, text, re.M)
        r[key] = parse_lat(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", text)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["errors"] += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    r["cpu_us"] = (c1 - c0) * 1e6 / r["requests"] if r["requests"] else None
    return r


# ------------------------------------------------------------ raw HTTP/1.1 on a socket

def raw_get(port, path, gz=False):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n%s\r\n"
            % (path, port, TOKEN, "Accept-Encoding: gzip\r\n" if gz else "")).encode()


def read_response(s):
    """Reads one HTTP/1.1 response with Content-Length; returns the status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    need = int(m.group(1)) if m else 0
    while len(rest) < need:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return int(head.split(b" ", 2)[1])
