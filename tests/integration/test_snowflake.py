"""tpcd with `source: snowflake` against fakesnow, our strict fake of the SQL API v2:
the same bytes as the SQLite source, freshness-driven pulls, every fault the issue
names, and an HTTP loop that a slow upstream cannot stall."""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

import yaml

from harness import (CATALOG, DEADLINE, ROOT, Tpcd, check, eq, make_demo, run_tests, test,
                     wait_for)

FAKESNOW = os.path.join(ROOT, os.environ.get("FAKESNOW_BIN", "build/fakesnow"))
BRANDS = (("a", "brand_a"), ("b", "brand_b"))
ACCOUNT, USER = "myorg-acct", "tpcd_svc"
T0 = 1764000000		# the dynamic tables' first data timestamp

with open(CATALOG) as f:
    CAT = yaml.safe_load(f)
CAT_DIR = os.path.dirname(CATALOG)
SQL_TYPES = {"int64": "INTEGER", "double": "REAL", "string": "TEXT", "date": "DATE"}


def dt_name(brand, agg):
    return "DT_BRAND_%s_%s" % (brand.upper(), agg["relation"])


def build_fake_db(path, source_dir):
    """Materialises every aggregate of the demo data as its dynamic table, named as
    Snowflake names it, with one SUCCEEDED refresh each in the history."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE FAKESNOW_REFRESH_HISTORY(NAME TEXT, SCHEMA_NAME TEXT, "
               "DATABASE_NAME TEXT, QUALIFIED_NAME TEXT, STATE TEXT, STATE_MESSAGE TEXT, "
               "REFRESH_ACTION TEXT, DATA_TIMESTAMP TIMESTAMP_LTZ, "
               "REFRESH_START_TIME TIMESTAMP_LTZ, REFRESH_END_TIME TIMESTAMP_LTZ)")
    params = {k: v for k, v in CAT["params"].items()}
    for bid, schema in BRANDS:
        src = sqlite3.connect(os.path.join(source_dir, schema + ".db"))
        for a in CAT["aggregates"]:
            with open(os.path.join(CAT_DIR, a["sqlite"])) as f:
                sql = f.read()
            rows = src.execute(sql, params).fetchall()
            table = "ANALYSIS_BRAND_%s__%s" % (bid.upper(), dt_name(bid, a))
            cols = ", ".join("%s %s" % (c["name"].upper(), SQL_TYPES[c["type"]])
                             for c in a["columns"])
            db.execute("CREATE TABLE %s (%s)" % (table, cols))
            db.executemany("INSERT INTO %s VALUES (%s)" %
                           (table, ",".join("?" * len(a["columns"]))), rows)
            add_history(db, bid, a, T0)
        src.close()
    db.commit()
    db.close()


def add_history(db, bid, agg, ts, state="SUCCEEDED", action="INCREMENTAL", message=""):
    schema = "ANALYSIS_BRAND_%s" % bid.upper()
    name = dt_name(bid, agg)
    db.execute("INSERT INTO FAKESNOW_REFRESH_HISTORY VALUES (?,?,?,?,?,?,?,?,?,?)",
               (name, schema, "TPCD", "TPCD.%s.%s" % (schema, name), state, message,
                action, ts, ts, ts + 5))


class Fakesnow:
    def __init__(self, work, source_dir, partition_rows=100):
        self.work = work
        self.keys = os.path.join(work, "keys")
        subprocess.run(["sh", os.path.join(ROOT, "tests/fakesnow/mkkey.sh"), self.keys],
                       check=True, capture_output=True)
        self.db = os.path.join(work, "fake.db")
        build_fake_db(self.db, source_dir)
        portfile = os.path.join(work, "fakesnow.port")
        self.log = open(os.path.join(work, "fakesnow.log"), "wb")
        self.proc = subprocess.Popen(
            [FAKESNOW, "--port", "0", "--port-file", portfile, "--db", self.db,
             "--public-key", os.path.join(self.keys, "rsa_key.pub"), "--account", ACCOUNT,
             "--user", USER, "--partition-rows", str(partition_rows)],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(wait_for(lambda: os.path.exists(portfile) and
                                 open(portfile).read().strip(), "fakesnow's port"))
        self.url = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=DEADLINE) as r:
            data = r.read()
            return json.loads(data) if data else None

    def counters(self):
        return self.call("GET", "/_fake/counters")

    def reset(self):
        self.call("DELETE", "/_fake/faults")
        self.call("POST", "/_fake/counters/reset")

    def fault(self, **kw):
        self.call("POST", "/_fake/faults", kw)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        eq(self.proc.wait(timeout=DEADLINE), 0, "fakesnow exit code")
        self.log.close()

    def touch(self, bid, agg_name, ts, change=None, **kw):
        """Records a new refresh of one dynamic table (and optionally changes its data)."""
        agg = [a for a in CAT["aggregates"] if a["name"] == agg_name][0]
        db = sqlite3.connect(self.db)
        if change:
            db.execute(change.replace("{T}", "ANALYSIS_BRAND_%s__%s" %
                                      (bid.upper(), dt_name(bid, agg))))
        add_history(db, bid, agg, ts, **kw)
        db.commit()
        db.close()


def snowflake_source(fs, **overrides):
    conf = {
        "account": ACCOUNT, "user": USER, "url": fs.url, "warehouse": "TPCD_WH",
        "role": "TPCD_READER", "database": "TPCD", "auth": "keypair",
        "private_key": os.path.join(fs.keys, "rsa_key.p8"),
        "request_timeout": 2, "deadline": 60, "retry_base_ms": 20, "retry_cap_ms": 100,
        "max_statements": 4, "max_partitions": 3,
    }
    conf.update(overrides)
    return "source:\n  type: snowflake\n  snowflake:\n" + "".join(
        "    %s: %s\n" % (k, v) for k, v in conf.items())


class World:
    """Demo data, fakesnow loaded with it, and a tpcd on each source."""

    def __init__(self, **sf_overrides):
        self.work = tempfile.mkdtemp(prefix="tpcd-sf-")
        self.source_dir = os.path.join(self.work, "source")
        make_demo(self.source_dir)
        self.fs = Fakesnow(self.work, self.source_dir)
        self.sf = Tpcd(source=snowflake_source(self.fs, **sf_overrides)).start()

    def close(self):
        try:
            self.sf.close()
        finally:
            self.fs.stop()
            shutil.rmtree(self.work, ignore_errors=True)


def agg_status(t, brand, name):
    return [a for a in t.status()["aggregates"]
            if a["brand"] == brand and a["aggregate"] == name][0]


def strip_snapshot_fields(body):
    """The two fields that name the snapshot (not the data) differ between daemons."""
    return re.sub(rb'"generation":\d+,"refreshed_at":"[^"]*",', b"", body, count=1)


@test
def test_byte_identical_to_the_sqlite_source():
    w = World()
    try:
        with Tpcd(source_dir=w.source_dir).start() as lite:
            n = 0
            for bid, _ in BRANDS:
                for a in CAT["aggregates"]:
                    path = "/v1/brands/%s/aggregates/%s" % (bid, a["name"])
                    x, y = w.sf.get(path), lite.get(path)
                    eq((x.status, y.status), (200, 200), path)
                    eq(strip_snapshot_fields(x.body), strip_snapshot_fields(y.body),
                       "bytes of " + path)
                    n += 1
            eq(n, 26, "aggregates compared")
        st = w.sf.status()
        eq(st["source"], "snowflake")
        for a in st["aggregates"]:
            check(a["ok"] and a["statement_handle"], a)
            check(a["data_timestamp"].startswith("2025-11-24T16:00:00"), a)	# T0 in UTC
        c = w.fs.counters()
        eq(c["statements"], 2 + 26, "one freshness statement per brand + one per table")
        check(any(ua.startswith("tpcd/") for ua in c["user_agents"]), c["user_agents"])
        eq(c["query_tags"].get("tpcd:a:mau_users"), 1, "query tag")
        eq(c["query_tags"].get("tpcd:b:freshness"), 1, "freshness tag")
        eq(c["auth_failures"], 0)
    finally:
        w.close()


@test
def test_freshness_pulls_only_what_changed():
    w = World()
    try:
        gen = w.sf.status()["generation"]
        etag = w.sf.get("/v1/brands/a/aggregates/region_sales").header("ETag")
        w.fs.reset()
        s = w.sf.refresh_and_wait()
        eq(w.fs.counters()["statements"], 2, "a quiet cycle: the freshness checks only")
        eq(s["generation"], gen, "nothing published")
        eq(s["last_refresh"]["published"], False)
        # the same SQL text as the first cycle's, byte for byte (result cache)
        texts = w.fs.counters()["statements_text"]
        # one table refreshed with new data: exactly that one is pulled
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 3600, change="UPDATE {T} SET MAU = MAU + 1")
        s = w.sf.refresh_and_wait()
        c = w.fs.counters()
        eq(c["statements"], 3, "freshness x2 + mau_users")
        eq(c["query_tags"].get("tpcd:a:mau_users"), 1)
        eq(s["generation"], gen + 1, "published")
        eq(agg_status(w.sf, "a", "mau_users")["generation"], gen + 1)
        eq(agg_status(w.sf, "a", "region_sales")["generation"], gen)
        eq(w.sf.get("/v1/brands/a/aggregates/region_sales").header("ETag"), etag,
           "untouched aggregate keeps its ETag")
        check(texts and all(t in texts for t in c["statements_text"]
                            if "REFRESH_HISTORY" in t), "freshness SQL is stable")
        # a refresh that says NO_DATA is not a reason to pull
        w.fs.reset()
        w.fs.touch("a", "hourly_sales", T0 + 7200, action="NO_DATA")
        w.sf.refresh_and_wait()
        eq(w.fs.counters()["statements"], 2, "NO_DATA refreshes are ignored")
        # a failed refresh is shown, the last good data kept
        w.fs.touch("b", "heavy_users", T0 + 7200, state="FAILED", message="warehouse gone")
        w.sf.refresh_and_wait()
        a = agg_status(w.sf, "b", "heavy_users")
        check(a["error"] and "FAILED" in a["error"] and "warehouse gone" in a["error"], a)
        eq(w.sf.get("/v1/brands/b/aggregates/heavy_users").status, 200)
    finally:
        w.close()


@test
def test_slow_statement_does_not_stall_http():
    w = World()
    try:
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 3600)
        w.fs.fault(kind="delay", ms=4000, match="DT_BRAND_A_MAU_USERS", count=1)
        eq(w.sf.post("/v1/refresh").status, 202)
        wait_for(lambda: w.fs.counters()["faults_fired"] >= 1, "the slow statement to start")
        served = 0
        for _ in range(50):
            r = w.sf.get("/v1/brands/b/aggregates/sales_by_category")
            eq(r.status, 200)
            served += 1
        # all of that happened while the statement was still being held upstream
        check(w.sf.status()["refreshing"], "refresh still in flight after %d requests" %
              served)
        wait_for(lambda: not w.sf.status()["refreshing"], "the slow refresh to end")
        eq(agg_status(w.sf, "a", "mau_users")["ok"], True)
    finally:
        w.close()


# fault, expected result, expected POSTs of the statement, its retries (retry=true POSTs)
FAULTS = [
    ({"kind": "status", "status": 401}, True, 2, 1),
    ({"kind": "status", "status": 408}, False, 1, 0),
    ({"kind": "status", "status": 422}, False, 1, 0),
    ({"kind": "status", "status": 429, "retry_after": 1}, True, 2, 1),
    ({"kind": "status", "status": 429, "count": 50}, False, 8, 7),
    ({"kind": "status", "status": 500, "count": 2}, True, 3, 2),
    ({"kind": "status", "status": 503, "count": 2}, True, 3, 2),
    ({"kind": "status", "status": 504, "count": 2}, True, 3, 2),
    ({"kind": "status", "status": 400}, False, 1, 0),
    ({"kind": "delay", "ms": 3500}, True, 2, 1),
    # a reset on a reused connection: curl itself may re-send before tpcd's retry does
    ({"kind": "reset", "execute": False}, True, 2, (0, 1)),
    ({"kind": "truncate"}, True, 2, 1),
    ({"kind": "malformed"}, True, 2, 1),
    ({"kind": "numrows"}, False, 1, 0),
]


@test
def test_every_fault():
    w = World()
    try:
        ts = T0
        for fault, ok, posts, retries in FAULTS:
            what = json.dumps(fault)
            gen = w.sf.status()["generation"]
            before = w.sf.get("/v1/brands/a/aggregates/mau_users").body
            ts += 60
            w.fs.reset()
            # MAU, not ORDERS: orders must still add up across aggregates (publish guards)
            w.fs.touch("a", "mau_users", ts, change="UPDATE {T} SET MAU = MAU + 1")
            f = dict(fault)
            f.setdefault("count", 1)
            f["match"] = "DT_BRAND_A_MAU_USERS"
            w.fs.fault(**f)
            s = w.sf.refresh_and_wait()
            c = w.fs.counters()
            a = agg_status(w.sf, "a", "mau_users")
            eq(c["query_tags"].get("tpcd:a:mau_users"), posts, "POSTs for " + what)
            check(c["retries"] in (retries if isinstance(retries, tuple) else (retries,)),
                  "retry=true POSTs for %s: %d" % (what, c["retries"]))
            eq(c["faults_fired"], min(f["count"], posts), "faults fired for " + what)
            eq(a["ok"], ok, "result for %s (%s)" % (what, a["error"]))
            r = w.sf.get("/v1/brands/a/aggregates/mau_users")
            eq(r.status, 200, "still served after " + what)
            if ok:
                eq(s["generation"], gen + 1, "published after " + what)
                check(r.body != before, "new data after " + what)
            else:
                eq(r.body, before, "last good snapshot kept after " + what)
                check(a["error"], "error shown for " + what)
                if fault.get("status") == 422:
                    check("002003" in a["error"], a["error"])
                # the next cycle, fault lifted, recovers
                w.fs.reset()
                w.sf.refresh_and_wait()
                eq(agg_status(w.sf, "a", "mau_users")["ok"], True, "recovered after " + what)
        check(w.sf.proc.poll() is None, "tpcd survived every fault")
    finally:
        w.close()


@test
def test_partition_faults_and_async():
    w = World()
    try:
        # user_counts has 365 rows: 4 partitions of 100 rows
        for i, fault in enumerate(({"kind": "bad_gzip"}, {"kind": "status", "status": 503},
                                   {"kind": "reset", "rst": True})):
            w.fs.reset()
            w.fs.touch("a", "user_counts", T0 + 600 + i,
                       change="UPDATE {T} SET NEW_MEMBERS = NEW_MEMBERS + 1")
            w.fs.fault(match="partition=2", count=1, **fault)
            w.sf.refresh_and_wait()
            a = agg_status(w.sf, "a", "user_counts")
            eq(a["ok"], True, "partition fault %s: %s" % (fault, a["error"]))
            c = w.fs.counters()
            eq(c["faults_fired"], 1, "the partition fault fired: %s" % fault)
            body = w.sf.get_json("/v1/brands/a/aggregates/user_counts")
            eq(len(body["rows"]), 365, "all partitions assembled")
        # asynchronous execution: 202, then polls
        w.fs.reset()
        w.fs.touch("b", "mau_users", T0 + 900, change="UPDATE {T} SET MAU = MAU + 2")
        w.fs.fault(kind="async", polls=3, match="DT_BRAND_B_MAU_USERS")
        w.sf.refresh_and_wait()
        eq(agg_status(w.sf, "b", "mau_users")["ok"], True)
        check(w.fs.counters()["polls"] >= 3, "polled the status URL")
    finally:
        w.close()


@test
def test_shutdown_cancels_running_statements():
    w = World()
    try:
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 3600)
        w.fs.fault(kind="async", polls=1000, match="DT_BRAND_A_MAU_USERS")
        eq(w.sf.post("/v1/refresh").status, 202)
        wait_for(lambda: w.fs.counters()["polls"] >= 1, "the statement to be polled")
        eq(w.sf.stop(), 0, "exit code")
        eq(w.fs.counters()["cancels"], 1, "the running statement was cancelled")
    finally:
        w.close()


@test
def test_insecure_key_refused_with_file_line():
    work = tempfile.mkdtemp(prefix="tpcd-sf-")
    try:
        keys = os.path.join(work, "keys")
        subprocess.run(["sh", os.path.join(ROOT, "tests/fakesnow/mkkey.sh"), keys],
                       check=True, capture_output=True)
        os.chmod(os.path.join(keys, "rsa_key.p8"), 0o644)

        class F:
            url = "http://127.0.0.1:1"
        F.keys = keys
        t = Tpcd(workdir=work, source=snowflake_source(F))
        t.port = 1
        t.write_config()
        from harness import TPCD
        r = subprocess.run([TPCD, "-t", "-c", t.config], capture_output=True, text=True)
        eq(r.returncode, 1)
        check(re.match(r"^%s:\d+: 'private_key': .*permissions 644" % re.escape(t.config),
                       r.stderr), r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
