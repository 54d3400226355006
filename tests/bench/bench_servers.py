"""The two servers the bench drives: tpcd (its configuration written into its own
directory, checked with `tpcd -t`, started and stopped) and Debian's nginx serving the
same bytes for comparison. Knows no cell and measures nothing itself."""

import hashlib
import os
import resource
import shutil
import signal
import socket
import subprocess

from bench_lib import (ARGS, BRANDS, THREADS, TOKEN, TPCD, children, free_port, get,
                       spawn, stop, wait_for)

class Tpcd:
    def __init__(self, work, name, catalog, source=None, brands=BRANDS, source_dir=None,
                 checked=True):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.catalog = catalog
        self.source = source
        self.brands = brands
        self.port = free_port()
        self.config = os.path.join(self.dir, "tpcd.yaml")
        self.log = os.path.join(self.dir, "tpcd.log")
        self.source_dir = source_dir or os.path.join(self.dir, "source")
        self.proc = None
        self.wrap = []		# a command tpcd runs under (bench_profile: perf record)
        self.notes = []
        self.auth = True
        self.max_conns = True
        # `tpcd -t` wants the SQLite files: checked=False when `tpcd --demo` creates them
        # with this configuration first (the caller runs choose_config() afterwards)
        if checked:
            self.choose_config()
        else:
            self.write()

    def write(self):
        lines = ["listen:", "  address: 127.0.0.1", "  port: %d" % self.port,
                 "  threads: %d" % THREADS, "state_dir: %s" % os.path.join(self.dir, "store")]
        # a 10 M-row aggregate's record is 1.4 GB: the default 1 GiB map cannot hold it
        # (LMDB reserves the address space only; the file grows with what is written)
        lines += ["store:", "  map_size_mb: 16384"]
        lines += (self.source.rstrip("\n").split("\n") if self.source else
                  ["source:", "  type: sqlite", "  sqlite:", "    dir: %s" % self.source_dir])
        lines += ["catalog: %s" % self.catalog, "refresh_interval: 3600", "log_level: info",
                  "http:", "  timeout: 300"]
        if self.max_conns:
            lines.append("  max_connections: 20000")
        lines.append("brands:")
        for bid, schema in self.brands:
            lines += ["  - id: %s" % bid, "    name: Brand %s" % bid.upper(),
                      "    schema: %s" % schema]
        if self.auth:
            lines += ["auth:", "  tokens:", "    - name: bench",
                      "      sha256: %s" % hashlib.sha256(TOKEN.encode()).hexdigest(),
                      "      role: admin"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config, 0o600)	# inline tokens: private, as tpcd requires

    def check(self):
        self.write()
        r = subprocess.run([TPCD, "-t", "-c", self.config], capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    def choose_config(self):
        """The full configuration, or without what this build of tpcd does not know yet."""
        ok, msg = self.check()
        if ok:
            return
        first = msg
        for auth, maxc in ((True, False), (False, True), (False, False)):
            self.auth, self.max_conns = auth, maxc
            ok, msg = self.check()
            if ok:
                if not auth:
                    self.notes.append("tpcd -t refused the auth: block (%s): running "
                                      "WITHOUT authentication" % first.splitlines()[-1])
                if not maxc:
                    self.notes.append("tpcd -t refused http.max_connections: running "
                                      "with its default")
                return
        raise RuntimeError("tpcd -t refuses the bench configuration:\n" + first)

    def start(self, wait=True):
        self.proc = spawn(self.wrap + [TPCD, "-c", self.config], "tpcd", log=self.log)
        if wait:
            self.wait_healthy()
        return self.proc

    def alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("tpcd exited with %d:\n%s" % (self.proc.returncode,
                                                             self.tail()))
        return True

    def wait_healthy(self, deadline=300):
        def ok():
            self.alive()
            try:
                return get(self.port, "/healthz", token=None)[0] == 200
            except OSError:
                return False
        wait_for(ok, "tpcd to publish a snapshot", deadline=deadline)

    def stop(self):
        rc = 0
        if self.proc:
            rc = stop(self.proc)
            self.proc = None
        return rc

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    @property
    def pids(self):
        return [self.proc.pid]


class Nginx:
    def __init__(self, work, html, workers):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.port = free_port()
        self.bin = shutil.which("nginx") or "/usr/sbin/nginx"
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        d = self.dir
        conf = """\
%(user)sworker_processes %(workers)d;
worker_rlimit_nofile %(nofile)d;
pid %(d)s/nginx.pid;
error_log %(d)s/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path %(d)s/client_body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    keepalive_requests 10000000;
    keepalive_timeout 300;
    gzip_static on;
    default_type application/json;
    server {
        listen 127.0.0.1:%(port)d reuseport;
        root %(html)s;
    }
}
""" % {"user": "user root;\n" if os.geteuid() == 0 else "", "workers": workers,
       "nofile": nofile, "d": d, "port": self.port, "html": html}
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None
        self.pids = []

    def start(self):
        base = [self.bin, "-p", self.dir, "-e", os.path.join(self.dir, "logs", "error.log"),
                "-c", self.conf]
        r = subprocess.run(base + ["-t"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx -t:\n" + r.stdout + r.stderr)
        self.proc = spawn(base + ["-g", "daemon off;"], "nginx",
                          log=os.path.join(self.dir, "logs", "stderr.log"))

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with %d" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return len(children(self.proc.pid)) >= ARGS.threads
        wait_for(up, "nginx to listen")
        self.pids = [self.proc.pid] + children(self.proc.pid)

    def stop(self):
        if self.proc:
            stop(self.proc, sig=signal.SIGQUIT)
            self.proc = None
