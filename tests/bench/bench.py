#!/usr/bin/python3
"""make bench: tpcd against Debian's nginx serving the very same bytes, plus restart time,
memory with 10 000 idle keep-alive connections, a healthy client among 3 000 slow ones and
refresh ingest from fakesnow.

Everything runs in one temporary directory: the demo data, a bench catalogue (the real
one plus a large `daily_product_sales`), tpcd on a free loopback port with an API token,
nginx with its own configuration (loopback only, `gzip_static`, the bodies exported from
tpcd as static files), and a fakesnow holding a dynamic table of >= 1 M rows.

A benchmark, not a test: figures are printed with their targets and PASS/MISS; the exit
status is 0 whatever the numbers, non-zero only when something broke. Every process and
the temporary directory are cleaned up on exit, Ctrl-C included.

    tests/bench/bench.py [-d SECONDS] [-r ROUNDS]
                         [--only serve,restart,idle,slow,never_waits,ingest]
                         [--cells small-plain-64,...] [--idle N] [--slow-head N]
                         [--slow-body N] [--slow-seconds N] [--ingest-rows N]
                         [--never-waits-rows N] [--keep]
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import harness  # noqa: E402  (wait_for, free_port: one copy for tests and bench)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TPCD = os.path.join(ROOT, os.environ.get("TPCD_BIN", "build/tpcd"))
FAKESNOW = os.path.join(ROOT, os.environ.get("FAKESNOW_BIN", "build/fakesnow"))
CATALOG = os.path.join(ROOT, "schema", "aggregates.yaml")
TOKEN = "tpcdt_bench_" + os.urandom(24).hex()
THREADS = 2
BRANDS = (("a", "brand_a"), ("b", "brand_b"))
TICK = os.sysconf("SC_CLK_TCK")
SF_ACCOUNT, SF_USER = "myorg-acct", "tpcd_svc"
T0 = 1764000000		# the fake dynamic table's data timestamp

# The bench's large aggregate: day x product over the last 120 days (~150 KB of JSON,
# the size the prototype in PERF-NOTES measured). Not part of the product catalogue.
LARGE_NAME = "daily_product_sales"
LARGE_SQL = """\
-- daily_product_sales (bench only): per day of the 120 days ending at as_of and product:
-- orders containing the product, quantity sold, revenue.
SELECT substr(o.ordered_at, 1, 10)    AS day,
       p.name                         AS product,
       COUNT(DISTINCT o.order_id)     AS orders,
       SUM(l.qty)                     AS quantity,
       SUM(l.qty * l.unit_price)      AS revenue
FROM orders o
JOIN order_lines l ON l.order_id = o.order_id
JOIN products p ON p.product_id = l.product_id
WHERE o.ordered_at >= date((SELECT value FROM meta WHERE key = 'as_of'), '-119 days')
GROUP BY day, product
ORDER BY day, product
"""
LARGE_AGG = {
    "name": LARGE_NAME, "relation": "DAILY_PRODUCT_SALES",
    "title_en": "Daily product sales (bench)", "title_ko": "일별 상품 매출 (벤치)",
    "description": "Orders, quantity and revenue per day and product, last 120 days "
                   "(benchmark only).",
    "refresh": 1800, "target_lag": "30 minutes",
    "columns": [
        {"name": "day", "type": "date", "role": "dimension", "unit": "none"},
        {"name": "product", "type": "string", "role": "dimension", "unit": "none"},
        {"name": "orders", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "quantity", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "revenue", "type": "int64", "role": "measure", "unit": "KRW"},
    ],
}

# The ingest aggregate: one dynamic table of days x stores x products.
INGEST_AGG = {
    "name": "daily_store_product", "relation": "DAILY_STORE_PRODUCT",
    "title_en": "Daily store product sales (bench)", "title_ko": "일별 매장 상품 매출 (벤치)",
    "description": "Benchmark only: a large result for refresh ingest.",
    "refresh": 1800, "target_lag": "30 minutes",
    "columns": [
        {"name": "day", "type": "date", "role": "dimension", "unit": "none"},
        {"name": "store_id", "type": "int64", "role": "dimension", "unit": "none"},
        {"name": "product", "type": "string", "role": "dimension", "unit": "none"},
        {"name": "orders", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "quantity", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "revenue", "type": "double", "role": "measure", "unit": "KRW"},
    ],
}
SQL_TYPES = {"int64": "INTEGER", "double": "REAL", "string": "TEXT", "date": "DATE"}
PRODUCTS = ["Americano", "Cafe Latte", "Cappuccino", "Vanilla Latte", "Cold Brew",
            "Caramel Macchiato", "Flat White", "Espresso", "Mocha", "Green Tea Latte",
            "Earl Grey", "Chamomile", "Lemonade", "Grapefruit Ade", "Strawberry Smoothie",
            "Mango Smoothie", "Butter Croissant", "Blueberry Muffin", "Cheesecake",
            "Tiramisu", "Bagel", "Ham Sandwich", "Egg Sandwich", "Scone", "Macaron",
            "아메리카노", "딸기 라떼", "말차 케이크"]

# ------------------------------------------------------------------- process hygiene

_procs = []		# (Popen, name): every process the bench started, stopped at exit
_work = None		# the temporary directory


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


def cleanup():
    for p, _ in list(reversed(_procs)):
        try:
            stop(p, timeout=10)
        except Exception:
            pass
        try:		# anything left in its session (a worker whose master died)
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    if _work and not ARGS.keep:
        shutil.rmtree(_work, ignore_errors=True)
    elif _work:
        sys.stderr.write("kept %s\n" % _work)


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


class Others:
    """How much of the machine other processes took during a section: process time of the
    machine minus the bench's own (itself, waited children, live servers, nginx workers)."""

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
        self.t0, self.o0 = sys_ticks(), self.ours()

    def share(self):
        t1, o1 = sys_ticks(), self.ours()
        total = (t1[1] - self.t0[1]) / TICK
        if total <= 0:
            return 0.0
        return max(0.0, ((t1[0] - self.t0[0]) / TICK - (o1 - self.o0)) / total)


def others_note(o):
    sh = o.share()
    return "; others took %.0f %% of the machine%s" % (
        sh * 100, " (perturbed)" if sh > 0.05 else "")


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


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


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


# ------------------------------------------------------------------------- servers

class Tpcd:
    def __init__(self, work, name, catalog, source=None, brands=BRANDS, source_dir=None):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.catalog = catalog
        self.source = source
        self.brands = brands
        self.port = free_port()
        self.config = os.path.join(self.dir, "tpcd.yaml")
        self.log = os.path.join(self.dir, "tpcd.log")
        self.source_dir = source_dir or os.path.join(self.dir, "source")
        self.proc = None
        self.notes = []
        self.auth = True
        self.max_conns = True
        self.choose_config()

    def write(self):
        lines = ["listen:", "  address: 127.0.0.1", "  port: %d" % self.port,
                 "  threads: %d" % THREADS, "state_dir: %s" % os.path.join(self.dir, "store")]
        lines += (self.source.rstrip("\n").split("\n") if self.source else
                  ["source:", "  type: sqlite", "  sqlite:", "    dir: %s" % self.source_dir])
        lines += ["catalog: %s" % self.catalog, "refresh_interval: 3600", "log_level: info",
                  "http:", "  timeout: 300"]
        if self.max_conns:
            lines.append("  max_connections: 20000")
        lines.append("brands:")
        for bid, schema in self.brands:
            lines += ["  - id: %s" % bid, "    name: Brand %s" % bid.upper(),
                      "    schema: %s" % schema]
        if self.auth:
            lines += ["auth:", "  tokens:", "    - name: bench",
                      "      sha256: %s" % hashlib.sha256(TOKEN.encode()).hexdigest(),
                      "      role: admin"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config, 0o600)	# inline tokens: private, as tpcd requires

    def check(self):
        self.write()
        r = subprocess.run([TPCD, "-t", "-c", self.config], capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    def choose_config(self):
        """The full configuration, or without what this build of tpcd does not know yet."""
        ok, msg = self.check()
        if ok:
            return
        first = msg
        for auth, maxc in ((True, False), (False, True), (False, False)):
            self.auth, self.max_conns = auth, maxc
            ok, msg = self.check()
            if ok:
                if not auth:
                    self.notes.append("tpcd -t refused the auth: block (%s): running "
                                      "WITHOUT authentication" % first.splitlines()[-1])
                if not maxc:
                    self.notes.append("tpcd -t refused http.max_connections: running "
                                      "with its default")
                return
        raise RuntimeError("tpcd -t refuses the bench configuration:\n" + first)

    def start(self, wait=True):
        self.proc = spawn([TPCD, "-c", self.config], "tpcd", log=self.log)
        if wait:
            self.wait_healthy()
        return self.proc

    def alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("tpcd exited with %d:\n%s" % (self.proc.returncode,
                                                             self.tail()))
        return True

    def wait_healthy(self, deadline=300):
        def ok():
            self.alive()
            try:
                return get(self.port, "/healthz", token=None)[0] == 200
            except OSError:
                return False
        wait_for(ok, "tpcd to publish a snapshot", deadline=deadline)

    def stop(self):
        rc = 0
        if self.proc:
            rc = stop(self.proc)
            self.proc = None
        return rc

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    @property
    def pids(self):
        return [self.proc.pid]


class Nginx:
    def __init__(self, work, html, workers):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.port = free_port()
        self.bin = shutil.which("nginx") or "/usr/sbin/nginx"
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        d = self.dir
        conf = """\
%(user)sworker_processes %(workers)d;
worker_rlimit_nofile %(nofile)d;
pid %(d)s/nginx.pid;
error_log %(d)s/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path %(d)s/client_body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    keepalive_requests 10000000;
    keepalive_timeout 300;
    gzip_static on;
    default_type application/json;
    server {
        listen 127.0.0.1:%(port)d reuseport;
        root %(html)s;
    }
}
""" % {"user": "user root;\n" if os.geteuid() == 0 else "", "workers": workers,
       "nofile": nofile, "d": d, "port": self.port, "html": html}
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None
        self.pids = []

    def start(self):
        base = [self.bin, "-p", self.dir, "-e", os.path.join(self.dir, "logs", "error.log"),
                "-c", self.conf]
        r = subprocess.run(base + ["-t"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx -t:\n" + r.stdout + r.stderr)
        self.proc = spawn(base + ["-g", "daemon off;"], "nginx",
                          log=os.path.join(self.dir, "logs", "stderr.log"))

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with %d" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return len(children(self.proc.pid)) >= ARGS.threads
        wait_for(up, "nginx to listen")
        self.pids = [self.proc.pid] + children(self.proc.pid)

    def stop(self):
        if self.proc:
            stop(self.proc, sig=signal.SIGQUIT)
            self.proc = None


# ---------------------------------------------------------------------- catalogue

def write_bench_catalog(work):
    with open(CATALOG) as f:
        cat = yaml.safe_load(f)
    base = os.path.dirname(CATALOG)
    for a in cat["aggregates"]:
        for k in ("sqlite", "snowflake"):
            if k in a:
                a[k] = os.path.join(base, a[k])
    sql = os.path.join(work, LARGE_NAME + ".sql")
    with open(sql, "w") as f:
        f.write(LARGE_SQL)
    big = dict(LARGE_AGG, sqlite=sql)
    cat["aggregates"].append(big)
    path = os.path.join(work, "catalog.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(cat, f, allow_unicode=True, sort_keys=False, width=1000)
    return path


# ---------------------------------------------------------------------- sections

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


def status_like(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def setup_serving(work):
    t0 = time.monotonic()
    cat = write_bench_catalog(work)
    t = Tpcd(work, "tpcd", cat)
    r = subprocess.run([TPCD, "-c", t.config, "--demo"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("tpcd --demo:\n" + r.stdout + r.stderr)
    t.start()
    note("demo data + first refresh: %.1fs" % (time.monotonic() - t0))
    # the small aggregate: the brand-a body closest to 2 KB
    names = [a["name"] for a in get_json(t.port, "/v1/brands/a/aggregates")["aggregates"]]
    sizes = {}
    for n in names:
        if n == LARGE_NAME:
            continue
        st, _, body = get(t.port, "/v1/brands/a/aggregates/" + n)
        if st == 200:
            sizes[n] = len(body)
    small = min(sizes, key=lambda n: abs(sizes[n] - 2048))
    bodies = {"small": small, "large": LARGE_NAME}
    # export both bodies (identity and gzip) under the same paths for nginx
    html = os.path.join(work, "html")
    info = {}
    for kind, name in bodies.items():
        path = "/v1/brands/a/aggregates/" + name
        st, h, plain = get(t.port, path)
        st2, h2, gz = get(t.port, path, {"Accept-Encoding": "gzip"})
        if st != 200 or st2 != 200 or h2.get("content-encoding") != "gzip":
            raise RuntimeError("GET %s: %d/%d, gzip variant %r" % (path, st, st2,
                                                                  h2.get("content-encoding")))
        f = os.path.join(html, path.lstrip("/"))
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "wb") as fp:
            fp.write(plain)
        with open(f + ".gz", "wb") as fp:
            fp.write(gz)
        info[kind] = {"name": name, "path": path, "plain": len(plain), "gzip": len(gz),
                      "bytes": (plain, gz)}
    if info["large"]["plain"] < 100 * 1024:
        t.notes.append("the large body is only %d bytes (< 100 KB)" % info["large"]["plain"])
    os.chmod(work, 0o755)		# nginx workers may not run as root
    for root, dirs, files in os.walk(html):
        os.chmod(root, 0o755)
        for fn in files:
            os.chmod(os.path.join(root, fn), 0o644)
    ngx = Nginx(work, html, ARGS.threads)
    ngx.start()
    # both servers send the very same bytes
    for kind in ("small", "large"):
        for gz in (False, True):
            h = {"Accept-Encoding": "gzip"} if gz else {}
            want = info[kind]["bytes"][1 if gz else 0]
            for srv, port in (("tpcd", t.port), ("nginx", ngx.port)):
                st, hd, body = get(port, info[kind]["path"], h)
                enc = hd.get("content-encoding")
                if st != 200 or body != want or (enc == "gzip") != gz:
                    raise RuntimeError("%s %s gzip=%s: status %d, %d bytes (want %d), "
                                       "Content-Encoding %r" % (srv, kind, gz, st, len(body),
                                                                len(want), enc))
    return t, ngx, info


def serving(t, ngx, info):
    cells = []
    for kind in ("small", "large"):
        for gz in (False, True):
            for conns in (64, 256):
                cid = "%s-%s-%d" % (kind, "gzip" if gz else "plain", conns)
                if ARGS.cells and cid not in ARGS.cells:
                    continue
                cells.append((cid, kind, gz, conns))
    servers = (("tpcd", t.port, t.pids), ("nginx", ngx.port, ngx.pids))
    # warm-up: every body once through each server, and a short run each
    for name, port, pids in servers:
        wrk(port, info["small"]["path"], 64, 1, False, pids)
    results = {}
    for cid, kind, gz, conns in cells:
        runs = {"tpcd": [], "nginx": []}
        for rnd in range(ARGS.rounds):
            for name, port, pids in servers:
                runs[name].append(wrk(port, info[kind]["path"], conns, ARGS.duration, gz,
                                      pids))
            note("%-16s round %d: tpcd %8.0f req/s  nginx %8.0f req/s  (other processes: "
                 "%.0f%%, %.0f%% of the CPUs)" % (
                     cid, rnd + 1, runs["tpcd"][-1]["rps"], runs["nginx"][-1]["rps"],
                     runs["tpcd"][-1]["foreign"] * 100, runs["nginx"][-1]["foreign"] * 100))
        results[cid] = (kind, gz, conns, runs)
    return results


def print_serving(results, info):
    out("")
    out("Serving (wrk -t2 --latency, %d s per run, %d rounds alternated tpcd/nginx, medians; "
        "CPU us = the server's utime+stime per request; others = the most CPU other processes "
        "took in a run, %% of the machine)" % (ARGS.duration, ARGS.rounds))
    out("%-34s %10s %9s %9s %8s %7s   %s" % ("cell / server", "req/s", "p50", "p99",
                                              "CPU us", "others", "req/s of each run"))
    worst = {"rps": None, "p99": None}
    allpass = True
    for cid, (kind, gz, conns, runs) in results.items():
        b = info[kind]
        size = b["gzip"] if gz else b["plain"]
        out("%s %s (%s), %s, %d connections" % (kind, b["name"], fmt_bytes(size),
                                                  "gzip" if gz else "identity", conns))
        med = {}
        for srv in ("tpcd", "nginx"):
            rs = runs[srv]
            med[srv] = {k: median([r[k] for r in rs]) for k in ("rps", "p50", "p99", "cpu_us")}
            errs = sum(r["errors"] for r in rs)
            out("  %-32s %10s %9s %9s %8s %6.0f%%   %s%s" % (
                srv, "{:,.0f}".format(med[srv]["rps"]), fmt_ms(med[srv]["p50"]),
                fmt_ms(med[srv]["p99"]),
                "%.1f" % med[srv]["cpu_us"] if med[srv]["cpu_us"] is not None else "-",
                max(r["foreign"] for r in rs) * 100,
                " ".join("{:,.0f}".format(r["rps"]) for r in rs),
                ("   %d ERRORS (non-2xx/socket)" % errs) if errs else ""))
        rr = med["tpcd"]["rps"] / med["nginx"]["rps"]
        pr = (med["tpcd"]["p99"] / med["nginx"]["p99"]) if med["nginx"]["p99"] else None
        cr = (med["tpcd"]["cpu_us"] / med["nginx"]["cpu_us"]
              if med["tpcd"]["cpu_us"] and med["nginx"]["cpu_us"] else None)
        ok = rr >= 1.0 and pr is not None and pr <= 1.2
        allpass &= ok
        out("  %-32s %9.2fx %9s %8.2fx %7s            req/s >= 1.0x %s, p99 <= 1.2x %s" % (
            "tpcd/nginx", rr, "", pr or 0, ("%.2fx" % cr) if cr else "-",
            verdict(rr >= 1.0), verdict(pr is not None and pr <= 1.2)))
        if worst["rps"] is None or rr < worst["rps"][0]:
            worst["rps"] = (rr, cid)
        if pr is not None and (worst["p99"] is None or pr > worst["p99"][0]):
            worst["p99"] = (pr, cid)
    fr = [r["foreign"] for _, _, _, runs in results.values() for rs in runs.values() for r in rs]
    if fr:
        out("CPU taken by other processes during the runs: median %.0f %%, max %.0f %% of the "
            "machine%s" % (median(fr) * 100, max(fr) * 100,
                           "  WARNING: the machine was not quiet, figures are perturbed"
                           if max(fr) > 0.05 else ""))
    if results:
        out("serving targets: lowest req/s ratio %.2fx (%s), highest p99 ratio %.2fx (%s): %s"
            % (worst["rps"][0], worst["rps"][1], worst["p99"][0], worst["p99"][1],
               "PASS in every cell" if allpass else "MISS in some cells"))


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


def restart(t, info):
    """exec -> first 200 of the small aggregate on the existing store, median of 5."""
    req = raw_get(t.port, info["small"]["path"])
    times, stops = [], []
    for i in range(5):
        s0 = time.monotonic()
        if t.stop() != 0:
            raise RuntimeError("tpcd did not exit 0 on SIGTERM:\n" + t.tail())
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


# -------------------------------------------------------------------------- slow clients

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


# -------------------------------------------------------------------------- ingest

def build_fakesnow_db(path, rows_wanted):
    stores = max(1, -(-rows_wanted // (365 * len(PRODUCTS))))
    a = INGEST_AGG
    table = "ANALYSIS_BRAND_A__DT_BRAND_A_" + a["relation"]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE FAKESNOW_REFRESH_HISTORY(NAME TEXT, SCHEMA_NAME TEXT, "
               "DATABASE_NAME TEXT, QUALIFIED_NAME TEXT, STATE TEXT, STATE_MESSAGE TEXT, "
               "REFRESH_ACTION TEXT, DATA_TIMESTAMP TIMESTAMP_LTZ, "
               "REFRESH_START_TIME TIMESTAMP_LTZ, REFRESH_END_TIME TIMESTAMP_LTZ)")
    cols = ", ".join("%s %s" % (c["name"].upper(), SQL_TYPES[c["type"]]) for c in a["columns"])
    db.execute("CREATE TABLE %s (%s, PRIMARY KEY (DAY, STORE_ID, PRODUCT)) WITHOUT ROWID"
               % (table, cols))
    day0 = 20089		# 2025-01-01 as days since the epoch

    def gen():
        for d in range(365):
            day = time.strftime("%Y-%m-%d", time.gmtime((day0 + d) * 86400))
            for s in range(1, stores + 1):
                for p, name in enumerate(PRODUCTS):
                    k = d * 7919 + s * 104729 + p * 1299709
                    orders = 1 + k % 97
                    qty = orders + k % 13
                    yield (day, s, name, orders, qty, qty * (3000 + (k % 41) * 100) * 0.97)
    db.executemany("INSERT INTO %s VALUES (?,?,?,?,?,?)" % table, gen())
    schema, name = "ANALYSIS_BRAND_A", "DT_BRAND_A_" + a["relation"]
    db.execute("INSERT INTO FAKESNOW_REFRESH_HISTORY VALUES (?,?,?,?,?,?,?,?,?,?)",
               (name, schema, "TPCD", "TPCD.%s.%s" % (schema, name), "SUCCEEDED", "",
                "INCREMENTAL", T0, T0, T0 + 5))
    db.commit()
    n = db.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
    db.close()
    return n


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def fakesnow_statement(url, key, handle):
    """GETs a statement from fakesnow with our own key-pair JWT: its resultSetMetaData."""
    with urllib.request.urlopen(url + "/_fake/health", timeout=30) as r:
        iss = json.loads(r.read())["iss"]
    now = int(time.time())
    signing = "%s.%s" % (b64u(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()),
                         b64u(json.dumps({"iss": iss, "sub": ".".join(iss.split(".")[:2]),
                                          "iat": now, "exp": now + 300}).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing.encode(), capture_output=True, check=True).stdout
    req = urllib.request.Request(url + "/api/v2/statements/" + handle, headers={
        "User-Agent": "tpcd-bench/1", "Accept": "application/json",
        "Authorization": "Bearer %s.%s" % (signing, b64u(sig)),
        "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())["resultSetMetaData"]


def ingest(work):
    d = os.path.join(work, "ingest")
    os.makedirs(d)
    t0 = time.monotonic()
    db = os.path.join(d, "fake.db")
    rows = build_fakesnow_db(db, ARGS.ingest_rows)
    note("fakesnow db with %d rows: %.1fs" % (rows, time.monotonic() - t0))
    keys = os.path.join(d, "keys")
    subprocess.run(["sh", os.path.join(ROOT, "tests/fakesnow/mkkey.sh"), keys], check=True,
                   capture_output=True)
    portfile = os.path.join(d, "fakesnow.port")
    fs = spawn([FAKESNOW, "--port", "0", "--port-file", portfile, "--db", db,
                "--public-key", os.path.join(keys, "rsa_key.pub"), "--account", SF_ACCOUNT,
                "--user", SF_USER, "--partition-rows", str(ARGS.partition_rows)],
               "fakesnow", log=os.path.join(d, "fakesnow.log"))

    def port():
        if fs.poll() is not None:
            raise RuntimeError("fakesnow exited with %d" % fs.returncode)
        return os.path.exists(portfile) and open(portfile).read().strip()
    url = "http://127.0.0.1:%s" % wait_for(port, "fakesnow's port")
    # a catalogue with the one aggregate (its sqlite query is never run)
    dummy = os.path.join(d, "unused.sql")
    with open(dummy, "w") as f:
        f.write("SELECT 1\n")
    cat = os.path.join(d, "catalog.yaml")
    with open(cat, "w") as f:
        yaml.safe_dump({"aggregates": [dict(INGEST_AGG, sqlite=dummy)]}, f,
                       allow_unicode=True, sort_keys=False, width=1000)
    conf = {"account": SF_ACCOUNT, "user": SF_USER, "url": url, "warehouse": "TPCD_WH",
            "role": "TPCD_READER", "database": "TPCD", "auth": "keypair",
            "private_key": os.path.join(keys, "rsa_key.p8")}
    source = "source:\n  type: snowflake\n  snowflake:\n" + "".join(
        "    %s: %s\n" % (k, v) for k, v in conf.items())
    t = Tpcd(d, "tpcd", cat, source=source, brands=(("a", "brand_a"),))
    fs_cpu0 = cpu_seconds([fs.pid])
    w0 = time.monotonic()
    t.start(wait=False)
    hwm = [0]

    def healthy():
        t.alive()
        hwm[0] = max(hwm[0], status_kb(t.proc.pid, "VmHWM"))
        try:
            return get(t.port, "/healthz", token=None)[0] == 200
        except OSError:
            return False
    wait_for(healthy, "the snowflake refresh", deadline=600, interval=0.05)
    wall = time.monotonic() - w0
    tpcd_cpu = cpu_seconds(t.pids)
    fs_cpu = cpu_seconds([fs.pid]) - fs_cpu0
    hwm = max(hwm[0], status_kb(t.proc.pid, "VmHWM")) / 1024.0
    res = {"rows_db": rows, "wall": wall, "tpcd_cpu": tpcd_cpu, "fs_cpu": fs_cpu,
           "hwm": hwm, "notes": t.notes}
    if t.auth:
        st = get_json(t.port, "/v1/status")
        res["duration"] = (st.get("last_refresh") or {}).get("duration_ms")
        ag = [a for a in st.get("aggregates", []) if a.get("aggregate") == INGEST_AGG["name"]]
        res["rows"] = ag[0].get("rows") if ag else None
        handle = ag[0].get("statement_handle") if ag else None
        try:
            meta = fakesnow_statement(url, os.path.join(keys, "rsa_key.p8"), handle)
            pi = meta["partitionInfo"]
            res["parts"] = len(pi)
            res["largest"] = max(p["uncompressedSize"] for p in pi)
            res["largest_gz"] = max(p.get("compressedSize", 0) for p in pi)
            res["largest_how"] = "fakesnow partitionInfo"
        except Exception as e:
            res["largest_err"] = str(e)
    if "largest" not in res:		# estimate: rows per partition x mean row JSON size
        dbc = sqlite3.connect(db)
        sample = dbc.execute("SELECT * FROM ANALYSIS_BRAND_A__DT_BRAND_A_%s LIMIT 1000"
                             % INGEST_AGG["relation"]).fetchall()
        dbc.close()
        per = statistics.mean(len(json.dumps([str(v) for v in r], separators=(",", ":"),
                                             ensure_ascii=False).encode()) + 1 for r in sample)
        res["largest"] = int(per * ARGS.partition_rows)
        res["parts"] = -(-rows // ARGS.partition_rows)
        res["largest_how"] = "estimated from the rows (%s)" % res.get("largest_err", "")
    t.stop()
    stop(fs)
    # reference: the same rows from the SQLite source (the fake's database file, as brand
    # schema "fake"): what encoding and publishing cost without the Snowflake pull
    q = os.path.join(d, "ingest.sql")
    with open(q, "w") as f:
        f.write("SELECT %s FROM ANALYSIS_BRAND_A__DT_BRAND_A_%s ORDER BY DAY, STORE_ID, "
                "PRODUCT\n" % (", ".join(c["name"].upper() for c in INGEST_AGG["columns"]),
                               INGEST_AGG["relation"]))
    cat2 = os.path.join(d, "catalog-sqlite.yaml")
    with open(cat2, "w") as f:
        yaml.safe_dump({"aggregates": [dict(INGEST_AGG, sqlite=q)]}, f,
                       allow_unicode=True, sort_keys=False, width=1000)
    t = Tpcd(d, "tpcd-sqlite", cat2, brands=(("a", "fake"),), source_dir=d)
    w0 = time.monotonic()
    t.start(wait=False)
    hwm = [0]
    wait_for(healthy, "the sqlite refresh", deadline=600, interval=0.05)
    res["sq_wall"] = time.monotonic() - w0
    res["sq_cpu"] = cpu_seconds(t.pids)
    res["sq_hwm"] = max(hwm[0], status_kb(t.proc.pid, "VmHWM")) / 1024.0
    t.stop()
    return res



# ------------------------------------------------------------------ never waits (issue 11)

NW_BIG_SQL = """\
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
                        WHERE x < (SELECT n FROM cfg))
SELECT x AS id, 'row ' || x AS label, abs(random()) % 1000 AS value FROM c ORDER BY id
"""
NW_SMALL_SQL = "SELECT x AS id, 'row ' || x AS label, x * 1.5 AS value FROM " \
    "(SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY id\n"
NW_COLS = [{"name": "id", "type": "int64", "role": "dimension", "unit": "none"},
           {"name": "label", "type": "string", "role": "dimension", "unit": "none"},
           {"name": "value", "type": "double", "role": "measure", "unit": "none"}]


class NeverWaitsTpcd(Tpcd):
    """The bench tpcd plus a users file (one user, for the logins)."""
    users_file = None

    def write(self):
        super().write()
        if self.users_file and self.auth:
            with open(self.config, "a") as f:
                f.write("  users_file: %s\n" % self.users_file)


def never_waits(work):
    """/healthz and a data GET, timed, while a 1M-row aggregate refreshes over and over,
    a user logs in 20 times a second and the polls come at 200 req/s (open loop)."""
    d = os.path.join(work, "never-waits")
    src = os.path.join(d, "source")
    os.makedirs(src)
    for name, sql in (("big", NW_BIG_SQL), ("small", NW_SMALL_SQL)):
        with open(os.path.join(d, name + ".sql"), "w") as f:
            f.write(sql)
    cat = os.path.join(d, "catalog.yaml")
    with open(cat, "w") as f:
        yaml.safe_dump({"aggregates": [
            {"name": n, "relation": n.upper(), "title_en": n, "title_ko": n,
             "description": "bench only", "refresh": 3600, "target_lag": "1 hour",
             "sqlite": os.path.join(d, n + ".sql"), "columns": NW_COLS}
            for n in ("big", "small")]}, f, sort_keys=False)
    db = sqlite3.connect(os.path.join(src, "brand_a.db"))
    db.execute("CREATE TABLE cfg (n INTEGER)")
    db.execute("INSERT INTO cfg VALUES (?)", (ARGS.never_waits_rows,))
    db.commit()
    db.close()
    pw = "pw-" + os.urandom(8).hex()
    h = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, check=True).stdout.strip()
    users = os.path.join(d, "users.yaml")
    with open(users, "w") as f:
        f.write("users:\n  - name: u\n    password_hash: \"%s\"\n    role: user\n"
                "    brands: [a]\n" % h)
    os.chmod(users, 0o600)
    NeverWaitsTpcd.users_file = users
    t = NeverWaitsTpcd(d, "tpcd", cat, brands=(("a", "brand_a"),), source_dir=src)
    t.start()
    stop_at = time.monotonic() + ARGS.duration
    lat = {"healthz": [], "data": []}
    errors = []
    counts = {"logins": 0, "refreshes": 0}

    def poller(path, key, rate):
        c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
        nxt = time.monotonic()
        while nxt < stop_at:
            nxt += 1.0 / rate
            t0 = time.monotonic()
            c.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            r.read()
            lat[key].append((time.monotonic() - t0) * 1000)
            if r.status != 200:
                errors.append("%s %d" % (path, r.status))
            time.sleep(max(0.0, nxt - time.monotonic()))
        c.close()

    def logins():
        c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
        nxt = time.monotonic()
        body = json.dumps({"user": "u", "password": pw})
        while nxt < stop_at:
            nxt += 1.0 / 20
            c.request("POST", "/v1/login", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            counts["logins"] += r.status == 200
            time.sleep(max(0.0, nxt - time.monotonic()))
        c.close()

    def refresher():
        while time.monotonic() < stop_at:
            before = get_json(t.port, "/v1/status")["refreshes"]
            c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
            c.request("POST", "/v1/refresh", headers={"Authorization": "Bearer " + TOKEN})
            c.getresponse().read()
            c.close()
            wait_for(lambda: get_json(t.port, "/v1/status")["refreshes"] > before,
                     "a refresh", deadline=600, interval=0.2)
            counts["refreshes"] += 1

    # 200 req/s in all: 100/s /healthz, 100/s data, each over two connections
    ths = [threading.Thread(target=poller, args=("/healthz", "healthz", 50)) for _ in range(2)]
    ths += [threading.Thread(target=poller, args=("/v1/brands/a/aggregates/small", "data", 50))
            for _ in range(2)]
    ths += [threading.Thread(target=logins), threading.Thread(target=refresher)]
    for x in ths:
        x.start()
    for x in ths:
        x.join()
    rc = t.stop()
    res = {"errors": errors, "rc": rc, "rows": ARGS.never_waits_rows}
    res.update(counts)
    for k, v in lat.items():
        v.sort()
        res[k] = {"n": len(v), "p50": v[len(v) // 2] if v else 0,
                  "p99": v[min(len(v) - 1, int(len(v) * 0.99))] if v else 0,
                  "max": v[-1] if v else 0}
    return res

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
        t, ngx, info = setup_serving(_work)
        out("setup: %d serving threads, nginx %d workers (sendfile, gzip_static, "
            "open_file_cache); nofile %d" % (THREADS, ARGS.threads, nofile))
        out("auth: %s" % ("every request (wrk and the probes) sends Authorization: Bearer "
                          "<API token, role admin>; tpcd checks it and writes an audit line "
                          "per request; nginx ignores it" if t.auth else
                          "NONE: this tpcd build does not accept the auth: block"))
        out("bodies (the same bytes from both servers, checked): small = a/%s %s (gzip %s); "
            "large = a/%s %s (gzip %s)" % (
                info["small"]["name"], fmt_bytes(info["small"]["plain"]),
                fmt_bytes(info["small"]["gzip"]), info["large"]["name"],
                fmt_bytes(info["large"]["plain"]), fmt_bytes(info["large"]["gzip"])))
        for n in t.notes:
            out("NOTE: " + n)
    results = serving(t, ngx, info) if "serve" in only else {}
    if results:
        print_serving(results, info)
    figures = []
    if "restart" in only:
        o = Others()
        times, stops = restart(t, info)
        m = median(times)
        figures.append("restart -> first 200 (existing store, warm page cache, exec to 200 of "
                       "the small aggregate): median %s (runs %s; SIGTERM->exit %s%s)   "
                       "target <= 50 ms  %s" % (
                           fmt_ms(m), " ".join(fmt_ms(x) for x in times),
                           fmt_ms(median(stops)), others_note(o), verdict(m <= 50)))
    if "idle" in only:
        o = Others()
        r = idle(t, ngx, info)
        onote = others_note(o)
        b, w = median([x["rps"] for x in r["base"]]), median([x["rps"] for x in r["with"]])
        drop = (b - w) / b * 100
        per = (r["rss1"] - r["rss0"]) * 1024 / r["n"]
        nper = (r["nrss1"] - r["nrss0"]) * 1024 / r["n"]
        figures.append("{:,}".format(r["n"]) + " idle keep-alive connections (one GET each, "
                       "then idle; opened in %.1fs; %d/%d still answered afterwards): tpcd RSS "
                       "%.1f -> %.1f MB (%.1f KB/conn)   target <= 100 MB  %s" % (
                           r["opened"], r["alive"], r["n"], r["rss0"], r["rss1"], per,
                           verdict(r["rss1"] <= 100)))
        figures.append("   nginx for reference: RSS (master+workers) %.1f -> %.1f MB "
                       "(%.1f KB/conn)" % (r["nrss0"], r["nrss1"], nper))
        figures.append("   small identity at 64 conns: %s req/s without, %s with the idle "
                       "crowd (medians of %d alternated runs%s): %s %.1f %%   target drop "
                       "< 10 %%  %s" % ("{:,.0f}".format(b), "{:,.0f}".format(w), ARGS.rounds,
                                        onote, "drop" if drop >= 0 else "gain", abs(drop),
                                        verdict(drop < 10)))
    if "slow" in only:
        o = Others()
        r = slow(t, info)
        figures.append("%d slow-head + %d slow-body clients for %d s (one byte/s each, "
                       "re-opened when cut; %d cuts): healthy GET of the small body %d answered, "
                       "%d failed; p50 %s p99 %s max %s%s   target all answered, p99 <= 50 ms  %s"
                       % (r["n_head"], r["n_body"], r["secs"], r["cut"], r["n"], r["failed"],
                          fmt_ms(r["p50"]), fmt_ms(r["p99"]), fmt_ms(r["max"]), others_note(o),
                          verdict(r["failed"] == 0 and r["p99"] <= 50)))
        figures.append("   tpcd RSS %.1f -> %.1f MB at most; %d log lines meanwhile" % (
            r["rss0"], r["rss"], r["lines"]))
    if t and t.stop() != 0:
        broken.append("tpcd did not exit 0 on SIGTERM:\n" + t.tail())
    if ngx:
        ngx.stop()
    if "never_waits" in only:
        o = Others()
        r = never_waits(_work)
        onote = others_note(o)
        figures.append("healthz/data while refreshing %s rows + 20 logins/s + 200 req/s "
                       "polling (%d s, %d refreshes, %d logins%s):" % (
                           "{:,}".format(r["rows"]), ARGS.duration, r["refreshes"],
                           r["logins"], onote))
        for k in ("healthz", "data"):
            figures.append("   %-7s n=%d p50 %s p99 %s max %s   target p99 <= 5 ms, "
                           "max <= 20 ms  %s" % (k, r[k]["n"], fmt_ms(r[k]["p50"]),
                                                fmt_ms(r[k]["p99"]), fmt_ms(r[k]["max"]),
                                                verdict(r[k]["p99"] <= 5 and
                                                        r[k]["max"] <= 20)))
        if r["errors"]:
            broken.append("never_waits: %d polls not 200: %s" % (len(r["errors"]),
                                                                  r["errors"][:5]))
        if r["rc"] != 0:
            broken.append("never_waits: tpcd did not exit 0 on SIGTERM")
    if "ingest" in only:
        o = Others()
        r = ingest(_work)
        onote = others_note(o)
        rows = r.get("rows") or r["rows_db"]
        dur = (r.get("duration") or r["wall"] * 1000) / 1000.0
        cpu_rate = rows / r["tpcd_cpu"] if r["tpcd_cpu"] else 0
        limit = 64 + 2 * r["largest"] / 1048576.0
        figures.append("refresh ingest from fakesnow: %s rows, %d gzip partitions of %s rows, "
                       "1 aggregate x 6 columns, pulled + encoded + published%s" % (
                           "{:,}".format(rows), r["parts"], "{:,}".format(ARGS.partition_rows),
                           onote))
        figures.append("   wall %.2f s (last_refresh.duration_ms; exec->healthy %.2f s) = %s "
                       "rows/s; fakesnow's own CPU in that time %.2f s" % (
                           dur, r["wall"], "{:,.0f}".format(rows / dur), r["fs_cpu"]))
        figures.append("   tpcd CPU %.2f s = %s rows per CPU-second   target >= 1 M rows/s on "
                       "one core  %s" % (r["tpcd_cpu"], "{:,.0f}".format(cpu_rate),
                                         verdict(cpu_rate >= 1e6)))
        figures.append("   tpcd peak RSS (VmHWM) %.1f MB; largest partition %.1f MB "
                       "uncompressed (%s)   target <= 64 MB + 2 x %.1f = %.1f MB  %s" % (
                           r["hwm"], r["largest"] / 1048576.0, r["largest_how"],
                           r["largest"] / 1048576.0, limit, verdict(r["hwm"] <= limit)))
        figures.append("   for reference, the same rows from the SQLite source (no Snowflake "
                       "pull): wall %.2f s, tpcd CPU %.2f s (%s rows per CPU-second), peak RSS "
                       "%.1f MB" % (r["sq_wall"], r["sq_cpu"],
                                    "{:,.0f}".format(rows / r["sq_cpu"] if r["sq_cpu"] else 0),
                                    r["sq_hwm"]))
        for n in r["notes"]:
            figures.append("   NOTE: " + n)
    if figures:
        out("")
        out("Other figures")
        for f in figures:
            out(f)
    out("")
    out("bench: %.0f s" % (time.monotonic() - started))
    if broken:
        raise RuntimeError("\n".join(broken))


def main():
    global ARGS
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
    ap.add_argument("--partition-rows", type=int, default=100000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ARGS = ap.parse_args()
    ARGS.only = [x for x in ARGS.only.split(",") if x]
    ARGS.cells = [x for x in ARGS.cells.split(",") if x]
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
        cleanup()
    sys.exit(rc)


ARGS = None
if __name__ == "__main__":
    main()
