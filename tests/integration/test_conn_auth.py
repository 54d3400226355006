"""The credential a keep-alive connection presented is remembered (no hashing or lookups
when it comes again), and what ends it still takes effect at once on that open
connection: an API token revoked, a session revoked by an admin, a logout (on the same
connection and on another one holding the same session), a session's expiry, and a
reload that changes the user's brands. Every request of one scenario goes over one
http.client connection, checked to be the very same socket throughout."""

import calendar
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import time

from harness import (ADMIN_AUTH, DEADLINE, TPCD, Tpcd, check, demo_workdir, eq, run_tests,
                     test, wait_for)

DATA_A = "/v1/brands/a/aggregates/mau_users"


def hash_password(pw):
    r = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE)
    eq(r.returncode, 0, "tpcd --hash-password: " + r.stderr)
    return r.stdout.strip()


class Setup:
    """A user with brands [a, b], an API token for brand a, in a users file."""

    def __init__(self, work):
        self.work = work
        self.password = "pw-" + os.urandom(12).hex()
        self.token = "tpcdt_" + os.urandom(32).hex()
        self.hash = hash_password(self.password)
        self.users_file = os.path.join(work, "users.yaml")
        self.write_users("[a, b]")

    def write_users(self, brands):
        with open(self.users_file, "w") as f:
            f.write("users:\n  - name: ann\n    password_hash: \"%s\"\n    role: user\n"
                    "    brands: %s\n" % (self.hash, brands))
        os.chmod(self.users_file, 0o600)

    def auth_yaml(self, lifetime):
        sha = hashlib.sha256(self.token.encode()).hexdigest()
        return (ADMIN_AUTH + "    - name: dash\n      sha256: %s\n      brands: [a]\n" % sha +
                "  users_file: users.yaml\n  session_lifetime: %d\n" % lifetime)


def start(setup, lifetime=3600):
    return Tpcd(workdir=setup.work, auth=setup.auth_yaml(lifetime),
                extra="audit:\n  file: audit.log\n").start()


def login(t, password, user="ann"):
    r = t.post("/v1/login", body=json.dumps({"user": user, "password": password}),
               headers={"Content-Type": "application/json"}, token=None)
    eq(r.status, 200, "login (%r)" % r.body[:200])
    return r.json()


class Conn:
    """One keep-alive connection; fails the test if the server ever closed it."""

    def __init__(self, t):
        self.t = t
        self.c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
        self.sock = None

    def request(self, method, path, token):
        r = self.t.request(method, path, conn=self.c, token=token)
        if self.sock is None:
            self.sock = self.c.sock
        check(self.c.sock is not None and self.c.sock is self.sock,
              "the same keep-alive connection throughout")
        return r

    def get(self, path, token):
        return self.request("GET", path, token).status

    def close(self):
        self.c.close()


@test
def test_token_revoked_on_open_connection():
    work = demo_workdir()
    try:
        s = Setup(work)
        with start(s) as t:
            c = Conn(t)
            for _ in range(3):
                eq(c.get(DATA_A, s.token), 200, "the token reads brand a")
            eq(c.get("/v1/brands/b/aggregates/mau_users", s.token), 403,
               "the remembered principal keeps its brand scope")
            eq(t.post("/v1/tokens/dash/revoke").status, 200, "revoke (another connection)")
            eq(c.get(DATA_A, s.token), 401, "the next request on the open connection")
            eq(c.get(DATA_A, s.token), 401, "and the one after")
            c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_session_revoked_and_logged_out_on_open_connection():
    work = demo_workdir()
    try:
        s = Setup(work)
        with start(s) as t:
            # an admin ends the session while its connection is open
            sa = login(t, s.password)
            c = Conn(t)
            eq(c.get(DATA_A, sa["token"]), 200)
            eq(c.get(DATA_A, sa["token"]), 200)
            r = t.request("DELETE", "/v1/sessions/" + sa["session"][:8])
            eq(r.status, 200, "the admin revokes the session")
            eq(c.get(DATA_A, sa["token"]), 401, "revoked: refused on the open connection")
            c.close()
            # a logout on one connection ends the session on another open one too
            sb = login(t, s.password)
            c1, c2 = Conn(t), Conn(t)
            eq(c1.get(DATA_A, sb["token"]), 200)
            eq(c2.get(DATA_A, sb["token"]), 200)
            eq(c1.request("POST", "/v1/logout", sb["token"]).status, 200, "logout")
            eq(c1.get(DATA_A, sb["token"]), 401, "logged out: the same connection")
            eq(c2.get(DATA_A, sb["token"]), 401, "logged out: another open connection")
            # a credential that fails is not remembered: the good one after it still works
            sc = login(t, s.password)
            eq(c2.get(DATA_A, sc["token"]), 200, "a new session on the same connection")
            eq(c2.get(DATA_A, "tpcdt_" + "0" * 64), 401, "an unknown token")
            eq(c2.get(DATA_A, sc["token"]), 200, "the session again")
            c1.close()
            c2.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_session_expires_on_open_connection():
    work = demo_workdir()
    try:
        s = Setup(work)
        with start(s, lifetime=2) as t:
            sa = login(t, s.password)
            c = Conn(t)
            eq(c.get(DATA_A, sa["token"]), 200, "before expiry")
            expires = calendar.timegm(time.strptime(sa["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
            wait_for(lambda: time.time() >= expires + 1, "the session to expire")
            eq(c.get(DATA_A, sa["token"]), 401, "expired: refused on the open connection")
            c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_reload_changes_brands_on_open_connection():
    work = demo_workdir()
    try:
        s = Setup(work)
        with start(s) as t:
            sa = login(t, s.password)
            c = Conn(t)
            eq(c.get("/v1/brands/b/aggregates/mau_users", sa["token"]), 200, "brand b")
            s.write_users("[a]")
            done = t.read_log().count("reload: done")
            t.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: t.read_log().count("reload: done") > done, "the reload")
            eq(c.get("/v1/brands/b/aggregates/mau_users", sa["token"]), 403,
               "brand b taken away: refused on the open connection")
            eq(c.get(DATA_A, sa["token"]), 200, "brand a still readable")
            c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
