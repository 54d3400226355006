"""The walking skeleton end to end: the real tpcd on loopback, the embedded SQLite source
with demo data, LMDB blue/green snapshots, the HTTP API and tpcctl."""

import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading

import msgpack

from harness import (demo_workdir as demo_source, Tpcd, check, eq, make_demo, run_tests, test, tpcctl_env, wait_for,
                     TPCCTL, TPCD, DEADLINE)





SMALL = (("c", "brand_c"),)	# the generator's small generic profile: quick refreshes


def small_source():
    work = tempfile.mkdtemp(prefix="tpcd-test-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    return work


@test
def test_api_shapes_and_formats():
    with Tpcd(workdir=demo_source()).start() as t:
        brands = t.get_json("/v1/brands")["brands"]
        eq([b["id"] for b in brands], ["a", "b"], "brand ids")
        body = t.get_json("/v1/brands/a/aggregates/mau_users")
        eq(body["brand"], "a")
        eq(body["aggregate"], "mau_users")
        eq([c["name"] for c in body["columns"]][:2], ["month", "mau"])
        check(len(body["rows"]) > 0, "mau_users has rows")
        check(all(isinstance(r[1], int) and r[1] > 0 for r in body["rows"]), "mau > 0")
        # msgpack by Accept and by ?format, identical to the JSON content
        for path, hdrs in (("/v1/brands/a/aggregates/mau_users",
                            {"Accept": "application/msgpack"}),
                           ("/v1/brands/a/aggregates/mau_users?format=msgpack", {})):
            r = t.get(path, hdrs)
            eq(r.status, 200)
            eq(r.header("Content-Type"), "application/msgpack")
            m = msgpack.unpackb(r.body)
            eq(m["rows"], body["rows"], "msgpack rows = JSON rows")
            eq(m["columns"], body["columns"], "msgpack columns")
            eq(m["generation"], body["generation"])
        r = t.get("/v1/brands/a/aggregates/mau_users?format=csv")
        eq(r.status, 200)
        lines = r.body.decode().split("\r\n")
        eq(lines[0], ",".join(c["name"] for c in body["columns"]), "CSV header")
        eq(len(lines) - 2, len(body["rows"]), "CSV rows")
        # the aggregate list carries metadata for generic charting
        lst = t.get_json("/v1/brands/a/aggregates")
        names = [a["name"] for a in lst["aggregates"]]
        check("mau_users" in names and "sales_by_category" in names, names)
        for a in lst["aggregates"]:
            check(a["title_ko"] and a["title_en"] and a["description"], a["name"])
            for c in a["columns"]:
                check(c["role"] in ("dimension", "measure"), c)
        st = t.status()
        check(st["active"] in ("blue", "green"), st)
        eq(st["last_refresh"]["result"], "ok", "last refresh")
        eq(t.get_json("/_stcore/health")["status"], "ok")


@test
def test_errors_are_json():
    with Tpcd(workdir=demo_source()).start() as t:
        cases = [
            ("GET", "/v1/brands/zz/aggregates/mau_users", 404),
            ("GET", "/v1/brands/a/aggregates/nope", 404),
            ("GET", "/v1/nope", 404),
            ("GET", "/nope", 404),
            ("GET", "/v1/brands/a/aggregates/mau_users?format=xml", 400),
            ("GET", "/v1/brands/a/aggregates/mau_users?limit=-3", 400),	# limit is a count (slices)
            ("POST", "/v1/brands/a/aggregates/mau_users", 405),
            ("DELETE", "/v1/brands", 405),
            ("GET", "/v1/refresh", 405),
            ("GET", "/v1/brands/a/../b/aggregates", 404),
            ("GET", "/v1/brands/%61/aggregates", 404),
            ("GET", "//v1/brands", 404),
            ("GET", "/v1/brands/a/aggregates/mau_users/", 404),
        ]
        for method, path, want in cases:
            r = t.request(method, path)
            eq(r.status, want, "%s %s" % (method, path))
            err = r.json()["error"]
            eq(err["status"], want, "error.status of %s" % path)
            check(err["code"] and err["message"], "error body of %s" % path)
            if want == 405:
                check(r.header("Allow"), "Allow header on 405")


@test
def test_refresh_under_concurrent_readers():
    """Acceptance 3: refreshes while many clients read; every response is a whole
    snapshot whose generation matches the manifest; no 5xx; the colour flips."""
    work = small_source()
    with Tpcd(workdir=work, threads=2, brands=SMALL).start() as t:
        st = t.status()
        g0 = st["generation"]
        rows0 = len(t.get_json("/v1/brands/c/aggregates/mau_users")["rows"])
        expected_rows = {g0: rows0}
        colours = {g0: st["active"]}
        stop = threading.Event()
        seen = []
        errors = []

        def reader(n):
            conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
            try:
                while not stop.is_set():
                    path = ("/v1/brands/c/aggregates/mau_users" if n % 2 == 0
                            else "/v1/brands/c/aggregates")
                    r = t.get(path, conn=conn)
                    if r.status != 200:
                        errors.append((path, r.status, r.body[:200]))
                        continue
                    body = json.loads(r.body)	# a torn body would not parse
                    if n % 2 == 0:
                        seen.append((int(r.header("X-Tpcd-Generation")),
                                     r.header("X-Tpcd-Colour"), body["generation"],
                                     len(body["rows"])))
                    else:
                        gens = {a["name"]: a["generation"] for a in body["aggregates"]}
                        # one view: both aggregates change in every publish below
                        if gens["mau_users"] != gens["sales_by_category"]:
                            errors.append(("mixed snapshot", gens))
            except Exception as e:	# surfaced through errors below
                errors.append(("exception", repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        db = sqlite3.connect(os.path.join(work, "source", "brand_c.db"))
        try:
            for i in range(1, 6):
                # one order in a month of its own: mau_users gains exactly one row
                month = "2031-%02d" % i
                oid = db.execute("SELECT max(order_id) + 1 FROM orders").fetchone()[0]
                db.execute("INSERT INTO orders VALUES (?, (SELECT min(member_id) FROM "
                           "members), (SELECT min(store_id) FROM stores), ?)",
                           (oid, month + "-15 10:00:00"))
                db.execute("INSERT INTO order_lines VALUES (?, 1, (SELECT min(product_id)"
                           " FROM products), 1, 1000)", (oid,))
                db.commit()
                s = t.refresh_and_wait()
                eq(s["last_refresh"]["result"], "ok", "refresh %d" % i)
                eq(s["generation"], g0 + i, "generation increments")
                check(s["active"] != colours[g0 + i - 1], "colour flips")
                colours[g0 + i] = s["active"]
                expected_rows[g0 + i] = rows0 + i
                snaps = t.get_json("/v1/snapshots")
                live = [m for m in snaps["snapshots"] if m["active"]][0]
                eq(live["generation"], g0 + i, "manifest generation")
                entry = [e for e in live["aggregates"]
                         if e["brand"] == "c" and e["aggregate"] == "mau_users"][0]
                eq(entry["rows"], rows0 + i, "manifest rows")
                eq(entry["generation"], g0 + i, "manifest content generation")
                # let the readers see this generation before the next publish
                n = len(seen)
                wait_for(lambda: any(g == g0 + i for g, _, _, _ in seen[n:]),
                         "readers to see generation %d" % (g0 + i))
        finally:
            stop.set()
            for th in threads:
                th.join()
            db.close()
        eq(errors, [], "reader errors")
        check(len(seen) > 100, "readers made requests (%d)" % len(seen))
        for g, colour, body_gen, nrows in seen:
            eq(colour, colours[g], "colour of generation %d" % g)
            eq(nrows, expected_rows[g], "rows of generation %d" % g)
            if g > g0:
                eq(body_gen, g, "body generation at %d" % g)
            else:
                check(body_gen <= g, "body generation <= snapshot")


@test
def test_restart_serves_existing_store_before_refresh():
    """Acceptance 4: a restart on an existing store serves at once; no refresh has run."""
    work = demo_source()
    t = Tpcd(workdir=work)
    try:
        t.start()
        before = t.get("/v1/brands/a/aggregates/mau_users")
        gen = t.status()["generation"]
        eq(t.stop(), 0, "exit code")
        # make the source unusable: any refresh now would fail and show in status
        shutil.rmtree(os.path.join(work, "source"))
        t.start(wait_healthy=False)
        after = t.get("/v1/brands/a/aggregates/mau_users")
        eq(after.status, 200, "served straight after restart")
        eq(after.body, before.body, "same bytes as before the restart")
        eq(after.header("ETag"), before.header("ETag"), "same ETag")
        st = t.status()
        eq(st["refreshes"], 0, "no refresh has run")
        eq(st["generation"], gen, "same generation")
        eq(t.get("/healthz").status, 200)
    finally:
        t.close()


@test
def test_empty_store_is_503_until_first_snapshot():
    work = tempfile.mkdtemp(prefix="tpcd-test-")
    src = os.path.join(work, "source")
    os.mkdir(src)	# no brand databases yet: every pull fails
    with Tpcd(workdir=work).start(wait_healthy=False) as t:
        wait_for(lambda: t.status()["refreshes"] >= 1, "the first refresh attempt")
        r = t.get("/healthz")
        eq(r.status, 503, "healthz before any snapshot")
        eq(r.json()["status"], "starting")
        eq(t.get("/v1/brands/a/aggregates/mau_users").status, 503, "data before snapshot")
        st = t.status()
        eq(st["active"], None)
        eq(st["last_refresh"]["result"], "error")
        check("nothing published" in st["last_refresh"]["error"], st["last_refresh"])
        errs = [a for a in st["aggregates"] if not a["ok"]]
        check(errs and "brand_a.db" in errs[0]["error"], errs[:1])
        make_demo(src)
        s = t.refresh_and_wait()
        eq(s["last_refresh"]["result"], "ok")
        eq(t.get("/healthz").status, 200)
        eq(t.get("/v1/brands/a/aggregates/mau_users").status, 200)


def aggregate_bodies(t):
    out = {}
    for b in [b for b, _ in SMALL]:
        for a in t.get_json("/v1/brands/%s/aggregates" % b)["aggregates"]:
            body = t.get_json("/v1/brands/%s/aggregates/%s" % (b, a["name"]))
            out[(b, a["name"])] = (body["columns"], body["rows"])
    return out


@test
def test_demo_generator_is_deterministic():
    """Acceptance 6: same seed -> identical aggregates; another seed -> different."""
    results = []
    for seed in (7, 7, 8):
        work = tempfile.mkdtemp(prefix="tpcd-test-")
        make_demo(os.path.join(work, "source"), seed=seed, brands=SMALL, fresh=True)
        with Tpcd(workdir=work, brands=SMALL).start() as t:
            results.append(aggregate_bodies(t))
    check(len(results[0]) >= 4, "aggregates compared")
    eq(results[0], results[1], "seed 7 twice")
    check(results[0] != results[2], "seed 8 differs from seed 7")


@test
def test_tpcctl_get_prints_the_same_numbers():
    """Acceptance 2: tpcctl get a mau_users prints the numbers curl gets."""
    with Tpcd(workdir=demo_source()).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        body = t.get_json("/v1/brands/a/aggregates/mau_users")
        out = subprocess.run([TPCCTL, "-s", url, "get", "a", "mau_users"],
                             capture_output=True, text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 0, "tpcctl exit (stderr %s)" % out.stderr)
        lines = [l.split() for l in out.stdout.splitlines()]
        for row in body["rows"]:
            want = [str(v) for v in row]
            check(want in lines, "row %r in tpcctl output:\n%s" % (want, out.stdout))
        out = subprocess.run([TPCCTL, "-s", url, "-o", "csv", "get", "a", "mau_users"],
                             capture_output=True, text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 0)
        eq(out.stdout.replace("\r\n", "\n"),
           t.get("/v1/brands/a/aggregates/mau_users?format=csv").body.decode()
           .replace("\r\n", "\n"), "tpcctl csv = server csv")
        out = subprocess.run([TPCCTL, "-s", url, "get", "a", "nope"],
                             capture_output=True, text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 1, "server-side error exit code")
        out = subprocess.run([TPCCTL, "-s", url, "frobnicate"], capture_output=True,
                             text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 2, "usage exit code")
        out = subprocess.run([TPCCTL, "-s", url, "status"], capture_output=True,
                             text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 0, "status exit code")
        check(t.status()["active"] in out.stdout, "status shows the active colour")
        out = subprocess.run([TPCCTL, "-s", url, "refresh"], capture_output=True,
                             text=True, timeout=DEADLINE, env=tpcctl_env())
        eq(out.returncode, 0, "refresh exit code")
    # tpcd has stopped: nothing listens on its port any more
    out = subprocess.run([TPCCTL, "-s", url, "status"], capture_output=True, text=True,
                         timeout=DEADLINE, env=tpcctl_env())
    eq(out.returncode, 3, "unreachable exit code")


@test
def test_config_check_flag():
    # a good config is one whose paths exist too: tpcd -t checks the source directory
    work = demo_source()
    try:
        t = Tpcd(workdir=work)
        t.port = 1
        t.write_config()
        r = subprocess.run([TPCD, "-t", "-c", t.config], capture_output=True, text=True)
        eq(r.returncode, 0, "tpcd -t on a good config: " + r.stderr)
        with open(t.config, "a") as f:
            f.write("bogus: 1\n")
        r = subprocess.run([TPCD, "-t", "-c", t.config], capture_output=True, text=True)
        eq(r.returncode, 1, "tpcd -t on a bad config")
        nlines = open(t.config).read().count("\n")
        eq(r.stderr.strip(), "%s:%d: unknown key 'bogus' in the configuration" %
           (t.config, nlines), "file:line message")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    run_tests()
