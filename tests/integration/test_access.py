"""Access control end to end: the isolation matrix (every principal x every route and
method, path tricks included), sessions across restarts and their expiry, the login
throttle, token revocation, the audit log (every request counted, well-formed) and that
no secret ever reaches a log; tpcctl login against the real daemon."""

import calendar
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time

from harness import (demo_workdir as demo_work, ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, TPCCTL, TPCD, Tpcd, check, eq,
                     make_demo, run_tests, test, wait_for)

BRANDS = ("a", "b")
SECRETS = set()		# every password and token a test used: none may reach a log




def hash_password(pw):
    """tpcd --hash-password, the password on stdin (not a terminal)."""
    r = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE)
    eq(r.returncode, 0, "tpcd --hash-password: " + r.stderr)
    h = r.stdout.strip()
    check(h.startswith("$y$"), "a yescrypt hash: %r" % h)
    check(pw not in r.stdout + r.stderr, "the password is not echoed")
    return h


class Accounts:
    """Users (in a users file) and API tokens (inline), with fresh secrets."""

    def __init__(self, workdir):
        self.passwords = {u: "pw-" + os.urandom(12).hex()
                          for u in ("brand_a_user", "brand_b_user", "admin")}
        self.tokens = {n: "tpcdt_" + os.urandom(32).hex()
                       for n in ("dash_a", "dash_a_api_revoked", "dash_b_conf_revoked")}
        SECRETS.update(self.passwords.values())
        SECRETS.update(self.tokens.values())
        SECRETS.add(ADMIN_TOKEN)
        self.hashes = {u: hash_password(pw) for u, pw in self.passwords.items()}
        SECRETS.update(self.hashes.values())
        self.users_file = os.path.join(workdir, "users.yaml")
        lines = ["users:"]
        for u, brands in (("brand_a_user", "[a]"), ("brand_b_user", "[b]"),
                          ("admin", None)):
            lines += ["  - name: %s" % u, "    password_hash: \"%s\"" % self.hashes[u],
                      "    role: %s" % ("admin" if brands is None else "user")]
            if brands:
                lines.append("    brands: %s" % brands)
        with open(self.users_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.users_file, 0o600)

    def auth_yaml(self, lifetime=86400, extra=""):
        y = ADMIN_AUTH		# its tokens: list continues below
        for name, brand, revoked in (("dash_a", "a", False),
                                     ("dash_a_api_revoked", "a", False),
                                     ("dash_b_conf_revoked", "b", True)):
            sha = hashlib.sha256(self.tokens[name].encode()).hexdigest()
            SECRETS.add(sha)
            y += ("    - name: %s\n      sha256: %s\n      brands: [%s]\n" %
                  (name, sha, brand))
            if revoked:
                y += "      revoked: true\n"
        return y + "  users_file: users.yaml\n  session_lifetime: %d\n" % lifetime + extra


def login(t, user, password, addr=None):
    hdrs = {"Content-Type": "application/json"}
    if addr:
        hdrs["X-Forwarded-For"] = addr
    return t.post("/v1/login", body=json.dumps({"user": user, "password": password}),
                  headers=hdrs, token=None)


def login_ok(t, user, password):
    r = login(t, user, password)
    eq(r.status, 200, "login %s (%r)" % (user, r.body[:200]))
    body = r.json()
    SECRETS.add(body["token"])
    return body, r


def audit_lines(t):
    """Every line of every audit file (oldest first), each parsed; all must parse."""
    out = []
    base = os.path.join(t.workdir, "audit.log")
    files = sorted(glob.glob(base + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1]))
    for p in files + [base]:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                o = json.loads(line)
                check(isinstance(o, dict) and o.get("ts") and o.get("event"), line)
                out.append(o)
    return out


def start(work, accounts, lifetime=86400, extra_auth="", extra=""):
    t = Tpcd(workdir=work, auth=accounts.auth_yaml(lifetime, extra_auth),
             extra="audit:\n  file: audit.log\n  max_size_mb: 1\n  keep: 3\n" + extra)
    return t


def unix(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


# ---- the isolation matrix ----

AGGS = ("mau_users", "sales_by_category")
PATHS = [
    "/v1/brands",
    "/v1/brands/a/aggregates", "/v1/brands/b/aggregates", "/v1/brands/zz/aggregates",
    "/v1/brands/a/aggregates/mau_users", "/v1/brands/b/aggregates/mau_users",
    "/v1/brands/b/aggregates/sales_by_category?format=csv",
    "/v1/brands/a/aggregates/mau_users?format=msgpack",
    "/v1/brands/zz/aggregates/mau_users", "/v1/brands/a/aggregates/nope",
    "/v1/brands/b/aggregates/nope",
    # path tricks: case variants, dot segments, escapes, slashes, trailing junk
    "/v1/brands/A/aggregates/mau_users", "/v1/brands/B/aggregates/mau_users",
    "/v1/brands/b/aggregates/MAU_USERS",
    "/v1/brands/a/../b/aggregates/mau_users", "/v1/brands/a/%2e%2e/b/aggregates/mau_users",
    "/v1/brands/a/%2E%2E/b/aggregates", "/v1/brands/%62/aggregates/mau_users",
    "/v1/brands/b%00/aggregates/mau_users", "/v1/brands/./b/aggregates",
    "//v1/brands/b/aggregates/mau_users", "/v1//brands/b/aggregates/mau_users",
    "/v1/brands/b//aggregates/mau_users", "/v1/brands/b/aggregates/mau_users/",
    "/v1/brands/b/aggregates/mau_users/x", "/v1/brands/b/aggregates/mau_users;a",
    "/v1/brands/b;a/aggregates/mau_users", "/v1/brands/b/aggregates/mau_users%20",
    "/V1/brands/b/aggregates/mau_users", "/v1/BRANDS/b/aggregates",
    "/v1/brands/a/aggregates/mau_users?brand=b",
    # operations and administration
    "/v1/status", "/v1/snapshots", "/v1/refresh", "/v1/swap", "/v1/rollback", "/v1/pin",
    "/v1/unpin", "/v1/publish", "/v1/discard", "/v1/sessions",
    "/v1/sessions/ffffffffffff", "/v1/tokens", "/v1/tokens/nosuch/revoke", "/v1/login",
    "/v1", "/v1/", "/v1/nope", "/healthz", "/readyz", "/_stcore/health", "/metrics", "/",
]
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
SEG_RE = re.compile(r"^[A-Za-z0-9_.-]+$")

# route pattern -> (methods, admin only, brand segment, aggregate segment, ok status)
GET = ("GET", "HEAD")
ROUTES = [
    (("v1", "login"), ("POST",), False, None, None, None),
    (("v1", "logout"), ("POST",), False, None, None, None),
    (("v1", "brands"), GET, False, None, None, 200),
    (("v1", "brands", "*", "aggregates"), GET, False, 2, None, 200),
    (("v1", "brands", "*", "aggregates", "*"), GET, False, 2, 4, 200),
    (("v1", "status"), GET, True, None, None, 200),
    (("v1", "snapshots"), GET, True, None, None, 200),
    (("v1", "refresh"), ("POST",), True, None, None, 202),
    (("v1", "swap"), ("POST",), True, None, None, 409),	# one snapshot: nothing to swap to
    (("v1", "rollback"), ("POST",), True, None, None, 409),
    (("v1", "pin"), ("POST",), True, None, None, 200),
    (("v1", "unpin"), ("POST",), True, None, None, 200),
    (("v1", "publish"), ("POST",), True, None, None, 409),	# no candidate held
    (("v1", "discard"), ("POST",), True, None, None, 409),
    (("v1", "sessions"), GET, True, None, None, 200),
    (("v1", "sessions", "*"), ("DELETE",), True, None, None, 404),	# no such session
    (("v1", "tokens"), GET, True, None, None, 200),
    (("v1", "tokens", "*", "revoke"), ("POST",), True, None, None, 404),	# no such token
]


def segments(path):
    """The daemon's path rule, restated: plain /seg/seg of [A-Za-z0-9_.-], no dots."""
    if path == "/":
        return []
    segs = path[1:].split("/")
    if any(not SEG_RE.match(s) or s in (".", "..") for s in segs):
        return None
    return segs


def expected(principal, method, full):
    """The access policy (README "Access control"), restated independently."""
    path, _, query = full.partition("?")
    if not (path == "/v1" or path.startswith("/v1/")):
        if path in ("/healthz", "/readyz", "/_stcore/health"):
            return 200 if method in GET else 405
        if path == "/metrics":		# open on the loopback, where the test runs
            return 200 if method in GET else 405
        if path == "/":			# the dashboard's shell: open
            return 200 if method in GET else 405
        return 404
    if path == "/v1/login":
        return 405 if method != "POST" else None
    if not principal["valid"]:
        return 401
    segs = segments(path)
    route = None
    for pat, methods, admin, bseg, aseg, ok in ROUTES:
        if segs is not None and len(pat) == len(segs) and all(
                p == "*" or p == s for p, s in zip(pat, segs)):
            route = (methods, admin, bseg, aseg, ok)
            break
    if route is None:
        return 404
    methods, admin, bseg, aseg, ok = route
    if admin and not principal["admin"]:
        return 403
    if bseg is not None:
        b = segs[bseg]
        if b not in BRANDS:
            return 404 if principal["admin"] else 403
        if not (principal["admin"] or b in principal["brands"]):
            return 403
    if aseg is not None and segs[aseg] not in known_aggs:
        return 404
    if method not in methods:
        return 405
    if query and "brand=" in query:
        return 400		# an unknown parameter
    return ok


known_aggs = set()


def body_leaks(principal, r, forbidden_bodies):
    """Does a response to principal carry data of a brand it may not read?"""
    if principal["admin"] or not (200 <= r.status < 300) or not r.body:
        return None
    for b in BRANDS:
        if b in principal["brands"]:
            continue
        if ('"brand":"%s"' % b).encode() in r.body.replace(b" ", b""):
            return "brand %s named in the body" % b
        for fb in forbidden_bodies[b]:
            if fb and fb in r.body:
                return "a body of brand %s" % b
    if r.body.startswith(b"{") and b'"brands"' in r.body:
        ids = [x["id"] for x in r.json()["brands"]]
        if any(i not in principal["brands"] for i in ids):
            return "brand list %r" % ids
    return None


@test
def test_isolation_matrix():
    work = demo_work()
    acc = Accounts(work)
    t = start(work, acc)
    t.start()
    try:
        with t:
            for a in t.get_json("/v1/brands/a/aggregates")["aggregates"]:
                known_aggs.add(a["name"])
            # an expired session: made with a 1-second lifetime, then the daemon restarts
            # with the normal one; the session keeps the expiry it was given
            eq(t.stop(), 0)
            t.auth = acc.auth_yaml(lifetime=1)
            t.start()
            expired, _ = login_ok(t, "brand_a_user", acc.passwords["brand_a_user"])
            eq(t.stop(), 0)
            t.auth = acc.auth_yaml()
            t.start()
            wait_for(lambda: time.time() >= unix(expired["expires_at"]) + 1,
                     "the short session to pass its expiry")
            sa, _ = login_ok(t, "brand_a_user", acc.passwords["brand_a_user"])
            sb, rb = login_ok(t, "brand_b_user", acc.passwords["brand_b_user"])
            sadm, _ = login_ok(t, "admin", acc.passwords["admin"])
            cookie_b = rb.header("Set-Cookie").split(";")[0]
            check(cookie_b == "tpcd_session=" + sb["token"], "the cookie is the session")
            eq(t.post("/v1/tokens/dash_a_api_revoked/revoke").status, 200, "API revocation")
            forbidden = {b: [t.get("/v1/brands/%s/aggregates/%s" % (b, a)).body
                             for a in AGGS] + [t.get("/v1/brands/%s/aggregates" % b).body,
                             t.get("/v1/brands/%s/aggregates/sales_by_category?format=csv"
                                   % b).body] for b in BRANDS}
            principals = {
                "anonymous": dict(valid=False, admin=False, brands=(), hdrs={}),
                "brand_a_user": dict(valid=True, admin=False, brands=("a",),
                                     hdrs={"Authorization": "Bearer " + sa["token"]}),
                "brand_b_user(cookie)": dict(valid=True, admin=False, brands=("b",),
                                             hdrs={"Cookie": "x=1; " + cookie_b}),
                "admin": dict(valid=True, admin=True, brands=BRANDS,
                              hdrs={"Authorization": "Bearer " + sadm["token"]}),
                "expired_session": dict(valid=False, admin=False, brands=(),
                                        hdrs={"Authorization":
                                              "Bearer " + expired["token"]}),
                "revoked_token(config)": dict(valid=False, admin=False, brands=(), hdrs={
                    "Authorization": "Bearer " + acc.tokens["dash_b_conf_revoked"]}),
                "revoked_token(api)": dict(valid=False, admin=False, brands=(), hdrs={
                    "Authorization": "Bearer " + acc.tokens["dash_a_api_revoked"]}),
                "dashboard_token_a": dict(valid=True, admin=False, brands=("a",), hdrs={
                    "Authorization": "Bearer " + acc.tokens["dash_a"]}),
                "garbage_bearer": dict(valid=False, admin=False, brands=(),
                                       hdrs={"Authorization": "Bearer nonsense"}),
                "basic_auth": dict(valid=False, admin=False, brands=(),
                                   hdrs={"Authorization": "Basic YWRtaW46YWRtaW4="}),
            }
            # an admin action is written at once: once it is in, the lines before the
            # matrix are (but counted access, which may come later: see since below)
            eq(t.get("/v1/status").status, 200)
            wait_for(lambda: any(l.get("action") == "status" for l in audit_lines(t)),
                     "the audit log to catch up")
            n_before = len(audit_lines(t))
            # data access is counted per connection and written when it closes (or each
            # second): a request made before now may still come after n_before. The
            # matrix's lines are those whose first request is later than this millisecond.
            since_ms = int(time.time() * 1000)
            wait_for(lambda: int(time.time() * 1000) > since_ms, "the next millisecond")
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since_ms // 1000)) + \
                ".%03dZ" % (since_ms % 1000)
            sent = collections.Counter()
            mismatches, leaks, non_json = [], [], []
            for pname, p in principals.items():
                for path in PATHS:
                    for m in METHODS:
                        want = expected(p, m, path)
                        r = t.request(m, path, headers=p["hdrs"], token=None)
                        # every /v1 request but a login (which has its own event)
                        if (path == "/v1" or path.startswith("/v1/")) and not (
                                path == "/v1/login" and m == "POST"):
                            sent[(m, path.split("?")[0], r.status)] += 1
                        if want is not None and r.status != want:
                            mismatches.append("%s %s %s: %d, want %d" %
                                              (pname, m, path, r.status, want))
                        leak = body_leaks(p, r, forbidden)
                        if leak:
                            leaks.append("%s %s %s: %s" % (pname, m, path, leak))
                        if r.status >= 400 and m != "HEAD":
                            try:
                                err = r.json()["error"]
                                check(err["status"] == r.status and err["code"])
                            except Exception:
                                non_json.append("%s %s %s" % (pname, m, path))
                        if r.status == 401:
                            check(r.header("WWW-Authenticate"), "WWW-Authenticate on 401")
            eq(mismatches, [], "cells with an unexpected status")
            eq(leaks, [], "bodies of another brand")
            eq(non_json, [], "errors that are not JSON")
            # data access is counted (a line per connection and key, with its count):
            # wait until the counts cover every request
            want = sum(sent.values())

            def matrix_lines():
                return [l for l in audit_lines(t)[n_before:] if "path" in l and
                        l["ts"] > since]
            wait_for(lambda: sum(l.get("count", 1) for l in matrix_lines()) >= want,
                     "the audit lines of the matrix")
            reqs = matrix_lines()
            got = collections.Counter()
            for l in reqs:
                got[(l["method"], l["path"], l["status"])] += l.get("count", 1)
                check(l["event"] == "access" or "count" not in l,
                      "only data access is counted: %r" % l)
            eq(sum(got.values()), sum(sent.values()), "every /v1 request in the audit")
            eq(got, sent, "audit counts = requests (method, path, status)")
            by_principal = collections.Counter(l.get("principal") for l in reqs)
            for name in ("brand_a_user", "brand_b_user", "admin", "dash_a"):
                check(by_principal[name] > 0, "audit names principal " + name)
            data = [l for l in reqs if l["event"] == "access" and l["status"] == 200
                    and l.get("aggregate") == "mau_users"]
            check(data and all(l["bytes"] > 0 and l["brand"] in BRANDS for l in data),
                  "data access lines carry brand, aggregate and bytes")
            # purged by the logins above, before the matrix presented it
            check(any(l["event"] == "session_expired" and l.get("session") ==
                      expired["session"] for l in audit_lines(t)),
                  "the expired session is audited")
            check(any(l["event"] == "denied" and l["status"] == 403 and
                      l.get("reason") == "brand_not_permitted" for l in reqs), "denials")
            check(any(l["event"] == "admin" and l.get("action") == "refresh"
                      for l in reqs), "admin actions")
            check(all(l["addr"] == "127.0.0.1" for l in reqs), "peer addresses")
            n = len(audit_lines(t))
            r = t.get("/v1/brands", headers={"X-Forwarded-For": "6.6.6.6"})
            wait_for(lambda: len(audit_lines(t)) > n, "the audit line")
            eq(audit_lines(t)[-1]["addr"], "127.0.0.1", "X-Forwarded-For of an untrusted peer")
            # a few cells spelled out, lest the restated policy hide a shared mistake
            for hdr, path, want in (
                    ({}, "/v1/brands/a/aggregates/mau_users", 401),
                    (principals["brand_a_user"]["hdrs"], "/v1/brands/b/aggregates/mau_users", 403),
                    (principals["brand_a_user"]["hdrs"], "/v1/brands/zz/aggregates/mau_users", 403),
                    (principals["brand_a_user"]["hdrs"], "/v1/brands/B/aggregates/mau_users", 403),
                    (principals["brand_a_user"]["hdrs"], "/v1/brands/a/aggregates/mau_users", 200),
                    (principals["dashboard_token_a"]["hdrs"], "/v1/status", 403),
                    (principals["admin"]["hdrs"], "/v1/brands/zz/aggregates/mau_users", 404),
                    (principals["admin"]["hdrs"], "/v1/brands/b/aggregates/mau_users", 200)):
                eq(t.get(path, headers=hdr, token=None).status, want, "%s %s" % (hdr, path))
            ids = [b["id"] for b in t.get_json(
                "/v1/brands", token=acc.tokens["dash_a"])["brands"]]
            eq(ids, ["a"], "a brand-A token lists brand a only")
            check_no_secrets(t)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_no_secrets(t):
    """Acceptance 4: no password, token or hash in any log file."""
    files = (glob.glob(os.path.join(t.workdir, "audit.log*")) +
             glob.glob(os.path.join(t.workdir, "store", "audit.log*")) + [t.logpath])
    check(len(files) >= 2, files)
    for path in files:
        with open(path, "rb") as f:
            text = f.read()
        for s in SECRETS:
            check(s.encode() not in text, "a secret (%s...) in %s" % (s[:6], path))


@test
def test_sessions_survive_restart_and_expire():
    work = demo_work()
    acc = Accounts(work)
    t = start(work, acc)
    try:
        t.start()
        sa, r = login_ok(t, "brand_a_user", acc.passwords["brand_a_user"])
        cookie = r.header("Set-Cookie")
        for attr in ("Path=/", "HttpOnly", "SameSite=Strict"):
            check(attr in cookie, "cookie has " + attr)
        check("Secure" not in cookie, "no Secure unless configured")
        eq(sa["user"], "brand_a_user")
        eq(sa["role"], "user")
        eq(sa["brands"], ["a"])
        check(len(sa["token"]) >= 64, "a long token")
        eq(t.stop(), 0)
        t.auth = acc.auth_yaml(lifetime=2, extra="  cookie_secure: true\n")
        t.start()
        eq(t.get("/v1/brands/a/aggregates/mau_users", token=sa["token"]).status, 200,
           "a session survives a restart")
        sb, r = login_ok(t, "brand_b_user", acc.passwords["brand_b_user"])
        check("; Secure" in r.header("Set-Cookie"), "Secure when configured")
        ids = [s["id"] for s in t.get_json("/v1/sessions")["sessions"]]
        check(sa["session"] in ids and sb["session"] in ids, ids)
        listing = json.dumps(t.get_json("/v1/sessions"))
        check(sa["token"] not in listing and sb["token"] not in listing, "no secrets")
        wait_for(lambda: time.time() >= unix(sb["expires_at"]) + 1, "session b to expire")
        r = t.get("/v1/brands/b/aggregates", token=sb["token"])
        eq(r.status, 401, "an expired session is refused")
        ids = [s["id"] for s in t.get_json("/v1/sessions")["sessions"]]
        check(sb["session"] not in ids, "... and purged on use")
        # expired and never used again: purged at the next login
        sc, _ = login_ok(t, "brand_b_user", acc.passwords["brand_b_user"])
        wait_for(lambda: time.time() >= unix(sc["expires_at"]) + 1, "session c to expire")
        login_ok(t, "admin", acc.passwords["admin"])
        lines = audit_lines(t)
        check(any(l["event"] == "session_expired" and l.get("session") == sc["session"]
                  and l.get("how") == "purged" for l in lines), "purge audited")
        check(any(l["event"] == "session_expired" and l.get("session") == sb["session"]
                  for l in lines), "expiry on use audited")
        # logout, and an admin ending someone's session
        eq(t.get("/v1/brands/a/aggregates", token=sa["token"]).status, 200)
        eq(t.post("/v1/logout", token=sa["token"]).status, 200)
        eq(t.get("/v1/brands/a/aggregates", token=sa["token"]).status, 401, "logged out")
        t.auth = acc.auth_yaml()
        eq(t.stop(), 0)
        t.start()
        sd, _ = login_ok(t, "brand_a_user", acc.passwords["brand_a_user"])
        r = t.request("DELETE", "/v1/sessions/" + sd["session"][:8])
        eq(r.status, 200, "admin revokes a session by id prefix")
        eq(r.json()["user"], "brand_a_user")
        eq(t.get("/v1/brands/a/aggregates", token=sd["token"]).status, 401)
        eq(t.post("/v1/logout", token=acc.tokens["dash_a"]).status, 400,
           "an API token is not logged out")
        # API revocation is durable
        eq(t.post("/v1/tokens/dash_a/revoke").status, 200)
        eq(t.get("/v1/brands", token=acc.tokens["dash_a"]).status, 401)
        eq(t.stop(), 0)
        t.start()
        eq(t.get("/v1/brands", token=acc.tokens["dash_a"]).status, 401,
           "revocation survives a restart")
        toks = {x["name"]: x for x in t.get_json("/v1/tokens")["tokens"]}
        eq((toks["dash_a"]["revoked"], toks["dash_a"]["revoked_by"]), (True, "api"))
        eq((toks["dash_b_conf_revoked"]["revoked"],
            toks["dash_b_conf_revoked"]["revoked_by"]), (True, "configuration"))
        check(not any(acc.tokens[n] in json.dumps(toks) for n in acc.tokens), "no secrets")
        check_no_secrets(t)
        t.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_login_throttle():
    work = demo_work()
    acc = Accounts(work)
    t = start(work, acc, extra_auth="  trusted_proxies: [127.0.0.1]\n")
    pw = acc.passwords["admin"]
    try:
        t.start()
        # wrong user and wrong password: the same answer
        r1, r2 = login(t, "nobody", "x", "10.9.9.9"), login(t, "admin", "x", "10.9.9.8")
        eq((r1.status, r1.json()["error"]["message"]),
           (r2.status, r2.json()["error"]["message"]), "no user enumeration")
        for i in range(3):
            eq(login(t, "admin", "wrong%d" % i, "10.0.0.1").status, 401, "failure %d" % i)
        r = login(t, "admin", "wrong", "10.0.0.1")
        eq(r.status, 429, "throttled after 3 failures")
        eq(r.header("Retry-After"), "1")
        eq(r.json()["error"]["status"], 429)
        eq(login(t, "admin", pw, "10.0.0.1").status, 429, "even the right password waits")
        eq(login(t, "admin", pw, "10.0.0.2").status, 200, "another address logs in")
        # the delay grows: the next failure after the wait closes the door for 2 s
        got = wait_for(lambda: (lambda r: r if r.status != 429 else None)(
            login(t, "admin", "wrong", "10.0.0.1")), "the throttle to open")
        eq(got.status, 401)
        r = login(t, "admin", "wrong", "10.0.0.1")
        eq((r.status, r.header("Retry-After")), (429, "2"), "a longer delay")
        # one address spraying many users is stopped too
        for i in range(10):
            eq(login(t, "user%d" % i, "x", "10.0.0.3").status, 401)
        eq(login(t, "brand_a_user", acc.passwords["brand_a_user"], "10.0.0.3").status, 429,
           "the spraying address is throttled for every user")
        eq(login(t, "brand_a_user", acc.passwords["brand_a_user"], "10.0.0.4").status, 200)
        lines = [l for l in audit_lines(t) if l["event"].startswith("login")]
        check(any(l["event"] == "login_failed" and l["reason"] == "throttled" and
                  l["addr"] == "10.0.0.1" for l in lines), "throttling audited with the "
              "forwarded address")
        check(any(l["event"] == "login_failed" and l["reason"] == "unknown_user"
                  for l in lines), "unknown user audited")
        check(any(l["event"] == "login_ok" and l["addr"] == "10.0.0.2" for l in lines))
        r = t.post("/v1/login", body="not json", token=None)
        eq(r.status, 400, "a malformed login")
        check_no_secrets(t)
        t.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_tpcctl_login_and_get():
    work = demo_work()
    acc = Accounts(work)
    t = start(work, acc)
    home = tempfile.mkdtemp(prefix="tpcd-home-")
    env = {k: v for k, v in os.environ.items() if k not in ("TPCD_TOKEN", "XDG_CONFIG_HOME")}
    env["HOME"] = home
    try:
        t.start()
        url = "http://127.0.0.1:%d" % t.port

        def ctl(*args, stdin=None):
            return subprocess.run([TPCCTL, "-s", url] + list(args), input=stdin,
                                  capture_output=True, text=True, env=env,
                                  timeout=DEADLINE)
        eq(ctl("get", "a", "mau_users").returncode, 1, "no token: refused")
        out = ctl("login", "brand_a_user", stdin=acc.passwords["brand_a_user"] + "\n")
        eq(out.returncode, 0, "tpcctl login: " + out.stderr)
        path = os.path.join(home, ".config", "tpcd", "token")
        eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "token file mode")
        with open(path) as f:
            SECRETS.add(f.read().strip())
        out = ctl("get", "a", "mau_users")
        eq(out.returncode, 0, "tpcctl get: " + out.stderr)
        body = t.get_json("/v1/brands/a/aggregates/mau_users")
        lines = [l.split() for l in out.stdout.splitlines()]
        for row in body["rows"]:
            check([str(v) for v in row] in lines, "row %r printed" % row)
        eq(ctl("get", "b", "mau_users").returncode, 1, "brand b is not brand_a_user's")
        eq(ctl("logout").returncode, 0)
        check(not os.path.exists(path), "logout removes the token")
        eq(ctl("login", "brand_a_user", stdin="wrong\n").returncode, 1, "a wrong password")
        check_no_secrets(t)
        t.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


@test
def test_demo_accounts():
    """tpcd --demo writes a users file with working accounts and prints them once."""
    work = tempfile.mkdtemp(prefix="tpcd-access-")
    try:
        t = Tpcd(workdir=work, auth=ADMIN_AUTH + "  users_file: users.yaml\n")
        t.port = 1
        t.write_config()
        r = subprocess.run([TPCD, "-c", t.config, "--demo"], capture_output=True, text=True,
                           timeout=DEADLINE)
        eq(r.returncode, 0, r.stderr)
        users = dict(re.findall(r"^\s+(\w+)\s+password (\S+)", r.stdout, re.M))
        token = re.search(r"Authorization: Bearer (\S+)'", r.stdout).group(1)
        eq(sorted(users), ["admin", "brand_a_user", "brand_b_user"])
        eq(stat.S_IMODE(os.stat(os.path.join(work, "users.yaml")).st_mode), 0o600)
        SECRETS.update(users.values())
        SECRETS.add(token)
        r2 = subprocess.run([TPCD, "-c", t.config, "--demo"], capture_output=True,
                            text=True, timeout=DEADLINE)
        check(not any(p in r2.stdout for p in users.values()), "printed only once")
        t.port = None
        with t.start() as t:
            s, _ = login_ok(t, "brand_b_user", users["brand_b_user"])
            eq(t.get("/v1/brands/b/aggregates/mau_users", token=s["token"]).status, 200)
            eq(t.get("/v1/brands/a/aggregates/mau_users", token=s["token"]).status, 403)
            eq(t.get("/v1/brands/a/aggregates/mau_users", token=token).status, 200,
               "the printed curl line works")
            login_ok(t, "admin", users["admin"])
            check_no_secrets(t)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
