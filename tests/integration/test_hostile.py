#!/usr/bin/env python3
"""Hostile logins and hostile files (issue 16): failures from many addresses never lock a
user out, the attacking address is slowed (429 + Retry-After), a known address and a
valid session keep working, the throttle survives SIGHUP; users files, inline secrets and
the store are refused when others may read or change them; a user name cut inside a
UTF-8 character keeps its audit line. Client addresses are simulated on loopback with
X-Forwarded-For from a trusted 127.0.0.1."""

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_AUTH, DEADLINE, TPCD, Tpcd, check, demo_workdir, eq, run_tests,
                     test, wait_for)

PASSWORD = "pw-" + os.urandom(12).hex()


def hash_password(pw):
    r = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE)
    eq(r.returncode, 0, "tpcd --hash-password: " + r.stderr)
    return r.stdout.strip()


def write_users(path, mode=0o600):
    with open(path, "w") as f:
        f.write("users:\n  - name: admin\n    password_hash: \"%s\"\n    role: admin\n"
                "  - name: bob\n    password_hash: \"%s\"\n    brands: [a]\n" %
                (hash_password(PASSWORD), hash_password(PASSWORD)))
    os.chmod(path, mode)


def daemon(work):
    write_users(os.path.join(work, "users.yaml"))
    return Tpcd(workdir=work, auth=ADMIN_AUTH + "  users_file: users.yaml\n"
                "  trusted_proxies: [127.0.0.1]\n",
                extra="audit:\n  file: audit.log\n")


def login(t, user, password, addr):
    return t.post("/v1/login", body=json.dumps({"user": user, "password": password}),
                  headers={"Content-Type": "application/json", "X-Forwarded-For": addr},
                  token=None)


def slow_down(t, users, addr, seconds):
    """Fails logins from addr (user after user from the iterator users) until the door
    stays closed for at least seconds: polls, never sleeps; a closed door counts nothing."""
    def closed():
        r = login(t, next(users), "wrong", addr)
        return r if r.status == 429 and int(r.header("Retry-After")) >= seconds else None
    return wait_for(closed, "%s slowed for %d s" % (addr, seconds))


def audit(t):
    with open(os.path.join(t.workdir, "audit.log")) as f:
        return [json.loads(l) for l in f]


@test
def test_no_lockout_from_many_addresses():
    """Issue 16's scenario: 20 wrong passwords for admin from 20 addresses."""
    with daemon(demo_workdir()) as t:
        t.start()
        r = login(t, "admin", PASSWORD, "192.0.2.7")	# the admin's usual address
        eq(r.status, 200, "admin logs in from 192.0.2.7")
        session = r.json()["token"]
        for i in range(20):
            eq(login(t, "admin", "wrong", "10.20.0.%d" % (i + 1)).status, 401, "failure %d" % i)
        eq(login(t, "admin", PASSWORD, "10.30.0.1").status, 200,
           "the right password from a fresh address after 20 spread failures")
        # the attacker's own address is slowed: 429 with Retry-After, even for the
        # right password
        slow_down(t, itertools.repeat("admin"), "10.20.0.1", 4)
        r = login(t, "admin", PASSWORD, "10.20.0.1")
        eq(r.status, 429, "the attacking address is slowed")
        check(int(r.header("Retry-After")) >= 1, "Retry-After %r" % r.header("Retry-After"))
        # strangers sharing the admin's address (one user each: only the address rule
        # counts) close it for strangers, not for the admin
        slow_down(t, ("x%d" % i for i in itertools.count()), "192.0.2.7", 4)
        eq(login(t, "bob", PASSWORD, "192.0.2.7").status, 429, "a stranger at the address")
        eq(login(t, "admin", PASSWORD, "192.0.2.7").status, 200, "the admin's known address")
        # a valid session is never throttled
        eq(t.get("/v1/me", token=session).status, 200, "the admin's session still works")
        lines = audit(t)
        check(any(l["event"] == "login_failed" and l.get("reason") == "throttled" and
                  l["addr"] == "10.20.0.1" for l in lines), "throttling audited")


@test
def test_throttle_survives_reload():
    with daemon(demo_workdir()) as t:
        t.start()
        # a door of at least 6 s for (admin, 10.40.0.1): longer than a reload takes
        slow_down(t, itertools.repeat("admin"), "10.40.0.1", 6)
        eq(login(t, "admin", PASSWORD, "10.40.0.1").status, 429)
        done = t.read_log().count("reload: done")
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: t.read_log().count("reload: done") > done, "the reload")
        r = login(t, "admin", PASSWORD, "10.40.0.1")
        eq(r.status, 429, "SIGHUP forgives nobody")
        check(int(r.header("Retry-After")) >= 1)
        # a reload that makes the inline tokens world-readable is refused
        os.chmod(t.config, 0o644)
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in t.read_log(), "the refused reload")
        check(re.search(r"reload refused.*%s:\d+: inline tokens: .*permissions 644" %
                        re.escape(t.config), t.read_log()), t.read_log()[-600:])
        eq(t.get("/healthz").status, 200, "the old configuration keeps serving")


def check_config(path):
    r = subprocess.run([TPCD, "-t", "-c", path], capture_output=True, text=True,
                       timeout=DEADLINE)
    return r.returncode, r.stdout + r.stderr


@test
def test_file_modes_and_owners():
    work = demo_workdir()
    try:
        t = Tpcd(workdir=work, auth=ADMIN_AUTH + "  users_file: users.yaml\n")
        t.port = 1
        t.write_config()
        users = os.path.join(work, "users.yaml")
        write_users(users)
        rc, out = check_config(t.config)
        eq(rc, 0, "a private users file: " + out)
        os.chmod(users, 0o644)
        rc, out = check_config(t.config)
        check(rc != 0 and re.search(r"%s:\d+: 'users_file': .*permissions 644" %
                                    re.escape(t.config), out), out)
        os.chmod(users, 0o600)
        if os.geteuid() == 0:
            os.chown(users, 65534, 65534)
            rc, out = check_config(t.config)
            check(rc != 0 and "owned by uid 65534" in out, out)
            os.chown(users, 0, 0)
        # inline tokens in a world-readable configuration
        os.chmod(t.config, 0o644)
        rc, out = check_config(t.config)
        check(rc != 0 and re.search(r"%s:\d+: inline tokens: .*permissions 644" %
                                    re.escape(t.config), out), out)
        os.chmod(t.config, 0o600)
        # a store others may write
        store = os.path.join(work, "store")
        os.makedirs(store, exist_ok=True)
        os.chmod(store, 0o777)
        rc, out = check_config(t.config)
        check(rc != 0 and re.search(r"%s:\d+: 'state_dir': .*permissions 777 let others "
                                    r"change the store" % re.escape(t.config), out), out)
        os.chmod(store, 0o700)
        rc, out = check_config(t.config)
        eq(rc, 0, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_utf8_cut_user_audited():
    with daemon(demo_workdir()) as t:
        t.start()
        name = "a" * 63 + "\u00e9"		# 65 bytes: the 64-byte cut falls inside é
        r = login(t, name, "x", "10.50.0.1")
        eq(r.status, 400, "a name longer than 64 bytes")
        lines = [l for l in audit(t) if l["event"] == "login_failed"]
        check(any(l["user"] == "a" * 63 and l["reason"] == "malformed" for l in lines),
              "the login line, its user cut before the character: %r" % lines)
        name = "\u00e9" * 40			# 80 bytes, cut at a character boundary
        eq(login(t, name, "x", "10.50.0.2").status, 400)
        lines = [l for l in audit(t) if l["event"] == "login_failed"]
        check(any(l["user"] == "\u00e9" * 32 for l in lines), "cut to 32 characters")


if __name__ == "__main__":
    run_tests()
