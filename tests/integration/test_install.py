"""make install: the tree it stages under DESTDIR (files and modes), the installed
configuration examples accepted by the installed tpcd, the man pages rendering without
warnings, `systemd-analyze verify` on the units (when systemd-analyze exists), and the
bash completion of tpcctl against a real tpcd."""

import atexit
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile

from harness import (DEADLINE, Tpcd, check, eq, free_port, run_tests, test, wait_for, ROOT,
                     TPCCTL)

PREFIX = "/usr"

# path under DESTDIR -> mode
EXPECTED = {
    "usr/bin/tpcd": 0o755,
    "usr/bin/tpcctl": 0o755,
    "usr/lib/systemd/system/tpcd.service": 0o644,
    "usr/lib/systemd/system/tpcd.socket": 0o644,
    "usr/lib/systemd/system/tpcd@.service": 0o644,
    "usr/lib/sysusers.d/tpcd.conf": 0o644,
    "usr/share/tpcd/schema/aggregates.yaml": 0o644,
    "usr/share/tpcd/schema/source_sqlite.sql": 0o644,
    "usr/share/man/man1/tpcctl.1": 0o644,
    "usr/share/man/man5/tpcd.yaml.5": 0o644,
    "usr/share/man/man8/tpcd.8": 0o644,
    "usr/share/bash-completion/completions/tpcctl": 0o644,
    "usr/share/doc/tpcd/examples/nginx-tpcd.conf": 0o644,
    "etc/tpcd/tpcd.yaml": 0o644,
    "etc/tpcd/blue.yaml": 0o644,
    "etc/tpcd/green.yaml": 0o644,
    "etc/logrotate.d/tpcd": 0o644,
}

UNITS = ("tpcd.service", "tpcd.socket", "tpcd@.service")
MAN_PAGES = ("man1/tpcctl.1", "man5/tpcd.yaml.5", "man8/tpcd.8")

_destdir = None


def destdir():
    """One `make install DESTDIR=... PREFIX=/usr`, shared by the tests that only read it."""
    global _destdir
    if _destdir is None:
        d = tempfile.mkdtemp(prefix="tpcd-install-")
        atexit.register(shutil.rmtree, d, True)
        make_install(d)
        _destdir = d
    return _destdir


def make_install(d):
    out = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + d,
                          "PREFIX=" + PREFIX], capture_output=True, text=True)
    eq(out.returncode, 0, "make install exit (stderr %s)" % out.stderr[-2000:])
    return out


def unit_settings(path):
    """The [Service]/[Socket]/[Unit] assignments of a unit file as (key, value) pairs."""
    pairs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            pairs.append((k.strip(), v.strip()))
    return pairs


@test
def test_install_tree_and_modes():
    d = destdir()
    for rel, mode in sorted(EXPECTED.items()):
        p = os.path.join(d, rel)
        check(os.path.isfile(p), "installed: " + rel)
        eq(stat.S_IMODE(os.stat(p).st_mode), mode, "mode of " + rel)
    # every SQL file the catalogue is shipped with, and the installed binaries run
    for sub in ("sqlite", "snowflake"):
        src = sorted(f for f in os.listdir(os.path.join(ROOT, "schema", sub))
                     if f.endswith(".sql"))
        got = sorted(os.listdir(os.path.join(d, "usr/share/tpcd/schema", sub)))
        eq(got, src, "schema/%s installed" % sub)
    out = subprocess.run([os.path.join(d, "usr/bin/tpcctl"), "--version"],
                         capture_output=True, text=True)
    eq(out.returncode, 0, "installed tpcctl runs")
    out = subprocess.run([os.path.join(d, "usr/bin/tpcd"), "--version"],
                         capture_output=True, text=True)
    eq(out.returncode, 0, "installed tpcd runs")
    # nothing outside the expected top-level directories
    eq(sorted(os.listdir(d)), ["etc", "usr"], "top-level directories")


@test
def test_installed_units_point_at_installed_paths():
    d = destdir()
    unitdir = os.path.join(d, "usr/lib/systemd/system")
    svc = dict(unit_settings(os.path.join(unitdir, "tpcd.service")))
    eq(svc["ExecStart"], "/usr/bin/tpcd -c /etc/tpcd/tpcd.yaml", "ExecStart")
    eq(svc["ExecStartPre"], "/usr/bin/tpcd -t -c /etc/tpcd/tpcd.yaml", "ExecStartPre")
    tpl = dict(unit_settings(os.path.join(unitdir, "tpcd@.service")))
    # hardening and ordering (issue 17); SystemCallFilter= is given three times: the allow
    # list, what is taken out of it, the three calls of @resources tpcd makes on itself
    for u in ("tpcd.service", "tpcd@.service"):
        pairs = unit_settings(os.path.join(unitdir, u))
        got = dict(pairs)
        for k, v in (("ProtectProc", "invisible"), ("ProcSubset", "pid"),
                     ("PrivateUsers", "yes"), ("RemoveIPC", "yes"), ("PrivateMounts", "yes")):
            eq(got.get(k), v, "%s %s" % (u, k))
        eq([v for k, v in pairs if k == "SystemCallFilter"],
           ["@system-service", "~@privileged @resources",
            "sched_setscheduler setpriority setrlimit"], u + " SystemCallFilter")
        check("network-online.target" in got["After"] and
              "network-online.target" in got["Wants"], u + " network-online")
    eq(tpl["ExecStart"], "/usr/bin/tpcd -c /etc/tpcd/%i.yaml", "template ExecStart")
    for s in (svc, tpl):
        for k, v in (("Type", "notify"), ("NotifyAccess", "main"), ("WatchdogSec", "30s"),
                     ("Restart", "on-failure"), ("ExecReload", "/bin/kill -HUP $MAINPID"),
                     ("StateDirectory", "tpcd"), ("LogsDirectory", "tpcd"),
                     ("ConfigurationDirectory", "tpcd"), ("ProtectSystem", "strict"),
                     ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                     ("MemoryDenyWriteExecute", "yes"), ("UMask", "0027"),
                     ("LimitNOFILE", "1048576"), ("TimeoutStopSec", "30s"),
                     ("SystemCallFilter", "sched_setscheduler setpriority setrlimit"),
                     ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6")):
            eq(s.get(k), v, k)
    sock = dict(unit_settings(os.path.join(unitdir, "tpcd.socket")))
    eq(sock["ListenStream"], "127.0.0.1:8080", "socket ListenStream")
    # the blue/green pair: same store, different ports
    ports = {}
    for inst in ("blue", "green"):
        with open(os.path.join(d, "etc/tpcd/%s.yaml" % inst)) as f:
            text = f.read()
        ports[inst] = re.search(r"^\s+port:\s*(\d+)", text, re.M).group(1)
        check(re.search(r"^state_dir: /var/lib/tpcd/store\s*$", text, re.M),
              "%s.yaml state_dir" % inst)
        check(re.search(r"^catalog: /usr/share/tpcd/schema/aggregates.yaml\s*$", text, re.M),
              "%s.yaml catalog" % inst)
    eq(ports, {"blue": "8081", "green": "8082"}, "instance ports")


def installed_config(d, name, root, port=None):
    """The installed /etc/tpcd/NAME with its absolute paths moved under root (state and
    users file) and d (the catalogue), and the port changed; returns its path."""
    with open(os.path.join(d, "etc/tpcd", name)) as f:
        text = f.read()
    text = text.replace("/usr/share/tpcd/", d + "/usr/share/tpcd/")
    text = text.replace("/var/lib/tpcd/", root + "/var/lib/tpcd/")
    text = text.replace("/etc/tpcd/users.yaml", root + "/etc/tpcd/users.yaml")
    if port is not None:
        text, n = re.subn(r"(?m)^(\s+port:\s*)\d+", r"\g<1>%d" % port, text)
        eq(n, 1, "one port in " + name)
    os.makedirs(os.path.join(root, "etc/tpcd"), exist_ok=True)
    cf = os.path.join(root, "etc/tpcd", name)
    with open(cf, "w") as f:
        f.write(text)
    return cf


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=DEADLINE, **kw)


@test
def test_installed_configs_pass_tpcd_t():
    """tpcd -t on the installed examples reports what a fresh machine lacks (the users
    file, the source) at FILE:LINE; once --init-users and --demo made them, ok."""
    d = destdir()
    tpcd = os.path.join(d, "usr/bin/tpcd")
    root = tempfile.mkdtemp(prefix="tpcd-install-cf-")
    try:
        for name in ("tpcd.yaml", "blue.yaml", "green.yaml"):
            cf = installed_config(d, name, root)
            with open(cf) as f:
                lines = f.read().split("\n")
            out = run([tpcd, "-t", "-c", cf])
            if not os.path.exists(os.path.join(root, "etc/tpcd/users.yaml")):
                eq(out.returncode, 1, "tpcd -t %s on a fresh machine" % name)
                ln = 1 + next(i for i, l in enumerate(lines) if "users_file:" in l)
                check("%s:%d: 'users_file': %s/etc/tpcd/users.yaml does not exist" %
                      (cf, ln, root) in out.stderr, out.stderr)
                ln = 1 + next(i for i, l in enumerate(lines) if l.strip().startswith("dir:"))
                check("%s:%d: 'dir': %s/var/lib/tpcd/source: No such file" % (cf, ln, root)
                      in out.stderr, out.stderr)
                r = run([tpcd, "--init-users", os.path.join(root, "etc/tpcd/users.yaml")])
                eq(r.returncode, 0, "--init-users: " + r.stderr)
                eq(run([tpcd, "-c", cf, "--demo"]).returncode, 0, "--demo")
                out = run([tpcd, "-t", "-c", cf])
            eq(out.returncode, 0, "tpcd -t %s (%s%s)" % (name, out.stdout, out.stderr))
            check(": ok (2 brands," in out.stdout, out.stdout)
    finally:
        shutil.rmtree(root)


def secrets_of(init_out):
    pw = re.search(r"admin\s+password (\S+)", init_out).group(1)
    tok = re.search(r"monitor\s+token\s+(\S+)", init_out).group(1)
    return pw, tok


class Installed:
    """The installed tpcd run on an installed configuration, as a unit would run it."""

    def __init__(self, tpcd, cf, port):
        self.cf, self.port = cf, port
        self.log = open(cf + ".log", "ab")
        self.proc = subprocess.Popen([tpcd, "-c", cf], stdout=self.log,
                                     stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("tpcd exited %d: %s" % (self.proc.returncode,
                                                           open(cf + ".log").read()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                return c.getresponse().status == 200
            except OSError:
                return False
        wait_for(up, "the installed tpcd to serve a snapshot")

    def request(self, method, path, token=None, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        h = {"Authorization": "Bearer " + token} if token else {}
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        eq(self.proc.wait(timeout=DEADLINE), 0, "tpcd exit status")
        self.log.close()
        log = open(self.cf + ".log").read()
        check("AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:])


@test
def test_installed_service_day():
    """Acceptance 1 of issue 17: install into DESTDIR, init users, start the installed
    binary on the installed production config (port changed), log in with tpcctl, read
    an aggregate, health with the monitor token, back up while serving, restore into a
    new store and serve from it with revoked credentials still refused."""
    d = destdir()
    tpcd, tpcctl = os.path.join(d, "usr/bin/tpcd"), os.path.join(d, "usr/bin/tpcctl")
    root = tempfile.mkdtemp(prefix="tpcd-install-day-")
    procs = []
    try:
        port = free_port()
        cf = installed_config(d, "tpcd.yaml", root, port)
        users = os.path.join(root, "etc/tpcd/users.yaml")
        r = run([tpcd, "--init-users", users])
        eq(r.returncode, 0, "--init-users: " + r.stderr)
        eq(stat.S_IMODE(os.stat(users).st_mode), 0o600, "users file mode")
        admin_pw, monitor_tok = secrets_of(r.stdout)
        with open(users) as f:
            check(admin_pw not in f.read() and monitor_tok not in f.read(),
                  "no secret in the file")
        eq(run([tpcd, "--init-users", users]).returncode, 1, "never overwritten")
        # two dashboard tokens, added the documented way (sha256 in the users file)
        dash = {n: "tpcdt_" + os.urandom(24).hex() for n in ("dash1", "dash2")}
        with open(users, "a") as f:
            for n, tok in dash.items():
                f.write("  - name: %s\n    sha256: %s\n    brands: [a]\n" %
                        (n, hashlib.sha256(tok.encode()).hexdigest()))
        eq(run([tpcd, "-c", cf, "--demo"]).returncode, 0, "demo data")
        eq(run([tpcd, "-t", "-c", cf]).returncode, 0, "tpcd -t")
        t = Installed(tpcd, cf, port)
        procs.append(t)
        url = "http://127.0.0.1:%d" % port
        home = os.path.join(root, "home")
        os.makedirs(home)
        env = {k: v for k, v in os.environ.items() if k not in ("TPCD_TOKEN",
                                                                "XDG_CONFIG_HOME")}
        env["HOME"] = home

        def ctl(*args, stdin=None, token=None):
            e = dict(env, TPCD_TOKEN=token) if token else env
            return run([tpcctl, "-s", url] + list(args), input=stdin, env=e)
        out = ctl("login", "admin", stdin=admin_pw + "\n")
        eq(out.returncode, 0, "tpcctl login admin: " + out.stderr)
        out = ctl("get", "a", "user_counts")
        eq(out.returncode, 0, "tpcctl get: " + out.stderr)
        check(len(out.stdout.splitlines()) > 2, "rows printed: %r" % out.stdout[:300])
        out = ctl("health", token=monitor_tok)
        eq(out.returncode, 0, "tpcctl health with the monitor token: %s%s" %
           (out.stdout, out.stderr))
        check(out.stdout.startswith("OK"), out.stdout)
        eq(t.request("POST", "/v1/swap", monitor_tok)[0], 403, "monitor may not swap")
        eq(t.request("GET", "/v1/brands/a/aggregates/user_counts", dash["dash1"])[0], 200)
        # dash1 revoked before the backup; dash2 and a session after it
        eq(t.request("POST", "/v1/tokens/dash1/revoke", token=None)[0], 401, "needs auth")
        kept = [os.path.join(dp, f) for dp, _, fs in os.walk(home) for f in fs
                 if f == "token"]
        eq(len(kept), 1, "one token kept by tpcctl login: %r" % kept)
        with open(kept[0]) as f:
            admin_tok = f.read().strip()
        eq(t.request("POST", "/v1/tokens/dash1/revoke", admin_tok)[0], 200, "revoke dash1")
        st, body = t.request("POST", "/v1/login", body='{"user":"admin","password":"%s"}'
                             % admin_pw)
        eq(st, 200, "a second admin session")
        second = __import__("json").loads(body)
        backup = os.path.join(root, "backup.mdb")
        out = ctl("backup", backup)
        eq(out.returncode, 0, "tpcctl backup: %s%s" % (out.stdout, out.stderr))
        eq(stat.S_IMODE(os.stat(backup).st_mode), 0o600, "backup mode")
        check(not os.path.exists(backup + ".tmp"), "no temporary left")
        eq(t.request("GET", "/v1/brands/a/aggregates/user_counts", dash["dash2"])[0], 200,
           "served during and after the backup")
        eq(t.request("POST", "/v1/tokens/dash2/revoke", admin_tok)[0], 200, "revoke dash2")
        eq(t.request("DELETE", "/v1/sessions/" + second["session"], admin_tok)[0], 200,
           "end the second session")
        eq(t.request("GET", "/v1/status", second["token"])[0], 401, "ended")
        t.stop()
        procs.remove(t)
        # restore into a new store: the copy, plus the revocation log kept beside it
        old_store = os.path.join(root, "var/lib/tpcd/store")
        new_root = os.path.join(root, "restored")
        new_store = os.path.join(new_root, "var/lib/tpcd/store")
        os.makedirs(new_store)
        shutil.copy(backup, os.path.join(new_store, "data.mdb"))
        shutil.copy(os.path.join(old_store, "revocations.log"), new_store)
        shutil.copytree(os.path.join(root, "var/lib/tpcd/source"),
                        os.path.join(new_root, "var/lib/tpcd/source"))
        with open(cf) as f:
            text = f.read().replace(root + "/var/lib/tpcd/", new_root + "/var/lib/tpcd/")
        cf2 = os.path.join(root, "etc/tpcd/restored.yaml")
        with open(cf2, "w") as f:
            f.write(text)
        t = Installed(tpcd, cf2, port)
        procs.append(t)
        out = ctl("get", "a", "user_counts")
        eq(out.returncode, 0, "the restored store serves: " + out.stderr)
        for name in ("dash1", "dash2"):
            eq(t.request("GET", "/v1/brands/a/aggregates/user_counts", dash[name])[0], 401,
               "%s stays revoked after the restore" % name)
        eq(t.request("GET", "/v1/status", second["token"])[0], 401,
           "the ended session stays ended")
        eq(ctl("health", token=monitor_tok).returncode, 0, "health after the restore")
        t.stop()
        procs.remove(t)
    finally:
        for p in procs:
            p.proc.kill()
            p.proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@test
def test_install_keeps_changed_config():
    d = tempfile.mkdtemp(prefix="tpcd-install-again-")
    try:
        make_install(d)
        cf = os.path.join(d, "etc/tpcd/tpcd.yaml")
        with open(cf, "a") as f:
            f.write("# a local change\n")
        with open(cf) as f:
            mine = f.read()
        out = make_install(d)
        with open(cf) as f:
            eq(f.read(), mine, "a changed /etc/tpcd/tpcd.yaml is kept")
        check(os.path.isfile(cf + ".new"), "the new one goes to tpcd.yaml.new")
        check("tpcd.yaml.new" in out.stdout, "and make install says so: %r" % out.stdout)
        check(not os.path.exists(os.path.join(d, "etc/tpcd/blue.yaml.new")),
              "an unchanged file is just reinstalled")
    finally:
        shutil.rmtree(d)


@test
def test_man_pages_render_without_warnings():
    d = destdir()
    groff, man = shutil.which("groff"), shutil.which("man")
    check(groff or man, "neither groff nor man is installed (apt-get install groff-base)")
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    for page in MAN_PAGES:
        p = os.path.join(d, "usr/share/man", page)
        if groff:
            out = subprocess.run([groff, "-ww", "-man", "-z", p], capture_output=True,
                                 text=True, env=env)
            eq((out.returncode, out.stderr), (0, ""), "groff -ww -man -z " + page)
        if man:
            out = subprocess.run([man, "--warnings", "-l", p], capture_output=True,
                                 text=True, env=env)
            eq((out.returncode, out.stderr), (0, ""), "man --warnings -l " + page)
            name = os.path.basename(page).rsplit(".", 1)[0].upper()
            check(out.stdout.lstrip().startswith(name), "%s renders: %r" %
                  (page, out.stdout[:200]))


def test_units_verify():
    """systemd-analyze verify on the installed units, with ExecStart= pointing at the
    installed binary and Documentation= looked up in the installed man pages."""
    d = destdir()
    tmp = tempfile.mkdtemp(prefix="tpcd-units-")
    try:
        for u in UNITS:
            with open(os.path.join(d, "usr/lib/systemd/system", u)) as f:
                text = f.read().replace("/usr/bin/tpcd", d + "/usr/bin/tpcd")
            with open(os.path.join(tmp, u), "w") as f:
                f.write(text)
        env = dict(os.environ, MANPATH=os.path.join(d, "usr/share/man") + ":")
        out = subprocess.run(["systemd-analyze", "verify", "tpcd.service", "tpcd.socket",
                              "tpcd@blue.service", "tpcd@green.service"], cwd=tmp,
                             capture_output=True, text=True, env=env)
        eq((out.returncode, out.stdout + out.stderr), (0, ""), "systemd-analyze verify")
        # and it does check: a unit naming a missing binary fails
        with open(os.path.join(tmp, "tpcd.service")) as f:
            text = f.read().replace(d + "/usr/bin/tpcd", "/nonexistent/tpcd")
        with open(os.path.join(tmp, "tpcd.service"), "w") as f:
            f.write(text)
        out = subprocess.run(["systemd-analyze", "verify", "tpcd.service"], cwd=tmp,
                             capture_output=True, text=True, env=env)
        check(out.returncode != 0, "verify catches a missing ExecStart binary")
    finally:
        shutil.rmtree(tmp)


# Counted only where it can run: without systemd-analyze there is nothing to verify with.
if shutil.which("systemd-analyze"):
    test(test_units_verify)
else:
    print("SKIP test_units_verify (no systemd-analyze; apt-get install systemd)")


def complete(script, words):
    """What bash completion offers for the command line `words` (the last one being
    completed), using the completion file script and tpcctl at words[0]."""
    prog = r'''
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
COMPREPLY=()
_tpcctl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''
    out = subprocess.run(["bash", "-c", prog, "bash", script] + list(words),
                         capture_output=True, text=True, timeout=30)
    eq(out.stderr, "", "completion is quiet")
    return sorted(w for w in out.stdout.split("\n") if w)


@test
def test_bash_completion():
    d = destdir()
    script = os.path.join(d, "usr/share/bash-completion/completions/tpcctl")
    out = subprocess.run(["bash", "-c", 'source "$1" && complete -p tpcctl', "bash", script],
                         capture_output=True, text=True)
    eq(out.returncode, 0, "complete -p tpcctl (%s)" % out.stderr)
    verbs = complete(script, [TPCCTL, ""])
    for v in ("status", "get", "refresh", "snapshots", "swap", "rollback", "pin", "unpin",
              "diff", "health", "brands", "aggregates"):
        check(v in verbs, "verb %s offered: %r" % (v, verbs))
    eq(complete(script, [TPCCTL, "-o", ""]), ["csv", "json", "table"], "-o values")
    check("--wait" in complete(script, [TPCCTL, "refresh", "--"]), "refresh --wait")
    check("--warning" in complete(script, [TPCCTL, "health", "--"]), "health --warning")
    # an unreachable server: nothing offered, nothing printed
    eq(complete(script, [TPCCTL, "-s", "http://127.0.0.1:1", "get", ""]), [],
       "brands of an unreachable server")
    # brands and aggregate names from a real tpcd (no snapshot needed for either)
    with Tpcd().start(wait_healthy=False) as t:
        url = "http://127.0.0.1:%d" % t.port
        eq(complete(script, [TPCCTL, "-s", url, "get", ""]), ["a", "b"], "brand ids")
        names = complete(script, [TPCCTL, "-s", url, "get", "a", ""])
        want = sorted(a["name"] for a in t.get_json("/v1/brands/a/aggregates")["aggregates"])
        eq(names, want, "aggregate names of brand a")
        eq(complete(script, [TPCCTL, "--server=" + url, "refresh", "--brand", ""]),
           ["a", "b"], "refresh --brand")


run_tests()
