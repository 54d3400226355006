"""Publish guards (schema/aggregates.yaml guards:, daemon/guard.c): a candidate snapshot
that fails one is held in the inactive colour, not published; it can be inspected
(/v1/status, /v1/snapshots, ?colour=, tpcctl snapshots and diff), published anyway
(POST /v1/publish {"force":true}, tpcctl publish --force) or discarded; the failed checks
are named in status, metrics and the log. Each kind of guard is provoked once: a shrunken
table, a negative count, a broken cross-aggregate total, a missing brand, a SUSPENDED
dynamic table; and guards: warn publishes with the failures reported."""

import json
import os
import re
import sqlite3
import subprocess
import tempfile

import harness
from harness import (DEADLINE, TPCCTL, Tpcd, check, eq, make_demo, run_tests, test,
                     tpcctl_env, wait_for)

_n = len(harness._tests)
from test_snowflake import T0, World  # noqa: E402  (its tests are not ours to run)
del harness._tests[_n:]

SMALL = (("c", "brand_c"),)		# a small demo brand: quick refreshes


def small_world(extra=""):
    work = tempfile.mkdtemp(prefix="tpcd-guards-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    return Tpcd(workdir=work, brands=SMALL, extra=extra).start()


def source(t):
    return sqlite3.connect(os.path.join(t.source_dir, "brand_c.db"))


def failed_checks(st):
    return {(f["check"], f.get("aggregate")) for f in (st["held"] or {}).get("failed", [])}


def metric(t, name, **labels):
    text = t.get("/metrics").body.decode()
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r'^%s(\{[^}]*\})? (\S+)$' % re.escape(name), line)
        if m and ",".join(sorted((m.group(1) or "{}")[1:-1].split(","))).strip(",") == want:
            return float(m.group(2))
    return None


def ctl(t, *args):
    return subprocess.run([TPCCTL, "-s", "http://127.0.0.1:%d" % t.port] + list(args),
                          capture_output=True, text=True, env=tpcctl_env(), timeout=DEADLINE)


def rows(t, agg, colour=None):
    q = "?colour=" + colour if colour else ""
    r = t.get("/v1/brands/c/aggregates/%s%s" % (agg, q))
    eq(r.status, 200, "GET %s%s" % (agg, q))
    return r.json()["rows"]


def shrink(t):
    """Keeps the last quarter's orders only: mau_users goes from 12 months to 3."""
    db = source(t)
    db.execute("DELETE FROM order_lines WHERE order_id IN "
               "(SELECT order_id FROM orders WHERE ordered_at < '2025-10-01')")
    db.execute("DELETE FROM orders WHERE ordered_at < '2025-10-01'")
    db.commit()
    db.close()


@test
def test_shrunken_table_held_inspected_then_forced():
    with small_world() as t:
        st0 = t.status()
        g1, live = st0["generation"], st0["active"]
        eq(st0["guards"]["result"], "passed", "the first snapshot passed its guards")
        eq(len(rows(t, "mau_users")), 12)
        shrink(t)
        st = t.refresh_and_wait()
        eq(st["generation"], g1, "nothing published")
        eq(st["active"], live, "the live colour stays")
        check(st["held"] is not None, "a held candidate in status")
        other = st["held"]["colour"]
        check(other != live, "held in the inactive colour")
        check(("max_row_change", "mau_users") in failed_checks(st), st["held"])
        eq(st["last_refresh"]["result"], "error")
        check("held" in st["last_refresh"]["error"], st["last_refresh"]["error"])
        # inspect: the live data is intact, the candidate readable by colour
        eq(len(rows(t, "mau_users")), 12, "live data untouched")
        eq(len(rows(t, "mau_users", other)), 3, "the candidate, by colour")
        snaps = t.get_json("/v1/snapshots")
        eq(snaps["held"], other)
        eq([s["colour"] for s in snaps["snapshots"] if s["held"]], [other])
        held_m = [s for s in snaps["snapshots"] if s["held"]][0]
        eq(held_m["guards"]["result"], "held")
        eq(metric(t, "tpcd_snapshot_held"), 1.0)
        check((metric(t, "tpcd_guard_failures_total", brand="c", aggregate="mau_users",
                      check="max_row_change") or 0) >= 1, "the failure counted")
        check("guard max_row_change failed on c/mau_users" in t.read_log(), "logged")
        with open(os.path.join(t.workdir, "store", "audit.log")) as f:
            audit = [json.loads(x) for x in f if '"event":"guards"' in x]
        check(audit and audit[-1]["result"] == "held" and audit[-1]["colour"] == other and
              "max_row_change c/mau_users" in audit[-1]["failed"], audit)
        out = ctl(t, "snapshots")
        eq(out.returncode, 0, out.stderr)
        check("held" in out.stdout, out.stdout)
        out = ctl(t, "-o", "json", "diff", "c", "mau_users")
        eq(out.returncode, 1, "diff exits 1 when the colours differ: " + out.stderr)
        check('"removed"' in out.stdout and "9" in out.stdout, out.stdout)
        # swap may not sneak it live; publish without force names the reason
        eq(t.post("/v1/swap").status, 409, "swap refuses a held candidate")
        r = t.post("/v1/publish", body="{}", headers={"Content-Type": "application/json"})
        eq(r.status, 409, "publish needs force")
        out = ctl(t, "publish", "--force")
        eq(out.returncode, 0, out.stdout + out.stderr)
        st = t.status()
        eq(st["active"], other, "the candidate is live")
        check(st["generation"] > g1, st["generation"])
        eq(st["held"], None)
        eq(st["guards"]["result"], "forced")
        eq(len(rows(t, "mau_users")), 3, "its data served")
        eq(metric(t, "tpcd_snapshot_held"), 0.0)
        eq(t.post("/v1/publish", body='{"force":true}').status, 409, "nothing held now")


@test
def test_hold_then_discard():
    with small_world() as t:
        g1, live = t.status()["generation"], t.status()["active"]
        shrink(t)
        st = t.refresh_and_wait()
        check(st["held"] is not None, "held")
        out = ctl(t, "discard")
        eq(out.returncode, 0, out.stdout + out.stderr)
        st = t.status()
        eq((st["held"], st["active"], st["generation"]), (None, live, g1))
        eq([s["colour"] for s in t.get_json("/v1/snapshots")["snapshots"]], [live],
           "the candidate is gone")
        eq(len(rows(t, "mau_users")), 12)
        eq(t.post("/v1/discard").status, 409, "nothing left to discard")
        eq(t.post("/v1/swap").status, 409, "nothing to swap to")


@test
def test_cross_checks_compare_one_refresh_only():
    with small_world() as t:
        g1 = t.status()["generation"]
        db = source(t)
        db.execute("INSERT INTO orders (member_id, store_id, ordered_at) SELECT member_id, "
                   "store_id, ordered_at FROM orders ORDER BY order_id DESC LIMIT 1")
        db.commit()
        db.close()
        # mau_users alone: region_sales still describes the older state, so the totals
        # of the two are not compared (they cannot agree), and it publishes
        n = t.status()["refreshes"]
        eq(t.post("/v1/refresh", body='{"aggregate":"mau_users"}').status, 202)
        st = wait_for(lambda: (lambda s: s if s["refreshes"] > n and not s["refreshing"]
                               else None)(t.status()), "the refresh")
        eq((st["generation"], st["held"]), (g1 + 1, None))
        # everything: all of one state again, and the totals agree
        st = t.refresh_and_wait()
        eq((st["generation"], st["held"], st["guards"]["result"]), (g1 + 2, None, "passed"))


@test
def test_negative_count_held():
    with small_world() as t:
        db = source(t)
        db.execute("PRAGMA ignore_check_constraints = ON")
        db.execute("UPDATE order_lines SET qty = -1000000 WHERE rowid = "
                   "(SELECT min(rowid) FROM order_lines)")
        db.commit()
        db.close()
        st = t.refresh_and_wait()
        check(("non_negative", "sales_by_category") in failed_checks(st), st["held"])
        msg = [f["message"] for f in st["held"]["failed"]
               if f["check"] == "non_negative" and f["aggregate"] == "sales_by_category"]
        check("quantity" in msg[0], msg)


@test
def test_guards_warn_publishes_and_reports():
    with small_world(extra="guards: warn\n") as t:
        g1 = t.status()["generation"]
        shrink(t)
        st = t.refresh_and_wait()
        eq(st["guards_mode"], "warn")
        eq(st["generation"], g1 + 1, "published despite the failures")
        eq(st["held"], None)
        eq(st["guards"]["result"], "warned")
        check(any(f["check"] == "max_row_change" and f["aggregate"] == "mau_users"
                  for f in st["guards"]["failed"]), st["guards"])
        eq(len(rows(t, "mau_users")), 3)
        check((metric(t, "tpcd_guard_failures_total", brand="c", aggregate="mau_users",
                      check="max_row_change") or 0) >= 1, "counted in warn mode too")


@test
def test_missing_brand_holds_the_first_snapshot():
    work = tempfile.mkdtemp(prefix="tpcd-guards-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    brands = SMALL + (("z", "brand_z"),)		# configured, but no data at all
    with Tpcd(workdir=work, brands=brands).start(wait_healthy=False) as t:
        st = wait_for(lambda: (lambda s: s if s["refreshes"] >= 1 else None)(t.status()),
                      "the first refresh")
        eq(st["active"], None, "nothing live")
        check(("brand_present", None) in failed_checks(st), st["held"])
        eq(t.get("/healthz").status, 503)
        r = t.post("/v1/publish", body='{"force":true}')
        eq(r.status, 200, r.body)
        t.wait_healthy()
        eq(len(rows(t, "mau_users")), 12)


@test
def test_snowflake_cross_total_and_failed_dynamic_table():
    w = World()
    try:
        t = w.sf
        g1 = t.status()["generation"]
        # one month's orders in mau_users no longer match region_sales (nor heavy_users)
        w.fs.touch("a", "mau_users", T0 + 100, change="UPDATE {T} SET ORDERS = ORDERS + 1 "
                   "WHERE MONTH = (SELECT min(MONTH) FROM {T})")
        st = t.refresh_and_wait()
        eq(st["generation"], g1, "held, not published")
        got = failed_checks(st)
        check(("orders_by_month", None) in got and ("orders_by_month_heavy", None) in got,
              st["held"])
        msg = [f["message"] for f in st["held"]["failed"] if f["check"] == "orders_by_month"]
        check("1 keys differ" in msg[0] and "mau_users" in msg[0], msg)
        eq(t.post("/v1/discard").status, 200)
        w.fs.touch("a", "mau_users", T0 + 200, change="UPDATE {T} SET ORDERS = ORDERS - 1 "
                   "WHERE MONTH = (SELECT min(MONTH) FROM {T})")
        # a table whose last refresh FAILED (SHOW DYNAMIC TABLES: SUSPENDED); another one
        # changed, so there is a candidate
        w.fs.touch("b", "hourly_sales", T0 + 300, state="FAILED", message="warehouse gone")
        w.fs.touch("b", "age_group_analysis", T0 + 300,
                   change="UPDATE {T} SET BUYERS = BUYERS + 1 WHERE rowid = 1")
        st = t.refresh_and_wait()
        eq(failed_checks(st), {("source_state", "hourly_sales")}, "only the SUSPENDED table")
        msg = st["held"]["failed"][0]["message"]
        check("SUSPENDED" in msg and "HOURLY_SALES" in msg, msg)
        # it refreshes again, successfully: the next candidate passes
        w.fs.touch("b", "hourly_sales", T0 + 400)
        st = t.refresh_and_wait()
        eq(st["held"], None)
        check(st["generation"] > g1, st)
        eq(st["guards"]["result"], "passed")
    finally:
        w.close()


if __name__ == "__main__":
    run_tests()
