"""make install: the tree it stages under DESTDIR (files and modes), the installed
configuration examples accepted by the installed tpcd, the man pages rendering without
warnings, `systemd-analyze verify` on the units (when systemd-analyze exists), and the
bash completion of tpcctl against a real tpcd."""

import atexit
import os
import re
import shutil
import stat
import subprocess
import tempfile

from harness import Tpcd, check, eq, run_tests, test, ROOT, TPCCTL

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
    eq(tpl["ExecStart"], "/usr/bin/tpcd -c /etc/tpcd/%i.yaml", "template ExecStart")
    for s in (svc, tpl):
        for k, v in (("Type", "notify"), ("NotifyAccess", "main"), ("WatchdogSec", "30s"),
                     ("Restart", "on-failure"), ("ExecReload", "/bin/kill -HUP $MAINPID"),
                     ("StateDirectory", "tpcd"), ("LogsDirectory", "tpcd"),
                     ("ConfigurationDirectory", "tpcd"), ("ProtectSystem", "strict"),
                     ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                     ("MemoryDenyWriteExecute", "yes"), ("UMask", "0027"),
                     ("LimitNOFILE", "1048576"), ("TimeoutStopSec", "30s"),
                     ("SystemCallFilter", "@system-service"),
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


@test
def test_installed_configs_pass_tpcd_t():
    """The installed tpcd accepts the installed examples (catalogue path rewritten into
    DESTDIR, where the installed catalogue is)."""
    d = destdir()
    tmp = tempfile.mkdtemp(prefix="tpcd-install-cf-")
    try:
        for name in ("tpcd.yaml", "blue.yaml", "green.yaml"):
            with open(os.path.join(d, "etc/tpcd", name)) as f:
                text = f.read().replace("/usr/share/tpcd/", d + "/usr/share/tpcd/")
            cf = os.path.join(tmp, name)
            with open(cf, "w") as f:
                f.write(text)
            out = subprocess.run([os.path.join(d, "usr/bin/tpcd"), "-t", "-c", cf],
                                 capture_output=True, text=True)
            eq(out.returncode, 0, "tpcd -t %s (%s%s)" % (name, out.stdout, out.stderr))
            check(": ok (2 brands," in out.stdout, out.stdout)
    finally:
        shutil.rmtree(tmp)


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
