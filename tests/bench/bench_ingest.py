"""The ingest cell: a fakesnow dynamic table of >= 1 M rows (day x store x product), tpcd
with `source: snowflake` and one brand: the first refresh's wall time, tpcd's CPU, its peak
RSS against the largest partition; then the same rows through the SQLite source for
reference (encoding and publishing without the Snowflake pull)."""

import base64
import json
import os
import sqlite3
import statistics
import subprocess
import time
import urllib.request

import yaml

from bench_lib import (ARGS, FAKESNOW, ROOT, cpu_seconds, get, get_json, note, spawn,
                       status_kb, stop, verdict, wait_for)
from bench_servers import Tpcd

SF_ACCOUNT, SF_USER = "myorg-acct", "tpcd_svc"
T0 = 1764000000		# the fake dynamic table's data timestamp

# The ingest aggregate: one dynamic table of days x stores x products.
INGEST_AGG = {
    "name": "daily_store_product", "relation": "DAILY_STORE_PRODUCT",
    "title_en": "Daily store product sales (bench)", "title_ko": "일별 매장 상품 매출 (벤치)",
    "description": "Benchmark only: a large result for refresh ingest.",
    "refresh": 1800, "target_lag": "30 minutes",
    "columns": [
        {"name": "day", "type": "date", "role": "dimension", "unit": "none"},
        {"name": "store_id", "type": "int64", "role": "dimension", "unit": "none"},
        {"name": "product", "type": "string", "role": "dimension", "unit": "none"},
        {"name": "orders", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "quantity", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "revenue", "type": "double", "role": "measure", "unit": "KRW"},
    ],
}
SQL_TYPES = {"int64": "INTEGER", "double": "REAL", "string": "TEXT", "date": "DATE"}
PRODUCTS = ["Americano", "Cafe Latte", "Cappuccino", "Vanilla Latte", "Cold Brew",
            "Caramel Macchiato", "Flat White", "Espresso", "Mocha", "Green Tea Latte",
            "Earl Grey", "Chamomile", "Lemonade", "Grapefruit Ade", "Strawberry Smoothie",
            "Mango Smoothie", "Butter Croissant", "Blueberry Muffin", "Cheesecake",
            "Tiramisu", "Bagel", "Ham Sandwich", "Egg Sandwich", "Scone", "Macaron",
            "아메리카노", "딸기 라떼", "말차 케이크"]


# -------------------------------------------------------------------------- ingest

def build_fakesnow_db(path, rows_wanted):
    stores = max(1, -(-rows_wanted // (365 * len(PRODUCTS))))
    a = INGEST_AGG
    table = "ANALYSIS_BRAND_A__DT_BRAND_A_" + a["relation"]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE FAKESNOW_REFRESH_HISTORY(NAME TEXT, SCHEMA_NAME TEXT, "
               "DATABASE_NAME TEXT, QUALIFIED_NAME TEXT, STATE TEXT, STATE_MESSAGE TEXT, "
               "REFRESH_ACTION TEXT, DATA_TIMESTAMP TIMESTAMP_LTZ, "
               "REFRESH_START_TIME TIMESTAMP_LTZ, REFRESH_END_TIME TIMESTAMP_LTZ)")
    cols = ", ".join("%s %s" % (c["name"].upper(), SQL_TYPES[c["type"]]) for c in a["columns"])
    db.execute("CREATE TABLE %s (%s, PRIMARY KEY (DAY, STORE_ID, PRODUCT)) WITHOUT ROWID"
               % (table, cols))
    day0 = 20089		# 2025-01-01 as days since the epoch

    def gen():
        for d in range(365):
            day = time.strftime("%Y-%m-%d", time.gmtime((day0 + d) * 86400))
            for s in range(1, stores + 1):
                for p, name in enumerate(PRODUCTS):
                    k = d * 7919 + s * 104729 + p * 1299709
                    orders = 1 + k % 97
                    qty = orders + k % 13
                    yield (day, s, name, orders, qty, qty * (3000 + (k % 41) * 100) * 0.97)
    db.executemany("INSERT INTO %s VALUES (?,?,?,?,?,?)" % table, gen())
    schema, name = "ANALYSIS_BRAND_A", "DT_BRAND_A_" + a["relation"]
    db.execute("INSERT INTO FAKESNOW_REFRESH_HISTORY VALUES (?,?,?,?,?,?,?,?,?,?)",
               (name, schema, "TPCD", "TPCD.%s.%s" % (schema, name), "SUCCEEDED", "",
                "INCREMENTAL", T0, T0, T0 + 5))
    db.commit()
    n = db.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
    db.close()
    return n


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def fakesnow_statement(url, key, handle):
    """GETs a statement from fakesnow with our own key-pair JWT: its resultSetMetaData."""
    with urllib.request.urlopen(url + "/_fake/health", timeout=30) as r:
        iss = json.loads(r.read())["iss"]
    now = int(time.time())
    signing = "%s.%s" % (b64u(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()),
                         b64u(json.dumps({"iss": iss, "sub": ".".join(iss.split(".")[:2]),
                                          "iat": now, "exp": now + 300}).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing.encode(), capture_output=True, check=True).stdout
    req = urllib.request.Request(url + "/api/v2/statements/" + handle, headers={
        "User-Agent": "tpcd-bench/1", "Accept": "application/json",
        "Authorization": "Bearer %s.%s" % (signing, b64u(sig)),
        "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())["resultSetMetaData"]


def ingest(work):
    d = os.path.join(work, "ingest")
    os.makedirs(d)
    t0 = time.monotonic()
    db = os.path.join(d, "fake.db")
    rows = build_fakesnow_db(db, ARGS.ingest_rows)
    note("fakesnow db with %d rows: %.1fs" % (rows, time.monotonic() - t0))
    keys = os.path.join(d, "keys")
    subprocess.run(["sh", os.path.join(ROOT, "tests/fakesnow/mkkey.sh"), keys], check=True,
                   capture_output=True)
    portfile = os.path.join(d, "fakesnow.port")
    fs = spawn([FAKESNOW, "--port", "0", "--port-file", portfile, "--db", db,
                "--public-key", os.path.join(keys, "rsa_key.pub"), "--account", SF_ACCOUNT,
                "--user", SF_USER, "--partition-rows", str(ARGS.partition_rows)],
               "fakesnow", log=os.path.join(d, "fakesnow.log"))

    def port():
        if fs.poll() is not None:
            raise RuntimeError("fakesnow exited with %d" % fs.returncode)
        return os.path.exists(portfile) and open(portfile).read().strip()
    url = "http://127.0.0.1:%s" % wait_for(port, "fakesnow's port")
    # a catalogue with the one aggregate (its sqlite query is never run)
    dummy = os.path.join(d, "unused.sql")
    with open(dummy, "w") as f:
        f.write("SELECT 1\n")
    cat = os.path.join(d, "catalog.yaml")
    with open(cat, "w") as f:
        yaml.safe_dump({"aggregates": [dict(INGEST_AGG, sqlite=dummy)]}, f,
                       allow_unicode=True, sort_keys=False, width=1000)
    conf = {"account": SF_ACCOUNT, "user": SF_USER, "url": url, "warehouse": "TPCD_WH",
            "role": "TPCD_READER", "database": "TPCD", "auth": "keypair",
            "private_key": os.path.join(keys, "rsa_key.p8")}
    source = "source:\n  type: snowflake\n  snowflake:\n" + "".join(
        "    %s: %s\n" % (k, v) for k, v in conf.items())
    t = Tpcd(d, "tpcd", cat, source=source, brands=(("a", "brand_a"),))
    fs_cpu0 = cpu_seconds([fs.pid])
    w0 = time.monotonic()
    t.start(wait=False)
    hwm = [0]

    def healthy():
        t.alive()
        hwm[0] = max(hwm[0], status_kb(t.proc.pid, "VmHWM"))
        try:
            return get(t.port, "/healthz", token=None)[0] == 200
        except OSError:
            return False
    wait_for(healthy, "the snowflake refresh", deadline=600, interval=0.05)
    wall = time.monotonic() - w0
    tpcd_cpu = cpu_seconds(t.pids)
    fs_cpu = cpu_seconds([fs.pid]) - fs_cpu0
    hwm = max(hwm[0], status_kb(t.proc.pid, "VmHWM")) / 1024.0
    res = {"rows_db": rows, "wall": wall, "tpcd_cpu": tpcd_cpu, "fs_cpu": fs_cpu,
           "hwm": hwm, "notes": t.notes}
    if t.auth:
        st = get_json(t.port, "/v1/status")
        res["duration"] = (st.get("last_refresh") or {}).get("duration_ms")
        ag = [a for a in st.get("aggregates", []) if a.get("aggregate") == INGEST_AGG["name"]]
        res["rows"] = ag[0].get("rows") if ag else None
        handle = ag[0].get("statement_handle") if ag else None
        try:
            meta = fakesnow_statement(url, os.path.join(keys, "rsa_key.p8"), handle)
            pi = meta["partitionInfo"]
            res["parts"] = len(pi)
            res["largest"] = max(p["uncompressedSize"] for p in pi)
            res["largest_gz"] = max(p.get("compressedSize", 0) for p in pi)
            res["largest_how"] = "fakesnow partitionInfo"
        except Exception as e:
            res["largest_err"] = str(e)
    if "largest" not in res:		# estimate: rows per partition x mean row JSON size
        dbc = sqlite3.connect(db)
        sample = dbc.execute("SELECT * FROM ANALYSIS_BRAND_A__DT_BRAND_A_%s LIMIT 1000"
                             % INGEST_AGG["relation"]).fetchall()
        dbc.close()
        per = statistics.mean(len(json.dumps([str(v) for v in r], separators=(",", ":"),
                                             ensure_ascii=False).encode()) + 1 for r in sample)
        res["largest"] = int(per * ARGS.partition_rows)
        res["parts"] = -(-rows // ARGS.partition_rows)
        res["largest_how"] = "estimated from the rows (%s)" % res.get("largest_err", "")
    t.stop()
    stop(fs)
    # reference: the same rows from the SQLite source (the fake's database file, as brand
    # schema "fake"): what encoding and publishing cost without the Snowflake pull
    q = os.path.join(d, "ingest.sql")
    with open(q, "w") as f:
        f.write("SELECT %s FROM ANALYSIS_BRAND_A__DT_BRAND_A_%s ORDER BY DAY, STORE_ID, "
                "PRODUCT\n" % (", ".join(c["name"].upper() for c in INGEST_AGG["columns"]),
                               INGEST_AGG["relation"]))
    cat2 = os.path.join(d, "catalog-sqlite.yaml")
    with open(cat2, "w") as f:
        yaml.safe_dump({"aggregates": [dict(INGEST_AGG, sqlite=q)]}, f,
                       allow_unicode=True, sort_keys=False, width=1000)
    t = Tpcd(d, "tpcd-sqlite", cat2, brands=(("a", "fake"),), source_dir=d)
    w0 = time.monotonic()
    t.start(wait=False)
    hwm = [0]
    wait_for(healthy, "the sqlite refresh", deadline=600, interval=0.05)
    res["sq_wall"] = time.monotonic() - w0
    res["sq_cpu"] = cpu_seconds(t.pids)
    res["sq_hwm"] = max(hwm[0], status_kb(t.proc.pid, "VmHWM")) / 1024.0
    t.stop()
    return res


def figures(r, onote):
    rows = r.get("rows") or r["rows_db"]
    dur = (r.get("duration") or r["wall"] * 1000) / 1000.0
    cpu_rate = rows / r["tpcd_cpu"] if r["tpcd_cpu"] else 0
    limit = 64 + 2 * r["largest"] / 1048576.0
    lines = ["refresh ingest from fakesnow: %s rows, %d gzip partitions of %s rows, "
             "1 aggregate x 6 columns, pulled + encoded + published%s" % (
                 "{:,}".format(rows), r["parts"], "{:,}".format(ARGS.partition_rows),
                 onote),
             "   wall %.2f s (last_refresh.duration_ms; exec->healthy %.2f s) = %s "
             "rows/s; fakesnow's own CPU in that time %.2f s" % (
                 dur, r["wall"], "{:,.0f}".format(rows / dur), r["fs_cpu"]),
             "   tpcd CPU %.2f s = %s rows per CPU-second   target >= 1 M rows/s on "
             "one core  %s" % (r["tpcd_cpu"], "{:,.0f}".format(cpu_rate),
                               verdict(cpu_rate >= 1e6)),
             "   tpcd peak RSS (VmHWM) %.1f MB; largest partition %.1f MB "
             "uncompressed (%s)   target <= 64 MB + 2 x %.1f = %.1f MB  %s" % (
                 r["hwm"], r["largest"] / 1048576.0, r["largest_how"],
                 r["largest"] / 1048576.0, limit, verdict(r["hwm"] <= limit)),
             "   for reference, the same rows from the SQLite source (no Snowflake "
             "pull): wall %.2f s, tpcd CPU %.2f s (%s rows per CPU-second), peak RSS "
             "%.1f MB" % (r["sq_wall"], r["sq_cpu"],
                          "{:,.0f}".format(rows / r["sq_cpu"] if r["sq_cpu"] else 0),
                          r["sq_hwm"])]
    for n in r["notes"]:
        lines.append("   NOTE: " + n)
    return lines
