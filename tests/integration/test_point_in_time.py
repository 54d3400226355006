"""One point in time per brand and snapshot, SQLite source: a writer commits to the
source between two aggregates of one refresh (a test hook in source_sqlite.c holds the
refresh thread right after mau_users until the write is done), and the published
snapshot's aggregates still agree with each other: they were all read in the brand's
one read transaction, from the state before the write. The next refresh sees the write."""

import os
import sqlite3
import tempfile

from harness import Tpcd, check, demo_workdir, eq, run_tests, test, wait_for

MONTH = "2025-12"
NEW_ORDER = 99999999


def rows(t, brand, agg):
    body = t.get_json("/v1/brands/%s/aggregates/%s" % (brand, agg))
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, r)) for r in body["rows"]]


def totals(t, brand):
    """Orders and revenue of MONTH (and all orders) as each aggregate reports them."""
    mau = [r for r in rows(t, brand, "mau_users") if r["month"] == MONTH]
    region = [r for r in rows(t, brand, "region_sales") if r["month"] == MONTH]
    category = [r for r in rows(t, brand, "sales_by_category") if r["month"] == MONTH]
    return {
        "mau_users orders": mau[0]["orders"],
        "region_sales orders": sum(r["orders"] for r in region),
        "region_sales revenue": sum(r["revenue"] for r in region),
        "sales_by_category revenue": sum(r["revenue"] for r in category),
        "mau_users all orders": sum(r["orders"] for r in rows(t, brand, "mau_users")),
        "hourly_sales all orders": sum(r["orders"] for r in rows(t, brand, "hourly_sales")),
    }


def consistent(tot):
    return (tot["mau_users orders"] == tot["region_sales orders"] and
            tot["region_sales revenue"] == tot["sales_by_category revenue"] and
            tot["mau_users all orders"] == tot["hourly_sales all orders"])


def add_order(db_path):
    """Commits one more order of MONTH with a 10 000 KRW line (WAL: the refresh's open
    read transaction does not block it)."""
    db = sqlite3.connect(db_path, timeout=10)
    member, store = db.execute("SELECT member_id, store_id FROM orders LIMIT 1").fetchone()
    product = db.execute("SELECT product_id FROM products LIMIT 1").fetchone()[0]
    db.execute("INSERT INTO orders VALUES (?, ?, ?, ?)",
               (NEW_ORDER, member, store, MONTH + "-15 12:00:00"))
    db.execute("INSERT INTO order_lines VALUES (?, 1, ?, 1, 10000)", (NEW_ORDER, product))
    db.commit()
    db.close()


@test
def test_write_between_two_aggregates_does_not_split_the_snapshot():
    work = demo_workdir()
    source_a = os.path.join(work, "source", "brand_a.db")
    db = sqlite3.connect(source_a)
    eq(db.execute("PRAGMA journal_mode=WAL").fetchone()[0], "wal", "source in WAL mode")
    before = db.execute("SELECT count(*) FROM orders WHERE substr(ordered_at, 1, 7) = ?",
                        (MONTH,)).fetchone()[0]
    db.close()
    hook = tempfile.mkdtemp(prefix="tpcd-pause-", dir=work)
    paused, resume = os.path.join(hook, "paused"), os.path.join(hook, "resume")
    os.environ["TPCD_TEST_PAUSE_AFTER"] = "mau_users"
    os.environ["TPCD_TEST_PAUSE_DIR"] = hook
    try:
        t = Tpcd(workdir=work)
        t.start(wait_healthy=False)
    finally:
        del os.environ["TPCD_TEST_PAUSE_AFTER"]
        del os.environ["TPCD_TEST_PAUSE_DIR"]
    with t:
        # the first refresh holds after brand a's mau_users: write now, then let it go
        wait_for(lambda: os.path.exists(paused), "the refresh to pause after mau_users")
        add_order(source_a)
        open(resume, "w").close()
        t.wait_healthy()

        first = totals(t, "a")
        check(consistent(first), "aggregates of one snapshot agree: %r" % first)
        eq(first["mau_users orders"], before, "the snapshot is the state before the write")

        # the write was real: the next refresh publishes it, everywhere at once
        t.refresh_and_wait()
        second = totals(t, "a")
        check(consistent(second), "after the next refresh: %r" % second)
        eq(second["mau_users orders"], before + 1, "the new order, next refresh")
        eq(second["region_sales revenue"], first["region_sales revenue"] + 10000,
           "its revenue")


if __name__ == "__main__":
    run_tests()
