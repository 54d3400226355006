#!/usr/bin/env python3
"""The operator's day (issue 17), server side: the monitor role, counters that survive a
reload, the metrics a scrape shows (checked by promtool), the shipped alert rules."""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ADMIN_AUTH, DEADLINE, ROOT, Tpcd, check, demo_workdir, eq, run_tests,
                     test, wait_for)

MONITOR_TOKEN = "tpcdt_monitor_" + os.urandom(16).hex()
READER_TOKEN = "tpcdt_reader_" + os.urandom(16).hex()
AUTH = ADMIN_AUTH + ("    - name: mon\n      sha256: %s\n      role: monitor\n"
                     "    - name: reader\n      sha256: %s\n      brands: [a]\n" %
                     (hashlib.sha256(MONITOR_TOKEN.encode()).hexdigest(),
                      hashlib.sha256(READER_TOKEN.encode()).hexdigest()))


def metric(text, name, labels=""):
    """The value of one sample of the exposition (labels as written, e.g. 'route="data"')."""
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name and (m.group(2) or "") == ("{%s}" % labels if labels
                                                                  else ""):
            return float(m.group(3))
    raise AssertionError("no sample %s{%s} in:\n%s" % (name, labels, text[:3000]))


@test
def test_monitor_role():
    """Role monitor reads status, snapshots, health and metrics; nothing else."""
    with Tpcd(workdir=demo_workdir(), auth=AUTH).start() as t:
        for path in ("/v1/status", "/v1/snapshots", "/healthz", "/metrics"):
            eq(t.get(path, token=MONITOR_TOKEN).status, 200, "monitor GET " + path)
        for path in ("/v1/brands", "/v1/brands/a/aggregates",
                     "/v1/brands/a/aggregates/user_counts", "/v1/sessions", "/v1/tokens"):
            r = t.get(path, token=MONITOR_TOKEN)
            eq(r.status, 403, "monitor GET %s (%r)" % (path, r.body[:200]))
        for path in ("/v1/refresh", "/v1/swap", "/v1/rollback", "/v1/pin", "/v1/unpin"):
            eq(t.post(path, token=MONITOR_TOKEN).status, 403, "monitor POST " + path)
        # a user may not read status; an admin still may do everything
        eq(t.get("/v1/status", token=READER_TOKEN).status, 403, "user GET /v1/status")
        eq(t.get("/v1/brands/a/aggregates", token=READER_TOKEN).status, 200, "user data")
        toks = {x["name"]: x for x in t.get_json("/v1/tokens")["tokens"]}
        eq(toks["mon"]["role"], "monitor")
        # tpcctl health with the monitor token: OK (exit 0)
        env = dict(os.environ, TPCD_TOKEN=MONITOR_TOKEN)
        r = subprocess.run([os.environ.get("TPCCTL_BIN_ABS", os.path.join(ROOT, os.environ.get(
            "TPCCTL_BIN", "build/tpcctl"))), "-s", "http://127.0.0.1:%d" % t.port,
            "health"], env=env, capture_output=True, text=True, timeout=DEADLINE)
        eq(r.returncode, 0, "tpcctl health as monitor: %s %s" % (r.stdout, r.stderr))


@test
def test_monitor_with_brands_refused():
    bad = ADMIN_AUTH + (
        "    - name: mon\n      sha256: %s\n      role: monitor\n      brands: [a]\n" %
        hashlib.sha256(b"x").hexdigest())
    t = Tpcd(workdir=demo_workdir(), auth=bad)
    t.port = 1
    t.write_config()
    r = subprocess.run([os.path.join(ROOT, os.environ.get("TPCD_BIN", "build/tpcd")), "-t",
                        "-c", t.config], capture_output=True, text=True, timeout=DEADLINE)
    eq(r.returncode, 1, "tpcd -t: " + r.stdout + r.stderr)
    check(re.search(r"tpcd\.yaml:\d+: .*role monitor, which reads no brand", r.stderr),
          r.stderr)
    shutil.rmtree(t.workdir, ignore_errors=True)


@test
def test_tpcd_t_reports_what_startup_needs():
    """tpcd -t reports every path start-up (or the first refresh) would trip over, each at
    the key that named it, and 'ok' only when there is none."""
    work = demo_workdir()
    tpcd = os.path.join(ROOT, os.environ.get("TPCD_BIN", "build/tpcd"))
    try:
        os.remove(os.path.join(work, "source", "brand_b.db"))
        t = Tpcd(workdir=work, auth=ADMIN_AUTH + "  users_file: nousers.yaml\n",
                 extra="log_file: /nonexistent-dir/tpcd.log\naudit:\n"
                       "  file: /nonexistent-dir/audit.log\n")
        t.port = 1
        t.write_config()
        with open(t.config) as f:
            lines = f.read().split("\n")

        def line_of(prefix):
            return 1 + next(i for i, l in enumerate(lines) if l.strip().startswith(prefix))
        r = subprocess.run([tpcd, "-t", "-c", t.config], capture_output=True, text=True,
                           timeout=DEADLINE)
        eq(r.returncode, 1, "tpcd -t: " + r.stdout + r.stderr)
        eq(r.stdout, "", "no 'ok'")
        want = [
            "%s:%d: 'dir': brand b: %s/source/brand_b.db: No such file or directory" %
            (t.config, line_of("dir:"), work),
            "%s:%d: 'log_file': /nonexistent-dir/tpcd.log: directory /nonexistent-dir does "
            "not exist" % (t.config, line_of("log_file:")),
            "%s:%d: 'file': /nonexistent-dir/audit.log: directory /nonexistent-dir does not "
            "exist" % (t.config, line_of("file:")),
            "%s:%d: 'users_file': %s/nousers.yaml does not exist: nobody could log in; "
            "create it with tpcd --init-users %s/nousers.yaml" %
            (t.config, line_of("users_file:"), work, work),
        ]
        for w in want:
            check(w in r.stderr.splitlines(), "%r in:\n%s" % (w, r.stderr))
        eq(len(r.stderr.splitlines()), len(want), "one line each:\n" + r.stderr)
        # a host name as the listen address: at its line, before anything starts
        with open(t.config) as f:
            text = f.read().replace("address: 127.0.0.1", "address: localhost")
        with open(t.config, "w") as f:
            f.write(text)
        r = subprocess.run([tpcd, "-t", "-c", t.config], capture_output=True, text=True,
                           timeout=DEADLINE)
        eq(r.returncode, 1)
        check(r.stderr.startswith("%s:2: 'address': 'localhost' is not an IPv4 or IPv6 "
                                  "address" % t.config), r.stderr)
        r = subprocess.run([tpcd, "-c", t.config], capture_output=True, text=True,
                           timeout=DEADLINE)
        eq(r.returncode, 1, "start-up refuses it the same way")
        check("%s:2: 'address'" % t.config in r.stderr, r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def reloads(t):
    return t.read_log().count("reload: done")


@test
def test_counters_survive_sighup():
    """Counters only go up in a process's life: a reload keeps them."""
    with Tpcd(workdir=demo_workdir(), auth=AUTH).start() as t:
        t.refresh_and_wait()
        t.refresh_and_wait()
        before = t.get("/metrics").body.decode()
        runs = metric(before, "tpcd_refresh_runs_total")
        ok = metric(before, "tpcd_refreshes_total",
                    'brand="a",aggregate="user_counts",result="ok"')
        cycles = metric(before, "tpcd_refresh_cycle_duration_seconds_count")
        check(runs >= 3 and ok >= 3 and cycles >= 3, "three cycles counted: %s %s %s" %
              (runs, ok, cycles))
        n = reloads(t)
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads(t) > n, "the reload")
        after = t.get("/metrics").body.decode()
        check(metric(after, "tpcd_refresh_runs_total") >= runs,
              "runs after the reload %s < %s" % (metric(after, "tpcd_refresh_runs_total"), runs))
        check(metric(after, "tpcd_refreshes_total",
                     'brand="a",aggregate="user_counts",result="ok"') >= ok, "per aggregate")
        eq(metric(after, "tpcd_refresh_cycle_duration_seconds_count"), cycles)
        t.refresh_and_wait()
        again = t.get("/metrics").body.decode()
        eq(metric(again, "tpcd_refresh_runs_total"), metric(after, "tpcd_refresh_runs_total")
           + 1, "a refresh after the reload adds one")


@test
def test_metrics_content():
    """build info, process_*, pinned gauge, per-route latency, login counters."""
    with Tpcd(workdir=demo_workdir(), auth=AUTH).start() as t:
        t.get("/v1/brands/a/aggregates/user_counts", token=READER_TOKEN)
        t.post("/v1/login", body='{"user":"nobody","password":"x"}',
               headers={"Content-Type": "application/json"}, token=None)
        eq(t.post("/v1/pin").status, 200, "pin")
        m = t.get("/metrics").body.decode()
        eq(metric(m, "tpcd_build_info", 'version="0.1.0"'), 1)
        check(metric(m, "process_resident_memory_bytes") > 1e6, "rss")
        check(metric(m, "process_open_fds") > 3, "fds")
        check(metric(m, "process_cpu_seconds_total") > 0, "cpu")
        st = metric(m, "process_start_time_seconds")
        check(abs(st - __import__("time").time()) < 3600, "start time %s" % st)
        eq(metric(m, "tpcd_snapshot_pinned"), 1)
        check(metric(m, "tpcd_http_request_duration_seconds_count", 'route="data"') >= 1,
              "data route latency")
        eq(metric(m, "tpcd_login_failures_total", 'reason="unknown_user"'), 1)
        eq(t.post("/v1/unpin").status, 200, "unpin")
        eq(metric(t.get("/metrics").body.decode(), "tpcd_snapshot_pinned"), 0)


def promtool():
    p = shutil.which("promtool")
    check(p is not None, "promtool (Debian package prometheus) is installed")
    return p


@test
def test_promtool_rules_and_live_scrape():
    rules = os.path.join(ROOT, "etc", "prometheus", "tpcd-rules.yml")
    r = subprocess.run([promtool(), "check", "rules", rules], capture_output=True, text=True,
                       timeout=DEADLINE)
    eq(r.returncode, 0, "promtool check rules: " + r.stdout + r.stderr)
    check(re.search(r"SUCCESS: [5-9] rules found", r.stdout), r.stdout)
    with Tpcd(workdir=demo_workdir(), auth=AUTH).start() as t:
        t.get("/v1/brands/a/aggregates", token=READER_TOKEN)
        body = t.get("/metrics", token=MONITOR_TOKEN).body
        r = subprocess.run([promtool(), "check", "metrics"], input=body, capture_output=True,
                           timeout=DEADLINE)
        out = (r.stdout + r.stderr).decode()
        eq(r.returncode, 0, "promtool check metrics: " + out)
        # every metric the rules use is in the scrape
        with open(rules) as f:
            used = set(re.findall(r"\b(tpcd_[a-z_]+)", f.read()))
        text = body.decode()
        for name in used:
            check(re.search(r"^%s[{ ]" % name, text, re.M), "%s in the scrape" % name)


if __name__ == "__main__":
    run_tests()
