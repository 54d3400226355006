"""CORS and the session cookie's same-origin rule (http_cors.c): a listed origin gets the
CORS headers and reads with credentials, an unlisted one gets none; preflights are
answered before authentication; a state-changing request authenticated by the cookie
from a foreign origin, without an Origin, or as text/plain is refused (403) and audited;
a login from a foreign origin never sets a cookie; bearer tokens are not affected."""

import json
import os
import subprocess

from harness import (ADMIN_AUTH, DEADLINE, TPCD, Tpcd, check, demo_workdir, eq, run_tests,
                     test, wait_for)

GOOD = "http://dash.example.test:3000"
EVIL = "http://evil.example.test"
CORS = "http:\n  cors_origins: [\"%s\"]\n" % GOOD


def start():
    work = demo_workdir()
    pw = "pw-" + os.urandom(12).hex()
    h = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE, check=True).stdout.strip()
    with open(os.path.join(work, "users.yaml"), "w") as f:
        f.write("users:\n  - name: brand_a_user\n    password_hash: \"%s\"\n"
                "    role: user\n    brands: [a]\n" % h)
    os.chmod(os.path.join(work, "users.yaml"), 0o600)
    t = Tpcd(workdir=work, extra=CORS, auth=ADMIN_AUTH + "  users_file: users.yaml\n"
             "  session_lifetime: 3600\naudit:\n  file: audit.log\n")
    t.pw = pw
    return t.start()


def login(t, origin=None):
    hdrs = {"Content-Type": "application/json"}
    if origin:
        hdrs["Origin"] = origin
    return t.post("/v1/login", body=json.dumps({"user": "brand_a_user", "password": t.pw}),
                  headers=hdrs, token=None)


def cookie_of(r):
    return r.header("Set-Cookie").split(";")[0]


def audit(t):
    path = os.path.join(t.workdir, "audit.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def self_origin(t):
    return "http://127.0.0.1:%d" % t.port


@test
def test_listed_origin_reads_with_credentials():
    with start() as t:
        ck = cookie_of(login(t))
        r = t.get("/v1/brands/a/aggregates/mau_users", headers={"Origin": GOOD, "Cookie": ck})
        eq(r.status, 200, "a listed origin reads with the cookie")
        eq(r.header("Access-Control-Allow-Origin"), GOOD, "Allow-Origin echoes it")
        eq(r.header("Access-Control-Allow-Credentials"), "true", "credentials allowed")
        check("ETag" in (r.header("Access-Control-Expose-Headers") or ""), "ETag exposed")
        check("Origin" in [v for k, v in r.headers if k.lower() == "vary"], "Vary: Origin")
        # the preflight: answered before authentication (no credential at all)
        p = t.request("OPTIONS", "/v1/brands/a/aggregates/mau_users", token=None, headers={
            "Origin": GOOD, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match"})
        eq(p.status, 204, "the preflight")
        eq(p.header("Access-Control-Allow-Origin"), GOOD, "preflight Allow-Origin")
        check("GET" in p.header("Access-Control-Allow-Methods"), "GET allowed")
        check("If-None-Match" in p.header("Access-Control-Allow-Headers"),
              "If-None-Match allowed")
        # a listed origin may also change state with the cookie (JSON)
        r = t.post("/v1/logout", body="{}", token=None, headers={
            "Origin": GOOD, "Cookie": ck, "Content-Type": "application/json"})
        eq(r.status, 200, "logout from the listed origin")


@test
def test_unlisted_origin_gets_no_cors_headers():
    with start() as t:
        ck = cookie_of(login(t))
        r = t.get("/v1/brands/a/aggregates/mau_users", headers={"Origin": EVIL, "Cookie": ck})
        # the server answers (a GET changes nothing); the browser hides it from the page
        eq(r.status, 200, "GET status")
        for h in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"):
            eq(r.header(h), None, h + " for an unlisted origin")
        p = t.request("OPTIONS", "/v1/logout", token=None, headers={
            "Origin": EVIL, "Access-Control-Request-Method": "POST"})
        eq(p.status, 204, "the preflight is answered")
        for h in ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                  "Access-Control-Allow-Credentials"):
            eq(p.header(h), None, h + " in an unlisted origin's preflight")
        # an OPTIONS that is no preflight goes through the router as before
        eq(t.request("OPTIONS", "/v1/brands", token=None).status, 401, "plain OPTIONS")


@test
def test_cross_origin_cookie_post_refused_and_audited():
    with start() as t:
        ck = cookie_of(login(t))
        n0 = len(audit(t))
        cases = [
            ("foreign Origin", {"Origin": EVIL, "Content-Type": "application/json"},
             "csrf_origin"),
            ("no Origin", {"Content-Type": "application/json"}, "csrf_origin"),
            ("Sec-Fetch-Site cross-site", {"Sec-Fetch-Site": "cross-site",
                                           "Content-Type": "application/json"},
             "csrf_origin"),
            ("text/plain from this origin", {"Origin": self_origin(t),
                                             "Content-Type": "text/plain"},
             "csrf_content_type"),
            ("no Content-Type from this origin", {"Origin": self_origin(t)},
             "csrf_content_type"),
        ]
        for name, hdrs, reason in cases:
            hdrs = dict(hdrs, Cookie=ck)
            r = t.post("/v1/logout", body="{}", headers=hdrs, token=None)
            eq(r.status, 403, name)
            eq(r.json()["error"]["code"], "cross_origin_refused", name + ": error code")
        lines = wait_for(lambda: (lambda a: a if len(a) >= len(cases) else None)(
            audit(t)[n0:]), "the refusals in the audit log")
        denied = [l for l in lines if l.get("path") == "/v1/logout"]
        eq([l.get("reason") for l in denied], [c[2] for c in cases], "one line each")
        check(all(l["event"] == "denied" and l["status"] == 403 and
                  l.get("principal") == "brand_a_user" for l in denied), repr(denied))
        # the session is still alive: nothing was logged out
        eq(t.get("/v1/me", headers={"Cookie": ck}, token=None).status, 200, "still in")
        # this origin, or Sec-Fetch-Site: same-origin, as JSON: allowed
        r = t.post("/v1/logout", body="{}", token=None, headers={
            "Cookie": ck, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"})
        eq(r.status, 200, "same-origin logout")
        ck = cookie_of(login(t))
        r = t.post("/v1/logout", body="{}", token=None, headers={
            "Cookie": ck, "Origin": self_origin(t),
            "Content-Type": "application/json; charset=utf-8"})
        eq(r.status, 200, "logout with this Origin")
        # a bearer token is not a cookie: no Origin needed (tpcctl, scripts)
        r = t.post("/v1/refresh", headers={"Origin": EVIL, "Content-Type": "text/plain"})
        eq(r.status, 202, "an admin token's POST from anywhere")


@test
def test_foreign_login_sets_no_cookie():
    with start() as t:
        r = login(t, origin=EVIL)
        eq(r.status, 403, "a login from an unlisted origin")
        eq(r.header("Set-Cookie"), None, "no cookie for it")
        r = login(t, origin=GOOD)
        eq(r.status, 200, "a login from a listed origin")
        eq(r.header("Set-Cookie"), None, "no cookie for a listed origin either")
        tok = r.json()["token"]
        eq(t.get("/v1/me", token=tok).json()["user"], "brand_a_user", "its bearer token")
        r = login(t, origin=self_origin(t))
        eq(r.status, 200, "a login from this origin")
        check(r.header("Set-Cookie").startswith("tpcd_session="), "sets the cookie")
        r = login(t)
        check(r.header("Set-Cookie").startswith("tpcd_session="), "no Origin (curl): cookie")
        eq(t.post("/v1/login", body="{}", headers={"Origin": EVIL}, token=None).status, 403,
           "refused before the body is even read")


@test
def test_config_rejects_bad_origins():
    work = demo_workdir()
    for bad in ("dash.example.test", "http://dash.example.test/", "ftp://x", "*"):
        t = Tpcd(workdir=work, extra="http:\n  cors_origins: [\"%s\"]\n" % bad)
        t.port = 1
        t.write_config()
        r = subprocess.run([TPCD, "-c", t.config, "-t"], capture_output=True, text=True,
                           timeout=DEADLINE)
        check(r.returncode != 0 and "cors_origins" in r.stderr, "%s: %r" % (bad, r.stderr))


if __name__ == "__main__":
    run_tests()
