#!/usr/bin/env python3
"""Issue 11, the store and thread side: the serving loop never waits. A large aggregate
refreshes while users log in and others poll: every poll is answered and no LMDB write
transaction is begun on a serving thread (the sanitizer builds abort the daemon if one
is; /metrics counts them). A cycle that changes nothing opens no write transaction. The
per-user session cap. LMDB at its limits: MAP_FULL during a publish (the live snapshot
keeps serving, /v1/status and /metrics say why), READERS_FULL (503 + Retry-After), a peer
process growing the map (tpcd remaps and goes on). Timing is the bench's, not this file's.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, ROOT, TPCD, Tpcd, check,  # noqa: E402
                     eq, run_tests, test, wait_for)

ROWS = int(os.environ.get("TPCD_BIG_ROWS", "200000"))
TSAN = os.environ.get("TPCD_TSAN") == "1"
if TSAN:
    ROWS = min(ROWS, 50000)		# ThreadSanitizer is ~10x slower; the rule is the same

# One brand; "big" has as many rows as the source's cfg table says (and a column that
# changes every pull when cfg.vary is 1, so each refresh publishes), "small" a few.
BIG_SQL = """\
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
                        WHERE x < (SELECT n FROM cfg))
SELECT x AS id, 'row ' || x AS label,
       CASE WHEN (SELECT vary FROM cfg) = 1 THEN abs(random()) % 1000 ELSE x % 7 END
         AS value
FROM c ORDER BY id
"""
SMALL_SQL = "SELECT x AS id, 'row ' || x AS label, x * 1.5 AS value FROM " \
    "(SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY id\n"
COLS = """    columns:
      - {name: id, type: int64, role: dimension, unit: none, title_en: Id, title_ko: Id}
      - {name: label, type: string, role: dimension, unit: none, title_en: L, title_ko: L}
      - {name: value, type: double, role: measure, unit: none, title_en: V, title_ko: V}
"""


def workdir(rows, vary):
    d = tempfile.mkdtemp(prefix="tpcd-never-waits-")
    for name, sql in (("big", BIG_SQL), ("small", SMALL_SQL)):
        with open(os.path.join(d, name + ".sql"), "w") as f:
            f.write(sql)
    with open(os.path.join(d, "catalog.yaml"), "w") as f:
        f.write("aggregates:\n")
        for name in ("big", "small"):
            f.write("  - name: %s\n    relation: %s\n    title_en: %s\n    title_ko: %s\n"
                    "    description: test\n    refresh: 3600\n    target_lag: 1 hour\n"
                    "    sqlite: %s.sql\n    snowflake: %s.sql\n" %
                    (name, name.upper(), name, name, name, name) + COLS)
    os.makedirs(os.path.join(d, "source"))
    set_rows(d, rows, vary)
    return d


def set_rows(d, rows, vary):
    db = sqlite3.connect(os.path.join(d, "source", "brand_a.db"))
    db.execute("CREATE TABLE IF NOT EXISTS cfg (n INTEGER, vary INTEGER)")
    db.execute("DELETE FROM cfg")
    db.execute("INSERT INTO cfg VALUES (?, ?)", (rows, vary))
    db.commit()
    db.close()


def users_auth(d, users):
    """auth: the harness admin token plus users (name -> password) in a users file."""
    lines = ["users:"]
    for u, pw in users.items():
        h = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                           text=True, check=True).stdout.strip()
        lines += ["  - name: %s" % u, "    password_hash: \"%s\"" % h, "    role: user",
                  "    brands: [a]"]
    path = os.path.join(d, "users.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return ADMIN_AUTH + "  users_file: users.yaml\n"


def start(d, auth=ADMIN_AUTH, extra="", threads=1, wait_healthy=True):
    t = Tpcd(workdir=d, source_dir=os.path.join(d, "source"), brands=(("a", "brand_a"),),
             threads=threads, extra=extra, auth=auth, catalog=os.path.join(d, "catalog.yaml"))
    return t.start(wait_healthy=wait_healthy)


def metric(t, name, labels=""):
    body = t.get("/metrics").body.decode()
    m = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    check(m is not None, "metric %s%s in /metrics" % (name, labels))
    return int(m.group(1))


def login(t, user, pw):
    return t.post("/v1/login", body=json.dumps({"user": user, "password": pw}),
                  headers={"Content-Type": "application/json"}, token=None)


@test
def polls_answered_while_refreshing_and_logging_in():
    """Acceptance 1: a large refresh, logins and polls at once; every poll answered and
    no write transaction on a serving thread (structural: the check build aborts, and
    /metrics counts)."""
    d = workdir(ROWS, 1)
    pw = "pw-" + os.urandom(8).hex()
    with start(d, auth=users_auth(d, {"alice": pw})) as t:
        runs0 = t.status()["refreshes"]
        stop = threading.Event()
        polls, logins, errors = [0], [0], []

        def poll():
            while not stop.is_set():
                for path in ("/healthz", "/v1/brands/a/aggregates/small"):
                    r = t.get(path)
                    if r.status != 200:
                        errors.append("%s: %d %r" % (path, r.status, r.body[:200]))
                    polls[0] += 1

        def logins_loop():
            while not stop.is_set():
                r = login(t, "alice", pw)
                if r.status != 200:
                    errors.append("login: %d %r" % (r.status, r.body[:200]))
                logins[0] += 1

        workers = [threading.Thread(target=poll), threading.Thread(target=poll),
                   threading.Thread(target=logins_loop)]
        for w in workers:
            w.start()
        try:
            # two full refreshes of the big aggregate, each publishing (cfg.vary = 1)
            for _ in range(2):
                t.refresh_and_wait()
        finally:
            stop.set()
            for w in workers:
                w.join()
        eq(errors, [], "every poll and login answered 200")
        st = t.status()
        check(st["refreshes"] >= runs0 + 2, "two refreshes ran")
        eq(st["last_refresh"]["result"], "ok", "the last refresh")
        check(st["last_refresh"]["published"], "the last refresh published")
        check(polls[0] > 0 and logins[0] > 0, "polls %d, logins %d" % (polls[0], logins[0]))
        eq(metric(t, "tpcd_store_write_txns_total", '{thread="serving"}'), 0,
           "write transactions begun on a serving thread")
        check(metric(t, "tpcd_store_write_txns_total", '{thread="background"}') > 0,
              "writes happened, off the serving threads")
        big = [a for a in st["aggregates"] if a["aggregate"] == "big"][0]
        eq(big["rows"], ROWS, "rows of the big aggregate")
        check(t.proc.poll() is None, "the daemon is alive (no thread-check abort)")


@test
def reload_while_serving_and_refreshing():
    """SIGHUP while logins, polls and a refresh run: the runtime switch, the log level set
    again, the old refresh thread stopped; every poll answered (make tsan runs this)."""
    d = workdir(min(ROWS, 50000), 1)
    pw = "pw-" + os.urandom(8).hex()
    with start(d, auth=users_auth(d, {"carol": pw}), threads=2) as t:
        stop = threading.Event()
        errors = []

        def load():
            while not stop.is_set():
                for r in (t.get("/healthz"), t.get("/v1/brands/a/aggregates/small"),
                          login(t, "carol", pw)):
                    if r.status != 200:
                        errors.append(r.status)
        workers = [threading.Thread(target=load) for _ in range(2)]
        for w in workers:
            w.start()
        try:
            for i in range(2):
                eq(t.post("/v1/refresh").status, 202, "refresh")
                t.refresh_interval = 3600 + i + 1	# a valid change: a new runtime
                t.write_config()
                t.proc.send_signal(signal.SIGHUP)
                wait_for(lambda: t.read_log().count("reload: done") >= i + 1,
                         "reload %d" % (i + 1))
            t.refresh_and_wait()
        finally:
            stop.set()
            for w in workers:
                w.join()
        eq(errors, [], "every request answered 200 across the reloads")
        eq(metric(t, "tpcd_store_write_txns_total", '{thread="serving"}'), 0,
           "write transactions begun on a serving thread")


@test
def unchanged_cycle_opens_no_write_transaction():
    """A refresh that changes nothing publishes nothing and begins no write txn."""
    d = workdir(1000, 0)
    with start(d, extra="refresh_lease_ttl: 600\n") as t:
        before = metric(t, "tpcd_store_write_txns_total", '{thread="background"}')
        st = t.refresh_and_wait()
        eq(st["last_refresh"]["result"], "ok", "the refresh")
        eq(st["last_refresh"]["published"], False, "nothing changed: nothing published")
        eq(metric(t, "tpcd_store_write_txns_total", '{thread="background"}'), before,
           "write transactions during an unchanged cycle")


@test
def session_cap_evicts_the_oldest():
    """auth.max_sessions: a login beyond the cap ends the user's oldest session, audited."""
    d = workdir(10, 0)
    pw = "pw-" + os.urandom(8).hex()
    auth = users_auth(d, {"bob": pw}) + "  max_sessions: 3\n"
    with start(d, auth=auth) as t:
        r = login(t, "bob", pw)
        eq(r.status, 200, "first login")
        first = r.json()
        # the next logins are created at least one second later: "oldest" is unambiguous
        t0 = int(time.time())
        wait_for(lambda: int(time.time()) > t0, "the clock to tick")
        later = []
        for _ in range(3):
            r = login(t, "bob", pw)
            eq(r.status, 200, "login")
            later.append(r.json())
        eq(t.get("/v1/brands", token=first["token"]).status, 401, "the oldest session ended")
        for s in later:
            eq(t.get("/v1/brands", token=s["token"]).status, 200, "a newer session lives")
        mine = [s for s in t.get_json("/v1/sessions")["sessions"] if s["user"] == "bob"]
        eq(len(mine), 3, "live sessions of bob")
        pat = r'"event":\s*"session_evicted".*"session":\s*"%s"' % first["session"]
        wait_for(lambda: re.search(pat, open(os.path.join(d, "store", "audit.log")).read()),
                 "the eviction in the audit log")


@test
def map_full_keeps_the_live_snapshot():
    """MAP_FULL during a publish: the candidate is dropped, the old snapshot served,
    /v1/status and /metrics say why."""
    d = workdir(100, 0)
    with start(d, extra="store:\n  map_size_mb: 1\n") as t:
        old = t.get("/v1/brands/a/aggregates/big")
        eq(old.status, 200, "the first snapshot")
        set_rows(d, 60000, 0)		# several MB: more than the whole map
        st = t.refresh_and_wait()
        eq(st["last_refresh"]["published"], False, "nothing published")
        check("MDB_MAP_FULL" in (st["last_refresh"]["error"] or ""),
              "the error says why: %r" % st["last_refresh"]["error"])
        check(metric(t, "tpcd_store_map_full_total") >= 1, "/metrics counts it")
        now = t.get("/v1/brands/a/aggregates/big")
        eq(now.status, 200, "still served")
        eq(now.body, old.body, "the old snapshot, byte for byte")
        eq(t.get("/healthz").status, 200, "healthy")


def peer_binary():
    out = os.path.join(tempfile.gettempdir(), "tpcd-lmdb-peer-%d" % os.getpid())
    subprocess.run(["cc", "-o", out, os.path.join(ROOT, "tests", "integration",
                                                  "lmdb_peer.c"), "-llmdb"], check=True)
    return out


def slow_get(t, path):
    """A GET from a client that reads only the head: the body (large) stays in flight,
    and with it the read view behind it. Returns (socket, status, headers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)	# a tiny window
    s.settimeout(DEADLINE)
    s.connect(("127.0.0.1", t.port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" %
               (path, ADMIN_TOKEN)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        check(chunk, "a response head")
        head += chunk
    lines = head.decode().split("\r\n")
    hdrs = dict(x.split(": ", 1) for x in lines[1:] if ": " in x)
    return s, int(lines[0].split()[1]), hdrs


@test
def readers_full_is_503_with_retry_after():
    """MDB_READERS_FULL: another process holds every free reader slot and slow clients
    hold tpcd's pooled views; a request that needs a new one gets 503 + Retry-After (no
    crash), and all is well once the slots are free."""
    d = workdir(150000, 0)	# ~6 MB of JSON: more than loopback buffers take at once
    peer = peer_binary()
    try:
        with start(d, extra="store:\n  max_readers: 16\n", threads=2) as t:
            hold = subprocess.Popen([peer, "hold", os.path.join(d, "store"), "64"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            socks = []
            try:
                line = hold.stdout.readline()
                check(line.startswith("held "), "the peer holds the free slots: %r" % line)
                answers = []
                for _ in range(8):		# more bodies in flight than views pooled
                    s, status, hdrs = slow_get(t, "/v1/brands/a/aggregates/big")
                    socks.append(s)
                    answers.append((status, hdrs))
                eq(sorted(set(a[0] for a in answers) - {200, 503}), [], "200 or 503 only")
                refused = [h for st, h in answers if st == 503]
                check(refused, "a request that needed a new reader slot was refused: %r" %
                      [a[0] for a in answers])
                for h in refused:
                    eq(h.get("Retry-After"), "1", "Retry-After on the 503")
                check(metric(t, "tpcd_store_readers_full_total") >= len(refused),
                      "/metrics counts the refusals")
            finally:
                for s in socks:
                    s.close()
                hold.stdin.close()
                hold.wait(timeout=30)
            wait_for(lambda: t.get("/v1/brands/a/aggregates/small").status == 200,
                     "service once the slots are free")
            check(t.proc.poll() is None, "no crash")
    finally:
        os.unlink(peer)


@test
def peer_growing_the_map_is_remapped():
    """MDB_MAP_RESIZED: another process grows the map past ours; tpcd remaps and keeps
    serving and publishing."""
    d = workdir(100, 1)
    peer = peer_binary()
    try:
        with start(d, extra="store:\n  map_size_mb: 4\n", threads=2) as t:
            eq(t.get("/v1/brands/a/aggregates/big").status, 200, "served")
            r = subprocess.run([peer, "grow", os.path.join(d, "store"), "64", str(16 << 20)],
                               capture_output=True, text=True)
            eq(r.returncode, 0, "the peer grew the map: " + r.stderr)
            statuses = []

            def served():
                x = t.get("/v1/brands/a/aggregates/big")
                statuses.append(x)
                return x.status == 200
            wait_for(served, "service after the peer grew the map")
            for x in statuses:
                check(x.status == 200 or (x.status == 503 and x.header("Retry-After")),
                      "200, or 503 with Retry-After: %d" % x.status)
            check(metric(t, "tpcd_store_map_resized_total") >= 1, "the remap is counted")
            st = t.refresh_and_wait()
            eq(st["last_refresh"]["result"], "ok", "a refresh after the remap")
            check(st["last_refresh"]["published"], "it published")
            eq(t.get("/healthz").status, 200, "healthy")
    finally:
        os.unlink(peer)


if __name__ == "__main__":
    run_tests()
