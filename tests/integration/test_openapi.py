"""The OpenAPI document (schema/openapi.yaml, served as JSON at GET /v1/openapi.json)
against the live daemon: every operation of the document is exercised, and every
response (successes and errors, JSON bodies validated with jsonschema, Draft 2020-12) must
be one the document declares for that path, method and status; a wrong method is a 405
Error, an unknown path a 404 Error."""

import hashlib
import json
import os
import re
import sqlite3
import subprocess

import yaml
from jsonschema import Draft202012Validator

from harness import (ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, ROOT, TPCD, Tpcd, check,
                     demo_workdir, eq, run_tests, test, wait_for)

SPEC_PATH = os.path.join(ROOT, "schema", "openapi.yaml")
METHODS = ("get", "post", "delete", "put", "patch", "head")


class Spec:
    def __init__(self, doc):
        self.doc = doc
        Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
        self.paths = []
        for p in doc["paths"]:
            rx = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(p)) + "$"
            self.paths.append((p, re.compile(rx)))
        # literal paths before templated ones (/v1/brands before /v1/brands/{brand}/...)
        self.paths.sort(key=lambda x: x[0].count("{"))
        self.exercised = set()		# (path, method) answered with a 2xx

    def template(self, path):
        for p, rx in self.paths:
            if rx.match(path):
                return p
        return None

    def resolve(self, o):
        while isinstance(o, dict) and "$ref" in o and len(o) == 1:
            node = self.doc
            for part in o["$ref"][2:].split("/"):
                node = node[part]
            o = node
        return o

    def validate_json(self, schema, body, what):
        root = dict(schema)
        root["components"] = self.doc["components"]
        errors = sorted(Draft202012Validator(root).iter_errors(body), key=str)
        check(not errors, "%s: %s" % (what, "; ".join(
            "%s at %s" % (e.message[:200], list(e.absolute_path)) for e in errors[:3])))

    def check_response(self, method, url, r):
        """r must be a response the document declares; returns its template."""
        path = url.split("?")[0]
        what = "%s %s -> %d" % (method, url, r.status)
        tpl = self.template(path)
        error_schema = {"$ref": "#/components/schemas/Error"}
        if tpl is None:
            eq(r.status, 404, what + ": an undocumented path")
            self.validate_json(error_schema, r.json(), what)
            return None
        op = self.doc["paths"][tpl].get(method.lower())
        if op is None and method == "HEAD":
            op = self.doc["paths"][tpl].get("get")
        if op is None:
            eq(r.status, 405, what + ": a method the document does not declare")
            check(r.header("Allow"), what + ": Allow")
            self.validate_json(error_schema, r.json(), what)
            return tpl
        resp = op["responses"].get(str(r.status)) or op["responses"].get("default")
        check(resp is not None, what + ": status not declared for " + tpl)
        resp = self.resolve(resp)
        content = resp.get("content")
        if method == "HEAD" or r.status == 304:
            eq(r.body, b"", what + ": no body")
        elif content is None:
            eq(r.body, b"", what + ": the document declares no body")
        else:
            ctype = (r.header("Content-Type") or "").split(";")[0].strip()
            check(ctype in content, what + ": Content-Type %r not declared (%s)" %
                  (ctype, ", ".join(content)))
            schema = content[ctype].get("schema", {})
            if ctype == "application/json":
                self.validate_json(schema, r.json(), what)
            elif self.resolve(schema).get("type") == "string":
                check(len(r.body) > 0, what + ": a body")
        if 200 <= r.status < 300:
            self.exercised.add((tpl, method.lower() if method != "HEAD" else "get"))
        return tpl


def users(work):
    pw = {u: "pw-" + os.urandom(12).hex() for u in ("brand_a_user", "admin")}
    lines = ["users:"]
    for u, role in (("brand_a_user", "user"), ("admin", "admin")):
        h = subprocess.run([TPCD, "--hash-password"], input=pw[u] + "\n", capture_output=True,
                           text=True, timeout=DEADLINE, check=True).stdout.strip()
        lines += ["  - name: %s" % u, "    password_hash: \"%s\"" % h, "    role: %s" % role]
        if role == "user":
            lines.append("    brands: [a]")
    with open(os.path.join(work, "users.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(os.path.join(work, "users.yaml"), 0o600)
    return pw


@test
def test_live_responses_match_the_document():
    with open(SPEC_PATH) as f:
        spec = Spec(yaml.safe_load(f))
    work = demo_workdir()
    pw = users(work)
    extra_tok = "tpcdt_" + os.urandom(24).hex()
    auth = (ADMIN_AUTH + "    - name: spare\n      sha256: %s\n      brands: [a]\n"
            "  users_file: users.yaml\n" % hashlib.sha256(extra_tok.encode()).hexdigest())
    t = Tpcd(workdir=work, auth=auth)
    t.start(wait_healthy=False)
    with t:
        def call(method, url, token=ADMIN_TOKEN, headers=None, body=None, status=None):
            r = t.request(method, url, headers=headers, body=body, token=token)
            spec.check_response(method, url, r)
            if status is not None:
                eq(r.status, status, "%s %s (body %r)" % (method, url, r.body[:200]))
            return r

        # before the first snapshot, health may still say "starting": either is declared
        call("GET", "/healthz", token=None)
        t.wait_healthy()
        served = call("GET", "/v1/openapi.json", token=None, status=200).json()
        with open(SPEC_PATH) as f:
            eq(served, yaml.safe_load(f), "the served document is schema/openapi.yaml")

        js = {"Content-Type": "application/json"}
        login = lambda u, p, h=js: call("POST", "/v1/login", token=None, headers=h,
                                        body=json.dumps({"user": u, "password": p}))
        sess = login("brand_a_user", pw["brand_a_user"]).json()
        user = sess["token"]
        eq(login("brand_a_user", "wrong").status, 401, "wrong password")
        eq(call("POST", "/v1/login", token=None, headers=js, body="{").status, 400, "bad body")
        eq(login("brand_a_user", pw["brand_a_user"], dict(js, Origin="http://evil.test"))
           .status, 403, "foreign origin")

        for p in ("/healthz", "/_stcore/health", "/metrics", "/v1/me", "/v1/freshness",
                  "/v1/brands", "/v1/status", "/v1/snapshots", "/v1/sessions", "/v1/tokens",
                  "/v1/brands/a/aggregates"):
            call("GET", p, status=200)
            call("HEAD", p, status=200)
            if p.startswith("/v1/"):
                call("GET", p, token=None, status=401)
        call("GET", "/v1/me", token=user, status=200)
        call("GET", "/v1/brands", token=user, status=200)
        for p in ("/v1/status", "/v1/snapshots", "/v1/sessions", "/v1/tokens"):
            call("GET", p, token=user, status=403)
        call("GET", "/metrics", token=None, status=200)	# open on the loopback

        cat = call("GET", "/v1/brands/b/aggregates", status=200).json()
        call("GET", "/v1/brands/b/aggregates", token=user, status=403)
        call("GET", "/v1/brands/zz/aggregates", status=404)
        for b in ("a", "b"):
            for a in cat["aggregates"]:
                url = "/v1/brands/%s/aggregates/%s" % (b, a["name"])
                r = call("GET", url, status=200)
                call("GET", url, headers={"If-None-Match": r.header("ETag")}, status=304)
        agg = "/v1/brands/a/aggregates/mau_users"
        for q in ("?format=csv", "?format=msgpack", "?format=json", "?_=1"):
            call("GET", agg + q, status=200)
        call("GET", agg, headers={"Accept-Encoding": "gzip"}, status=200)
        call("GET", agg + "?format=xml", status=400)
        call("GET", agg + "?nope=1", status=400)
        # slices: a window, a filter, a 304 on the slice's ETag, refusals naming the parameter
        r = call("GET", agg + "?limit=2&offset=1", status=200)
        call("GET", agg + "?limit=2&offset=1", headers={"If-None-Match": r.header("ETag")},
             status=304)
        call("GET", agg + "?month=2025-01&format=csv", status=200)
        call("GET", agg + "?month=2025-01", headers={"Accept-Encoding": "gzip"}, status=200)
        for q in ("?limit=-1", "?offset=x", "?mau=3", "?month="):
            eq(call("GET", agg + q, status=400).json()["error"]["parameter"],
               q[1:].split("=")[0])
        call("GET", "/v1/brands/b/aggregates/mau_users?limit=1", token=user, status=403)
        call("GET", agg + "?colour=blue", token=user, status=403)
        call("GET", agg + "?colour=green", status=404)
        call("GET", "/v1/brands/a/aggregates/nope", status=404)
        call("GET", "/v1/brands/b/aggregates/mau_users", token=user, status=403)
        call("GET", agg, token="garbage", status=401)

        # operations: pin/unpin, refresh, swap/rollback across two snapshots
        call("POST", "/v1/pin", status=200)
        call("POST", "/v1/unpin", status=200)
        call("POST", "/v1/pin", token=user, status=403)
        call("POST", "/v1/swap", status=409)
        call("POST", "/v1/rollback", status=409)
        call("POST", "/v1/refresh", token=user, status=403)
        c = sqlite3.connect(os.path.join(t.source_dir, "brand_a.db"))
        c.execute("INSERT INTO orders (member_id, store_id, ordered_at) SELECT member_id, "
                  "store_id, ordered_at FROM orders ORDER BY order_id DESC LIMIT 1")
        c.commit()
        c.close()
        gen0 = t.status()["generation"]
        call("POST", "/v1/refresh", headers=js, body='{"brand":"a","aggregate":"mau_users"}',
             status=202)
        wait_for(lambda: t.status()["generation"] > gen0 and not t.status()["refreshing"],
                 "a second snapshot")
        call("GET", agg + "?colour=blue", status=200)
        call("GET", "/v1/snapshots", status=200)
        call("POST", "/v1/rollback", status=200)
        call("POST", "/v1/swap", status=200)
        call("GET", "/v1/status", status=200)
        call("GET", "/readyz", token=None, status=200)

        # publish guards: a candidate that lost most months of orders is held
        call("POST", "/v1/unpin", status=200)		# the rollback pinned
        call("POST", "/v1/discard", status=409)

        def shrink_and_refresh(before):
            c = sqlite3.connect(os.path.join(t.source_dir, "brand_a.db"))
            c.execute("DELETE FROM order_lines WHERE order_id IN (SELECT order_id FROM "
                      "orders WHERE ordered_at < ?)", (before,))
            c.execute("DELETE FROM orders WHERE ordered_at < ?", (before,))
            c.commit()
            c.close()
            check(t.refresh_and_wait()["held"] is not None, "a held candidate")
        shrink_and_refresh("2025-10-01")
        call("GET", "/v1/status", status=200)
        call("GET", "/v1/snapshots", status=200)
        call("POST", "/v1/publish", headers=js, body="{}", status=409)
        call("POST", "/v1/publish", headers=js, body='{"force":true}', status=200)
        shrink_and_refresh("2025-12-01")
        call("POST", "/v1/discard", status=200)
        call("POST", "/v1/refresh", headers=js, body='{"aggregate":"nope"}', status=404)

        # sessions and tokens
        sid = call("GET", "/v1/sessions", status=200).json()["sessions"][0]["id"]
        call("DELETE", "/v1/sessions/ffffffffffff", status=404)
        call("DELETE", "/v1/sessions/" + sid, token=user, status=403)
        call("GET", "/v1/backup", status=200)
        call("GET", "/v1/backup", token=user, status=403)
        call("POST", "/v1/tokens/nosuch/revoke", status=404)
        call("POST", "/v1/tokens/spare/revoke", status=200)
        call("GET", "/v1/me", token=extra_tok, status=401)
        call("POST", "/v1/logout", token=ADMIN_TOKEN, status=400)	# a token: no logout
        ck = login("admin", pw["admin"]).header("Set-Cookie").split(";")[0]
        call("POST", "/v1/logout", token=None, headers=dict(js, Cookie=ck,
             Origin="http://evil.test"), status=403)
        call("POST", "/v1/logout", token=None, headers=dict(js, Cookie=ck,
             Origin="http://127.0.0.1:%d" % t.port), status=200)
        call("POST", "/v1/logout", token=user, status=200)
        call("GET", "/v1/me", token=user, status=401)
        sess2 = login("brand_a_user", pw["brand_a_user"]).json()
        call("DELETE", "/v1/sessions/" + sess2["session"], status=200)

        # the dashboard
        page = call("GET", "/", token=None, status=200)
        call("GET", "/", token=None, headers={"If-None-Match": page.header("ETag")},
             status=304)
        for a in re.findall(rb"/assets/[A-Za-z0-9_.-]+", page.body):
            call("GET", a.decode(), token=None, status=200)
        call("GET", "/assets/nope.0123456789.js", token=None, status=404)

        # wrong methods and unknown paths: Error objects
        for m, p in (("PUT", "/v1/brands"), ("GET", "/v1/login"), ("DELETE", "/v1/status"),
                     ("POST", "/"), ("POST", "/healthz"), ("GET", "/v1/refresh")):
            call(m, p, status=405)
        for p in ("/v1/nope", "/nope", "/v1/brands/a/aggregates/mau_users/x"):
            call("GET", p, status=404)

        # the throttle last (it closes the door for this address): 429 is declared
        r = wait_for(lambda: (lambda x: x if x.status == 429 else None)(
            login("ghost", "wrong")), "the login throttle", interval=0)
        check(r.header("Retry-After"), "Retry-After")

        missing = [(p, m) for p in spec.doc["paths"] for m in METHODS
                   if m in spec.doc["paths"][p] and (p, m) not in spec.exercised]
        eq(missing, [], "operations of the document never answered with a 2xx")


if __name__ == "__main__":
    run_tests()
