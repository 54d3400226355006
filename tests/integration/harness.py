"""Black-box test harness: starts the real tpcd on a free loopback port with a temporary
store, talks real HTTP to it, and stops it. Tests are plain functions registered with
@test; run_tests() prints one PASS/FAIL line each and a RESULT line for tests/run.sh.
Nothing here sleeps-and-hopes: every wait polls a condition until a deadline."""

import fcntl
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TPCD = os.path.join(ROOT, os.environ.get("TPCD_BIN", "build/tpcd"))
TPCCTL = os.path.join(ROOT, os.environ.get("TPCCTL_BIN", "build/tpcctl"))
CATALOG = os.environ.get("TPCD_CATALOG", os.path.join(ROOT, "schema", "aggregates.yaml"))
DEADLINE = float(os.environ.get("TPCD_TEST_DEADLINE", "60"))

# Every daemon the harness starts knows this admin API token (only its SHA-256 is in the
# configuration), and requests send it unless a test says otherwise: tests that are not
# about access control stay as they were. TPCD_TOKEN passes it to tpcctl.
ADMIN_TOKEN = "tpcdt_harness_" + os.urandom(24).hex()
ADMIN_AUTH = ("auth:\n  tokens:\n    - name: harness_admin\n      sha256: %s\n"
              "      role: admin\n" % hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest())


# tpcctl run by any test (directly or through bash completion) is the harness admin too.
os.environ["TPCD_TOKEN"] = ADMIN_TOKEN


def tpcctl_env(token=ADMIN_TOKEN, **extra):
    """The environment for running tpcctl as the harness admin."""
    env = dict(os.environ, TPCD_TOKEN=token)
    env.update(extra)
    return env

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def run_tests():
    only = sys.argv[1:]
    passed = failed = 0
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
    for d in _demo_cache.values():
        shutil.rmtree(d, ignore_errors=True)
    print("RESULT passed=%d failed=%d" % (passed, failed))
    sys.exit(1 if failed else 0)


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, msg=""):
    if a != b:
        raise AssertionError("%s: %r != %r" % (msg or "not equal", a, b))


def wait_for(cond, what, deadline=DEADLINE, interval=0.02):
    """Polls cond() until it returns a truthy value or the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def socket_activation(fd):
    """A preexec_fn (Popen with close_fds=False) doing in the child, before exec, what
    systemd does with a socket unit: the listening socket fd becomes fd 3, LISTEN_FDS=1,
    LISTEN_PID the child's own pid."""
    def activate():
        if fd == 3:
            os.set_inheritable(3, True)
        else:
            os.dup2(fd, 3)
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())
    return activate


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        body = self.body
        if self.header("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return json.loads(body)


def make_demo(source_dir, brands=(("a", "brand_a"), ("b", "brand_b")), seed=1, fresh=False):
    """Writes a config for the demo generator and runs `tpcd --demo` into source_dir.
    Under tests/run.sh (TPCD_DEMO_CACHE set) each (brands, seed) is generated once per run
    and its files copied: the generator is deterministic (test_skeleton checks it with
    fresh=True, which always runs it) and costs seconds per call under the sanitizers."""
    cache = os.environ.get("TPCD_DEMO_CACHE")
    if fresh or not cache:
        _run_demo(source_dir, brands, seed)
        return
    key = "%s-%d" % ("_".join("%s.%s" % b for b in brands), seed)
    done = os.path.join(cache, key)
    os.makedirs(cache, exist_ok=True)
    with open(done + ".lock", "w") as lock:	# the other lane may be generating it
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(done):
            tmp = tempfile.mkdtemp(prefix=key + ".", dir=cache)
            _run_demo(tmp, brands, seed)
            os.rename(tmp, done)
    os.makedirs(source_dir, exist_ok=True)
    for name in os.listdir(done):	# replaces a database as the generator does
        target = os.path.join(source_dir, name)
        for side in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(target + side):
                os.unlink(target + side)
        shutil.copy(os.path.join(done, name), target)	# mode too; mtime now, as generated


def _run_demo(source_dir, brands, seed):
    tmp = tempfile.mkdtemp(prefix="tpcd-demo-")
    try:
        cfg = os.path.join(tmp, "tpcd.yaml")
        write_config(cfg, port=1, state_dir=os.path.join(tmp, "store"),
                     source_dir=source_dir, brands=brands)
        subprocess.run([TPCD, "-c", cfg, "--demo", "--seed", str(seed)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        shutil.rmtree(tmp)


_demo_cache = {}


def demo_workdir(brands=(("a", "brand_a"), ("b", "brand_b")), seed=1):
    """A fresh work directory whose source/ holds demo data: generated once per test
    process for each (brands, seed) and copied, since tests may change their copy."""
    key = (tuple(brands), seed)
    if key not in _demo_cache:
        _demo_cache[key] = tempfile.mkdtemp(prefix="tpcd-demo-src-")
        make_demo(_demo_cache[key], brands=brands, seed=seed)
    work = tempfile.mkdtemp(prefix="tpcd-test-")
    shutil.copytree(_demo_cache[key], os.path.join(work, "source"))
    return work


_BIG_CATALOG = """
params: {}
aggregates:
  - name: order_lines
    relation: ORDER_LINES
    title_en: Every order line
    title_ko: 모든 주문 라인
    description: The raw order lines, as a large body for serving tests.
    sqlite: lines.sql
    columns:
      - {name: copy, type: int64, role: dimension, unit: none}
      - {name: order_id, type: int64, role: dimension, unit: none}
      - {name: line_no, type: int64, role: dimension, unit: none}
      - {name: product_id, type: int64, role: dimension, unit: none}
      - {name: qty, type: int64, role: measure, unit: count}
      - {name: unit_price, type: int64, role: measure, unit: KRW}
"""


def big_catalog(work, copies):
    """A catalogue in work/catalog with one aggregate: every order line of the demo source,
    repeated copies times, for tests that need a large body. Returns its path."""
    catdir = os.path.join(work, "catalog")
    os.mkdir(catdir)
    with open(os.path.join(catdir, "aggregates.yaml"), "w") as f:
        f.write(_BIG_CATALOG)
    union = " UNION ALL ".join("SELECT %d%s" % (i, " AS copy" if i == 1 else "")
                               for i in range(1, copies + 1))
    with open(os.path.join(catdir, "lines.sql"), "w") as f:
        f.write("SELECT k.copy, order_id, line_no, product_id, qty, unit_price "
                "FROM order_lines, (%s) k ORDER BY k.copy, order_id, line_no" % union)
    return os.path.join(catdir, "aggregates.yaml")


def write_config(path, port, state_dir, source_dir, brands, catalog=CATALOG,
                 refresh_interval=3600, threads=2, extra="", source=None, auth=ADMIN_AUTH):
    """source: a YAML block replacing the default sqlite source (e.g. snowflake).
    auth: the auth: block (default: the harness admin token)."""
    lines = [
        "listen:",
        "  address: 127.0.0.1",
        "  port: %d" % port,
        "  threads: %d" % threads,
        "state_dir: %s" % state_dir,
    ] + (source.rstrip("\n").split("\n") if source else [
        "source:",
        "  type: sqlite",
        "  sqlite:",
        "    dir: %s" % source_dir,
    ]) + [
        "catalog: %s" % catalog,
        "refresh_interval: %d" % refresh_interval,
        "log_level: info",
        "brands:",
    ]
    for bid, schema in brands:
        lines += ["  - id: %s" % bid, "    name: Brand %s" % bid.upper(),
                  "    schema: %s" % schema]
    # inline tokens make the config as private as a users file (tpcd refuses it otherwise)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("\n".join(lines) + "\n" + auth + extra)
    os.chmod(path, 0o600)


class Tpcd:
    """One tpcd process with its own directory (config, store, log)."""

    def __init__(self, workdir=None, source_dir=None,
                 brands=(("a", "brand_a"), ("b", "brand_b")), refresh_interval=3600,
                 threads=2, extra="", source=None, auth=ADMIN_AUTH, catalog=CATALOG):
        self.own_workdir = True		# removed at close(), whoever made it
        self.catalog = catalog
        self.workdir = workdir or tempfile.mkdtemp(prefix="tpcd-test-")
        self.source_dir = source_dir or os.path.join(self.workdir, "source")
        self.brands = brands
        self.refresh_interval = refresh_interval
        self.threads = threads
        self.extra = extra
        self.source = source
        self.auth = auth
        self.port = None
        self.proc = None
        self.config = os.path.join(self.workdir, "tpcd.yaml")
        self.logpath = os.path.join(self.workdir, "tpcd.log")

    def write_config(self):
        write_config(self.config, self.port, os.path.join(self.workdir, "store"),
                     self.source_dir, self.brands, refresh_interval=self.refresh_interval,
                     threads=self.threads, extra=self.extra, source=self.source,
                     auth=self.auth, catalog=self.catalog)

    def start(self, wait_healthy=True):
        if self.port is None:
            self.port = free_port()
        self.write_config()
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([TPCD, "-c", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.wait_listening()
        if wait_healthy:
            self.wait_healthy()
        return self

    def wait_listening(self):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("tpcd exited with %d:\n%s" %
                                     (self.proc.returncode, self.read_log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, "tpcd to listen on %d" % self.port)

    def wait_healthy(self):
        wait_for(lambda: self.get("/healthz").status == 200, "a published snapshot")

    def read_log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stops tpcd and returns its exit code; a sanitizer report fails the test."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("tpcd did not stop within %ss" % DEADLINE)
        self.proc = None
        self.log.close()
        log = self.read_log()
        check("ERROR: AddressSanitizer" not in log and "runtime error:" not in log
              and "LeakSanitizer" not in log and "WARNING: ThreadSanitizer" not in log
              and "tpcd: BUG:" not in log, "sanitizer report:\n" + log[-4000:])
        return rc

    def close(self):
        try:
            rc = self.stop()
            if rc is not None:
                eq(rc, 0, "tpcd exit code")
        finally:
            if self.own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write(self.read_log()[-3000:])
            try:
                self.stop()
            finally:
                if self.own_workdir:
                    shutil.rmtree(self.workdir, ignore_errors=True)
            return False
        self.close()
        return False

    def request(self, method, path, headers=None, body=None, conn=None, token=ADMIN_TOKEN):
        """token: sent as a bearer token unless None or headers carry a credential."""
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        headers = dict(headers or {})
        if token is not None and not any(k.lower() in ("authorization", "cookie")
                                         for k in headers):
            headers["Authorization"] = "Bearer " + token
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if conn is None:
                c.close()

    def get(self, path, headers=None, conn=None, token=ADMIN_TOKEN):
        return self.request("GET", path, headers=headers, conn=conn, token=token)

    def get_json(self, path, status=200, token=ADMIN_TOKEN):
        r = self.get(path, token=token)
        eq(r.status, status, "GET %s status (body %r)" % (path, r.body[:300]))
        return r.json()

    def post(self, path, body=None, headers=None, token=ADMIN_TOKEN):
        return self.request("POST", path, headers=headers, body=body, token=token)

    def status(self):
        return self.get_json("/v1/status")

    def refresh_and_wait(self):
        """Asks for a refresh and waits until it has finished; returns the new status."""
        before = self.status()["refreshes"]
        eq(self.post("/v1/refresh").status, 202, "POST /v1/refresh")
        return wait_for(lambda: (lambda s: s if s["refreshes"] > before
                                 and not s["refreshing"] else None)(self.status()),
                        "a refresh to finish")
