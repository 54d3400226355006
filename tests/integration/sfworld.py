"""fakesnow loaded with the demo data as dynamic tables, and tpcd's snowflake source
pointed at it: shared by test_snowflake.py and test_fleet.py."""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import urllib.request

import yaml

from harness import CATALOG, DEADLINE, ROOT, Tpcd, eq, make_demo, wait_for

FAKESNOW = os.path.join(ROOT, os.environ.get("FAKESNOW_BIN", "build/fakesnow"))
BRANDS = (("a", "brand_a"), ("b", "brand_b"))
ACCOUNT, USER = "myorg-acct", "tpcd_svc"
T0 = 1764000000		# the dynamic tables' first data timestamp

with open(CATALOG) as f:
    CAT = yaml.safe_load(f)
CAT_DIR = os.path.dirname(CATALOG)
SQL_TYPES = {"int64": "INTEGER", "double": "REAL", "string": "TEXT", "date": "DATE"}
with open(os.path.join(ROOT, "schema", "sqlite", "views.sql")) as f:
    SQLITE_VIEWS = f.read()	# the TEMP views the SQLite queries read


def dt_name(brand, agg):
    return "DT_BRAND_%s_%s" % (brand.upper(), agg["relation"])


def build_fake_db(path, source_dir, brands=BRANDS):
    """Materialises every aggregate of the demo data (or any brands' SQLite files) as
    its dynamic table, named as Snowflake names it, with one SUCCEEDED refresh each in
    the history."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE FAKESNOW_REFRESH_HISTORY(NAME TEXT, SCHEMA_NAME TEXT, "
               "DATABASE_NAME TEXT, QUALIFIED_NAME TEXT, STATE TEXT, STATE_MESSAGE TEXT, "
               "REFRESH_ACTION TEXT, DATA_TIMESTAMP TIMESTAMP_LTZ, "
               "REFRESH_START_TIME TIMESTAMP_LTZ, REFRESH_END_TIME TIMESTAMP_LTZ)")
    params = {k: v for k, v in CAT["params"].items()}
    for bid, schema in brands:
        src = sqlite3.connect(os.path.join(source_dir, schema + ".db"))
        src.executescript(SQLITE_VIEWS)	# as the daemon's SQLite source does
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
    def __init__(self, work, source_dir, partition_rows=100, brands=BRANDS, args=()):
        self.work = work
        self.keys = os.path.join(work, "keys")
        subprocess.run(["sh", os.path.join(ROOT, "tests/fakesnow/mkkey.sh"), self.keys],
                       check=True, capture_output=True)
        self.db = os.path.join(work, "fake.db")
        build_fake_db(self.db, source_dir, brands)
        portfile = os.path.join(work, "fakesnow.port")
        self.log = open(os.path.join(work, "fakesnow.log"), "wb")
        self.proc = subprocess.Popen(
            [FAKESNOW, "--port", "0", "--port-file", portfile, "--db", self.db,
             "--public-key", os.path.join(self.keys, "rsa_key.pub"), "--account", ACCOUNT,
             "--user", USER, "--partition-rows", str(partition_rows)] + list(args),
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

    def refresh_later(self, bid, agg_name, ts, change=None, after=0):
        """Has the fake refresh one dynamic table (a new version committed then) once
        `after` more statements have been answered: between two reads of one cycle."""
        agg = [a for a in CAT["aggregates"] if a["name"] == agg_name][0]
        spec = {"table": "ANALYSIS_BRAND_%s.%s" % (bid.upper(), dt_name(bid, agg)),
                "data_timestamp": ts, "after": after}
        if change:
            spec["change"] = change
        return self.call("POST", "/_fake/refreshes", spec)

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
