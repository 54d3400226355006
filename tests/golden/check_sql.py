#!/usr/bin/env python3
"""Checks schema/sqlite/*.sql against the pure-Python reference (golden.py).

Builds a temporary database from schema/source_sqlite.sql + tests/golden/dataset.sql,
runs every aggregate of schema/aggregates.yaml with the catalogue's params bound like
the daemon binds them, and compares column names, cell types and rows with
golden.expected(). Prints OK/FAIL per aggregate (with a diff on failure); exits 1 on any
mismatch.

    check_sql.py              the golden dataset, with its coverage_start row, without it
                              and with later ones (COVERAGE_VARIANTS)
    check_sql.py --db FILE    also time each query on an existing brand database (e.g. a
                              demo one); rows there are not compared unless --compare
"""
import argparse
import os
import re
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import golden  # noqa: E402


def load_catalog(path):
    """(params, aggregates) from the catalogue. PyYAML when present; otherwise a small
    reader for this file's own layout (params: block, then '- name:' entries with
    sqlite: and flow-style column maps)."""
    try:
        import yaml
        doc = yaml.safe_load(open(path, encoding='utf-8'))
        params = {k: str(v) for k, v in doc.get('params', {}).items()}
        aggs = [{'name': a['name'], 'sqlite': a['sqlite'],
                 'columns': [(c['name'], c['type']) for c in a['columns']]}
                for a in doc['aggregates']]
        return params, aggs
    except ImportError:
        pass
    params, aggs, section = {}, [], None
    for line in open(path, encoding='utf-8'):
        line = line.split(' #')[0].rstrip()
        if not line or line.lstrip().startswith('#'):
            continue
        if not line.startswith(' '):
            section = line.rstrip(':')
            continue
        if section == 'params':
            k, v = line.strip().split(':', 1)
            params[k.strip()] = v.strip()
        elif (m := re.match(r'\s*- name: (\S+)', line)):
            aggs.append({'name': m.group(1), 'columns': []})
        elif (m := re.match(r'\s*sqlite: (\S+)', line)):
            aggs[-1]['sqlite'] = m.group(1)
        elif (m := re.match(r'\s*- \{name: (\w+), type: (\w+)', line)):
            aggs[-1]['columns'].append((m.group(1), m.group(2)))
    return params, aggs


def bind_value(v):
    """As the daemon binds params: integer-looking values as integers, others as text."""
    return int(v) if re.fullmatch(r'-?\d+', v) else v


def type_ok(value, typ):
    if value is None:
        return True
    if typ == 'int64':
        return isinstance(value, int)
    if typ == 'double':
        return isinstance(value, (int, float))
    if typ == 'date':
        return isinstance(value, str) and re.fullmatch(r'\d{4}-\d{2}-\d{2}', value)
    return isinstance(value, str)


def build_golden_db(path):
    con = sqlite3.connect(path)
    con.executescript(open(os.path.join(ROOT, 'schema/source_sqlite.sql')).read())
    con.executescript(open(os.path.join(HERE, 'dataset.sql')).read())
    con.commit()
    con.close()


def run_query(db_path, sql, params):
    """Runs sql as the daemon does: on a read-only connection that has the queries'
    TEMP views (schema/sqlite/views.sql) created first."""
    con = sqlite3.connect('file:%s?mode=ro' % db_path, uri=True)
    con.executescript(open(os.path.join(ROOT, 'schema/sqlite/views.sql'), encoding='utf-8').read())
    t0 = time.perf_counter()
    cur = con.execute(sql, params)
    rows = [list(r) for r in cur.fetchall()]
    elapsed = time.perf_counter() - t0
    names = [d[0] for d in cur.description]
    con.close()
    return names, rows, elapsed


def diff(got, want, limit=20):
    """Rows only in one side, in order; enough to see what is off."""
    out = []
    gs, ws = [repr(r) for r in got], [repr(r) for r in want]
    wset, gset = set(ws), set(gs)
    out += ['  - want ' + w for w in ws if w not in gset][:limit]
    out += ['  + got  ' + g for g in gs if g not in wset][:limit]
    if not out:
        out.append('  same rows, different order')
    return out


def check(db_path, params, aggs, compare=True):
    bound = {k: bind_value(v) for k, v in params.items()}
    want = golden.expected(db_path, params) if compare else {}
    failed = 0
    for a in aggs:
        sql = open(os.path.join(ROOT, 'schema', a['sqlite']), encoding='utf-8').read()
        problems = []
        try:
            names, rows, elapsed = run_query(db_path, sql, bound)
        except sqlite3.Error as e:
            print('FAIL %-24s %s' % (a['name'], e))
            failed += 1
            continue
        cols = [c for c, _ in a['columns']]
        if names != cols:
            problems.append('  columns %s, catalogue says %s' % (names, cols))
        for r in rows:
            for v, (c, typ) in zip(r, a['columns']):
                if not type_ok(v, typ):
                    problems.append('  column %s: %r is not %s' % (c, v, typ))
        if compare:
            if a['name'] not in want:
                problems.append('  golden.py has no expectation')
            elif rows != want[a['name']]:
                problems += diff(rows, want[a['name']])
        status = 'FAIL' if problems else 'OK  '
        print('%s %-24s %5d rows %7.1f ms' % (status, a['name'], len(rows), elapsed * 1000))
        for p in problems[:40]:
            print(p)
        failed += bool(problems)
    return failed


# The golden dataset's coverage start (None: no meta row, so the first order's day) and
# why each one: later ones reach the coverage rules the dataset's own does not.
COVERAGE_VARIANTS = [
    ('2024-04-10', 'as in dataset.sql'),
    (None, 'coverage begins at the first order\'s day'),
    ('2022-01-01', 'before every product\'s launch, after one member joined'),
    ('2025-02-01', 'a month that begins on it; a new product launched before it; '
                   'the 90-day window reaches before it'),
    ('2025-03-15', 'the 30-day active window reaches before it too'),
]


def set_coverage(db_path, value):
    con = sqlite3.connect(db_path)
    con.execute("DELETE FROM meta WHERE key = 'coverage_start'")
    if value is not None:
        con.execute("INSERT INTO meta VALUES ('coverage_start', ?)", (value,))
    con.commit()
    con.close()


def check_variants(params, aggs):
    """Failures over the golden dataset under every COVERAGE_VARIANTS start."""
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'golden.db')
        build_golden_db(db)
        for value, why in COVERAGE_VARIANTS:
            set_coverage(db, value)
            print('golden dataset, coverage_start %s (%s):' % (value or 'absent', why))
            failed += check(db, params, aggs)
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--db', help='time the queries on this brand database too')
    ap.add_argument('--compare', action='store_true', help='with --db: compare rows too')
    args = ap.parse_args()
    params, aggs = load_catalog(os.path.join(ROOT, 'schema/aggregates.yaml'))
    failed = check_variants(params, aggs)
    if args.db:
        print('%s:' % args.db)
        failed += check(args.db, params, aggs, compare=args.compare)
    print('%d aggregate(s) failed' % failed if failed else 'all aggregates match')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
