"""tpcd as a service: a test that plays systemd (notify socket, watchdog, socket
activation), reload and shutdown semantics, /metrics parsed as Prometheus text, and two
instances on one store (the refresh lease, a blue/green switch without a failed
request)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading

import harness
from harness import (demo_workdir as demo_copy, DEADLINE, TPCD, Tpcd, check, eq, free_port, make_demo, run_tests,
                     socket_activation, test, wait_for)





class Notify:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, work):
        self.path = os.path.join(work, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []

    def poll(self):
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            pass
        return self.messages

    def wait(self, pred, what):
        def seen():
            for i, m in enumerate(self.poll()):
                if pred(m):
                    return (i, m)
            return None
        return wait_for(seen, what)

    def close(self):
        self.sock.close()


def start_with_env(t, env):
    """Starts tpcd like Tpcd.start, with extra environment (systemd's variables)."""
    if t.port is None:
        t.port = free_port()
    t.write_config()
    t.log = open(t.logpath, "ab")
    t.proc = subprocess.Popen([TPCD, "-c", t.config], stdout=t.log,
                              stderr=subprocess.STDOUT, env=dict(os.environ, **env))
    t.wait_listening()


@test
def test_plays_systemd_notify_and_watchdog():
    work = demo_copy()
    n = Notify(work)
    t = Tpcd(workdir=work)
    try:
        start_with_env(t, {"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "1000000"})
        i_ready, _ = n.wait(lambda m: "READY=1" in m, "READY=1")
        _, st = n.wait(lambda m: m.startswith("STATUS=") and "generation" in m, "STATUS=")
        check(re.search(r"snapshot (blue|green|none) generation \d+", st), st)
        # pings at half the interval: three within a bounded time
        n.wait(lambda m: sum("WATCHDOG=1" in x for x in n.messages) >= 3, "3 watchdog pings")
        t.wait_healthy()
        # reload: RELOADING=1 with MONOTONIC_USEC, then READY=1 again
        before = len(n.poll())
        t.proc.send_signal(signal.SIGHUP)
        i_rel, rel = n.wait(lambda m: "RELOADING=1" in m, "RELOADING=1")
        check(re.search(r"MONOTONIC_USEC=\d+", rel), rel)
        check(i_rel >= before, "a new RELOADING")
        wait_for(lambda: any("READY=1" in m for m in n.poll()[i_rel + 1:]),
                 "READY=1 after the reload")
        eq(t.get("/healthz").status, 200)
        t.proc.send_signal(signal.SIGTERM)
        eq(t.proc.wait(timeout=DEADLINE), 0, "exit code")
        n.wait(lambda m: "STOPPING=1" in m, "STOPPING=1")
        t.proc = None
        t.log.close()
    finally:
        n.close()
        t.close()


@test
def test_socket_activation():
    work = demo_copy()
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(128)
    port = lsock.getsockname()[1]
    t = Tpcd(workdir=work)
    t.port = free_port()		# the configured port, which must NOT be used
    t.write_config()
    t.log = open(t.logpath, "ab")
    t.proc = subprocess.Popen([TPCD, "-c", t.config], stdout=t.log, stderr=subprocess.STDOUT,
                              preexec_fn=socket_activation(lsock.fileno()), close_fds=False)
    lsock.close()
    try:
        configured = t.port
        t.port = port
        wait_for(lambda: t.get("/healthz").status == 200, "served on the passed socket")
        eq(t.get_json("/v1/brands/a/aggregates/mau_users")["aggregate"], "mau_users")
        check("socket from systemd" in t.read_log(), "logged the activation")
        try:
            socket.create_connection(("127.0.0.1", configured), timeout=1).close()
            check(False, "the configured port must stay unbound")
        except OSError:
            pass
    finally:
        t.close()


@test
def test_reload_valid_and_invalid():
    work = demo_copy()
    make_demo(os.path.join(work, "source"),
              brands=(("a", "brand_a"), ("b", "brand_b"), ("c", "brand_c")))
    # http.timeout well above a refresh on a busy machine: the test keeps one keep-alive
    # connection open across two reloads and a refresh, which the default 30 s may close
    with Tpcd(workdir=work, extra="http:\n  timeout: 300\n").start() as t:
        conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
        brands = lambda: [b["id"] for b in json.loads(t.get("/v1/brands", conn=conn).body)
                          ["brands"]]
        eq(brands(), ["a", "b"])
        # a valid change: brand c added; the same keep-alive connection sees it
        t.brands = (("a", "brand_a"), ("b", "brand_b"), ("c", "brand_c"))
        t.write_config()
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: done" in t.read_log(), "the reload")
        eq(brands(), ["a", "b", "c"], "brand c after reload, same connection")
        t.refresh_and_wait()
        # a new connection: the refresh (background priority, a busy machine) may take
        # longer than http.timeout, which closes the idle keep-alive one meanwhile
        eq(t.get("/v1/brands/c/aggregates/mau_users").status, 200)
        # an invalid change is refused with file:line; the old config keeps serving
        with open(t.config, "a") as f:
            f.write("bogus_key: 1\n")
        nlines = open(t.config).read().count("\n")
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in t.read_log(), "the refusal")
        check("%s:%d: unknown key 'bogus_key'" % (t.config, nlines) in t.read_log(),
              "file:line in the log")
        eq(brands(), ["a", "b", "c"], "still serving the last good config")
        eq(t.get("/v1/brands/a/aggregates/mau_users", conn=conn).status, 200)
        audit = open(os.path.join(work, "store", "audit.log")).read().splitlines()
        reloads = [json.loads(l) for l in audit if '"config_reload"' in l]
        eq([r.get("ok", r.get("result")) in (True, "ok") for r in reloads], [True, False],
           "audit: one good reload, one refused")
        conn.close()


@test
def test_sigterm_during_refresh_keeps_the_store():
    work = demo_copy()
    t = Tpcd(workdir=work)
    try:
        t.start()
        before = t.get("/v1/brands/a/aggregates/user_counts")
        snaps = t.get_json("/v1/snapshots")
        # make the next refresh slow: a source that takes long (a big cross join)
        import sqlite3
        db = sqlite3.connect(os.path.join(work, "source", "brand_a.db"))
        db.execute("INSERT INTO orders SELECT order_id + 10000000, member_id, store_id, "
                   "ordered_at FROM orders")
        db.commit()
        db.close()
        eq(t.post("/v1/refresh").status, 202)
        wait_for(lambda: t.status()["refreshing"], "the refresh to start")
        eq(t.stop(), 0, "exit code after SIGTERM during a refresh")
        t.start(wait_healthy=False)
        st = t.status()
        after = t.get("/v1/brands/a/aggregates/user_counts")
        eq(after.body, before.body, "the active snapshot is intact")
        eq(t.get_json("/v1/snapshots")["active"], snaps["active"], "same colour")
        eq(st["generation"], [m for m in snaps["snapshots"] if m["active"]][0]["generation"])
    finally:
        t.close()


@test
def test_swap_rollback_pin_and_tpcctl_ops():
    import sqlite3
    from harness import TPCCTL, tpcctl_env
    work = tempfile.mkdtemp(prefix="tpcd-test-")
    small = (("c", "brand_c"),)		# a small brand: quick refreshes
    make_demo(os.path.join(work, "source"), brands=small)
    with Tpcd(workdir=work, brands=small).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        ctl = lambda *a: subprocess.run([TPCCTL, "-s", url] + list(a), capture_output=True,
                                        text=True, env=tpcctl_env(), timeout=DEADLINE)
        eq(t.post("/v1/swap").status, 409, "nothing to swap to yet")
        g1 = t.status()["generation"]
        db = sqlite3.connect(os.path.join(work, "source", "brand_c.db"))
        db.execute("UPDATE order_lines SET qty = qty + 1 WHERE rowid = 1")
        db.commit()
        s = t.refresh_and_wait()
        eq(s["generation"], g1 + 1)
        new_colour = s["active"]
        # diff: blue against green shows the changed aggregate
        out = ctl("-o", "json", "diff", "c", "sales_by_category")
        eq(out.returncode, 1, "diff(1)'s exit status: different " + out.stderr)
        d = json.loads(out.stdout)
        check("changed" in out.stdout and any(
            (e.get("changed") or 0) > 0 for e in (d if isinstance(d, list) else
                                                   d.get("aggregates", [d]))), out.stdout)
        # rollback to the older snapshot, and the data goes back with it
        r = t.post("/v1/rollback")
        eq(r.status, 200, r.body)
        eq(r.json()["generation"], g1)
        check(t.status()["active"] != new_colour, "colour flipped back")
        eq(t.post("/v1/rollback").status, 409, "the other one is newer now: no rollback")
        eq(t.post("/v1/swap").status, 200, "swap forward again")
        eq(t.status()["generation"], g1 + 1)
        # pinned: a refresh with new data publishes nothing
        eq(t.post("/v1/pin").json()["pinned"], True)
        db.execute("UPDATE order_lines SET qty = qty + 1 WHERE rowid = 2")
        db.commit()
        s = t.refresh_and_wait()
        eq(s["generation"], g1 + 1, "nothing published while pinned")
        check(s["pinned"], "status says pinned")
        eq(t.post("/v1/unpin").json()["pinned"], False)
        eq(t.refresh_and_wait()["generation"], g1 + 2, "published once unpinned")
        db.close()
        out = ctl("health")
        eq(out.returncode, 0, "health OK: " + out.stdout + out.stderr)
        check(out.stdout.startswith("OK"), out.stdout)
        out = ctl("snapshots")
        eq(out.returncode, 0, out.stderr)
        check("blue" in out.stdout and "green" in out.stdout, out.stdout)
    out = subprocess.run([TPCCTL, "-s", url, "health"], capture_output=True, text=True,
                         env=tpcctl_env(), timeout=DEADLINE)
    eq(out.returncode, 3, "health UNKNOWN when tpcd cannot be asked: " + out.stdout)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)?\})? (\S+)$')


def parse_prometheus(text):
    """A strict reader of the text format 0.0.4: HELP/TYPE before samples, valid names
    and labels, float values, histogram buckets cumulative and ending at +Inf."""
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            check(typ in ("counter", "gauge", "histogram", "summary", "untyped"), line)
            check(name not in types, "TYPE twice for " + name)
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        check(m, "not a sample line: %r" % line)
        name, value = m.group(1), float(m.group(5))
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in types or base in types, "sample before its TYPE: " + name)
        samples[name + (m.group(2) or "")] = value
    for name, typ in types.items():
        if typ == "histogram":
            # one series per label set besides le (e.g. per route), each checked alone
            series = {}
            for k, v in samples.items():
                if k.startswith(name + "_bucket"):
                    labels = re.sub(r',?le="[^"]*"', "", k[len(name + "_bucket"):])
                    series.setdefault(labels.replace("{,", "{"), []).append((k, v))
            check(series, "buckets of " + name)
            for labels, buckets in series.items():
                values = [v for _, v in buckets]
                eq(values, sorted(values), "cumulative buckets of %s%s" % (name, labels))
                check(buckets[-1][0].endswith('le="+Inf"}'), "last bucket +Inf")
                count = name + "_count" + ("" if labels == "{}" else labels)
                eq(buckets[-1][1], samples[count], name + labels + " +Inf = count")
    return types, samples


@test
def test_metrics_parse_and_move():
    with Tpcd(workdir=demo_copy()).start() as t:
        r = t.get("/metrics")
        eq(r.status, 200)
        check(r.header("Content-Type").startswith("text/plain; version=0.0.4"),
              r.header("Content-Type"))
        types, s0 = parse_prometheus(r.body.decode())
        for name in ("tpcd_http_requests_total", "tpcd_http_request_duration_seconds",
                     "tpcd_http_response_bytes_total", "tpcd_http_connections_open",
                     "tpcd_refreshes_total", "tpcd_refresh_duration_seconds",
                     "tpcd_aggregate_rows", "tpcd_snapshot_generation",
                     "tpcd_snapshot_age_seconds", "tpcd_upstream_retries_total",
                     "tpcd_upstream_statements_total"):
            check(name in types, "metric " + name)
        key = 'tpcd_http_requests_total{route="data",status="200"}'
        for _ in range(7):
            eq(t.get("/v1/brands/a/aggregates/mau_users").status, 200)
        eq(t.get("/v1/brands/a/aggregates/nope").status, 404)
        _, s1 = parse_prometheus(t.get("/metrics").body.decode())
        eq(s1[key] - s0.get(key, 0), 7, "data requests counted")
        check(s1['tpcd_http_requests_total{route="data",status="404"}'] >= 1, "404 counted")
        check(s1["tpcd_http_response_bytes_total"] > s0["tpcd_http_response_bytes_total"],
              "bytes moved")
        check(s1["tpcd_http_connections_open"] >= 1, "an open connection")
        eq(s1["tpcd_snapshot_generation"], t.status()["generation"])
        ok0 = s1['tpcd_refreshes_total{brand="a",aggregate="mau_users",result="ok"}']
        t.refresh_and_wait()
        _, s2 = parse_prometheus(t.get("/metrics").body.decode())
        eq(s2['tpcd_refreshes_total{brand="a",aggregate="mau_users",result="ok"}'], ok0 + 1)


@test
def test_two_instances_share_a_store_and_hand_over_the_lease():
    work = demo_copy()
    store = os.path.join(work, "shared-store")
    extra = "refresh_lease_ttl: 3\n"
    blue = Tpcd(workdir=tempfile.mkdtemp(prefix="tpcd-blue-"),
                source_dir=os.path.join(work, "source"), extra=extra)
    green = Tpcd(workdir=tempfile.mkdtemp(prefix="tpcd-green-"),
                 source_dir=os.path.join(work, "source"), extra=extra)
    for t in (blue, green):		# one store for both
        os.symlink(store, os.path.join(t.workdir, "store"))
    try:
        os.mkdir(store)
        blue.start()
        wait_for(lambda: blue.status()["lease"]["held"], "blue to hold the lease")
        green.start()
        eq(green.get("/v1/brands/a/aggregates/mau_users").body,
           blue.get("/v1/brands/a/aggregates/mau_users").body, "both serve the store")
        check(not green.status()["lease"]["held"], "green does not refresh")
        # the pin is in the store: set on green, blue sees it (and publishes nothing)
        eq(green.post("/v1/pin").status, 200)
        check(blue.status()["pinned"], "blue sees green's pin")
        eq(blue.post("/v1/unpin").status, 200)
        check(not green.status()["pinned"], "and green sees blue's unpin")
        # blue dies without a word: green takes the lease over
        blue.proc.kill()
        blue.proc.wait()
        blue.proc = None
        blue.log.close()
        wait_for(lambda: green.status()["lease"]["held"], "green to take the lease", 15)
        s = green.refresh_and_wait()
        eq(s["last_refresh"]["result"], "ok")
        check(not (s["last_refresh"]["error"] or "").startswith("skipped"), s["last_refresh"])
    finally:
        green.close()
        blue.close()
        shutil.rmtree(work, ignore_errors=True)


@test
def test_blue_green_switch_drops_no_request():
    """The documented upgrade with nginx in front: start green, check it, switch nginx,
    stop blue (SIGTERM drains) — a client loop across the switch sees no failure."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(os.path.exists(nginx), "nginx is installed (make deps)")
    work = demo_copy()
    store = os.path.join(work, "shared-store")
    os.mkdir(store)
    blue = Tpcd(workdir=tempfile.mkdtemp(prefix="tpcd-blue-"),
                source_dir=os.path.join(work, "source"))
    green = Tpcd(workdir=tempfile.mkdtemp(prefix="tpcd-green-"),
                 source_dir=os.path.join(work, "source"))
    for t in (blue, green):
        os.symlink(store, os.path.join(t.workdir, "store"))
    ngx = os.path.join(work, "nginx")
    os.makedirs(os.path.join(ngx, "logs"))
    os.makedirs(os.path.join(ngx, "tmp"))
    nport = free_port()
    conf = os.path.join(ngx, "nginx.conf")

    def write_nginx(live, backup):
        with open(conf, "w") as f:
            f.write("""
pid %(d)s/nginx.pid;
error_log %(d)s/logs/error.log;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(d)s/tmp; proxy_temp_path %(d)s/tmp;
  fastcgi_temp_path %(d)s/tmp; uwsgi_temp_path %(d)s/tmp; scgi_temp_path %(d)s/tmp;
  upstream tpcd {
    server 127.0.0.1:%(live)d max_fails=0;
    server 127.0.0.1:%(backup)d backup max_fails=0;
    keepalive 8;
  }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://tpcd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
""" % {"d": ngx, "live": live, "backup": backup, "port": nport})

    ngx_proc = None
    failures, ok = [], [0]
    stop = threading.Event()
    try:
        blue.start()
        green.port = free_port()
        write_nginx(blue.port, green.port)
        ngx_log = open(os.path.join(ngx, "stderr.log"), "wb")
        ngx_proc = subprocess.Popen([nginx, "-p", ngx + "/", "-c", conf, "-e",
                                     os.path.join(ngx, "logs", "error.log"), "-g",
                                     "daemon off;"], stdout=ngx_log, stderr=ngx_log)

        def through_nginx():
            try:
                c = http.client.HTTPConnection("127.0.0.1", nport, timeout=DEADLINE)
                c.request("GET", "/v1/brands/a/aggregates/mau_users",
                          headers={"Authorization": "Bearer " + harness.ADMIN_TOKEN})
                r = c.getresponse()
                r.read()
                c.close()
                return r.status == 200
            except OSError:
                check(ngx_proc.poll() is None, "nginx exited: " + open(os.path.join(
                    ngx, "stderr.log")).read())
                return False
        wait_for(through_nginx, "nginx to proxy to blue")

        def client():
            """A dashboard's poll loop on keep-alive connections. Like browsers and curl
            (RFC 9112 9.3.1), it re-sends a GET once on a fresh connection when a reused
            one was closed before any answer (nginx's reload closes idle keep-alives);
            anything else, or a second failure, counts."""
            conn, used = None, 0
            while not stop.is_set():
                for attempt in (1, 2):
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", nport,
                                                          timeout=DEADLINE)
                        used = 0
                    try:
                        conn.request("GET", "/v1/brands/a/aggregates/mau_users",
                                     headers={"Authorization": "Bearer " +
                                              harness.ADMIN_TOKEN})
                        r = conn.getresponse()
                        r.read()
                        used += 1
                        if r.status == 200:
                            ok[0] += 1
                        else:
                            failures.append(r.status)
                        break
                    except (http.client.RemoteDisconnected, ConnectionResetError,
                            BrokenPipeError) as e:
                        conn.close()
                        conn = None
                        if used == 0 or attempt == 2:
                            failures.append(repr(e))
                            break
                    except Exception as e:
                        conn.close()
                        conn = None
                        failures.append(repr(e))
                        break
            if conn is not None:
                conn.close()

        clients = [threading.Thread(target=client) for _ in range(4)]
        for c in clients:
            c.start()
        wait_for(lambda: ok[0] > 50, "traffic through blue")
        green.start()				# 1. start the new instance
        eq(green.get("/healthz").status, 200)	# 2. health-check it
        write_nginx(green.port, blue.port)	# 3. switch nginx
        subprocess.run([nginx, "-p", ngx + "/", "-c", conf, "-e",
                        os.path.join(ngx, "logs", "error.log"), "-s", "reload"], check=True)
        n = ok[0]
        wait_for(lambda: ok[0] > n + 50, "traffic after the switch")
        eq(blue.stop(), 0, "blue drains and exits 0")	# 4. stop the old one
        n = ok[0]
        wait_for(lambda: ok[0] > n + 50, "traffic after blue stopped")
        stop.set()
        for c in clients:
            c.join()
        eq(failures, [], "failed requests across the switch (of %d)" % ok[0])
    finally:
        stop.set()
        if ngx_proc is not None:
            ngx_proc.terminate()
            ngx_proc.wait()
        green.close()
        blue.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
