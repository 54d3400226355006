#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ from real inputs: the shipped
configurations and catalogue, users files as tpcd --demo writes them, Snowflake SQL API
bodies in the shape the fake Snowflake (tests/fakesnow/store.c) sends, cells of every
Snowflake type, HTTP requests to every route, and (with $TPCD_BODIES) bodies a real tpcd
sent, for tpcctl.
Run from the source tree; files are named by content, so re-running adds nothing twice.
Regression inputs found by fuzzing are added by hand (named regress-*) and kept."""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def config():
    # fuzz_config.c writes the input to etc/tpcd.yaml beside schema/ (as in this checkout):
    # the installed catalogue's path becomes the checkout's
    for name in sorted(os.listdir(os.path.join(ROOT, "etc"))):
        if name.endswith(".yaml"):
            put("config", read("etc/" + name).replace(
                b"/usr/share/tpcd/schema/aggregates.yaml", b"../schema/aggregates.yaml"))
    put("config", "state_dir: s\nsource: {type: sqlite, sqlite: {dir: d}}\n"
        "catalog: ../schema/aggregates.yaml\n"
        "brands: [{id: a, name: A, schema: brand_a}]\n")
    put("config", "listen: {address: '::1', port: 0, threads: 2}\nstate_dir: s\n"
        "source:\n  type: snowflake\n  snowflake:\n    account: xy12345\n    user: TPCD\n"
        "    url: http://127.0.0.1:9/\n    auth: oauth\n    token_file: token\n"
        "    warehouse: WH\n    database: DB\n    role: R\n    statement_timeout: 60\n"
        "catalog: ../schema/aggregates.yaml\nbrands:\n  - {id: a, name: A, schema: brand_a}\n"
        "auth:\n  users:\n    - {name: admin, role: admin, password_hash: "
        "'$y$j9T$mZ8WpBAN3P9dh.YgNgbDK/$jj5L6V4EcQF3w78G2Ir33A1hONqQFRUtzI7JWB32kg/'}\n"
        "  tokens:\n    - {name: dash, brands: [a], sha256: " + "ab" * 32 + "}\n"
        "  trusted_proxies: [127.0.0.1]\n  cookie_secure: true\n"
        "audit: {file: audit.log, max_size_mb: 1, keep: 2}\n"
        "http: {timeout: 5, max_header_size: 4096, max_body_size: 1024, max_connections: 10}\n")


HASH = "$y$j9T$mZ8WpBAN3P9dh.YgNgbDK/$jj5L6V4EcQF3w78G2Ir33A1hONqQFRUtzI7JWB32kg/"


def users():
    # the shape tpcd --demo writes (auth.c: demo_write)
    put("users", "# tpcd users file\nusers:\n"
        "  - name: admin\n    role: admin\n    password_hash: \"%s\"\n"
        "  - name: brand_a_user\n    role: user\n    brands: [a]\n    password_hash: \"%s\"\n"
        "tokens:\n  - name: dashboard\n    role: user\n    brands: [a, b]\n"
        "    sha256: %s\n  - name: old\n    role: admin\n    revoked: true\n    sha256: %s\n"
        % (HASH, HASH, "0123456789abcdef" * 4, "fedcba9876543210" * 4))
    put("users", "users: []\ntokens: []\n")
    put("users", "users:\n  - {name: u, brands: [b], password_hash: '$2b$05$abcdefghijklmnopqrstuu"
        "5yYkT0YQh3f9o0Yb8pGZ7j3Y2Vx1u'}\n")


def catalog():
    put("catalog", read("schema/aggregates.yaml"))
    put("catalog", "params: {n: 3}\naggregates:\n  - name: x\n    relation: X\n"
        "    title_en: X\n    title_ko: 엑스\n    description: d\n    refresh: 60\n"
        "    target_lag: 1 minute\n    sqlite: sqlite/mau_users.sql\n"
        "    snowflake: snowflake/mau_users.sql\n    columns:\n"
        "      - {name: month, type: string, role: dimension, unit: none, title_en: M, "
        "title_ko: 월}\n      - {name: n, type: int64, role: measure, unit: count, "
        "title_en: N, title_ko: 수}\n      - {name: r, type: double, role: measure, "
        "unit: '%', title_en: R, title_ko: 율}\n      - {name: d, type: date, "
        "role: dimension, unit: days, title_en: D, title_ko: 일}\n")


SF_TYPES = ["fixed", "real", "text", "boolean", "date", "time", "timestamp_ntz",
            "timestamp_ltz", "timestamp_tz", "variant", "object", "array", "binary"]
CELLS = {
    "fixed": ["0", "-12", "123456789012345678", "12345678901234567890123456789012345678",
              "1.50", "-0.001"],
    "real": ["1.5", "-2e10", "NaN", "inf", "0.1"],
    "text": ["hello", "2024-01-31", "42", "", "한국어"],
    "boolean": ["1", "0", "true", "FALSE"],
    "date": ["19723", "-1", "0"],
    "time": ["3723.5", "0", "86399.999999999"],
    "timestamp_ntz": ["1700000000.123456789", "-1.5", "0"],
    "timestamp_ltz": ["1700000000.000000000"],
    "timestamp_tz": ["1700000000.123 1980", "0 1440", "-5.25 900"],
    "variant": ["{\"a\": 1}"], "object": ["{}"], "array": ["[1,2]"], "binary": ["00ff"],
}


def sfdecode():
    for ti, t in enumerate(SF_TYPES):
        for cell in CELLS[t]:
            for want in range(4):
                scale = 2 if "." in cell and t == "fixed" else (9 if t.startswith("t") else 0)
                put("sfdecode", bytes([ti, scale, want]) + cell.encode())


def sf_body(cols, rows, parts=1, handle="01b2c3d4-0000-1111-2222-333344445555"):
    row_type = []
    for name, t, scale in cols:
        row_type.append({"name": name, "database": "TPC", "schema": "BRAND_A",
                         "table": "DT_BRAND_A_X", "type": t,
                         "precision": 38 if t == "fixed" else None,
                         "scale": scale, "length": None, "byteLength": None,
                         "nullable": True, "collation": None})
    info = [{"rowCount": len(rows), "uncompressedSize": 100}] + \
        [{"rowCount": 1, "uncompressedSize": 10, "compressedSize": 8}] * (parts - 1)
    return json.dumps({
        "resultSetMetaData": {"numRows": len(rows) + parts - 1, "format": "jsonv2",
                              "partitionInfo": info, "rowType": row_type},
        "data": rows, "code": "090001",
        "statementStatusUrl": "/api/v2/statements/" + handle + "?requestId=x",
        "requestId": "6f1c2b3a-aaaa-4bbb-8ccc-ddddeeeeffff", "sqlState": "00000",
        "statementHandle": handle, "message": "Statement executed successfully.",
        "createdOn": 1700000000000}, ensure_ascii=False)


def sfresult():
    cols = [("MONTH", "text", None), ("USERS", "fixed", 0), ("RATE", "real", None),
            ("DAY", "date", None)]
    rows = [["2024-01", "1200", "0.25", "19723"], ["2024-02", None, "1e-3", "19754"]]
    # first byte: the catalogue types, two bits per column (string, int64, double, date)
    want = 2 | 0 << 2 | 1 << 4 | 3 << 6
    put("sfresult", bytes([want]) + sf_body(cols, rows).encode())
    put("sfresult", bytes([want]) + sf_body(cols, rows, parts=3).encode())
    fresh = [("NAME", "text", None), ("DATA_TIMESTAMP", "timestamp_ltz", 9),
             ("STATE", "text", None), ("STATE_MESSAGE", "text", None)]
    put("sfresult", bytes([0xaa]) + sf_body(fresh, [
        ["DT_BRAND_A_MAU_USERS", "1700000000.123456789", "SUCCEEDED", None],
        ["DT_BRAND_A_USER_COUNTS", "1700000100.000000000", "FAILED", "boom"]]).encode())
    tz = [("T", "timestamp_tz", 3), ("B", "boolean", None), ("TM", "time", 9),
          ("N", "fixed", 2)]
    put("sfresult", bytes([0x6a]) + sf_body(tz, [["1700000000.123 1980", "true",
                                                  "3723.500000000", "12.50"]]).encode())
    # the 202 "still running", an error body, the fake's malformed body
    put("sfresult", b"\0" + json.dumps({
        "code": "333334", "message": "Asynchronous execution in progress.",
        "statementHandle": "01b2c3d4-0000-1111-2222-333344445555",
        "statementStatusUrl": "/api/v2/statements/01b2c3d4"}).encode())
    put("sfresult", b"\0" + json.dumps({
        "code": "002003", "sqlState": "42S02", "message": "SQL compilation error:\n"
        "Object 'DT_BRAND_A_X' does not exist or not authorized.",
        "statementHandle": "01b2c3d4"}).encode())
    put("sfresult", b"\0{\"resultSetMetaData\": {\"numRows\": 1, \"format\": \"jsonv2\", "
        b"\"rowType\": [}, \"data\": [[\"1\", ]] <<fakesnow: malformed>>")
    # a partition body (GET ...?partition=N) has only data
    put("sfresult", b"\x06" + json.dumps({"data": [["1", "2"]]}).encode())


USER_TOKEN = "tpcdt_fuzzuser" + "0" * 52   # fuzz_router.c: FUZZ_USER_TOKEN
ADMIN_TOKEN = "tpcdt_fuzzadmin" + "0" * 51  # FUZZ_ADMIN_TOKEN


def request(method, path, headers=(), body=b"", version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1"]
    lines += list(headers)
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def router():
    user = "Authorization: Bearer " + USER_TOKEN
    admin = "Authorization: Bearer " + ADMIN_TOKEN
    data = "/v1/brands/z/aggregates/mau_users"
    reqs = [
        request("GET", "/healthz"), request("HEAD", "/_stcore/health", version="HTTP/1.0"),
        request("GET", "/metrics"), request("GET", "/metrics", [admin]),
        request("GET", "/v1/brands", [user]), request("GET", "/v1/brands", [admin]),
        request("GET", "/v1/brands/z/aggregates", [user]),
        request("GET", data, [user, "Accept: application/msgpack"]),
        request("GET", data + "?format=csv&_=1700000000", [user, "Accept-Encoding: gzip"]),
        request("GET", data + "?format=json&colour=green", [admin]),
        request("GET", data, [user, "Accept: text/csv;q=0, application/x-msgpack;q=0.5",
                              "Accept-Encoding: br, gzip;q=0.8, identity",
                              'If-None-Match: W/"0123456789abcdef0123456789abcdef", "x"']),
        request("GET", data, [user, "If-None-Match: *"]),
        request("HEAD", "/v1/brands/y/aggregates/user_counts", [user]),
        request("GET", "/v1/brands/y/aggregates/heavy_users_by_menu?format=msgpack", [admin]),
        request("GET", "/v1/brands/q/aggregates/nope", [user]),
        request("GET", "/v1/brands/z/aggregates/mau_users?format=xml", [user]),
        request("GET", "/v1/brands/z/aggregates/mau_users?colour=red&x=1", [user]),
        request("GET", "/v1/brands/z/aggregates/mau_users?%zz=&&==", [user]),
        request("GET", data + "?limit=2&offset=1", [user]),
        request("GET", data + "?month=2025-01&format=csv", [user, "Accept-Encoding: gzip"]),
        request("GET", "/v1/brands/y/aggregates/region_sales?month=2025-02&region=Seoul"
                "&limit=1", [admin, 'If-None-Match: "0123456789abcdef0123456789abcdef"']),
        request("GET", "/v1/brands/y/aggregates/hourly_sales?hour=05&weekday=2", [user]),
        request("GET", data + "?limit=-1&offset=x&mau=3&month=&month=1", [user]),
        request("GET", data + "?limit=1&colour=blue", [admin]),
        request("GET", "/v1/status", [admin]), request("GET", "/v1/snapshots", [admin]),
        request("GET", "/v1/sessions", [admin]), request("GET", "/v1/tokens", [admin]),
        request("GET", "/v1/status", [user]),
        request("POST", "/v1/refresh", [admin]), request("POST", "/v1/swap", [admin]),
        request("POST", "/v1/rollback", [admin]), request("POST", "/v1/pin", [admin]),
        request("POST", "/v1/unpin", [admin]),
        request("DELETE", "/v1/sessions/abcdef", [admin]),
        request("POST", "/v1/login", ["Content-Type: application/json"],
                b'{"user": "fuzz_user", "password": "fuzz-password"}'),
        request("POST", "/v1/login", ["Content-Type: application/json"],
                b'{"user": "fuzz_user", "password": "wrong"}'),
        request("POST", "/v1/login", [], b'{"user": 1}'),
        request("POST", "/v1/logout", ["Cookie: theme=dark; tpcd_session=abc123; x=y"]),
        request("GET", "/v1/brands", ["Cookie: tpcd_session=" + USER_TOKEN]),
        request("GET", "/v1/brands", ["Authorization: Basic Zm9vOmJhcg=="]),
        request("GET", "/v1/brands", ["Authorization: Bearer   " + USER_TOKEN + " x"]),
        request("GET", "/v1/brands", [user, "X-Forwarded-For: 10.0.0.1, 192.0.2.7"]),
        request("GET", "/v1/brands", [user, "X-Forwarded-For: ::1",
                                      "X-Forwarded-For: 2001:db8::1 "]),
        request("GET", "/v1/brands", [user, "X-Forwarded-For: not-an-address"]),
        request("PUT", "/v1/brands", [user]), request("OPTIONS", "*", []),
        request("GET", "/v1/../healthz"), request("GET", "/v1//brands", [user]),
        request("GET", "/v1/brands/%7a/aggregates", [user]), request("GET", "/v1/"),
        request("GET", "/" + "a/" * 7 + "b"), request("GET", "/v1/brands/" + "z" * 80),
        request("GET", "http://127.0.0.1/healthz?x#frag"),
        request("GET", "/index.html"), request("GET", "/v1/brands/z/aggregates/mau_users/x"),
        request("GET", "/healthz") + request("GET", "/v1/brands", [user]),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        b"GET /healthz\r\n\r\n", b"\r\n\r\n",
    ]
    for r in reqs:
        put("router", r)


# fuzz_tpcctl.c: byte 0 the verb, byte 1 format + 3 * status index (+ 0x80: msgpack type)
TPCCTL_VERBS = ["status", "get", "refresh", "refresh-brand", "snapshots", "swap", "rollback",
                "pin", "unpin", "diff", "diff-a", "diff-a-mau", "health", "health-wc",
                "brands", "aggregates", "login", "logout"]
TPCCTL_STATUS = [200, 200, 200, 200, 202, 304, 400, 401, 403, 404, 409, 429, 500, 503]


def tpcctl():
    """Bodies a real tpcd sent (make run, then curl each route into $TPCD_BODIES: see
    tests/fuzz/README.md), each behind the verb that reads it."""
    import msgpack
    bodies = os.environ.get("TPCD_BODIES")
    if not bodies:
        print("seeds.py: tpcctl needs TPCD_BODIES (a directory of captured bodies)")
        return

    def rd(n):
        with open(os.path.join(bodies, n), "rb") as f:
            return f.read()

    def seed(verb, fmt, status, is_msgpack, parts):
        b1 = TPCCTL_STATUS.index(status) * 3 + fmt + (0x80 if is_msgpack else 0)
        put("tpcctl", bytes([TPCCTL_VERBS.index(verb), b1]) + b"\n--\n".join(parts))

    mau = rd("mau_users.msgpack")
    d = msgpack.unpackb(mau)
    changed = dict(d, generation=d["generation"] + 1)
    rows = [list(r) for r in d["rows"]]
    rows[0][-1] = rows[0][-1] + 1
    changed["rows"] = rows[1:] + [["2099-01"] + rows[0][1:]]
    changed = msgpack.packb(changed)
    recoloured = dict(d, columns=d["columns"][:1] + [{"name": "extra", "type": "double"}],
                      rows=[[r[0], 1.5] for r in d["rows"]] + [[None, float("nan")]])
    recoloured = msgpack.packb(recoloured)
    snaps = json.loads(rd("snapshots.json"))
    green = json.loads(json.dumps(snaps["snapshots"][0]))
    green.update(colour="green", generation=2)
    both = json.dumps(dict(snaps, snapshots=snaps["snapshots"] + [green])).encode()
    aggs = rd("brands_a_aggregates.json")
    for fmt in range(3):
        seed("status", fmt, 200, False, [rd("status.json")])
        seed("get", fmt, 200, True, [mau])
        seed("diff-a-mau", fmt, 200, False, [both, aggs, mau, changed])
    for n in ["user_segments", "heavy_users_by_menu", "repurchase_metrics",
              "age_group_analysis"]:
        seed("get", 0, 200, True, [rd(n + ".msgpack")])
    seed("get", 1, 200, True, [recoloured])
    seed("diff-a-mau", 0, 200, False, [both, aggs, mau, recoloured])
    seed("diff-a", 1, 200, False, [both, aggs, mau, changed, rd("user_segments.msgpack")])
    seed("diff", 0, 200, False, [both, rd("brands.json"), aggs, mau, changed])
    seed("diff", 0, 200, False, [rd("snapshots.json")])
    seed("snapshots", 0, 200, False, [rd("snapshots.json")])
    seed("snapshots", 1, 200, False, [both])
    seed("brands", 0, 200, False, [rd("brands.json")])
    seed("aggregates", 0, 200, False, [aggs])
    seed("aggregates", 2, 200, False, [aggs])
    seed("refresh", 0, 202, False, [rd("refresh.json")])
    seed("refresh-brand", 1, 202, False, [rd("refresh.json")])
    seed("pin", 0, 200, False, [rd("pin.json")])
    seed("unpin", 0, 200, False, [rd("unpin.json")])
    seed("swap", 0, 409, False, [rd("swap.json")])
    seed("rollback", 0, 409, False, [rd("rollback.json")])
    seed("swap", 0, 200, False, [b'{"active":"green","previous":"blue","generation":2}'])
    seed("login", 0, 200, False, [rd("login.json")])
    seed("login", 0, 401, False, [rd("err401.json")])
    seed("login", 0, 429, False, [b'{"error":{"status":429,"code":"throttled",'
                                  b'"message":"too many failed logins; retry later"}}'])
    seed("logout", 0, 200, False, [rd("logout.json")])
    seed("health", 0, 200, False, [rd("healthz.json"), rd("status.json")])
    seed("health-wc", 0, 200, False, [b'{"status":"ok"}', rd("status.json")])
    seed("health", 0, 503, False, [b'{"status":"starting","message":"no snapshot yet"}'])
    seed("status", 0, 401, False, [rd("err401.json")])
    seed("status", 0, 500, False, [b"<html>oops</html>"])
    seed("get", 0, 404, False, [rd("green404.json")])
    seed("get", 0, 200, True, [b"\x81\xa7columns\x90"])


def main():
    targets = sys.argv[1:] or ["config", "users", "catalog", "sfdecode", "sfresult",
                               "router", "tpcctl"]
    for t in targets:
        globals()[t]()


if __name__ == "__main__":
    main()
