"""Operations that stick: a rollback pins what it went back to (the next scheduled refresh
publishes nothing) until unpin; data responses make browsers revalidate (no-cache + ETag),
so none outlives a rollback; POST /v1/refresh {"brand","aggregate"} refreshes exactly that
aggregate (one pull, counted in the fake Snowflake's statements and in /v1/status), and
unknown names are 404."""

import os
import sqlite3
import tempfile

import harness
from harness import Tpcd, check, eq, make_demo, run_tests, test, wait_for

_n = len(harness._tests)
from test_snowflake import T0, World  # noqa: E402  (its tests are not ours to run)
del harness._tests[_n:]

SMALL = (("c", "brand_c"),)
JSON = {"Content-Type": "application/json"}


def bump(t):
    db = sqlite3.connect(os.path.join(t.source_dir, "brand_c.db"))
    db.execute("UPDATE order_lines SET qty = qty + 1 WHERE rowid = "
               "(SELECT min(rowid) FROM order_lines)")
    db.commit()
    db.close()


@test
def test_rollback_survives_the_next_scheduled_refresh():
    work = tempfile.mkdtemp(prefix="tpcd-ops-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    with Tpcd(workdir=work, brands=SMALL, refresh_interval=2).start() as t:
        path = "/v1/brands/c/aggregates/sales_by_category"
        old = t.get(path)
        g1 = t.status()["generation"]
        bump(t)
        new = wait_for(lambda: (lambda r: r if r.header("ETag") != old.header("ETag")
                                else None)(t.get(path)), "the scheduled refresh")
        g2 = t.status()["generation"]
        check(g2 > g1, "published")
        # a browser holding the new body revalidates: no max-age lets it keep it
        eq(new.header("Cache-Control"), "private, no-cache")
        r = t.post("/v1/rollback")
        eq(r.status, 200, r.body)
        eq((r.json()["generation"], r.json()["pinned"]), (g1, True))
        back = t.get(path, {"If-None-Match": new.header("ETag")})
        eq(back.status, 200, "the rolled-back body, not a 304")
        eq(back.body, old.body)
        # scheduled refreshes run (the source still has the newer data) and publish nothing
        n = t.status()["refreshes"]
        st = wait_for(lambda: (lambda s: s if s["refreshes"] >= n + 2 and
                               not s["refreshing"] else None)(t.status()),
                      "two scheduled refreshes")
        eq((st["generation"], st["pinned"]), (g1, True), "the rollback stuck")
        eq(t.get(path).body, old.body)
        # unpin: the next refresh publishes again
        eq(t.post("/v1/unpin").status, 200)
        wait_for(lambda: t.status()["generation"] > g2, "a publish after unpin")
        eq(t.get(path).json()["rows"], new.json()["rows"], "the newer data is back")


@test
def test_refresh_one_aggregate_and_unknown_names():
    work = tempfile.mkdtemp(prefix="tpcd-ops-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        s0 = t.status()
        r = t.post("/v1/refresh", body='{"brand":"c","aggregate":"mau_users"}', headers=JSON)
        eq(r.status, 202, r.body)
        eq((r.json()["brand"], r.json()["aggregate"]), ("c", "mau_users"))
        st = wait_for(lambda: (lambda s: s if s["refreshes"] > s0["refreshes"] and
                               not s["refreshing"] else None)(t.status()), "the refresh")
        eq(st["statements"] - s0["statements"], 1, "exactly one query ran")
        runs = {a["aggregate"]: a["refreshes_ok"] for a in st["aggregates"]}
        eq(runs.pop("mau_users"), 2)
        eq(set(runs.values()), {1}, "the others were not refreshed")
        for body, what in (('{"brand":"zz"}', "brand"), ('{"aggregate":"nope"}', "aggregate"),
                           ('{"brand":"c","aggregate":"nope"}', "aggregate")):
            r = t.post("/v1/refresh", body=body, headers=JSON)
            eq(r.status, 404, body)
            check(what in r.json()["error"]["message"], r.body)
        eq(t.post("/v1/refresh", body="{", headers=JSON).status, 400, "not JSON")
        eq(t.post("/v1/refresh", body='{"brand":1}', headers=JSON).status, 400, "not a name")
        eq(t.status()["refreshes"], st["refreshes"], "no refresh from refused requests")


@test
def test_single_aggregate_refresh_runs_one_pull_in_snowflake():
    w = World()
    try:
        t = w.sf
        gen = t.status()["generation"]
        w.fs.touch("a", "mau_users", T0 + 60, change="UPDATE {T} SET MAU = MAU + 1")
        w.fs.touch("b", "mau_users", T0 + 60, change="UPDATE {T} SET MAU = MAU + 1")
        w.fs.reset()
        n = t.status()["refreshes"]
        eq(t.post("/v1/refresh", body='{"brand":"a","aggregate":"mau_users"}',
                  headers=JSON).status, 202)
        st = wait_for(lambda: (lambda s: s if s["refreshes"] > n and not s["refreshing"]
                               else None)(t.status()), "the refresh")
        texts = w.fs.counters()["statements_text"]
        pulls = [s for s in texts if not s.startswith("SHOW DYNAMIC TABLES")]
        eq(len(pulls), 1, "one pull: %r" % pulls)
        check("DT_BRAND_A_MAU_USERS" in pulls[0], pulls[0])
        # a cycle that pulls checks freshness twice (SHOW, every brand, no warehouse):
        # before the pulls, and after them to find a table that refreshed in between
        # (one point in time per brand, sf_point.c)
        eq(len(texts), 3, "and the two freshness checks: %r" % texts)
        eq(st["generation"], gen + 1, "published")
        b = [a for a in st["aggregates"] if a["brand"] == "b" and a["aggregate"] == "mau_users"]
        eq(b[0]["refreshes_ok"], 1, "brand b's table waits for its own refresh")
    finally:
        w.close()


if __name__ == "__main__":
    run_tests()
