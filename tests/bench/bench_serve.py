"""The serving cells: demo data and a bench catalogue (the product one plus a large
aggregate), tpcd and nginx sending the very same bytes (checked), then wrk against both,
alternated, for small/large x identity/gzip x 64/256 connections, and the table of
medians with the targets. Starts the servers the restart, idle and slow cells reuse."""

import os
import subprocess
import time

import yaml

import bench_profile
import bench_report
from bench_lib import (ARGS, ROOT, THREADS, TPCD, Others, fmt_bytes, fmt_ms, get, get_json,
                       median, note, out, verdict, wrk)
from bench_servers import Nginx, Tpcd

CATALOG = os.path.join(ROOT, "schema", "aggregates.yaml")

# The bench's large aggregate: day x product over the last 120 days (~150 KB of JSON,
# the size the prototype in PERF-NOTES measured). Not part of the product catalogue.
LARGE_NAME = "daily_product_sales"
LARGE_SQL = """\
-- daily_product_sales (bench only): per day of the 120 days ending at as_of and product:
-- orders containing the product, quantity sold, revenue.
SELECT substr(o.ordered_at, 1, 10)    AS day,
       p.name                         AS product,
       COUNT(DISTINCT o.order_id)     AS orders,
       SUM(l.qty)                     AS quantity,
       SUM(l.qty * l.unit_price)      AS revenue
FROM orders o
JOIN order_lines l ON l.order_id = o.order_id
JOIN products p ON p.product_id = l.product_id
WHERE o.ordered_at >= date((SELECT value FROM meta WHERE key = 'as_of'), '-119 days')
GROUP BY day, product
ORDER BY day, product
"""
LARGE_AGG = {
    "name": LARGE_NAME, "relation": "DAILY_PRODUCT_SALES",
    "title_en": "Daily product sales (bench)", "title_ko": "일별 상품 매출 (벤치)",
    "description": "Orders, quantity and revenue per day and product, last 120 days "
                   "(benchmark only).",
    "refresh": 1800, "target_lag": "30 minutes",
    "columns": [
        {"name": "day", "type": "date", "role": "dimension", "unit": "none"},
        {"name": "product", "type": "string", "role": "dimension", "unit": "none"},
        {"name": "orders", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "quantity", "type": "int64", "role": "measure", "unit": "count"},
        {"name": "revenue", "type": "int64", "role": "measure", "unit": "KRW"},
    ],
}


# ---------------------------------------------------------------------- catalogue

def write_bench_catalog(work):
    with open(CATALOG) as f:
        cat = yaml.safe_load(f)
    base = os.path.dirname(CATALOG)
    for a in cat["aggregates"]:
        for k in ("sqlite", "snowflake"):
            if k in a:
                a[k] = os.path.join(base, a[k])
    sql = os.path.join(work, LARGE_NAME + ".sql")
    with open(sql, "w") as f:
        f.write(LARGE_SQL)
    big = dict(LARGE_AGG, sqlite=sql)
    cat["aggregates"].append(big)
    path = os.path.join(work, "catalog.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(cat, f, allow_unicode=True, sort_keys=False, width=1000)
    return path


# ---------------------------------------------------------------------- serving

def setup_serving(work):
    t0 = time.monotonic()
    cat = write_bench_catalog(work)
    t = Tpcd(work, "tpcd", cat, checked=False)
    os.makedirs(t.source_dir, exist_ok=True)
    r = subprocess.run([TPCD, "-c", t.config, "--demo"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("tpcd --demo:\n" + r.stdout + r.stderr)
    t.choose_config()
    t.start()
    note("demo data + first refresh: %.1fs" % (time.monotonic() - t0))
    # the small aggregate: the brand-a body closest to 2 KB
    names = [a["name"] for a in get_json(t.port, "/v1/brands/a/aggregates")["aggregates"]]
    sizes = {}
    for n in names:
        if n == LARGE_NAME:
            continue
        st, _, body = get(t.port, "/v1/brands/a/aggregates/" + n)
        if st == 200:
            sizes[n] = len(body)
    small = min(sizes, key=lambda n: abs(sizes[n] - 2048))
    bodies = {"small": small, "large": LARGE_NAME}
    # export both bodies (identity and gzip) under the same paths for nginx
    html = os.path.join(work, "html")
    info = {}
    for kind, name in bodies.items():
        path = "/v1/brands/a/aggregates/" + name
        st, h, plain = get(t.port, path)
        st2, h2, gz = get(t.port, path, {"Accept-Encoding": "gzip"})
        if st != 200 or st2 != 200 or h2.get("content-encoding") != "gzip":
            raise RuntimeError("GET %s: %d/%d, gzip variant %r" % (path, st, st2,
                                                                  h2.get("content-encoding")))
        f = os.path.join(html, path.lstrip("/"))
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "wb") as fp:
            fp.write(plain)
        with open(f + ".gz", "wb") as fp:
            fp.write(gz)
        info[kind] = {"name": name, "path": path, "plain": len(plain), "gzip": len(gz),
                      "bytes": (plain, gz)}
    if info["large"]["plain"] < 100 * 1024:
        t.notes.append("the large body is only %d bytes (< 100 KB)" % info["large"]["plain"])
    os.chmod(work, 0o755)		# nginx workers may not run as root
    for root, dirs, files in os.walk(html):
        os.chmod(root, 0o755)
        for fn in files:
            os.chmod(os.path.join(root, fn), 0o644)
    ngx = Nginx(work, html, ARGS.threads)
    ngx.start()
    # both servers send the very same bytes
    for kind in ("small", "large"):
        for gz in (False, True):
            h = {"Accept-Encoding": "gzip"} if gz else {}
            want = info[kind]["bytes"][1 if gz else 0]
            for srv, port in (("tpcd", t.port), ("nginx", ngx.port)):
                st, hd, body = get(port, info[kind]["path"], h)
                enc = hd.get("content-encoding")
                if st != 200 or body != want or (enc == "gzip") != gz:
                    raise RuntimeError("%s %s gzip=%s: status %d, %d bytes (want %d), "
                                       "Content-Encoding %r" % (srv, kind, gz, st, len(body),
                                                                len(want), enc))
    return t, ngx, info


def serving(t, ngx, info, work):
    cells = []
    for kind in ("small", "large"):
        for gz in (False, True):
            for conns in (64, 256):
                cid = "%s-%s-%d" % (kind, "gzip" if gz else "plain", conns)
                if ARGS.cells and cid not in ARGS.cells:
                    continue
                cells.append((cid, kind, gz, conns))
    servers = (("tpcd", t.port, t.pids), ("nginx", ngx.port, ngx.pids))
    # warm-up: every body once through each server, and a short run each
    for name, port, pids in servers:
        wrk(port, info["small"]["path"], 64, 1, False, pids)
    results = {}
    for cid, kind, gz, conns in cells:
        runs = {"tpcd": [], "nginx": []}
        state = Others()
        for rnd in range(ARGS.rounds):
            for name, port, pids in servers:
                runs[name].append(wrk(port, info[kind]["path"], conns, ARGS.duration, gz,
                                      pids))
            note("%-16s round %d: tpcd %8.0f req/s  nginx %8.0f req/s  (other processes: "
                 "%.0f%%, %.0f%% of the CPUs)" % (
                     cid, rnd + 1, runs["tpcd"][-1]["rps"], runs["nginx"][-1]["rps"],
                     runs["tpcd"][-1]["foreign"] * 100, runs["nginx"][-1]["foreign"] * 100))
        results[cid] = (kind, gz, conns, runs, state.freeze())
        if bench_profile.wanted(cid):
            bench_profile.serve(t, cid, info[kind]["path"], conns, gz, work)
    return results


def print_serving(results, info):
    out("")
    out("Serving (wrk -t2 --latency, %d s per run, %d rounds alternated tpcd/nginx, medians; "
        "CPU us = the server's utime+stime per request; others = the most CPU other processes "
        "took in a run, %% of the machine)" % (ARGS.duration, ARGS.rounds))
    out("%-34s %10s %9s %9s %8s %7s   %s" % ("cell / server", "req/s", "p50", "p99",
                                              "CPU us", "others", "req/s of each run"))
    worst = {"rps": None, "p99": None}
    allpass = True
    for cid, (kind, gz, conns, runs, state) in results.items():
        b = info[kind]
        size = b["gzip"] if gz else b["plain"]
        out("%s %s (%s), %s, %d connections (load average %.1f before)" % (
            kind, b["name"], fmt_bytes(size), "gzip" if gz else "identity", conns,
            state.load))
        med = {}
        for srv in ("tpcd", "nginx"):
            rs = runs[srv]
            med[srv] = {k: median([r[k] for r in rs]) for k in ("rps", "p50", "p99", "cpu_us")}
            errs = sum(r["errors"] for r in rs)
            out("  %-32s %10s %9s %9s %8s %6.0f%%   %s%s" % (
                srv, "{:,.0f}".format(med[srv]["rps"]), fmt_ms(med[srv]["p50"]),
                fmt_ms(med[srv]["p99"]),
                "%.1f" % med[srv]["cpu_us"] if med[srv]["cpu_us"] is not None else "-",
                max(r["foreign"] for r in rs) * 100,
                " ".join("{:,.0f}".format(r["rps"]) for r in rs),
                ("   %d ERRORS (non-2xx/socket)" % errs) if errs else ""))
        rr = med["tpcd"]["rps"] / med["nginx"]["rps"]
        pr = (med["tpcd"]["p99"] / med["nginx"]["p99"]) if med["nginx"]["p99"] else None
        cr = (med["tpcd"]["cpu_us"] / med["nginx"]["cpu_us"]
              if med["tpcd"]["cpu_us"] and med["nginx"]["cpu_us"] else None)
        ok = rr >= 1.0 and pr is not None and pr <= 1.2
        allpass &= ok
        table_rows(cell_label(kind, b, gz, conns), med, rr, pr, cr, state)
        out("  %-32s %9.2fx %9s %8.2fx %7s            req/s >= 1.0x %s, p99 <= 1.2x %s" % (
            "tpcd/nginx", rr, "", pr or 0, ("%.2fx" % cr) if cr else "-",
            verdict(rr >= 1.0), verdict(pr is not None and pr <= 1.2)))
        if worst["rps"] is None or rr < worst["rps"][0]:
            worst["rps"] = (rr, cid)
        if pr is not None and (worst["p99"] is None or pr > worst["p99"][0]):
            worst["p99"] = (pr, cid)
    fr = [r["foreign"] for _, _, _, runs, _ in results.values() for rs in runs.values()
          for r in rs]
    if fr:
        out("CPU taken by other processes during the runs: median %.0f %%, max %.0f %% of the "
            "machine%s" % (median(fr) * 100, max(fr) * 100,
                           "  WARNING: the machine was not quiet, figures are perturbed"
                           if max(fr) > 0.05 else ""))
    if results:
        out("serving targets: lowest req/s ratio %.2fx (%s), highest p99 ratio %.2fx (%s): %s"
            % (worst["rps"][0], worst["rps"][1], worst["p99"][0], worst["p99"][1],
               "PASS in every cell" if allpass else "MISS in some cells"))


def cell_label(kind, b, gz, conns):
    return "%s %s, %s, %d conns" % (kind, fmt_bytes(b["gzip"] if gz else b["plain"]),
                                     "gzip" if gz else "identity", conns)


def table_rows(cell, med, rr, pr, cr, state):
    """One serve cell in the final table: req/s, p99 and CPU per request, tpcd beside nginx."""
    t, n = med["tpcd"], med["nginx"]
    bench_report.add(cell, "req/s", "{:,.0f}".format(t["rps"]), "{:,.0f}".format(n["rps"]),
                     "%.2fx" % rr, ">= 1.0x", verdict(rr >= 1.0), state)
    bench_report.add(cell, "p99", fmt_ms(t["p99"]), fmt_ms(n["p99"]),
                     ("%.2fx" % pr) if pr is not None else "-", "<= 1.2x",
                     verdict(pr is not None and pr <= 1.2))
    bench_report.add(cell, "CPU us/req", "%.1f" % t["cpu_us"] if t["cpu_us"] else "-",
                     "%.1f" % n["cpu_us"] if n["cpu_us"] else "-",
                     ("%.2fx" % cr) if cr else "-")


def summary(results):
    """The final table's line about the serving cells: how many met both targets."""
    if not results:
        return []
    ok = 0
    for cid, (kind, gz, conns, runs, state) in results.items():
        rps = {s: median([r["rps"] for r in runs[s]]) for s in runs}
        p99 = {s: median([r["p99"] for r in runs[s]]) for s in runs}
        ok += (rps["tpcd"] >= rps["nginx"] and p99["nginx"] is not None and
               p99["tpcd"] is not None and p99["tpcd"] <= 1.2 * p99["nginx"])
    return ["serving: %d of %d cells PASS both (req/s >= 1.0x and p99 <= 1.2x nginx)" % (
        ok, len(results))]


def print_setup(t, info, nofile):
    """The lines under the machine: how the servers are set up and which bodies they send."""
    out("setup: %d serving threads, nginx %d workers (sendfile, gzip_static, "
        "open_file_cache); nofile %d" % (THREADS, ARGS.threads, nofile))
    out("auth: %s" % ("every request (wrk and the probes) sends Authorization: Bearer "
                      "<API token, role admin>; tpcd checks it (once per keep-alive "
                      "connection while nothing is revoked) and audits every request "
                      "(counted per connection, a line per second); nginx ignores it"
                      if t.auth else
                      "NONE: this tpcd build does not accept the auth: block"))
    out("bodies (the same bytes from both servers, checked): small = a/%s %s (gzip %s); "
        "large = a/%s %s (gzip %s)" % (
            info["small"]["name"], fmt_bytes(info["small"]["plain"]),
            fmt_bytes(info["small"]["gzip"]), info["large"]["name"],
            fmt_bytes(info["large"]["plain"]), fmt_bytes(info["large"]["gzip"])))
    for n in t.notes:
        out("NOTE: " + n)
