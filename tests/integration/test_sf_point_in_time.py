"""One point in time per brand, Snowflake source (issue 12): a dynamic table of brand a
is refreshed by the fake between two reads of one cycle (after the Nth statement is
answered), and the published snapshot still describes one state, the one before that
refresh: its cross-aggregate totals agree. The table is read again AT(TIMESTAMP => the
cycle's point in time); the manifest records that point. A later cycle publishes the
new state, again consistent. Without Time Travel data the brand keeps its last snapshot
whole. Pulls run one at a time (max_statements: 1) so the order of reads is known, and
guards: warn lets a split snapshot be published, so that it would be seen here. And the
fake's own Time Travel, spoken to directly: versions, both timestamp forms, 000707."""

import json
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.error
import urllib.request

from harness import DEADLINE, Tpcd, check, eq, make_demo, run_tests, test
from sfworld import CAT, T0, Fakesnow, agg_status, dt_name, snowflake_source

# pulls of brand a, in catalogue order: mau_users, region_sales, hourly_sales,
# sales_by_category; statement 1 is the freshness check, so after=2 lands between the
# pull of mau_users and that of region_sales
RACED = "region_sales"
ONE_ORDER = "ORDERS = ORDERS + 1, REVENUE = REVENUE + 10000"


class World:
    def __init__(self, fake_args=()):
        self.work = tempfile.mkdtemp(prefix="tpcd-sfpit-")
        source_dir = os.path.join(self.work, "source")
        make_demo(source_dir)
        self.fs = Fakesnow(self.work, source_dir, args=fake_args)
        self.t = Tpcd(source=snowflake_source(self.fs, max_statements=1),
                      extra="guards: warn\n").start()

    def close(self):
        try:
            self.t.close()
        finally:
            self.fs.stop()
            shutil.rmtree(self.work, ignore_errors=True)

    def fake_table(self, agg_name, bid="a"):
        agg = [a for a in CAT["aggregates"] if a["name"] == agg_name][0]
        return "ANALYSIS_BRAND_%s__%s" % (bid.upper(), dt_name(bid, agg))

    def fake_query(self, sql, *args):
        db = sqlite3.connect(self.fs.db)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()


def rows(t, agg, brand="a"):
    body = t.get_json("/v1/brands/%s/aggregates/%s" % (brand, agg))
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, r)) for r in body["rows"]]


def totals(t):
    """Per month: orders and revenue as each aggregate of brand a reports them; and the
    totals hourly_sales (which has no month) is compared on."""
    by = {}
    for r in rows(t, "region_sales"):
        m = by.setdefault(r["month"], {"region orders": 0, "region revenue": 0})
        m["region orders"] += r["orders"]
        m["region revenue"] += r["revenue"]
    for r in rows(t, "mau_users"):
        by.setdefault(r["month"], {})["mau orders"] = r["orders"]
    for r in rows(t, "sales_by_category"):
        m = by.setdefault(r["month"], {})
        m["category revenue"] = m.get("category revenue", 0) + r["revenue"]
    hourly = rows(t, "hourly_sales")
    by["all"] = {
        "region orders": sum(v.get("region orders", 0) for v in by.values()),
        "region revenue": sum(v.get("region revenue", 0) for v in by.values()),
        "hourly orders": sum(r["orders"] for r in hourly),
        "hourly revenue": sum(r["revenue"] for r in hourly),
    }
    return by


def disagreements(tot):
    bad = []
    for month, v in tot.items():
        if month == "all":
            if (v["hourly orders"], v["hourly revenue"]) != (v["region orders"],
                                                             v["region revenue"]):
                bad.append(("all", v))
        elif v.get("region orders", 0) and (
                v.get("mau orders") != v["region orders"] or
                v.get("category revenue") != v["region revenue"]):
            bad.append((month, v))
    return bad


def live_manifest(t):
    snaps = t.get_json("/v1/snapshots")
    return [m for m in snaps["snapshots"] if m["colour"] == snaps["active"]][0]


def points(t, brand="a"):
    return {e["aggregate"]: e.get("point_in_time_unix_ms")
            for e in live_manifest(t)["aggregates"] if e["brand"] == brand}


def race(w, ts):
    """Moves brand a's four cross-checked tables (mau_users gets new content that no
    cross-aggregate check reads) and has the fake refresh region_sales (one more order)
    between the reads of mau_users and region_sales."""
    w.fs.reset()
    w.fs.touch("a", "mau_users", ts, change="UPDATE {T} SET MAU = MAU + 1")
    for agg in ("region_sales", "hourly_sales", "sales_by_category"):
        w.fs.touch("a", agg, ts)
    rowid = w.fake_query("SELECT MAX(rowid) FROM %s" % w.fake_table(RACED))[0][0]
    w.fs.refresh_later("a", RACED, ts + 600, after=2,
                       change="UPDATE {T} SET %s WHERE rowid = %d" % (ONE_ORDER, rowid))
    return w.fake_query("SELECT MONTH FROM %s WHERE rowid = ?" % w.fake_table(RACED),
                        rowid)[0][0]


def catch_up(w, month, ts):
    """The other cross-checked tables of brand a refresh with the raced order too."""
    for agg in ("mau_users", "sales_by_category", "heavy_users"):
        w.fs.touch("a", agg, ts, change="UPDATE {T} SET %s WHERE rowid = "
                   "(SELECT MIN(rowid) FROM {T} WHERE MONTH = '%s')" % (
                       "ORDERS = ORDERS + 1" if agg == "mau_users" else ONE_ORDER, month))
    w.fs.touch("a", "hourly_sales", ts, change="UPDATE {T} SET %s WHERE rowid = "
               "(SELECT MIN(rowid) FROM {T})" % ONE_ORDER)


@test
def test_refresh_between_two_reads_does_not_split_the_snapshot():
    w = World()
    try:
        before = totals(w.t)
        eq(disagreements(before), [], "the first snapshot agrees with itself")
        month = race(w, T0 + 600)
        s = w.t.refresh_and_wait()
        c = w.fs.counters()
        eq(c["dt_refreshes"], 1, "the fake refreshed region_sales mid-cycle")
        eq(s["last_refresh"]["published"], True, "published (mau_users changed)")
        after = totals(w.t)
        eq(disagreements(after), [], "one snapshot, one state: totals agree")
        eq(after, before, "and it is the state before the mid-cycle refresh")
        eq(s["guards"]["result"], "passed", "the guards found nothing to report")
        # region_sales was read twice: plain, then as of the point in time
        eq(c["query_tags"].get("tpcd:a:region_sales"), 2, "region_sales read again")
        eq(c["query_tags"].get("tpcd:a:hourly_sales"), 1, "the others once")
        at = [x for x in c["statements_text"] if "AT(TIMESTAMP =>" in x]
        eq(len(at), 1, "one Time Travel statement: %r" % at)
        check("DT_BRAND_A_REGION_SALES AT(TIMESTAMP => TO_TIMESTAMP_LTZ(" in at[0], at[0])
        # the manifest records the brand's point in time: one instant, before the refresh
        p = points(w.t)
        eq(len(set(p.values())), 1, "every aggregate of brand a at one point: %r" % p)
        point = p["region_sales"]
        check(point and point > 0, "a point in time: %r" % p)
        committed = w.fake_query("SELECT MAX(REFRESH_END_TIME) FROM FAKESNOW_REFRESH_HISTORY "
                                 "WHERE NAME = ?", "DT_BRAND_A_REGION_SALES")[0][0]
        check(point / 1000.0 < committed, "point %d before the refresh's commit %r" %
              (point, committed))
        eq(int(at[0].split("TO_TIMESTAMP_LTZ(")[1].split(",")[0]), point,
           "the Time Travel statement reads at the recorded point")
        e = [x for x in live_manifest(w.t)["aggregates"]
             if x["brand"] == "a" and x["aggregate"] == "region_sales"][0]
        check(e["point_in_time"].endswith("Z") and len(e["point_in_time"]) == 24, e)
        eq(agg_status(w.t, "a", "region_sales")["data_timestamp"][:19], "2025-11-24T16:10:00",
           "region_sales: the data timestamp of what was read, not of the refresh")

        # the next cycle: the other tables catch up with the same order; one new state
        catch_up(w, month, T0 + 1200)
        w.fs.reset()
        s = w.t.refresh_and_wait()
        eq(s["last_refresh"]["published"], True, "the new state is published")
        newer = totals(w.t)
        eq(disagreements(newer), [], "the new state agrees with itself")
        eq(newer[month]["region orders"], before[month]["region orders"] + 1, "the order")
        eq(newer["all"]["hourly revenue"], before["all"]["hourly revenue"] + 10000,
           "its revenue, in hourly_sales too")
        eq(s["guards"]["result"], "passed")
        eq(w.fs.counters()["query_tags"].get("tpcd:a:region_sales"), 1,
           "nothing raced: region_sales read once, no Time Travel")
        p2 = points(w.t)
        eq(len(set(p2.values())), 1, "one point again: %r" % p2)
        check(p2["region_sales"] > point, "a later point in time")
    finally:
        w.close()


@test
def test_no_time_travel_keeps_the_brand_whole():
    """Retention 0 (Time Travel off): the re-read fails with Snowflake's 000707, and
    brand a publishes none of the cycle's reads; brand b is not affected."""
    w = World(fake_args=("--retention-days", "0"))
    try:
        before = totals(w.t)
        mau_before = w.t.get("/v1/brands/a/aggregates/mau_users").body
        gen_a = agg_status(w.t, "a", "mau_users")["generation"]
        month = race(w, T0 + 600)
        w.fs.touch("b", "mau_users", T0 + 600, change="UPDATE {T} SET MAU = MAU + 1")
        w.t.refresh_and_wait()
        eq(w.fs.counters()["dt_refreshes"], 1, "the fake refreshed region_sales mid-cycle")
        eq(totals(w.t), before, "brand a: the last snapshot, whole")
        eq(w.t.get("/v1/brands/a/aggregates/mau_users").body, mau_before,
           "brand a's mau_users (read fine) is not published alone")
        a = agg_status(w.t, "a", "region_sales")
        eq(a["ok"], False)
        check("000707" in a["error"] and "Time travel data is not available" in a["error"],
              a["error"])
        m = agg_status(w.t, "a", "mau_users")
        eq((m["ok"], m["generation"]), (False, gen_a), "mau_users kept")
        check("point in time" in m["error"], m["error"])
        eq(agg_status(w.t, "b", "mau_users")["ok"], True, "brand b published")
        eq(agg_status(w.t, "b", "mau_users")["generation"], (T0 + 600) * 1000)
        # nothing races the next cycle: no Time Travel needed, the new state published
        catch_up(w, month, T0 + 1200)
        w.fs.reset()
        s = w.t.refresh_and_wait()
        eq(s["last_refresh"]["published"], True)
        eq(agg_status(w.t, "a", "mau_users")["ok"], True)
        newer = totals(w.t)
        eq(disagreements(newer), [], "consistent")
        eq(newer[month]["region orders"], before[month]["region orders"] + 1, "the order")
    finally:
        w.close()


def sql(fs, statement):
    """One statement straight to the fake (OAuth token): (HTTP status, body)."""
    req = urllib.request.Request(
        fs.url + "/api/v2/statements", method="POST",
        data=json.dumps({"statement": statement, "database": "TPCD",
                         "warehouse": "W"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "User-Agent": "test/1", "Authorization": "Bearer sesame",
                 "X-Snowflake-Authorization-Token-Type": "OAUTH"})
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def show_ts(fs):
    status, body = sql(fs, "SHOW DYNAMIC TABLES LIKE 'DT_NEW' IN DATABASE TPCD")
    eq(status, 200)
    names = [c["name"] for c in body["resultSetMetaData"]["rowType"]]
    return body["data"][0][names.index("data_timestamp")]


def iso(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ".%03d +0000" % (
        int(t * 1000) % 1000)


@test
def test_fake_time_travel():
    """The fake itself: AT reads the version committed then, in both forms tpcd and
    people write; before creation and beyond retention are Snowflake's 000707."""
    work = tempfile.mkdtemp(prefix="tpcd-sftt-")
    source_dir = os.path.join(work, "source")
    make_demo(source_dir)
    fs = Fakesnow(work, source_dir, args=("--token", "sesame"))
    try:
        # a dynamic table created ten seconds ago (its first refresh committed then)
        created = time.time() - 10
        db = sqlite3.connect(fs.db)
        db.execute("CREATE TABLE ANALYSIS_BRAND_A__DT_NEW (N INTEGER)")
        db.execute("INSERT INTO ANALYSIS_BRAND_A__DT_NEW VALUES (1)")
        db.execute("INSERT INTO FAKESNOW_REFRESH_HISTORY VALUES ('DT_NEW', 'ANALYSIS_BRAND_A', "
                   "'TPCD', 'TPCD.ANALYSIS_BRAND_A.DT_NEW', 'SUCCEEDED', '', 'FULL', ?, ?, ?)",
                   (created - 1, created - 1, created))
        db.commit()
        db.close()
        table = "TPCD.ANALYSIS_BRAND_A.DT_NEW"
        shown = show_ts(fs)
        check(shown, "SHOW lists the new table")
        before = time.time()
        fs.refresh_later("a", "mau_users", T0 + 60)	# another table: no effect here
        fs.call("POST", "/_fake/refreshes", {"table": "ANALYSIS_BRAND_A.DT_NEW",
                                              "data_timestamp": before,
                                              "change": "UPDATE {T} SET N = 2"})
        after = time.time() + 0.001
        eq(fs.counters()["dt_refreshes"], 2)

        def n_at(clause):
            status, body = sql(fs, "SELECT N FROM %s %s" % (table, clause))
            return status, body["data"][0][0] if status == 200 else body

        eq(n_at(""), (200, "2"), "now: the new version")
        eq(n_at("AT(TIMESTAMP => '%s'::TIMESTAMP_LTZ)" % iso(before)), (200, "1"),
           "the version committed before the refresh")
        eq(n_at("AT(TIMESTAMP => TO_TIMESTAMP_LTZ(%d, 3))" % int(after * 1000)), (200, "2"),
           "the version after it")
        eq(n_at("AT(TIMESTAMP => TO_TIMESTAMP_LTZ(%d))" % int(before)), (200, "1"),
           "seconds, by magnitude")
        for when in (created - 5, time.time() - 2 * 86400):	# before creation, retention
            status, body = sql(fs, "SELECT N FROM %s AT(TIMESTAMP => TO_TIMESTAMP_LTZ(%d, 3))"
                               % (table, int(when * 1000)))
            eq((status, body["code"], body["sqlState"]), (422, "000707", "02000"))
            eq(body["message"], "Time travel data is not available for table DT_NEW. The "
               "requested time is either beyond the allowed time travel period or before "
               "the object creation time.")
        status, body = sql(fs, "SELECT N FROM %s AT(OFFSET => -60)" % table)
        eq((status, body["code"]), (422, "001003"), "a form the fake does not read")
        eq(show_ts(fs) != shown, True, "SHOW reports the new data timestamp")
    finally:
        fs.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
