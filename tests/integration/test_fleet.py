"""Many replicas, one warehouse bill (issue 14): three tpcd instances on one fakesnow
behind Debian's nginx, and the fixes found by running tpcd against the fake: an
unchanged pull is remembered, a statement never runs twice, a failing freshness check
is visible, JWT renewals are counted, a scaled money column decodes."""

import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading

from harness import (ADMIN_TOKEN, DEADLINE, Tpcd, check, eq, free_port, make_demo,
                     run_tests, test, wait_for)
from sfworld import (BRANDS, CAT, T0, Fakesnow, World, agg_status, dt_name,
                     snowflake_source)

NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")


def metric(t, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), t.get("/metrics").body.decode(), re.M)
    check(m, "metric %s" % name)
    return float(m.group(1))


def bill(fs):
    c = fs.counters()
    return {"statements": c["statements"], "warehouse_statements": c["warehouse_statements"],
            "warehouse_s": c["warehouse_us"] / 1e6, "result_cache_hits": c["result_cache_hits"],
            "cloud_services": c["cloud_services_statements"]}


# ------------------------------------------------------------------ the fixes


@test
def test_unchanged_pull_is_remembered():
    """A DT refreshed with identical rows is pulled once, not on every later cycle."""
    w = World()
    try:
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 60)		# new data timestamp, same rows
        s = w.sf.refresh_and_wait()
        eq(w.fs.counters()["query_tags"].get("tpcd:a:mau_users"), 1, "pulled once")
        eq(s["last_refresh"]["published"], False, "identical content: nothing published")
        w.fs.reset()
        w.sf.refresh_and_wait()
        c = w.fs.counters()
        eq(c["query_tags"].get("tpcd:a:mau_users"), None, "not pulled again")
        eq(c["statements"], sum(n for k, n in c["query_tags"].items() if "freshness" in k),
           "the next quiet cycle: the freshness check only")
        check(agg_status(w.sf, "a", "mau_users")["data_timestamp"].startswith(
            "2025-11-24T16:01:00"), "status shows the data timestamp pulled")
    finally:
        w.close()


@test
def test_reset_after_execution_runs_once():
    """The connection dies right after the fake ran the POST: whoever re-sends it (curl on
    a reused connection, or tpcd), the statement runs exactly once."""
    w = World()
    try:
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 120, change="UPDATE {T} SET MAU = MAU + 1")
        w.fs.fault(kind="reset", execute=True, match="DT_BRAND_A_MAU_USERS")
        s = w.sf.refresh_and_wait()
        c = w.fs.counters()
        eq(c["faults_fired"], 1, "the reset fired")
        fresh = sum(n for k, n in c["query_tags"].items() if "freshness" in k)
        eq(c["statements"] - fresh, 1, "the pull ran once in the fake (%s)" % c["statements_text"])
        eq(c["dedups"], 1, "the re-send got the first run's result")
        eq(agg_status(w.sf, "a", "mau_users")["ok"], True)
        eq(s["last_refresh"]["published"], True)
    finally:
        w.close()


@test
def test_failing_freshness_check_is_visible():
    w = World()
    try:
        eq(w.sf.status()["freshness"], {"ok": True, "failures": 0, "error": None},
           "healthy at start")
        eq(metric(w.sf, "tpcd_upstream_freshness_ok"), 1)
        w.fs.reset()
        w.fs.fault(kind="status", status=422, code="003001", sql_state="42501",
                   message="Insufficient privileges to operate on database 'TPCD' (MONITOR)",
                   match="SHOW DYNAMIC TABLES")
        w.sf.refresh_and_wait()
        f = w.sf.status()["freshness"]
        eq((f["ok"], f["failures"]), (False, 1), "status shows it: %s" % f)
        check("003001" in f["error"] and "MONITOR" in f["error"], f)
        eq(metric(w.sf, "tpcd_upstream_freshness_failures_total"), 1)
        eq(metric(w.sf, "tpcd_upstream_freshness_ok"), 0)
        w.fs.reset()
        w.sf.refresh_and_wait()
        f = w.sf.status()["freshness"]
        eq((f["ok"], f["failures"]), (True, 1), "recovered, the count stays")
        eq(metric(w.sf, "tpcd_upstream_freshness_ok"), 1)
    finally:
        w.close()


@test
def test_jwt_renewal_is_a_counted_retry():
    w = World()
    try:
        before = (w.sf.status()["upstream_retries"],
                  metric(w.sf, "tpcd_upstream_retries_total"))
        w.fs.reset()
        w.fs.touch("b", "mau_users", T0 + 60, change="UPDATE {T} SET MAU = MAU + 1")
        w.fs.fault(kind="status", status=401, match="DT_BRAND_B_MAU_USERS")
        w.sf.refresh_and_wait()
        eq(w.fs.counters()["faults_fired"], 1)
        eq(agg_status(w.sf, "b", "mau_users")["ok"], True)
        eq(w.sf.status()["upstream_retries"], before[0] + 1, "status counts the renewal")
        eq(metric(w.sf, "tpcd_upstream_retries_total"), before[1] + 1, "so do the metrics")
    finally:
        w.close()


@test
def test_scaled_money_column():
    """Revenue (int64, KRW) from a NUMBER(38,2) column: the same body as from NUMBER(38,0)."""
    w = World()
    try:
        path = "/v1/brands/a/aggregates/region_sales"
        before = json.loads(w.sf.get(path).body)
        agg = [a for a in CAT["aggregates"] if a["name"] == "region_sales"][0]
        table = "ANALYSIS_BRAND_A__%s" % dt_name("a", agg)
        types = {"int64": "INTEGER", "double": "REAL", "string": "TEXT"}
        cols = ", ".join("%s %s" % (c["name"].upper(), "NUMBER(38,2)" if c["unit"] == "KRW"
                                    and c["type"] == "int64" else types[c["type"]])
                         for c in agg["columns"])
        db = sqlite3.connect(w.fs.db)
        db.execute("ALTER TABLE %s RENAME TO OLD_RS" % table)
        db.execute("CREATE TABLE %s (%s)" % (table, cols))
        db.execute("INSERT INTO %s SELECT * FROM OLD_RS" % table)
        db.execute("DROP TABLE OLD_RS")
        db.commit()
        db.close()
        w.fs.touch("a", "region_sales", T0 + 60)
        w.fs.reset()
        w.sf.refresh_and_wait()
        check(any("NUMBER(38,2)" in t or "REGION_SALES" in t
                  for t in w.fs.counters()["statements_text"]), "pulled again")
        a = agg_status(w.sf, "a", "region_sales")
        eq(a["ok"], True, "a scaled money column decodes: %s" % a["error"])
        eq(json.loads(w.sf.get(path).body)["rows"], before["rows"], "the same rows")
    finally:
        w.close()


# ------------------------------------------------------------------ the fleet


class Nginx:
    """Debian's nginx on a loopback port in front of the instances, from a temp config."""

    def __init__(self, work, ports):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "tmp"))
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "tmp"), 0o777)
        self.port = free_port()
        servers = "".join("        server 127.0.0.1:%d max_fails=1 fail_timeout=2s;\n" % p
                          for p in ports)
        tmp = os.path.join(self.dir, "tmp")
        conf = """daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
    access_log %(d)s/access.log;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    upstream tpcd {
%(servers)s        keepalive 16;
    }
    server {
        listen 127.0.0.1:%(port)d;
        gzip off;
        location / {
            proxy_pass http://tpcd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries %(tries)d;
            proxy_next_upstream_timeout 10s;
            proxy_connect_timeout 2s;
        }
    }
}
""" % {"d": self.dir, "t": tmp, "servers": servers, "port": self.port,
       "tries": len(ports)}
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: self._up(), "nginx to listen")

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("nginx exited: " + open(os.path.join(
                self.dir, "error.log")).read())
        try:
            socket_ok = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            socket_ok.request("GET", "/healthz")
            socket_ok.getresponse().read()
            socket_ok.close()
            return True
        except OSError:
            return False

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def all_bodies(t):
    out = {}
    for bid, _ in BRANDS:
        for a in CAT["aggregates"]:
            path = "/v1/brands/%s/aggregates/%s" % (bid, a["name"])
            r = t.get(path)
            eq(r.status, 200, path)
            out[path] = (r.header("ETag"), r.header("X-Tpcd-Data-Time"), r.body)
    return out


class Poller(threading.Thread):
    """A dashboard polling through nginx: If-None-Match with its ETag, X-Tpcd-Not-Before
    with the newest data time it has seen. Records every answer."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.stop = threading.Event()
        self.errors, self.times, self.n = [], [], 0
        self.etag = self.data_time = None

    def run(self):
        conn = None
        while not self.stop.is_set():
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port,
                                                          timeout=DEADLINE)
                h = {"Authorization": "Bearer " + ADMIN_TOKEN}
                if self.etag:
                    h["If-None-Match"] = self.etag
                if self.data_time:
                    h["X-Tpcd-Not-Before"] = self.data_time
                conn.request("GET", self.path, headers=h)
                r = conn.getresponse()
                r.read()
                self.n += 1
                if r.status == 200:
                    self.etag = r.getheader("ETag")
                    dt = r.getheader("X-Tpcd-Data-Time")
                    if self.data_time and dt < self.data_time:
                        self.errors.append(("data time went back", self.data_time, dt))
                    self.data_time = dt
                    self.times.append(dt)
                elif r.status != 304:
                    self.errors.append((r.status, self.path))
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(("transport", repr(e)))
                conn = None


@test
def test_three_replicas_behind_nginx():
    work = tempfile.mkdtemp(prefix="tpcd-fleet-")
    source_dir = os.path.join(work, "source")
    make_demo(source_dir)
    fs = Fakesnow(work, source_dir)
    figures = {}
    tpcds, nginx, pollers = [], None, []
    try:
        # one instance: its first cycle
        fs.reset()
        tpcds.append(Tpcd(source=snowflake_source(fs)).start())
        wait_for(lambda: tpcds[0].status()["refreshes"] >= 1, "the first cycle")
        figures["first cycle, 1 instance"] = bill(fs)
        eq(figures["first cycle, 1 instance"]["warehouse_statements"], 26,
           "one warehouse statement per dynamic table")
        # two more: their first cycles are the result cache's
        fs.reset()
        tpcds += [Tpcd(source=snowflake_source(fs)).start() for _ in range(2)]
        for t in tpcds[1:]:
            wait_for(lambda: t.status()["refreshes"] >= 1, "the first cycle")
        b = bill(fs)
        # 28 each: two SHOWs (before the pulls and the second look after them) + 26 pulls
        eq((b["statements"], b["warehouse_statements"], b["result_cache_hits"]),
           (2 * 28, 0, 2 * 26), "instances 2 and 3 cost no warehouse time")
        figures["first cycle, 3 instances"] = {
            k: figures["first cycle, 1 instance"][k] + b[k] for k in b}
        # identical bodies and ETags on every instance
        bodies = [all_bodies(t) for t in tpcds]
        eq(bodies[1], bodies[0], "instance 2 serves what instance 1 does, byte for byte")
        eq(bodies[2], bodies[0], "instance 3 too")
        path = "/v1/brands/a/aggregates/mau_users"
        r = tpcds[0].get(path, headers={"X-Tpcd-Not-Before": "2099-01-01T00:00:00Z"})
        eq((r.status, r.header("Retry-After"), r.json()["error"]["code"]), (503, "1", "behind"),
           "data older than the client's: 503 for the balancer to retry elsewhere")
        eq(tpcds[0].get(path, headers={"X-Tpcd-Not-Before": "2025-11-24T16:00:00Z"}).status,
           200, "data as new as the client's")
        # a quiet cycle: zero warehouse statements anywhere
        fs.reset()
        tpcds[0].refresh_and_wait()
        figures["quiet cycle, 1 instance"] = bill(fs)
        for t in tpcds[1:]:
            t.refresh_and_wait()
        figures["quiet cycle, 3 instances"] = bill(fs)
        eq(figures["quiet cycle, 3 instances"]["statements"], 3, "one SHOW per instance")
        eq(figures["quiet cycle, 3 instances"]["warehouse_statements"], 0, "no warehouse")
        # one DT changed: the warehouse runs it once, the others hit the result cache
        fs.reset()
        fs.touch("a", "mau_users", T0 + 3600, change="UPDATE {T} SET MAU = MAU + 1")
        tpcds[0].refresh_and_wait()
        figures["one DT changed, 1 instance"] = bill(fs)
        for t in tpcds[1:]:
            t.refresh_and_wait()
        figures["one DT changed, 3 instances"] = b = bill(fs)
        eq((b["statements"], b["warehouse_statements"], b["result_cache_hits"]), (9, 1, 2),
           "one change costs warehouse time once (each instance: 2 SHOWs + 1 pull)")
        bodies = [all_bodies(t) for t in tpcds]
        eq(bodies[1], bodies[0], "the same new bytes everywhere")
        eq(bodies[2], bodies[0], "the same new bytes everywhere")

        # clients polling through nginx while instances refresh one by one and one dies
        nginx = Nginx(work, [t.port for t in tpcds])
        paths = ["/v1/brands/%s/aggregates/mau_users" % b for b, _ in BRANDS] * 2
        pollers = [Poller(nginx.port, p) for p in paths]
        for p in pollers:
            p.start()
        wait_for(lambda: all(p.n >= 5 for p in pollers), "clients polling")
        for k, bid in enumerate(("a", "b", "a")):
            fs.touch(bid, "mau_users", T0 + 7200 + 600 * k,
                     change="UPDATE {T} SET MAU = MAU + 1")
            for i, t in enumerate(tpcds):
                if t.proc is None:
                    continue
                t.refresh_and_wait()
                mark = [p.n for p in pollers]
                wait_for(lambda: all(p.n >= m + 3 for p, m in zip(pollers, mark)),
                         "clients polling between refreshes")
                if k == 1 and i == 1:
                    tpcds[2].proc.send_signal(signal.SIGKILL)	# mid-polling, no drain
                    tpcds[2].proc.wait()
                    tpcds[2].proc = None
                    tpcds[2].log.close()
        mark = [p.n for p in pollers]
        wait_for(lambda: all(p.n >= m + 10 for p, m in zip(pollers, mark)), "more polls")
        for p in pollers:
            p.stop.set()
        for p in pollers:
            p.join(DEADLINE)
        for p in pollers:
            eq(p.errors, [], "client of %s: no lost request, never back in time" % p.path)
            check(len(set(p.times)) >= 2, "the client saw the changes: %s" % set(p.times))
        eq(pollers[0].data_time, "2025-11-24T18:20:00Z", "the newest data reached clients")
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        for p in pollers:
            p.stop.set()
        if nginx:
            nginx.stop()
        for t in tpcds:
            t.close()
        fs.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
