"""Slices and filters of an aggregate (?limit=&offset=, ?dimension=value): for several
aggregates and every format, each slice equals the corresponding rows of the whole
aggregate fetched in one request (windows covering the whole, filters alone and
combined, empty results, boundaries), with X-Tpcd-Total-Rows; gzip decodes to the
identity slice; a bad query is a 400 naming its parameter; the slice's ETag answers 304
and differs from the whole's; a brand-scoped client cannot slice another brand; and a
request without slice parameters is byte for byte what it was; tpcctl get --limit,
--offset and --where ask for slices; the slices the refresh builds for a slice_key are
served as stored and follow new data."""

import csv
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import urllib.parse

import msgpack

from harness import (ADMIN_AUTH, DEADLINE, ROOT, TPCCTL, Tpcd, check, demo_workdir, eq,
                     run_tests,
                     test, tpcctl_env, wait_for)

BASE = "/v1/brands/a/aggregates/"
LIMIT_MAX = 10000
LIMIT_DEFAULT = 1000
DASH_A = "tpcdt_" + os.urandom(32).hex()
AUTH = ADMIN_AUTH + ("    - name: dash_a\n      sha256: %s\n      brands: [a]\n" %
                     hashlib.sha256(DASH_A.encode()).hexdigest())


def url(agg, **q):
    return BASE + agg + ("?" + urllib.parse.urlencode(q) if q else "")


def rows_of(fmt, body):
    """The rows of a body of format fmt, as lists of Python values."""
    if fmt == "json":
        return json.loads(body)["rows"]
    if fmt == "msgpack":
        return msgpack.unpackb(body, raw=False)["rows"]
    lines = list(csv.reader(io.StringIO(body.decode(), newline="")))
    return lines[1:]


def get_ok(t, conn, path, headers=None):
    r = t.get(path, headers, conn=conn)
    eq(r.status, 200, "GET %s: %r" % (path, r.body[:200]))
    return r


def check_windows(t, conn, agg, fmt, whole):
    """Windows of several sizes tile the whole; each carries the total."""
    n = len(whole)
    for size in (1, 7, max(1, n // 3), n + 5):
        got = []
        for off in range(0, n + 1, size):
            r = get_ok(t, conn, url(agg, format=fmt, limit=size, offset=off))
            eq(r.header("X-Tpcd-Total-Rows"), str(n), "%s %s total" % (agg, fmt))
            part = rows_of(fmt, r.body)
            eq(part, whole[off:off + size], "%s %s offset %d limit %d" % (agg, fmt, off, size))
            got += part
        eq(got, whole, "%s %s: windows of %d tile the whole" % (agg, fmt, size))


def check_filters(t, conn, agg, fmt, whole, dims, types):
    """Every value of each dimension alone, pairs of them, with windows; empty ones."""
    for name, idx in dims.items():
        for v in sorted({r[idx] for r in whole}, key=str)[:6]:
            want = [r for r in whole if r[idx] == v]
            r = get_ok(t, conn, url(agg, format=fmt, **{name: v}))
            eq(rows_of(fmt, r.body), want, "%s %s %s=%s" % (agg, fmt, name, v))
            eq(r.header("X-Tpcd-Total-Rows"), str(len(want)))
            r = get_ok(t, conn, url(agg, format=fmt, offset=1, limit=2, **{name: v}))
            eq(rows_of(fmt, r.body), want[1:3], "%s %s %s=%s window" % (agg, fmt, name, v))
    names = list(dims)
    if len(names) >= 2:
        a, b = names[0], names[1]
        row = whole[len(whole) // 2]
        q = {a: row[dims[a]], b: row[dims[b]]}
        want = [r for r in whole if r[dims[a]] == q[a] and r[dims[b]] == q[b]]
        check(want, "a combination that exists")
        # the order of the parameters does not matter (one canonical query)
        r1 = get_ok(t, conn, url(agg, format=fmt, **q))
        r2 = get_ok(t, conn, BASE + agg + "?%s=%s&format=%s&%s=%s" % (
            b, urllib.parse.quote(str(q[b])), fmt, a, urllib.parse.quote(str(q[a]))))
        eq(rows_of(fmt, r1.body), want, "%s %s %r" % (agg, fmt, q))
        eq(r2.body, r1.body, "parameters in another order")
        eq(r2.header("ETag"), r1.header("ETag"), "one canonical query, one ETag")
    # a value no row has: an empty slice, not an error
    name = names[0]
    r = get_ok(t, conn, url(agg, format=fmt, **{name: "-987654" if types[name] == "int64"
                                                 else "1999-01"}))
    eq(rows_of(fmt, r.body), [], "%s %s: no row matches" % (agg, fmt))
    eq(r.header("X-Tpcd-Total-Rows"), "0")


# string, int64 and date dimensions, one to three of them
CASES = ("region_sales", "hourly_sales", "user_counts", "sales_by_category")


def dimensions(t, agg):
    cat = t.get_json("/v1/brands/a/aggregates")
    entry = [a for a in cat["aggregates"] if a["name"] == agg][0]
    dims = {c["name"]: i for i, c in enumerate(entry["columns"])
            if c.get("role") == "dimension"}
    return dims, {c["name"]: c["type"] for c in entry["columns"]}


def slices_equal_the_whole(t):
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    for agg in CASES:
        dims, types = dimensions(t, agg)
        check(dims, "%s declares dimension columns" % agg)
        for fmt in ("json", "msgpack", "csv"):
            whole = rows_of(fmt, get_ok(t, conn, url(agg, format=fmt)).body)
            check(len(whole) > 3, "%s has rows" % agg)
            check_windows(t, conn, agg, fmt, whole)
            check_filters(t, conn, agg, fmt, whole, dims, types)
    # the JSON around the rows is the whole body's: same columns, generation, time
    whole = json.loads(get_ok(t, conn, url("region_sales")).body)
    part = json.loads(get_ok(t, conn, url("region_sales", limit=2)).body)
    eq(part["rows"], whole["rows"][:2])
    part["rows"] = whole["rows"]
    eq(part, whole, "a slice is the whole body with fewer rows")
    conn.close()


def limits_gzip_and_default(t):
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    agg = "user_counts"
    whole = json.loads(get_ok(t, conn, url(agg)).body)["rows"]
    n = len(whole)
    r = get_ok(t, conn, url(agg, limit=0))
    eq(json.loads(r.body)["rows"], [], "limit=0: the count only")
    eq(r.header("X-Tpcd-Total-Rows"), str(n))
    eq(json.loads(get_ok(t, conn, url(agg, limit=LIMIT_MAX)).body)["rows"], whole)
    eq(json.loads(get_ok(t, conn, url(agg, offset=n)).body)["rows"], [], "offset = total")
    eq(json.loads(get_ok(t, conn, url(agg, offset=n - 1)).body)["rows"], whole[-1:])
    eq(json.loads(get_ok(t, conn, url(agg, offset=10 ** 12)).body)["rows"], [])
    # no limit given: the default
    eq(json.loads(get_ok(t, conn, url(agg, offset=0)).body)["rows"],
       whole[:LIMIT_DEFAULT], "default limit")
    # gzip when accepted, decoding to the identity slice, with its own ETag
    for fmt in ("json", "csv"):
        plain = get_ok(t, conn, url(agg, format=fmt, offset=3, limit=50))
        z = get_ok(t, conn, url(agg, format=fmt, offset=3, limit=50),
                   {"Accept-Encoding": "gzip"})
        eq(z.header("Content-Encoding"), "gzip")
        eq(gzip.decompress(z.body), plain.body, "%s gzip slice" % fmt)
        check(z.header("ETag") != plain.header("ETag"), "one ETag per representation")
        eq(plain.header("Content-Encoding"), None)
    # Accept picks the format as for the whole aggregate
    r = get_ok(t, conn, url(agg, limit=4), {"Accept": "application/msgpack"})
    eq(r.header("Content-Type"), "application/msgpack")
    eq(msgpack.unpackb(r.body, raw=False)["rows"], whole[:4])
    r = get_ok(t, conn, url(agg, limit=4), {"Accept": "text/csv"})
    eq(r.header("Content-Type"), "text/csv; charset=utf-8")
    conn.close()


def bad_queries_are_400_naming_the_parameter(t):
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    bad = [
        ("region_sales?limit=-1", "limit"),
        ("region_sales?limit=%d" % (LIMIT_MAX + 1), "limit"),
        ("region_sales?limit=99999999999999999999999", "limit"),
        ("region_sales?limit=", "limit"),
        ("region_sales?limit=1e3", "limit"),
        ("region_sales?limit=%201", "limit"),
        ("region_sales?offset=-5", "offset"),
        ("region_sales?offset=abc", "offset"),
        ("region_sales?offset=1&offset=2", "offset"),
        ("region_sales?limit=1&limit=1", "limit"),
        ("region_sales?revenue=5", "revenue"),		# a measure
        ("region_sales?city=Seoul", "city"),		# no such column
        ("region_sales?region=", "region"),			# no value
        ("region_sales?region=Seoul&region=Busan", "region"),
        ("hourly_sales?hour=noon", "hour"),		# int64 dimension
        ("hourly_sales?hour=1.5", "hour"),
        ("hourly_sales?hour=99999999999999999999", "hour"),
        ("region_sales?limit=5&format=xml", "format"),
        ("region_sales?limit=5&colour=red", "colour"),
        ("region_sales?%ff=1", "%ff"),		# keys are not decoded
    ]
    for q, param in bad:
        r = t.get(BASE + q, conn=conn)
        eq(r.status, 400, "%s: %r" % (q, r.body))
        e = r.json()["error"]
        eq(e["code"], "bad_parameter", q)
        eq(e["parameter"], param, q)
        check(r.header("X-Tpcd-Total-Rows") is None, q)
    # a malformed query string
    eq(t.get(BASE + "region_sales?limit=1&%zz", conn=conn).status, 400)
    conn.close()


def etag_304_and_access(t):
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    path = url("region_sales", region="Seoul", limit=5)
    whole = get_ok(t, conn, url("region_sales"))
    r = get_ok(t, conn, path)
    etag = r.header("ETag")
    check(etag and etag.startswith('"') and etag.endswith('"') and len(etag) == 34, etag)
    check(etag != whole.header("ETag"), "a slice has its own ETag")
    for h in ("Cache-Control", "Vary", "X-Tpcd-Generation", "X-Tpcd-Colour",
              "X-Tpcd-Data-Time", "Last-Modified"):
        eq(r.header(h), whole.header(h), h)
    r304 = t.get(path, {"If-None-Match": etag}, conn=conn)
    eq(r304.status, 304)
    eq(r304.body, b"")
    eq(r304.header("ETag"), etag)
    eq(t.get(path, {"If-None-Match": '"0", ' + etag}, conn=conn).status, 304)
    other = get_ok(t, conn, url("region_sales", region="Seoul", limit=6))
    check(other.header("ETag") != etag, "another window, another ETag")
    eq(t.get(url("region_sales", region="Seoul", limit=6), {"If-None-Match": etag},
             conn=conn).status, 200, "the first slice's ETag is not the second's")
    eq(get_ok(t, conn, path).header("ETag"), etag, "the same slice, the same ETag")
    # a brand-scoped token slices its brand and nothing else, as with the whole
    eq(t.get(path, token=DASH_A).status, 200)
    r = t.get(path.replace("/brands/a/", "/brands/b/"), token=DASH_A)
    eq(r.status, 403, "brand a's token slicing brand b")
    check(b"rows" not in r.body, "no data in the refusal")
    eq(t.get(path.replace("/brands/a/", "/brands/b/"), token=None).status, 401)
    eq(t.get(path + "&colour=blue", token=DASH_A).status, 403, "colour is admin only")
    eq(get_ok(t, conn, path + "&colour=" + whole.header("X-Tpcd-Colour")).body,
       get_ok(t, conn, path).body, "an admin's slice of the active colour")
    conn.close()


def unsliced_requests_unchanged(t):
    """No slice parameter: the whole body, the whole ETag, no total header."""
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    plain = get_ok(t, conn, BASE + "mau_users")
    for q in ("?format=json", "?_=12345", "?format=json&_=1", "?format=csv&format=json"):
        r = get_ok(t, conn, BASE + "mau_users" + q)
        eq(r.body, plain.body, q)
        eq(r.header("ETag"), plain.header("ETag"), q)
        check(r.header("X-Tpcd-Total-Rows") is None, q)
    check(plain.header("X-Tpcd-Total-Rows") is None, "the whole carries no total")
    for q in ("?brand=b", "?form%61t=json"):
        eq(t.get(BASE + "mau_users" + q, conn=conn).status, 400, "still unknown: " + q)
    conn.close()


def tpcctl_get_slices(t):
    """tpcctl get --limit/--offset/--where: the server's slice, and its total on stderr."""
    def ctl(*args):
        return subprocess.run([TPCCTL, "-s", "http://127.0.0.1:%d" % t.port] + list(args),
                              capture_output=True, env=tpcctl_env(), timeout=DEADLINE)
    whole = json.loads(t.get(url("region_sales")).body)["rows"]
    want = [r for r in whole if r[1] == "Seoul"]
    out = ctl("get", "a", "region_sales", "--where", "region=Seoul", "--offset", "1",
              "--limit", "3", "-o", "json")
    eq(out.returncode, 0, out.stderr)
    eq(json.loads(out.stdout)["rows"], want[1:4])
    out = ctl("get", "a", "region_sales", "--where", "region=Seoul", "--where",
              "month=" + want[0][0])
    eq(out.returncode, 0, out.stderr)
    check(b"(1 of 1 row" in out.stderr, out.stderr)
    out = ctl("-o", "csv", "get", "a", "region_sales", "--limit", "2")
    server = t.get(url("region_sales", limit=2, format="csv")).body
    eq(out.stdout, server.replace(b"\r\n", b"\n"), "CSV as the server's, LF line ends")
    check(("(2 of %d rows" % len(whole)).encode() not in out.stdout, "the note is not data")
    out = ctl("get", "a", "region_sales", "--limit", "2")
    check(("(2 of %d rows" % len(whole)).encode() in out.stderr, out.stderr)
    # refused by tpcctl (usage, 2) or by the server (1, naming the parameter)
    for args in (("--limit", "x"), ("--offset", "-1"), ("--where", "region")):
        eq(ctl("get", "a", "region_sales", *args).returncode, 2, args)
    eq(ctl("status", "--limit", "3").returncode, 2, "status takes no --limit")
    out = ctl("get", "a", "region_sales", "--where", "revenue=5")
    eq(out.returncode, 1, out.stderr)
    check(b"revenue" in out.stderr, out.stderr)
    out = ctl("get", "a", "region_sales", "--limit", "10001")
    eq(out.returncode, 1, out.stderr)


def slices_built_at_publish(t):
    """A filter on the slice key alone is served from the slice the refresh stored (the same
    bytes, ETag and total as computing it); with more filters or a smaller window it is cut
    from that slice; both brands, a text and an integer key."""
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    for agg, key in (("region_sales", "month"), ("hourly_sales", "weekday"),
                     ("sales_by_category", "month")):
        dims, _ = dimensions(t, agg)
        other = [d for d in dims if d != key][0]
        for fmt in ("json", "msgpack", "csv"):
            whole = rows_of(fmt, get_ok(t, conn, url(agg, format=fmt)).body)
            values = []
            for r in whole:
                if r[dims[key]] not in values:
                    values.append(r[dims[key]])
            for v in values:
                want = [r for r in whole if r[dims[key]] == v]
                r = get_ok(t, conn, url(agg, format=fmt, **{key: v}))
                eq(r.header("X-Tpcd-Slice"), "publish", "%s %s=%s" % (agg, key, v))
                eq(rows_of(fmt, r.body), want, "%s %s %s=%s" % (agg, fmt, key, v))
                eq(r.header("X-Tpcd-Total-Rows"), str(len(want)))
                # the same slice computed (a filter that changes nothing, on the key's
                # own column, is not possible; compare with a window of the whole instead)
                w = get_ok(t, conn, url(agg, format=fmt, offset=1, limit=2, **{key: v}))
                eq(w.header("X-Tpcd-Slice"), "computed")
                eq(rows_of(fmt, w.body), want[1:3], "%s window of %s=%s" % (agg, key, v))
                eq(w.header("X-Tpcd-Total-Rows"), str(len(want)))
            v, o = whole[-1][dims[key]], whole[-1][dims[other]]
            both = get_ok(t, conn, url(agg, format=fmt, **{key: v, other: o}))
            eq(rows_of(fmt, both.body), [r for r in whole if r[dims[key]] == v and
                                          r[dims[other]] == o])
        # identical whichever way it was served: the bytes a computed slice would have
        r = get_ok(t, conn, url(agg, **{key: values[0]}))
        r304 = t.get(url(agg, **{key: values[0]}), {"If-None-Match": r.header("ETag")},
                     conn=conn)
        eq(r304.status, 304)
        gz = get_ok(t, conn, url(agg, **{key: values[0]}), {"Accept-Encoding": "gzip"})
        eq(gz.header("X-Tpcd-Slice"), "publish")
        eq(gzip.decompress(gz.body), r.body)
        # a value no row has: computed, empty
        r = get_ok(t, conn, url(agg, **{key: "1999-01" if key == "month" else "99"}))
        eq(json.loads(r.body)["rows"], [])
        eq(r.header("X-Tpcd-Total-Rows"), "0")
    # brand b has its own slices, and brand a's token cannot read them
    r = get_ok(t, conn, "/v1/brands/b/aggregates/region_sales?month=" +
               json.loads(get_ok(t, conn, "/v1/brands/b/aggregates/region_sales").body)
               ["rows"][0][0])
    eq(r.header("X-Tpcd-Slice"), "publish")
    eq(t.get("/v1/brands/b/aggregates/region_sales?month=2025-01", token=DASH_A).status, 403)
    conn.close()


def slices_follow_new_data(t):
    """A slice asked again after a publish that changed the aggregate is cut from the new
    data (built slices are kept, but under the data's identity)."""
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    q = url("region_sales", region="Seoul", limit=3)
    before = get_ok(t, conn, q)
    eq(get_ok(t, conn, q).body, before.body, "asked twice: the same bytes")
    db = sqlite3.connect(os.path.join(t.workdir, "source", "brand_a.db"))
    db.execute("UPDATE order_lines SET unit_price = unit_price + 100 WHERE order_id IN "
               "(SELECT o.order_id FROM orders o JOIN stores s USING (store_id) "
               "WHERE s.region = 'Seoul' ORDER BY o.ordered_at LIMIT 20)")
    db.commit()
    db.close()
    # only this aggregate of this brand: the test does not wait for the rest to re-pull
    before_n = t.status()["refreshes"]
    eq(t.post("/v1/refresh", body=json.dumps({"brand": "a", "aggregate": "region_sales"}),
              headers={"Content-Type": "application/json"}).status, 202)
    wait_for(lambda: (lambda s: s["refreshes"] > before_n and not s["refreshing"])(
        t.status()), "the refresh of region_sales")
    whole = json.loads(get_ok(t, conn, url("region_sales")).body)["rows"]
    after = get_ok(t, conn, q)
    check(after.body != before.body, "the slice changed with the data")
    check(after.header("ETag") != before.header("ETag"), "and so did its ETag")
    eq(json.loads(after.body)["rows"], [r for r in whole if r[1] == "Seoul"][:3])
    eq(t.get(q, {"If-None-Match": before.header("ETag")}, conn=conn).status, 200,
       "the old slice's ETag no longer matches")
    # the slices built at publish follow too (a changed record brings its new slices)
    for month in sorted({r[0] for r in whole}):
        r = get_ok(t, conn, url("region_sales", month=month))
        eq(r.header("X-Tpcd-Slice"), "publish")
        eq(json.loads(r.body)["rows"], [x for x in whole if x[0] == month], month)
    # and an unchanged aggregate's slices are carried into the new snapshot
    r = get_ok(t, conn, url("hourly_sales", weekday=3))
    eq(r.header("X-Tpcd-Slice"), "publish", "kept from the previous snapshot")
    conn.close()


@test
def test_slices():
    """One daemon for every case: each start pays a whole demo refresh."""
    with Tpcd(workdir=demo_workdir(), refresh_interval=600, auth=AUTH).start() as t:
        for case in (slices_equal_the_whole, limits_gzip_and_default,
                     bad_queries_are_400_naming_the_parameter, etag_304_and_access,
                     unsliced_requests_unchanged, tpcctl_get_slices,
                     slices_built_at_publish, slices_follow_new_data):
            case(t)


@test
def test_slice_key_declared_later():
    """A slice_key added by a reload: the kept record's slices are built from the live one
    at the next publish (the live snapshot has none to copy); until then they are computed."""
    work = demo_workdir(brands=(("a", "brand_a"),))
    cat = os.path.join(work, "catalog")
    shutil.copytree(os.path.join(ROOT, "schema"), cat)
    yaml_path = os.path.join(cat, "aggregates.yaml")
    with open(yaml_path) as f:
        shipped = f.read()
    with open(yaml_path, "w") as f:
        f.write("".join(l for l in shipped.splitlines(True)
                        if not l.startswith("    slice_key:")))
    with Tpcd(workdir=work, brands=(("a", "brand_a"),), refresh_interval=3600,
              catalog=yaml_path).start() as t:
        month = json.loads(t.get(url("region_sales")).body)["rows"][0][0]
        r = t.get(url("region_sales", month=month))
        eq(r.header("X-Tpcd-Slice"), "computed", "no slice_key yet")
        with open(yaml_path, "w") as f:
            f.write(shipped)
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: done" in t.read_log(), "the reload")
        # a publish that changes heavy_users only: region_sales is kept, and its slices
        # are built from the live record
        db = sqlite3.connect(os.path.join(work, "source", "brand_a.db"))
        db.execute("UPDATE order_lines SET unit_price = unit_price + 100 WHERE order_id IN "
                   "(SELECT order_id FROM orders ORDER BY ordered_at DESC LIMIT 20)")
        db.commit()
        db.close()
        whole = t.get(url("region_sales")).body
        before = t.status()["refreshes"]
        eq(t.post("/v1/refresh", body=json.dumps({"aggregate": "heavy_users"}),
                  headers={"Content-Type": "application/json"}).status, 202)
        s = wait_for(lambda: (lambda s: s if s["refreshes"] > before and not s["refreshing"]
                              else None)(t.status()), "the refresh of heavy_users")
        check(s["last_refresh"]["published"], s["last_refresh"])
        eq(t.get(url("region_sales")).body, whole, "region_sales kept as it was")
        r = t.get(url("region_sales", month=month))
        eq(r.header("X-Tpcd-Slice"), "publish", "built from the kept record")
        eq(json.loads(r.body)["rows"],
           [x for x in json.loads(whole)["rows"] if x[0] == month])


if __name__ == "__main__":
    run_tests()
