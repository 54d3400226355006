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
                               r"WAREHOUSE = \S+ AS", out.stdout)
            eq(sorted(names), sorted("ANALYSIS_BRAND_%s.DT_BRAND_%s_%s" % (B, B, r)
                                     for r in RELATIONS.values()), "DT names for " + b)
            check("{{" not in out.stdout, "no placeholder left unrendered")
            check("BRAND_%s.ORDERS" % B in out.stdout, "reads the brand's raw schema")
        out = subprocess.run([TPCD, "-c", t.config, "--print-ddl", "zz"],
                             capture_output=True, text=True)
        eq(out.returncode, 1, "unknown brand")
    finally:
        shutil.rmtree(work)


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
