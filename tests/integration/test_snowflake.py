"""tpcd with `source: snowflake` against fakesnow, our strict fake of the SQL API v2:
the same bytes as the SQLite source, freshness-driven pulls, every fault the issue
names, and an HTTP loop that a slow upstream cannot stall."""

import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import ROOT, Tpcd, check, eq, run_tests, test, wait_for
from sfworld import (BRANDS, CAT, T0, World, agg_status, snowflake_source,
                     strip_snapshot_fields)


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
        # the freshness check runs again once the pulls are in (the point in time)
        eq(c["statements"], 2 + 26, "two freshness statements + one per table")
        eq(c["cloud_services_statements"], 2, "the freshness checks need no warehouse")
        check(any(ua.startswith("tpcd/") for ua in c["user_agents"]), c["user_agents"])
        eq(c["query_tags"].get("tpcd:a:mau_users"), 1, "query tag")
        eq(c["query_tags"].get("tpcd:freshness"), 1, "freshness tag")
        eq(c["query_tags"].get("tpcd:freshness:verify"), 1, "the second look's tag")
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
        c = w.fs.counters()
        eq(c["statements"], 1, "a quiet cycle: the freshness check only")
        eq(c["warehouse_statements"], 0, "a quiet cycle costs no warehouse time")
        eq(s["generation"], gen, "nothing published")
        eq(s["last_refresh"]["published"], False)
        # the same SQL text as the first cycle's, byte for byte (result cache)
        texts = w.fs.counters()["statements_text"]
        # one table refreshed with new data: exactly that one is pulled
        w.fs.reset()
        w.fs.touch("a", "mau_users", T0 + 3600, change="UPDATE {T} SET MAU = MAU + 1")
        s = w.sf.refresh_and_wait()
        c = w.fs.counters()
        eq(c["statements"], 3, "freshness + mau_users + the second look")
        eq(c["warehouse_statements"], 1, "the changed table, on the warehouse")
        eq(c["query_tags"].get("tpcd:a:mau_users"), 1)
        eq(s["generation"], gen + 1, "published")
        # content-addressed: a record's generation is its data timestamp, in ms
        eq(agg_status(w.sf, "a", "mau_users")["generation"], (T0 + 3600) * 1000)
        eq(agg_status(w.sf, "a", "region_sales")["generation"], T0 * 1000)
        r = w.sf.get("/v1/brands/a/aggregates/mau_users")
        eq(r.header("X-Tpcd-Data-Time"), "2025-11-24T17:00:00Z", "data time header")
        eq(json.loads(r.body)["generation"], (T0 + 3600) * 1000)
        eq(json.loads(r.body)["refreshed_at"], "2025-11-24T17:00:00Z")
        eq(w.sf.get("/v1/brands/a/aggregates/region_sales").header("ETag"), etag,
           "untouched aggregate keeps its ETag")
        check(texts and all(t in texts for t in c["statements_text"]
                            if "SHOW DYNAMIC" in t), "freshness SQL is stable")
        # a NO_DATA refresh moves the data timestamp but not the table: the pull is
        # answered by the result cache, and the next quiet cycle does not pull again
        w.fs.reset()
        w.fs.touch("a", "hourly_sales", T0 + 7200, action="NO_DATA")
        w.sf.refresh_and_wait()
        c = w.fs.counters()
        eq((c["statements"], c["warehouse_statements"], c["result_cache_hits"]), (3, 0, 1),
           "NO_DATA: a cached pull (and the second look)")
        w.fs.reset()
        w.sf.refresh_and_wait()
        eq(w.fs.counters()["statements"], 1, "then quiet again")
        # a failing table (suspended) is shown, the last good data kept
        w.fs.touch("b", "heavy_users", T0 + 7200, state="FAILED", message="warehouse gone")
        w.sf.refresh_and_wait()
        a = agg_status(w.sf, "b", "heavy_users")
        check(a["error"] and "SUSPENDED" in a["error"], a)
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
            # every POST carries retry=true (a re-send by curl must not run it twice)
            eq(c["retries"], c["query_tags"].get("tpcd:a:mau_users", 0) +
               c["query_tags"].get("tpcd:freshness", 0) +
               c["query_tags"].get("tpcd:freshness:verify", 0), "retry=true on every POST")
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
