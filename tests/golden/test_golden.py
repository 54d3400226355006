"""The nine analyses, checked end to end: a hand-made dataset (tests/golden/dataset.sql)
is served by the real tpcd, and every one of the 13 aggregates must equal, exactly, what
a separate plain-Python implementation (golden.py) computes from the raw rows. Also:
a brand added by configuration alone, the rendered dynamic-table DDL, and non-empty
demo tables through tpcctl."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import golden  # noqa: E402
from harness import (CATALOG, ROOT, TPCCTL, TPCD, Tpcd, check, eq, make_demo,  # noqa: E402
                     run_tests, test, tpcctl_env)

AGGREGATES = [
    "user_counts", "mau_users", "user_segments", "new_members", "age_group_analysis",
    "region_sales", "hourly_sales", "sales_by_category", "repurchase_metrics",
    "heavy_users", "heavy_users_by_menu", "non_purchasers", "regional_purchase_cycle",
]
RELATIONS = {a: a.upper() for a in AGGREGATES}


def catalogue_params():
    """The params block of the catalogue, read the way check_sql.py reads it."""
    import check_sql
    return check_sql.load_catalog(CATALOG)[0]


def golden_db(path):
    import check_sql
    check_sql.build_golden_db(path)


@test
def test_every_aggregate_matches_the_reference():
    work = tempfile.mkdtemp(prefix="tpcd-golden-")
    src = os.path.join(work, "source")
    os.mkdir(src)
    golden_db(os.path.join(src, "golden.db"))
    want = golden.expected(os.path.join(src, "golden.db"), catalogue_params())
    eq(sorted(want), sorted(AGGREGATES), "the reference covers all 13")
    with Tpcd(workdir=work, brands=(("g", "golden"),)).start() as t:
        listed = [a["name"] for a in t.get_json("/v1/brands/g/aggregates")["aggregates"]]
        eq(sorted(listed), sorted(AGGREGATES), "served aggregates")
        mismatches = []
        for name in AGGREGATES:
            body = t.get_json("/v1/brands/g/aggregates/%s" % name)
            got = body["rows"]
            if got != want[name]:
                diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want[name]))
                        if g != w][:3]
                mismatches.append("%s: %d rows vs %d expected; first differences %r" %
                                  (name, len(got), len(want[name]), diff))
            check(len(got) > 0, "%s is not empty on the golden data" % name)
        eq(mismatches, [], "aggregates that differ from the reference")


@test
def test_sql_matches_the_reference_at_every_coverage_start():
    """The SQLite texts against the reference with the dataset's coverage start moved
    (check_sql.COVERAGE_VARIANTS): later starts reach the NULLs, left-out months and
    unknown "never bought" answers that the dataset's own start does not."""
    import check_sql
    params, aggs = check_sql.load_catalog(CATALOG)
    eq(check_sql.check_variants(params, aggs), 0, "aggregates that differ (see above)")


@test
def test_brand_added_by_configuration_alone():
    work = tempfile.mkdtemp(prefix="tpcd-golden-")
    src = os.path.join(work, "source")
    brands = (("a", "brand_a"), ("b", "brand_b"), ("c", "brand_c"))
    make_demo(src, brands=brands)
    with Tpcd(workdir=work, brands=brands).start() as t:
        ids = [b["id"] for b in t.get_json("/v1/brands")["brands"]]
        eq(ids, ["a", "b", "c"])
        for name in AGGREGATES:
            body = t.get_json("/v1/brands/c/aggregates/%s" % name)
            eq(body["brand"], "c")
            check(len(body["rows"]) > 0, "brand c %s has rows" % name)
        # c's numbers are its own, not a's
        check(t.get_json("/v1/brands/c/aggregates/mau_users")["rows"] !=
              t.get_json("/v1/brands/a/aggregates/mau_users")["rows"], "c differs from a")


@test
def test_rendered_ddl_names_the_13_dynamic_tables():
    work = tempfile.mkdtemp(prefix="tpcd-golden-")
    try:
        t = Tpcd(workdir=work)
        t.port = 1
        t.write_config()
        for b in ("a", "b"):
            out = subprocess.run([TPCD, "-c", t.config, "--print-ddl", b],
                                 capture_output=True, text=True)
            eq(out.returncode, 0, "print-ddl %s: %s" % (b, out.stderr))
            B = b.upper()
            names = re.findall(r"CREATE OR REPLACE DYNAMIC TABLE (\S+) TARGET_LAG = '[^']+' "
                               r"WAREHOUSE = \S+ REFRESH_MODE = (?:FULL|INCREMENTAL) AS",
                               out.stdout)
            eq(sorted(names), sorted("ANALYSIS_BRAND_%s.DT_BRAND_%s_%s" % (B, B, r)
                                     for r in RELATIONS.values()), "DT names for " + b)
            check("{{" not in out.stdout, "no placeholder left unrendered")
            check("BRAND_%s.ORDERS" % B in out.stdout, "reads the brand's raw schema")
        out = subprocess.run([TPCD, "-c", t.config, "--print-ddl", "zz"],
                             capture_output=True, text=True)
        eq(out.returncode, 1, "unknown brand")
    finally:
        shutil.rmtree(work)


def order_by_terms(sql):
    """Every ORDER BY term of sql (comments dropped), window orderings included."""
    sql = re.sub(r"--[^\n]*", "", sql)
    terms = []
    for m in re.finditer(r"ORDER BY ", sql, re.I):
        depth, j, cur = 0, m.end(), m.end()
        while j < len(sql):
            c = sql[j]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (c == "\n" or sql[j:j + 6].upper() in (" LIMIT", " ROWS ")):
                break
            elif depth == 0 and c == ",":
                terms.append(sql[cur:j].strip())
                cur = j + 1
            j += 1
        terms.append(sql[cur:j].strip())
    return terms


def table_columns(sql):
    """{TABLE: [COLUMN, ...]} of the CREATE TABLE statements in sql, upper case."""
    sql = re.sub(r"--[^\n]*", "", sql)
    out = {}
    create = r"CREATE TABLE IF NOT EXISTS (?:\{\{source_schema\}\}\.)?(\w+)\s*\((.*?)\n\)"
    for m in re.finditer(create, sql, re.S):
        cols = [line.split()[0].upper() for line in m.group(2).strip().splitlines()
                if line.split() and line.split()[0].upper() != "PRIMARY"]
        out[m.group(1).upper()] = cols
    return out


@test
def test_both_dialects_say_the_same():
    """NULL ordering explicit everywhere, as_of from the source's meta in both dialects,
    the Snowflake raw tables the twin of the SQLite ones, every catalogue column in
    both texts, every dynamic table's REFRESH_MODE stated."""
    import yaml
    cat = yaml.safe_load(open(CATALOG, encoding="utf-8"))
    sdir = os.path.join(ROOT, "schema")
    raw = open(os.path.join(sdir, "snowflake", "raw_tables.sql")).read()
    raw_tables = table_columns(raw)
    eq(raw_tables, table_columns(open(os.path.join(sdir, "source_sqlite.sql")).read()),
       "raw_tables.sql has the SQLite model's tables and columns")
    check(re.search(r"UNIT_PRICE\s+NUMBER\(\d+,0\)", raw), "money is NUMBER(p,0): whole KRW")
    for a in cat["aggregates"]:
        check(a.get("refresh_mode") in ("FULL", "INCREMENTAL"), a["name"] + " refresh_mode")
        for dialect in ("sqlite", "snowflake"):
            text = open(os.path.join(sdir, a[dialect]), encoding="utf-8").read()
            for t in order_by_terms(text):
                check(re.search(r"NULLS (FIRST|LAST)$", t, re.I),
                      "%s %s: ORDER BY term %r has no NULLS FIRST/LAST" % (dialect, a["name"], t))
            for c in a["columns"]:
                check(re.search(r"\bAS %s\b" % c["name"], text, re.I),
                      "%s %s: no column %s" % (dialect, a["name"], c["name"]))
        sf = re.sub(r"--[^\n]*", "", open(os.path.join(sdir, a["snowflake"])).read())
        check("CURRENT_DATE" not in sf.upper() and "CURRENT_TIMESTAMP" not in sf.upper(),
              a["name"] + ": as_of comes from META, not the clock")
        for t in re.findall(r"\{\{source_schema\}\}\.(\w+)", sf):
            check(t.upper() in raw_tables, "%s reads %s, which raw_tables.sql creates" %
                  (a["name"], t))
        sq = open(os.path.join(sdir, a["sqlite"])).read()
        check(("as_of" in sq) == ("AS_OF" in sf), a["name"] + ": as_of in both or neither")


@test
def test_tpcctl_prints_every_demo_aggregate():
    work = tempfile.mkdtemp(prefix="tpcd-golden-")
    make_demo(os.path.join(work, "source"))
    with Tpcd(workdir=work).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        for name in AGGREGATES:
            body = t.get_json("/v1/brands/a/aggregates/%s" % name)
            out = subprocess.run([TPCCTL, "-s", url, "get", "a", name],
                                 capture_output=True, text=True, env=tpcctl_env())
            eq(out.returncode, 0, "tpcctl get a %s: %s" % (name, out.stderr))
            lines = out.stdout.splitlines()
            header = lines[0].split()
            eq(header, [c["name"] for c in body["columns"]], name + " header")
            check(len(lines) >= 2 + len(body["rows"]), name + " rows printed")
            check(len(body["rows"]) > 0, name + " has rows on the demo data")


if __name__ == "__main__":
    run_tests()
