"""Staleness in the open: every aggregate knows the time its data describes (here the
SQLite source's meta data_time) and the catalogue's max_staleness; data responses carry
X-Tpcd-Data-Time and X-Tpcd-Staleness, /metrics tpcd_aggregate_staleness_seconds, and
GET /readyz turns 503 (naming the aggregates) once one is past its limit while the
upstream fails, and 200 again when it recovers; /healthz stays a liveness check."""

import calendar
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time

from harness import (CATALOG, DEADLINE, TPCCTL, Tpcd, check, eq, make_demo, run_tests,
                     test, tpcctl_env, wait_for)

SMALL = (("c", "brand_c"),)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def set_data_time(path, t):
    db = sqlite3.connect(path)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('data_time', ?)", (iso(t),))
    db.commit()
    db.close()


def catalogue(work, default, overrides):
    """A copy of the catalogue (and its query files) with other staleness limits."""
    d = os.path.join(work, "schema")
    shutil.copytree(os.path.dirname(CATALOG), d)
    path = os.path.join(d, os.path.basename(CATALOG))
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^max_staleness: .*$", "max_staleness: %s" % default, text)
    for name, limit in overrides.items():
        text = text.replace("  - name: %s\n" % name,
                            "  - name: %s\n    max_staleness: %s\n" % (name, limit), 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def staleness_metric(t, brand, agg):
    m = re.search(r'^tpcd_aggregate_staleness_seconds\{brand="%s",aggregate="%s"\} (\d+)$'
                  % (brand, agg), t.get("/metrics").body.decode(), re.M)
    return int(m.group(1)) if m else None


@test
def test_headers_status_and_metric():
    work = tempfile.mkdtemp(prefix="tpcd-stale-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    t0 = int(time.time()) - 600		# the data describes ten minutes ago
    set_data_time(os.path.join(work, "source", "brand_c.db"), t0)
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        r = t.get("/v1/brands/c/aggregates/mau_users")
        eq(r.status, 200)
        eq(r.header("X-Tpcd-Data-Time"), iso(t0))
        age = int(r.header("X-Tpcd-Staleness"))
        check(600 <= age <= int(time.time()) - t0, "staleness %d" % age)
        eq(r.header("Cache-Control"), "private, no-cache")
        r2 = t.get("/v1/brands/c/aggregates/mau_users", {"If-None-Match": r.header("ETag")})
        eq(r2.status, 304)
        eq(r2.header("X-Tpcd-Data-Time"), iso(t0), "a 304 says how old the data is too")
        st = t.status()
        eq(st["stale"], 0)
        for a in st["aggregates"]:
            eq((a["data_time"], a["max_staleness_s"], a["stale"]), (iso(t0), 7200, False),
               a["aggregate"])
        check(600 <= staleness_metric(t, "c", "user_counts") < 600 + DEADLINE, "metric")
        eq(t.get("/readyz", token=None).status, 200)
        out = subprocess.run([TPCCTL, "-s", "http://127.0.0.1:%d" % t.port, "status"],
                             capture_output=True, text=True, env=tpcctl_env(),
                             timeout=DEADLINE)
        eq(out.returncode, 0, out.stderr)
        check("staleness_s" in out.stdout and iso(t0) in out.stdout, out.stdout)


@test
def test_readyz_flips_while_the_upstream_fails_and_back():
    work = tempfile.mkdtemp(prefix="tpcd-stale-")
    src = os.path.join(work, "source")
    make_demo(src, brands=SMALL)
    db = os.path.join(src, "brand_c.db")
    cat = catalogue(work, 4, {"region_sales": "1h"})
    set_data_time(db, int(time.time()))
    with Tpcd(workdir=work, brands=SMALL, catalog=cat).start() as t:
        # the upstream fails: the last good snapshot keeps serving, and ages
        os.rename(db, db + ".away")
        st = t.refresh_and_wait()
        eq(st["last_refresh"]["result"], "error")
        r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(
            t.get("/readyz", token=None)), "/readyz to turn 503")
        stale = {(s["brand"], s["aggregate"]) for s in r.json()["stale"]}
        check(("c", "mau_users") in stale, r.json())
        check(("c", "region_sales") not in stale, "its own limit (1h) holds")
        eq(r.json()["status"], "stale")
        eq(t.get("/healthz", token=None).status, 200, "liveness is not readiness")
        d = t.get("/v1/brands/c/aggregates/mau_users")
        eq(d.status, 200, "still served")
        check(int(d.header("X-Tpcd-Staleness")) > 4, d.header("X-Tpcd-Staleness"))
        check(staleness_metric(t, "c", "mau_users") > 4, "the metric grows")
        check(t.status()["stale"] >= 12, "status counts them")
        # it recovers with the same content, newer: no new snapshot, yet fresh again
        gen = t.status()["generation"]
        os.rename(db + ".away", db)
        now = int(time.time())
        set_data_time(db, now)
        st = t.refresh_and_wait()
        eq(st["generation"], gen, "nothing changed, nothing published")
        eq(t.get("/readyz", token=None).status, 200, "ready again")
        # serving threads re-read the data times within a second of a change
        wait_for(lambda: unix(t.get("/v1/brands/c/aggregates/mau_users").header(
            "X-Tpcd-Data-Time")) == now, "the new data time in the header")


if __name__ == "__main__":
    run_tests()
