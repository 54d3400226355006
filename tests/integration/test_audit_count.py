"""The data-access audit is counted, not lost: requests of mixed principals, aggregates,
methods and statuses over several keep-alive connections (spread over both serving
threads) become lines with a count, and for every (principal, method, path, status) the
counts add up to exactly the requests made, whichever way the lines were written: at the
end of an interval (connections still open), at a connection's close, at a reload (before
its config_reload line) and at shutdown. Denials stay one line each."""

import collections
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess

from harness import (ADMIN_AUTH, ADMIN_TOKEN, DEADLINE, TPCD, Tpcd, check, demo_workdir, eq,
                     run_tests, test, wait_for)

PATHS = (
    "/v1/brands/a/aggregates/mau_users",
    "/v1/brands/a/aggregates/sales_by_category",
    "/v1/brands/a/aggregates/nope",
    "/v1/brands/b/aggregates/mau_users",
    "/v1/brands/a/aggregates/mau_users?format=bogus",
    "/v1/brands",
)


def read_audit(t):
    with open(os.path.join(t.workdir, "audit.log")) as f:
        return [json.loads(line) for line in f]


def counted(lines):
    """(principal, method, path, status) -> requests, from the /v1 request lines."""
    c = collections.Counter()
    for l in lines:
        if "path" in l and l["event"] in ("access", "denied"):
            c[(l.get("principal"), l["method"], l["path"], l["status"])] += l.get("count", 1)
    return c


class Load:
    """Keep-alive connections and what was sent over them, per audit key."""

    def __init__(self, t, creds):
        self.t = t
        self.creds = creds		# principal name -> secret
        self.sent = collections.Counter()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.t.port, timeout=DEADLINE)

    def run(self, conns, n):
        names = sorted(self.creds)
        for i in range(n):
            c = conns[i % len(conns)]
            name = names[(i // len(conns)) % len(names)]
            path = PATHS[(i * 7 + i // 5) % len(PATHS)]
            method = "HEAD" if i % 9 == 4 else "GET"
            r = self.t.request(method, path, conn=c, token=self.creds[name])
            self.sent[(name, method, path.split("?")[0], r.status)] += 1
        return self.sent


def hash_password(pw):
    r = subprocess.run([TPCD, "--hash-password"], input=pw + "\n", capture_output=True,
                       text=True, timeout=DEADLINE)
    eq(r.returncode, 0, r.stderr)
    return r.stdout.strip()


@test
def test_audit_counts_every_request():
    work = demo_workdir()
    try:
        password = "pw-" + os.urandom(12).hex()
        token = "tpcdt_" + os.urandom(32).hex()
        with open(os.path.join(work, "users.yaml"), "w") as f:
            f.write("users:\n  - name: ann\n    password_hash: \"%s\"\n    role: user\n"
                    "    brands: [a]\n" % hash_password(password))
        os.chmod(os.path.join(work, "users.yaml"), 0o600)
        auth = (ADMIN_AUTH + "    - name: dash\n      sha256: %s\n      brands: [a]\n" %
                hashlib.sha256(token.encode()).hexdigest() + "  users_file: users.yaml\n")
        t = Tpcd(workdir=work, auth=auth, extra="audit:\n  file: audit.log\n").start()
        with t:
            r = t.post("/v1/login", body=json.dumps({"user": "ann", "password": password}),
                       headers={"Content-Type": "application/json"}, token=None)
            eq(r.status, 200, "login")
            load = Load(t, {"harness_admin": ADMIN_TOKEN, "dash": token,
                            "ann": r.json()["token"]})
            base = counted(read_audit(t))	# what came before (the health checks)

            def caught_up():
                got = counted(read_audit(t))
                got.subtract(base)
                return +got == +load.sent

            # 1. interval: the connections stay open
            conns = [load.conn() for _ in range(6)]
            load.run(conns, 300)
            wait_for(caught_up, "the counts of open connections (interval)")
            lines = [l for l in read_audit(t) if l["event"] == "access"]
            check(any(l["count"] > 1 for l in lines), "requests alike share a line")
            check(len(lines) < 300, "fewer lines than requests: %d" % len(lines))
            denied = [l for l in read_audit(t) if l["event"] == "denied"]
            check(denied and all("count" not in l for l in denied),
                  "denials are one line each")
            statuses = {k[3] for k in load.sent}
            check({200, 400, 403, 404} <= statuses, "mixed statuses: %r" % statuses)
            # 2. close: new connections, closed at once
            more = [load.conn() for _ in range(3)]
            load.run(more, 90)
            for c in more:
                c.close()
            wait_for(caught_up, "the counts of closed connections")
            # 3. reload: counted before the config_reload line
            load.run(conns, 60)
            done = t.read_log().count("reload: done")
            t.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: t.read_log().count("reload: done") > done, "the reload")
            audit = read_audit(t)
            at = max(i for i, l in enumerate(audit) if l["event"] == "config_reload")
            got = counted(audit[:at])
            got.subtract(base)
            eq(+got, +load.sent, "every request before the reload is in before its line")
            # 4. shutdown: requests on open connections, then SIGTERM
            load.run(conns, 60)
            eq(t.stop(), 0, "tpcd exit code")
            got = counted(read_audit(t))
            got.subtract(base)
            eq(+got, +load.sent, "every request is in the audit after shutdown")
            eq(sum(load.sent.values()), 510, "requests made")
            for c in conns:
                c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_tests()
