"""The HTTP server's limits, each at its edge: header and body size, the idle timeout, the
deadlines on a request's head and body (slow clients cut while a healthy one is served),
the connection cap (the oldest idle connection makes room; with none idle a new one is
refused), descriptor exhaustion under a low `ulimit -n` (no spin, no log flood, serving
again once descriptors free up), one daemon per address, a SIGTERM that finishes after
clients reset mid-body, and requests libevent refuses on its own answered in JSON and
audited."""

import http.client
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import time

from harness import (demo_workdir as demo_copy, DEADLINE, TPCD, Tpcd, check, eq, run_tests,
                     socket_activation, test, wait_for)
import harness


ONE_BRAND = (("a", "brand_a"),)	# half the refresh: daemons start faster under ASan


def audit_lines(t):
    try:
        with open(os.path.join(t.workdir, "store", "audit.log")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def refused(t, status):
    return [a for a in audit_lines(t) if a.get("event") == "refused"
            and a.get("status") == status]


def audited_so_far(t):
    """Waits until every audit line queued so far is in the file: the audit thread writes
    them in order, so once a denial made now (written at once) is there, so are they."""
    n = len(denied(t))
    eq(t.get("/v1/status", token=None).status, 401, "the marker request is denied")
    wait_for(lambda: len(denied(t)) > n, "the marker's denied line in the audit log")


def denied(t):
    return [a for a in audit_lines(t) if a.get("event") == "denied"]


def head_read(port, clients):
    """True once the daemon has accepted each of clients' connections to port and read
    every byte they sent (the kernel's receive queue of its end, in /proc/net/tcp, is
    empty), so it knows each one's request is under way."""
    ends = {("%04X" % port, "%04X" % c.getsockname()[1]) for c in clients}
    empty = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fld = line.split()
                    lport, rport = fld[1].rsplit(":", 1)[1], fld[2].rsplit(":", 1)[1]
                    rxq = int(fld[4].split(":")[1], 16)
                    if (lport, rport) in ends and fld[3] == "01" and rxq == 0:
                        empty.add((lport, rport))
        except OSError:
            pass
    return empty == ends


def raw(port, data, timeout=DEADLINE):
    """Sends data on a fresh connection and reads until the server closes it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        return got
    finally:
        s.close()


def parse(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return int(lines[0].split()[1]), headers, body


def closed_by_server(s, deadline):
    """Waits (bounded) until the server closes s: True, or False at the deadline."""
    s.settimeout(0.2)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


REQUEST_LIMITS = ("http:\n  max_header_size: 2048\n  max_body_size: 1024\n  timeout: 2\n"
                  "  header_timeout: 2\n  body_timeout: 2\n")


@test
def test_request_limits():
    """One daemon (starting one costs seconds under ASan) for every per-request limit."""
    with Tpcd(workdir=demo_copy(), brands=ONE_BRAND, threads=1,
              extra=REQUEST_LIMITS).start() as t:
        header_and_body_size(t)
        libevent_refusals(t)
        idle_timeout(t)
        slow_head_and_slow_body(t)


def header_and_body_size(t):
    big = "x" * 4096
    head, headers, body = parse(raw(t.port, ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                             "X-Big: %s\r\n\r\n" % big).encode()))
    check(head in (400, 413), "an oversized head is refused: %d" % head)
    check(headers["content-type"].startswith("application/json"), headers)
    eq(json.loads(body)["error"]["status"], head)
    # just under the limit: served
    eq(t.get("/healthz", {"X-Fill": "y" * 1500}).status, 200, "a head under the limit")
    # a body one byte over the limit
    status, headers, body = parse(raw(t.port, (
        "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 1025\r\n\r\n").encode() + b"{" * 1025))
    eq(status, 413, "a body over http.max_body_size")
    eq(json.loads(body)["error"]["code"], "too_large")
    eq(headers["connection"], "close")
    # at the limit: reaches the router (which answers for itself, not 413)
    r = t.request("POST", "/v1/login", {"Content-Type": "application/json"},
                  body=b" " * 1024, token=None)
    check(r.status != 413, "a body at the limit reaches the router: %d" % r.status)
    wait_for(lambda: len(refused(t, 413)) >= 1 and len(refused(t, head)) >= 1,
             "the refusals in the audit log")
    audited_so_far(t)
    eq(len(refused(t, 413)) + (len(refused(t, 400)) if head == 400 else 0), 2,
       "each refusal audited once: %r" % audit_lines(t))


def libevent_refusals(t):
    """Requests libevent refuses itself: JSON, Connection: close, one audit line each."""
    before = (len(refused(t, 400)), len(refused(t, 501)))
    for req, status, code in (
            (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request"),
            (b"BLAH / HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not_implemented")):
        got, headers, body = parse(raw(t.port, req))
        eq(got, status, repr(req))
        check(headers["content-type"].startswith("application/json"), headers)
        err = json.loads(body)["error"]
        eq((err["status"], err["code"]), (status, code))
        eq(int(headers["content-length"]), len(body))
        eq(headers["connection"], "close")
        n = before[0 if status == 400 else 1] + 1
        wait_for(lambda: len(refused(t, status)) == n, "an audit line for the %d" % status)
        a = refused(t, status)[-1]
        eq(a["addr"], "127.0.0.1")
        check(a.get("reason"), a)
    audited_so_far(t)
    eq((len(refused(t, 400)), len(refused(t, 501))), (before[0] + 1, before[1] + 1),
       "each audited once")
    eq(t.get("/healthz").status, 200, "still serving")


def idle_timeout(t):
    s = socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    check(b" 200 " in got.split(b"\r\n")[0], got)
    t0 = time.monotonic()
    check(closed_by_server(s, DEADLINE), "the idle connection was closed")
    check(time.monotonic() - t0 >= 1.5, "not before http.timeout")
    s.close()


def slow_head_and_slow_body(t):
    """One byte every 0.25 s: never idle (http.timeout 2), cut at their 2 s deadlines."""
    before = len(refused(t, 408))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"
    slow_head = socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
    slow_body = socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
    slow_body.sendall(b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 500\r\n\r\n")
    healthy = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
    t0 = time.monotonic()
    cut = {}
    slow_head.setblocking(True)
    # one byte from each slow client every 0.25 s: never idle, never finished
    for i in range(400):
        for name, s, data in (("head", slow_head, head), ("body", slow_body, b"{" * 500)):
            if name in cut:
                continue
            try:
                s.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut[name] = time.monotonic() - t0
        eq(t.get("/healthz", conn=healthy).status, 200, "the healthy client is served")
        if len(cut) == 2 or time.monotonic() - t0 > DEADLINE:
            break
        time.sleep(0.25)
    for name, s in (("head", slow_head), ("body", slow_body)):
        if name not in cut and closed_by_server(s, 5):
            cut[name] = time.monotonic() - t0
        s.close()
    check("head" in cut and "body" in cut, "both slow clients were cut: %r" % cut)
    check(1.5 <= cut["head"] <= 10, "the head cut near http.header_timeout: %r" % cut)
    check(1.5 <= cut["body"] <= 10, "the body cut near http.body_timeout: %r" % cut)
    wait_for(lambda: len(refused(t, 408)) == before + 2, "both cuts audited (408)")
    reasons = sorted(a["reason"] for a in refused(t, 408)[before:])
    check("body" in reasons[0] and "head" in reasons[1], reasons)
    healthy.close()


@test
def test_connections_beyond_the_cap():
    with Tpcd(workdir=demo_copy(), brands=ONE_BRAND, threads=1,
              extra="http:\n  max_connections: 3\n  header_timeout: 60\n").start() as t:
        # three connections in the middle of a request: none idle
        busy = [socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
                for _ in range(3)]
        for s in busy:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        wait_for(lambda: head_read(t.port, busy), "the three requests under way")
        s = socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        status, headers, body = parse(got)
        eq(status, 503, "the fourth connection is refused at once")
        eq(json.loads(body)["error"]["code"], "too_many_connections")
        eq(headers["connection"], "close")
        # one of them finishes its request: it is served, then idle; room for one more
        busy[0].sendall(b"\r\n")
        check(b" 200 " in busy[0].recv(4096).split(b"\r\n")[0], "the busy one is served")
        eq(t.get("/healthz").status, 200, "a new connection takes the idle one's place")
        check(closed_by_server(busy[0], DEADLINE), "the oldest idle connection was closed")
        for s in busy:
            s.close()
        wait_for(lambda: t.get("/healthz").status == 200, "the busy ones gone")
        idle = [http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
                for _ in range(3)]
        for c in idle:
            eq(t.get("/healthz", conn=c).status, 200)
        eq(t.get("/healthz").status, 200, "a fourth connection is served")
        check(closed_by_server(idle[0].sock, DEADLINE), "the oldest idle one made room")
        for c in idle[1:]:
            eq(t.get("/healthz", conn=c).status, 200, "the younger idle ones still work")
        for c in idle:
            c.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LimitedTpcd(Tpcd):
    """A tpcd started with RLIMIT_NOFILE = nofile (soft and hard), as `ulimit -n` does."""

    def __init__(self, nofile, **kw):
        Tpcd.__init__(self, **kw)
        self.nofile = nofile

    def start(self, wait_healthy=True):
        self.port = harness.free_port()
        self.write_config()
        self.log = open(self.logpath, "ab")
        n = self.nofile
        self.proc = subprocess.Popen([TPCD, "-c", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=lambda:
                                     resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)))
        self.wait_listening()
        if wait_healthy:
            self.wait_healthy()
        return self


@test
def test_descriptor_exhaustion_pauses_accept():
    with LimitedTpcd(96, workdir=demo_copy(), brands=ONE_BRAND, threads=1,
                     extra="http:\n  header_timeout: 120\n  timeout: 120\n").start() as t:
        pid = t.proc.pid
        used = len(os.listdir("/proc/%d/fd" % pid))
        hogs = []
        # every free descriptor, and 40 more that wait in the backlog
        for _ in range(96 - used + 40):
            hogs.append(socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE))
        wait_for(lambda: "Too many open files" in t.read_log(), "accept to hit EMFILE")
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(3)
        cpu = cpu_seconds(pid) - cpu0
        check(cpu < 0.5 * (time.monotonic() - t0),
              "no spin while out of descriptors: %.2f s of CPU in 3 s" % cpu)
        lines = [l for l in t.read_log().splitlines() if "Too many open files" in l]
        check(1 <= len(lines) <= 3, "a bounded log: %d lines" % len(lines))
        for s in hogs:
            s.close()
        wait_for(lambda: t.get("/healthz").status == 200,
                 "serving again once descriptors are free")


def start_raw(config, pass_fd=None, reuse_port_sock=None):
    """Runs tpcd -c config (optionally on an inherited socket); returns the Popen."""
    log = open(config + ".log", "ab")
    if pass_fd is None:
        return subprocess.Popen([TPCD, "-c", config], stdout=log, stderr=subprocess.STDOUT)

    return subprocess.Popen([TPCD, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=socket_activation(pass_fd), close_fds=False)


def activated_socket(port, reuseport):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def second_refused(first, cmd_sock=None):
    """A second tpcd (its own directory) on first's port: exits 1, 'address in use'."""
    other = Tpcd(workdir=demo_copy(), brands=ONE_BRAND, threads=2)
    other.port = first.port
    other.write_config()
    try:
        p = start_raw(other.config, pass_fd=cmd_sock.fileno() if cmd_sock else None)
        if cmd_sock is not None:
            cmd_sock.close()
        rc = p.wait(timeout=DEADLINE)
        with open(other.config + ".log", errors="replace") as f:
            log = f.read()
        eq(rc, 1, "the second instance's exit code")
        check("address already in use" in log, "its message: " + log[-500:])
    finally:
        import shutil
        shutil.rmtree(other.workdir, ignore_errors=True)
    eq(first.get("/healthz").status, 200, "the first keeps serving")


@test
def test_one_daemon_per_address():
    # plain, then plain
    with Tpcd(workdir=demo_copy(), brands=ONE_BRAND).start() as t:
        second_refused(t)
        # plain, then socket-activated (systemd's socket with ReusePort=yes)
        second_refused(t, activated_socket(t.port, reuseport=True))
        for _ in range(20):
            eq(t.get("/healthz").status, 200, "every request answered by the first")
    # socket-activated first, then plain
    t = Tpcd(workdir=demo_copy(), brands=ONE_BRAND)
    t.port = harness.free_port()
    t.write_config()
    lsock = activated_socket(t.port, reuseport=False)
    t.log = open(t.logpath, "ab")
    fd = lsock.fileno()
    t.proc = subprocess.Popen([TPCD, "-c", t.config], stdout=t.log, stderr=subprocess.STDOUT,
                              preexec_fn=socket_activation(fd), close_fds=False)
    lsock.close()
    try:
        t.wait_healthy()
        second_refused(t)
    finally:
        t.close()




@test
def test_resets_mid_body_then_sigterm_exits_at_once():
    work = demo_copy()
    catalog = harness.big_catalog(work, 2)
    t = Tpcd(workdir=work, brands=ONE_BRAND, threads=1,
             catalog=catalog,
             extra="shutdown_timeout: 60\nhttp:\n  timeout: 120\n")
    t.start()
    try:
        path = "/v1/brands/a/aggregates/order_lines"
        size = len(t.get(path).body)
        check(size > 2 << 20, "a body larger than a small socket's buffers (%d)" % size)
        req = ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" %
               (path, harness.ADMIN_TOKEN)).encode()
        for batch in range(6):
            socks = []
            for _ in range(50):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", t.port))
                s.sendall(req)
                socks.append(s)
            for s in socks:			# the body has begun: reset in the middle of it
                s.settimeout(DEADLINE)
                check(s.recv(1024), "a response started")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
        eq(t.get("/healthz").status, 200, "still serving after 300 resets")
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        rc = t.proc.wait(timeout=DEADLINE)
        took = time.monotonic() - t0
        eq(rc, 0, "exit code")
        check(took < 5, "SIGTERM exits at once, not after shutdown_timeout: %.1f s" % took)
        check("still in flight" not in t.read_log(), "nothing left in flight")
    finally:
        t.close()


if __name__ == "__main__":
    run_tests()
