"""The never-waits cell (issue 11): /healthz and a data GET, timed, while a 1 M-row
aggregate refreshes back to back, a user logs in 20 times a second and the polls come at
200 req/s (open loop, paced). Every poll must answer 200."""

import http.client
import json
import os
import sqlite3
import subprocess
import threading
import time

import yaml

import bench_report
from bench_lib import ARGS, TOKEN, TPCD, fmt_ms, get_json, verdict, wait_for
from bench_servers import Tpcd

NW_BIG_SQL = """\
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
                        WHERE x < (SELECT n FROM cfg))
SELECT x AS id, 'row ' || x AS label, abs(random()) % 1000 AS value FROM c ORDER BY id
"""
NW_SMALL_SQL = "SELECT x AS id, 'row ' || x AS label, x * 1.5 AS value FROM " \
    "(SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY id\n"
NW_COLS = [{"name": "id", "type": "int64", "role": "dimension", "unit": "none"},
           {"name": "label", "type": "string", "role": "dimension", "unit": "none"},
           {"name": "value", "type": "double", "role": "measure", "unit": "none"}]


class NeverWaitsTpcd(Tpcd):
    """The bench tpcd plus a users file (one user, for the logins)."""
    users_file = None

    def write(self):
        super().write()
        if self.users_file and self.auth:
            with open(self.config, "a") as f:
                f.write("  users_file: %s\n" % self.users_file)


def never_waits(work):
    """/healthz and a data GET, timed, while a 1M-row aggregate refreshes over and over,
    a user logs in 20 times a second and the polls come at 200 req/s (open loop)."""
    d = os.path.join(work, "never-waits")
    src = os.path.join(d, "source")
    os.makedirs(src)
    for name, sql in (("big", NW_BIG_SQL), ("small", NW_SMALL_SQL)):
        with open(os.path.join(d, name + ".sql"), "w") as f:
            f.write(sql)
    cat = os.path.join(d, "catalog.yaml")
    with open(cat, "w") as f:
        yaml.safe_dump({"aggregates": [
            {"name": n, "relation": n.upper(), "title_en": n, "title_ko": n,
             "description": "bench only", "refresh": 3600, "target_lag": "1 hour",
             "sqlite": os.path.join(d, n + ".sql"), "columns": NW_COLS}
            for n in ("big", "small")]}, f, sort_keys=False)
    db = sqlite3.connect(os.path.join(src, "brand_a.db"))
    db.execute("CREATE TABLE cfg (n INTEGER)")
    db.execute("INSERT INTO cfg VALUES (?)", (ARGS.never_waits_rows,))
    db.commit()
    db.close()
    pw = "pw-" + os.urandom(8).hex()
    h = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, check=True).stdout.strip()
    users = os.path.join(d, "users.yaml")
    with open(users, "w") as f:
        f.write("users:\n  - name: u\n    password_hash: \"%s\"\n    role: user\n"
                "    brands: [a]\n" % h)
    os.chmod(users, 0o600)
    NeverWaitsTpcd.users_file = users
    t = NeverWaitsTpcd(d, "tpcd", cat, brands=(("a", "brand_a"),), source_dir=src)
    t.start()
    stop_at = time.monotonic() + ARGS.duration
    lat = {"healthz": [], "data": []}
    errors = []
    counts = {"logins": 0, "refreshes": 0}

    def poller(path, key, rate):
        c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
        nxt = time.monotonic()
        while nxt < stop_at:
            nxt += 1.0 / rate
            t0 = time.monotonic()
            c.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            r.read()
            lat[key].append((time.monotonic() - t0) * 1000)
            if r.status != 200:
                errors.append("%s %d" % (path, r.status))
            time.sleep(max(0.0, nxt - time.monotonic()))
        c.close()

    def logins():
        c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
        nxt = time.monotonic()
        body = json.dumps({"user": "u", "password": pw})
        while nxt < stop_at:
            nxt += 1.0 / 20
            c.request("POST", "/v1/login", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            counts["logins"] += r.status == 200
            time.sleep(max(0.0, nxt - time.monotonic()))
        c.close()

    def refresher():
        while time.monotonic() < stop_at:
            before = get_json(t.port, "/v1/status")["refreshes"]
            c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=60)
            c.request("POST", "/v1/refresh", headers={"Authorization": "Bearer " + TOKEN})
            c.getresponse().read()
            c.close()
            wait_for(lambda: get_json(t.port, "/v1/status")["refreshes"] > before,
                     "a refresh", deadline=600, interval=0.2)
            counts["refreshes"] += 1

    # 200 req/s in all: 100/s /healthz, 100/s data, each over two connections
    ths = [threading.Thread(target=poller, args=("/healthz", "healthz", 50)) for _ in range(2)]
    ths += [threading.Thread(target=poller, args=("/v1/brands/a/aggregates/small", "data", 50))
            for _ in range(2)]
    ths += [threading.Thread(target=logins), threading.Thread(target=refresher)]
    for x in ths:
        x.start()
    for x in ths:
        x.join()
    rc = t.stop()
    res = {"errors": errors, "rc": rc, "rows": ARGS.never_waits_rows}
    res.update(counts)
    for k, v in lat.items():
        v.sort()
        res[k] = {"n": len(v), "p50": v[len(v) // 2] if v else 0,
                  "p99": v[min(len(v) - 1, int(len(v) * 0.99))] if v else 0,
                  "max": v[-1] if v else 0}
    return res


def figures(r, onote):
    lines = ["healthz/data while refreshing %s rows + 20 logins/s + 200 req/s "
             "polling (%d s, %d refreshes, %d logins%s):" % (
                 "{:,}".format(r["rows"]), ARGS.duration, r["refreshes"],
                 r["logins"], onote)]
    for k in ("healthz", "data"):
        lines.append("   %-7s n=%d p50 %s p99 %s max %s   target p99 <= 5 ms, "
                     "max <= 20 ms  %s" % (k, r[k]["n"], fmt_ms(r[k]["p50"]),
                                          fmt_ms(r[k]["p99"]), fmt_ms(r[k]["max"]),
                                          verdict(r[k]["p99"] <= 5 and
                                                  r[k]["max"] <= 20)))
    return lines


def table(r, state):
    cell = "never waits: %s-row refreshes + logins + polls" % "{:,}".format(r["rows"])
    for k in ("healthz", "data"):
        bench_report.add(cell, "%s p99 / max" % k, "%s / %s" % (fmt_ms(r[k]["p99"]),
                                                               fmt_ms(r[k]["max"])),
                         "", "", "<= 5 ms / <= 20 ms",
                         verdict(r[k]["p99"] <= 5 and r[k]["max"] <= 20),
                         state if k == "healthz" else None)


def broken(r):
    """What went wrong rather than slow: polls not answered 200, an unclean exit."""
    why = []
    if r["errors"]:
        why.append("never_waits: %d polls not 200: %s" % (len(r["errors"]),
                                                          r["errors"][:5]))
    if r["rc"] != 0:
        why.append("never_waits: tpcd did not exit 0 on SIGTERM")
    return why
