"""tpcctl's command-line conventions (issue 17): diff's exit status, one JSON document
per line for every verb, CSV with LF line ends, footers and progress on stderr, the token
file under $XDG_CONFIG_HOME, the help text, one version with tpcd, 401s in tpcctl's
words, login ending the previous session, refresh --wait progress, status showing the
pin and each aggregate's result, and health's UNKNOWN for what the check cannot judge.
Against the real daemon, except where a daemon's answer cannot be arranged (a refresh
that runs for seconds, a failing /v1/status): there a small fake API on the loopback."""

import http.server
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time

from harness import (ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, TPCCTL, TPCD, Tpcd, check, eq,
                     free_port, make_demo, run_tests, test, tpcctl_env, wait_for)

SMALL = (("c", "brand_c"),)		# one small brand: quick refreshes


def small_work():
    work = tempfile.mkdtemp(prefix="tpcd-ctl-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    return work


def ctl(url, *args, env=None, stdin=None):
    return subprocess.run([TPCCTL, "-s", url] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=DEADLINE,
                          env=env if env is not None else tpcctl_env())


def bump_source(work, rowid):
    """Changes one order line of brand c, so that the next refresh publishes."""
    db = sqlite3.connect(os.path.join(work, "source", "brand_c.db"))
    db.execute("UPDATE order_lines SET qty = qty + 1 WHERE rowid = ?", (rowid,))
    db.commit()
    db.close()


def differs(entry):
    return (entry["added"] + entry["removed"] + entry["changed"] > 0 or
            entry["columns_added"] or entry["columns_removed"] or
            entry["in_from"] != entry["in_to"])


@test
def test_diff_exit_status():
    """0 when the colours hold the same data, 1 when they differ, 2 on trouble."""
    work = small_work()
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        out = ctl(url, "diff")
        eq(out.returncode, 2, "one snapshot only: trouble (%s)" % out.stderr)
        check("both colours" in out.stderr, out.stderr)
        bump_source(work, 1)
        t.refresh_and_wait()
        out = ctl(url, "-o", "json", "diff", "c")
        d = json.loads(out.stdout)
        same = [e["aggregate"] for e in d["aggregates"] if not differs(e)]
        changed = [e["aggregate"] for e in d["aggregates"] if differs(e)]
        check(same and changed, "some aggregates change with an order line, some not: %s"
              % out.stdout)
        eq(out.returncode, 1, "the brand as a whole differs")
        for fmt in ("table", "csv", "json"):
            eq(ctl(url, "-o", fmt, "diff", "c", changed[0]).returncode, 1,
               "%s differs (-o %s)" % (changed[0], fmt))
            eq(ctl(url, "-o", fmt, "diff", "c", same[0]).returncode, 0,
               "%s is the same (-o %s)" % (same[0], fmt))
        out = ctl(url, "diff", "c", "no_such_aggregate")
        eq(out.returncode, 2, "an unknown aggregate is trouble")
        eq(ctl(url, "diff", "c", "x", "y").returncode, 2, "a usage error is trouble")
    out = ctl(url, "diff")
    eq(out.returncode, 2, "tpcd unreachable is trouble, not 3: " + out.stderr)


@test
def test_json_is_one_line_for_every_verb():
    work = small_work()
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        bump_source(work, 2)
        t.refresh_and_wait()
        nobody = {k: v for k, v in tpcctl_env().items() if k != "TPCD_TOKEN"}
        nobody["HOME"] = work
        nobody.pop("XDG_CONFIG_HOME", None)
        for args, env in ((["status"], None), (["brands"], None), (["aggregates", "c"], None),
                          (["snapshots"], None), (["get", "c", "mau_users"], None),
                          (["health"], None), (["pin"], None), (["unpin"], None),
                          (["refresh"], None), (["refresh", "--wait"], None),
                          (["diff", "c", "mau_users"], None), (["logout"], nobody)):
            out = ctl(url, "-o", "json", *args, env=env)
            check(out.returncode in (0, 1), "%s: %s" % (args, out.stderr))
            eq(out.stdout.count("\n"), 1, "%s: one line, %r" % (args, out.stdout[:200]))
            check(isinstance(json.loads(out.stdout), dict), "%s: a JSON object" % args)


@test
def test_csv_has_lf_line_ends_and_footers_go_to_stderr():
    with Tpcd(workdir=small_work(), brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        def csv(*args):		# bytes: text mode would turn CRLF into LF itself
            out = subprocess.run([TPCCTL, "-s", url, "-o", "csv"] + list(args),
                                 capture_output=True, timeout=DEADLINE, env=tpcctl_env())
            eq(out.returncode, 0, out.stderr)
            eq(out.stderr, b"", "nothing on stderr, no footer")
            check(out.stdout and b"\r" not in out.stdout, "no CR: %r" % out.stdout[:100])
            return out.stdout
        server = t.get("/v1/brands/c/aggregates/mau_users?format=csv").body
        eq(csv("get", "c", "mau_users"), server.replace(b"\r\n", b"\n"),
           "the server's CSV with LF line ends")
        for args in (("status",), ("brands",), ("aggregates", "c"), ("snapshots",)):
            csv(*args)
        # the table: header, rule, one line per row on stdout; the footer on stderr
        body = t.get_json("/v1/brands/c/aggregates/mau_users")
        out = ctl(url, "get", "c", "mau_users")
        eq(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        eq(len(lines), 2 + len(body["rows"]), "only the table on stdout: %r" % lines[-1])
        check(not any(l.startswith("(") for l in lines), "no footer on stdout")
        eq(out.stderr, "(%d rows, generation %d, refreshed %s)\n" % (
            len(body["rows"]), body["generation"], body["refreshed_at"]), "the footer")


def write_users(work):
    """A users file with one admin and its password (tpcd --hash-password)."""
    pw = "pw-" + os.urandom(12).hex()
    r = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE)
    eq(r.returncode, 0, r.stderr)
    with open(os.path.join(work, "users.yaml"), "w") as f:
        f.write('users:\n  - name: ops\n    password_hash: "%s"\n    role: admin\n' %
                r.stdout.strip())
    os.chmod(os.path.join(work, "users.yaml"), 0o600)
    return pw


def login_env(home, xdg=None):
    env = {k: v for k, v in os.environ.items() if k not in ("TPCD_TOKEN", "XDG_CONFIG_HOME")}
    env["HOME"] = home
    if xdg is not None:
        env["XDG_CONFIG_HOME"] = xdg
    return env


@test
def test_token_file_follows_xdg_and_login_ends_the_previous_session():
    work = small_work()
    pw = write_users(work)
    home = os.path.join(work, "home")
    os.mkdir(home)
    with Tpcd(workdir=work, brands=SMALL,
              auth=ADMIN_AUTH + "  users_file: users.yaml\n").start() as t:
        url = "http://127.0.0.1:%d" % t.port
        # $XDG_CONFIG_HOME/tpcd/token, made with mode 0700/0600
        xdg = os.path.join(work, "xdg")
        env = login_env(home, xdg)
        out = ctl(url, "login", "ops", env=env, stdin=pw + "\n")
        eq(out.returncode, 0, out.stderr)
        path = os.path.join(xdg, "tpcd", "token")
        eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "token file mode")
        eq(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700, "its directory")
        check(not os.path.exists(os.path.join(home, ".config")), "nothing under ~/.config")
        first = open(path).read().strip()
        eq(ctl(url, "status", env=env).returncode, 0, "the kept token works")
        # logging in again ends the first session: its token is refused from then on
        out = ctl(url, "-o", "json", "login", "ops", env=env, stdin=pw + "\n")
        eq(out.returncode, 0, out.stderr)
        eq(json.loads(out.stdout)["previous_session_ended"], True, out.stdout)
        second = open(path).read().strip()
        check(second != first, "a new token")
        eq(t.get("/v1/status", token=first).status, 401, "the first session is over")
        eq(t.get("/v1/status", token=second).status, 200, "the second one lives")
        # a wrong password leaves the session in use alone
        out = ctl(url, "login", "ops", env=env, stdin="wrong\n")
        eq(out.returncode, 1, "a wrong password")
        eq(open(path).read().strip(), second, "the kept token stays")
        eq(t.get("/v1/status", token=second).status, 200, "and its session lives")
        out = ctl(url, "logout", env=env)
        eq(out.returncode, 0, out.stderr)
        check(not os.path.exists(path), "logout removes the token")
        eq(t.get("/v1/status", token=second).status, 401, "logged out")
        # without XDG_CONFIG_HOME, or with a relative one (invalid): ~/.config/tpcd/token
        for env in (login_env(home), login_env(home, "relative/dir")):
            out = ctl(url, "login", "ops", env=env, stdin=pw + "\n")
            eq(out.returncode, 0, out.stderr)
            path = os.path.join(home, ".config", "tpcd", "token")
            check(os.path.exists(path), "token under ~/.config/tpcd")
            eq(ctl(url, "status", env=env).returncode, 0)
            eq(ctl(url, "logout", env=env).returncode, 0)
            check(not os.path.exists(path), "removed again")
        check(not os.path.exists(os.path.join(work, "relative")), "no relative directory")
    shutil.rmtree(work, ignore_errors=True)


@test
def test_401_speaks_of_tpcctl_login_and_the_token_refused():
    work = small_work()
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        out = ctl(url, "status", env=login_env(work))
        eq(out.returncode, 1)
        check("tpcctl login" in out.stderr and "POST /v1/login" not in out.stderr,
              out.stderr)
        out = ctl(url, "status", env=tpcctl_env(token="tpcdt_" + "0" * 64))
        eq(out.returncode, 1)
        check("$TPCD_TOKEN" in out.stderr and "not valid" in out.stderr, out.stderr)
        tf = os.path.join(work, "tok")
        with open(tf, "w") as f:
            f.write("tpcdt_" + "1" * 64 + "\n")
        out = ctl(url, "--token-file", tf, "status", env=login_env(work))
        eq(out.returncode, 1)
        check(tf in out.stderr and "not valid" in out.stderr, out.stderr)
        out = ctl(url, "status")
        eq(out.returncode, 0, "the harness token still works: " + out.stderr)


@test
def test_help_and_version():
    out = subprocess.run([TPCCTL, "--help"], capture_output=True, text=True,
                         timeout=DEADLINE)
    eq(out.returncode, 0)
    check("default $TPCD_TOKEN" not in out.stdout, "$TPCD_TOKEN is not a file's default")
    check("$XDG_CONFIG_HOME/tpcd/token" in out.stdout and "~/.config/tpcd/token"
          in out.stdout, "the token file is named")
    check("tpcctl/token" not in out.stdout, "not the old place")
    d = subprocess.run([TPCD, "--version"], capture_output=True, text=True,
                       timeout=DEADLINE)
    eq(d.returncode, 0)
    check(d.stdout.startswith("tpcd "), d.stdout)
    version = d.stdout.split()[1]
    for flag in ("-V", "--version"):
        out = subprocess.run([TPCCTL, flag], capture_output=True, text=True,
                             timeout=DEADLINE)
        eq((out.returncode, out.stdout), (0, "tpcctl %s\n" % version), flag)
    for verb, words in (("diff", "0 the colours hold the same data, 1 they differ"),
                        ("health", "the daemon unreachable"),
                        ("get", "LF line ends")):
        out = subprocess.run([TPCCTL, "help", verb], capture_output=True, text=True,
                             timeout=DEADLINE)
        eq(out.returncode, 0)
        check(" ".join(words.split()) in " ".join(out.stdout.split()),
              "help %s: %r" % (verb, out.stdout))


@test
def test_status_shows_the_pin_and_each_result():
    with Tpcd(workdir=small_work(), brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        out = ctl(url, "status")
        eq(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        check("pinned        no" in lines, out.stdout)
        head = lines.index(next(l for l in lines if l.startswith("brand ")))
        cols = lines[head].split()
        eq(cols, ["brand", "aggregate", "rows", "generation", "result", "data_time",
                  "staleness_s", "error"])
        rows = [l.split() for l in lines[head + 2:]]
        eq(len(rows), len(t.status()["aggregates"]))
        check(all(r[4] == "ok" for r in rows), "every result ok: %s" % out.stdout)
        eq(ctl(url, "pin").returncode, 0)
        out = ctl(url, "status")
        check(any(l.startswith("pinned        yes") for l in out.stdout.splitlines()),
              out.stdout)
        eq(ctl(url, "unpin").returncode, 0)
        out = ctl(url, "-o", "csv", "status")
        eq(out.stdout.splitlines()[0],
           "brand,aggregate,rows,generation,result,data_time,staleness_s,error")
        check(all(l.split(",")[4] == "ok" for l in out.stdout.splitlines()[1:]),
              out.stdout)


class FakeApi:
    """A loopback HTTP server answering from self.routes: path -> (status, JSON body);
    a callable value is called for each request. Only what a test needs."""

    def __init__(self, routes):
        self.routes = routes
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                route = api.routes.get(self.path.split("?")[0])
                if callable(route):
                    route = route()
                status, body = route or (404, {"error": {"message": "no such route"}})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fake_status(refreshes, refreshing):
    return {"refreshing": refreshing, "pinned": False, "refreshes": refreshes,
            "generation": 7, "active": "blue",
            "last_refresh": {"result": "ok", "published": True, "duration_ms": 5000}}


@test
def test_refresh_wait_reports_progress_on_stderr():
    done = threading.Event()
    api = FakeApi({
        "/v1/refresh": (202, {"accepted": True, "already_running": False,
                              "refresh_id": 1}),
        # the refresh runs until the test has seen tpcctl report on it twice
        "/v1/status": lambda: (200, fake_status(1, False) if done.is_set()
                               else fake_status(0, True)),
    })
    try:
        p = subprocess.Popen([TPCCTL, "-s", api.url, "refresh", "--wait", "--timeout",
                              str(int(DEADLINE))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=tpcctl_env())
        lines = []
        deadline = time.monotonic() + DEADLINE
        while len([l for l in lines if "still waiting" in l]) < 2:
            check(time.monotonic() < deadline, "progress lines: %r" % lines)
            line = p.stderr.readline()
            check(line, "stderr ended early: %r" % lines)
            lines.append(line)
        done.set()
        out, err = p.communicate(timeout=DEADLINE)
        eq(p.returncode, 0, err)
        check(lines[0].startswith("tpcctl: waiting for the refresh"), lines[0])
        check("running" in lines[1], lines[1])
        eq(out, "refresh ok in 5000 ms, published generation 7\n", "the result on stdout")
    finally:
        api.close()


@test
def test_health_unknown_when_it_cannot_ask():
    work = small_work()
    with Tpcd(workdir=work, brands=SMALL).start() as t:
        url = "http://127.0.0.1:%d" % t.port
        out = ctl(url, "health")
        eq(out.returncode, 0, out.stdout)
        for env, what in ((login_env(work), "no credential"),
                          (tpcctl_env(token="tpcdt_" + "2" * 64), "a refused token")):
            out = ctl(url, "health", env=env)
            eq(out.returncode, 3, "%s: %s" % (what, out.stdout))
            check(out.stdout.startswith("UNKNOWN - /v1/status: 401"), out.stdout)
        out = ctl(url, "--token-file", os.path.join(work, "none"), "health")
        eq(out.returncode, 3, "an unreadable token file: " + out.stdout)
    out = ctl(url, "health")
    eq(out.returncode, 3, "tpcd unreachable: " + out.stdout)
    check(out.stdout.startswith("UNKNOWN - cannot reach"), out.stdout)
    out = ctl(url, "-o", "json", "health")
    eq((out.returncode, json.loads(out.stdout)["status"]), (3, "UNKNOWN"), out.stdout)
    # what the daemon says about itself stays CRITICAL
    api = FakeApi({"/healthz": (503, {"status": "unavailable",
                                      "message": "no snapshot published yet"})})
    try:
        out = ctl(api.url, "health")
        eq(out.returncode, 2, out.stdout)
        check(out.stdout.startswith("CRITICAL - /healthz 503"), out.stdout)
        api.routes["/healthz"] = (200, {"status": "ok"})
        api.routes["/v1/status"] = (500, {"error": {"code": "internal",
                                                    "message": "store unreadable"}})
        out = ctl(api.url, "health")
        eq(out.returncode, 2, out.stdout)
        check(out.stdout.startswith("CRITICAL - /v1/status: 500"), out.stdout)
    finally:
        api.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
