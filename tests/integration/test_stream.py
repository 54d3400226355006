"""A streamed publish is the old encoder's, byte for byte (issue 15): the golden dataset
served by fakesnow in partitions of a few rows, pulled by tpcd (partitions fetched ahead
and decoded in order, rows streamed into the encoder), must give for every aggregate
exactly the five bodies and ETags that the whole-table encoder wrote into
tests/golden/reference (git f5ee66d) for the same data timestamp, also when a partition
arrives late and one is malformed."""

import hashlib
import os
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))

import check_sql  # noqa: E402
from harness import ROOT, Tpcd, check, eq, run_tests, test  # noqa: E402
from sfworld import CAT, T0, Fakesnow, snowflake_source  # noqa: E402

REF = os.path.join(ROOT, "tests", "golden", "reference")
BRAND = (("g", "golden"),)
PARTITION_ROWS = 7
# the record header (record.c): magic, nvar, generation, refreshed_at, rows, content
# hash, then per body its offset, length and quoted ETag (34 bytes + NUL, 4-aligned)
VAR_OFF, VAR_SIZE, NVAR = 64, 44, 5
# variant index -> the request that selects it
VARIANTS = [
    ("json", {}, ""),
    ("json.gz", {"Accept-Encoding": "gzip"}, ""),
    ("msgpack", {"Accept": "application/msgpack"}, ""),
    ("csv", {"Accept": "text/csv"}, ""),
    ("csv.gz", {"Accept": "text/csv", "Accept-Encoding": "gzip"}, ""),
]


def reference(name):
    """The old encoder's record for aggregate name: [(body, etag)] by variant, rows."""
    with open(os.path.join(REF, name + ".tpr"), "rb") as f:
        rec = f.read()
    eq(rec[:4], b"TPR1", "reference magic")
    gen, at, rows = struct.unpack_from("<QqQ", rec, 8)
    eq((gen, at), (T0 * 1000, T0), "the reference's generation and time are T0's")
    out = []
    for i in range(NVAR):
        off, n = struct.unpack_from("<II", rec, VAR_OFF + i * VAR_SIZE)
        etag = rec[VAR_OFF + i * VAR_SIZE + 8:VAR_OFF + i * VAR_SIZE + 8 + 34].decode()
        body = rec[off:off + n]
        eq(etag, '"%s"' % hashlib.sha256(body).hexdigest()[:32], "reference ETag")
        out.append((body, etag))
    return out, rows


@test
def test_multi_partition_pull_equals_the_old_encoder():
    work = tempfile.mkdtemp(prefix="tpcd-stream-")
    src = os.path.join(work, "source")
    os.mkdir(src)
    check_sql.build_golden_db(os.path.join(src, "golden.db"))
    fs = Fakesnow(work, src, partition_rows=PARTITION_ROWS, brands=BRAND)
    try:
        # out of order: the first partition 1 asked for comes late (2 and 3 arrive and
        # wait); the first partition 3 is not JSON, found at its turn and fetched again
        fs.fault(kind="delay", ms=400, match="partition=1", count=1)
        fs.fault(kind="malformed", match="partition=3", count=1)
        with Tpcd(brands=BRAND, source=snowflake_source(fs, max_partitions=3)).start() as t:
            st = t.status()
            names = [a["name"] for a in CAT["aggregates"]]
            eq(sorted(a["aggregate"] for a in st["aggregates"]), sorted(names))
            for a in st["aggregates"]:
                check(a["ok"], a)
            compared, multi = 0, 0
            for name in names:
                ref, rows = reference(name)
                multi += rows > PARTITION_ROWS
                path = "/v1/brands/g/aggregates/%s" % name
                for i, (variant, headers, query) in enumerate(VARIANTS):
                    r = t.get(path + query, headers=headers)
                    eq(r.status, 200, "%s %s" % (path, variant))
                    body, etag = ref[i]
                    if r.body != body:
                        raise AssertionError(
                            "%s %s: %d bytes served, %d in the reference; first "
                            "difference at byte %d" % (name, variant, len(r.body), len(body),
                                                       next((k for k, (x, y) in enumerate(
                                                           zip(r.body, body)) if x != y),
                                                           min(len(r.body), len(body)))))
                    eq(r.header("ETag"), etag, "%s %s ETag" % (name, variant))
                    compared += 1
            eq(compared, 13 * 5, "bodies compared")
            check(multi >= 10, "most aggregates span several partitions (%d)" % multi)
            c = fs.counters()
            eq(c["faults_fired"], 2, "the late and the malformed partition")
            # partition 0 comes with the first answer; every other one was fetched
            check(c["partitions"] > 100, "partitions fetched: %d" % c["partitions"])
    finally:
        fs.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
