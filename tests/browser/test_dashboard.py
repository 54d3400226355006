"""The dashboard end to end in a real browser: prepares the real tpcd (the ASan build in
make test) with demo data and the users brand_a_user and admin on a loopback port, checks
the UI's headers over plain HTTP, then runs dashboard.js (playwright-core driving Debian's
/usr/bin/chromium headless) and adds up its PASS/FAIL lines. Screenshots are written
under $TPCD_TEST_OUT/browser (default build/test-output/browser)."""

import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import (ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, ROOT, TPCD, Tpcd, check,  # noqa: E402
                     demo_workdir, eq)

OUT = os.path.join(os.environ.get("TPCD_TEST_OUT", os.path.join(ROOT, "build",
                                                                  "test-output")), "browser")


def users_file(workdir):
    """brand_a_user (brand a) and admin, with fresh passwords; returns the passwords."""
    pw = {u: "pw-" + os.urandom(12).hex() for u in ("brand_a_user", "admin")}
    lines = ["users:"]
    for u, brands in (("brand_a_user", "[a]"), ("admin", None)):
        r = subprocess.run([TPCD, "--hash-password"], input=pw[u] + "\n",
                           capture_output=True, text=True, timeout=DEADLINE, check=True)
        lines += ["  - name: %s" % u, "    password_hash: \"%s\"" % r.stdout.strip(),
                  "    role: %s" % ("admin" if brands is None else "user")]
        if brands:
            lines.append("    brands: %s" % brands)
    path = os.path.join(workdir, "users.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return pw


def ui_headers(t):
    """The shell revalidates (ETag, 304), assets are hashed and immutable, gzip'ed on
    request, and every UI response carries the security headers."""
    r = t.get("/", token=None)
    eq(r.status, 200, "GET /")
    eq(r.header("Cache-Control"), "no-cache", "the shell is revalidated")
    csp = r.header("Content-Security-Policy") or ""
    for d in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        check(d in csp, "CSP has " + d)
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, "no unsafe- in CSP")
    check(b"<script>" not in r.body and b"<script " not in r.body.replace(
        b"<script defer src=", b""), "no inline script in the shell")
    eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff")
    check(r.header("Referrer-Policy"), "Referrer-Policy")
    eq(t.get("/", headers={"If-None-Match": r.header("ETag")}, token=None).status, 304,
       "the shell revalidates to a 304")
    assets = re.findall(rb'/assets/[A-Za-z0-9_.-]+', r.body)
    check(len(assets) >= 8, "the shell names its assets")
    for a in assets:
        a = a.decode()
        check(re.search(r"\.[0-9a-f]{10}\.(js|css|svg)$", a), "a hashed name: " + a)
        g = t.get(a, headers={"Accept-Encoding": "gzip"}, token=None)
        eq(g.status, 200, a)
        eq(g.header("Content-Encoding"), "gzip", a + " gzip'ed")
        eq(g.header("Cache-Control"), "public, max-age=31536000, immutable", a)
        eq(g.header("X-Content-Type-Options"), "nosniff", a)
        p = t.get(a, token=None)
        check(p.header("Content-Encoding") is None, a + " plain without Accept-Encoding")
        import gzip as gz
        eq(gz.decompress(g.body), p.body, a + ": the gzip variant holds the same bytes")
    eq(t.get("/assets/app.0000000000.js", token=None).status, 404, "an unknown asset")
    eq(t.post("/", token=None).status, 405, "POST / is not allowed")


def main():
    passed = failed = 0
    node = shutil.which("node")
    work = demo_workdir()
    pw = users_file(work)
    t = Tpcd(workdir=work, refresh_interval=60,
             auth=ADMIN_AUTH + "  users_file: users.yaml\n")
    t.start()
    try:
        try:
            ui_headers(t)
            passed += 1
            print("PASS ui_headers", flush=True)
        except Exception as e:
            failed += 1
            print("FAIL ui_headers\n%r" % e, flush=True)
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT, exist_ok=True)
        env = dict(os.environ, TPCD_URL="http://127.0.0.1:%d" % t.port,
                   TPCD_BROWSER_OUT=OUT, TPCD_PASSWORDS=json.dumps(pw),
                   TPCD_ADMIN_TOKEN=ADMIN_TOKEN,
                   TPCD_SOURCE_A=os.path.join(t.source_dir, "brand_a.db"))
        check(node is not None, "node is installed")
        check(os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")),
              "tests/browser/node_modules (make test runs npm ci)")
        p = subprocess.run([node, os.path.join(HERE, "dashboard.js")], env=env, cwd=HERE,
                           capture_output=True, text=True, timeout=10 * DEADLINE)
        out = p.stdout + p.stderr
        print("\n".join(l for l in out.splitlines() if not l.startswith("RESULT")))
        m = re.search(r"^RESULT passed=(\d+) failed=(\d+)", out, re.M)
        if m:
            passed += int(m.group(1))
            failed += int(m.group(2))
        if not m or p.returncode != 0 and int(m.group(2)) == 0:
            failed += 1
            print("FAIL dashboard.js exited with %d" % p.returncode)
        print("screenshots in " + OUT)
        t.close()
        passed += 1
        print("PASS the daemon stopped cleanly (no sanitizer report)")
    except Exception as e:
        failed += 1
        print("FAIL %r\n%s" % (e, t.read_log()[-3000:]))
        try:
            t.stop()
        except Exception:
            pass
    print("RESULT passed=%d failed=%d" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
