# tpcd — build, run, test. Plain make + pkg-config; see README.md.
#
# `make run` installs the missing Debian packages it needs (make deps), `make test` those
# the tests need as well (make deps-test), then each re-enters make so pkg-config sees
# what was just installed.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
PYTHON	?= /usr/bin/python3
PORT	?= 8080
BRAND	?= a

# What building and running tpcd and tpcctl needs; then what only the tests need.
DEB_PKGS = build-essential pkg-config libevent-dev libcurl4-openssl-dev liblmdb-dev \
	libmsgpack-dev libyaml-dev libsystemd-dev libsqlite3-dev libjansson-dev libssl-dev \
	zlib1g-dev libdeflate-dev libcrypt-dev python3
DEB_TEST_PKGS = libcmocka-dev python3-msgpack python3-yaml curl groff-base nginx \
	valgrind prometheus chromium fonts-noto-cjk nodejs npm python3-jsonschema
NPROC	:= $(shell nproc 2>/dev/null || echo 2)
PKGS	= libevent libevent_pthreads libcurl lmdb msgpack yaml-0.1 libsystemd sqlite3 \
	jansson openssl zlib libcrypt libdeflate

WARN	= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

B	?= build
OPT	?= -O2
SAN	?=
DEFS	?=
CFLAGS	= $(BASE_CFLAGS) $(OPT) $(SAN) $(DEFS) $(PKG_CFLAGS) -Idaemon
LDFLAGS	= $(SAN)

DAEMON_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c))
DAEMON_OBJ = $(DAEMON_SRC:daemon/%.c=$(B)/daemon/%.o) $(B)/schema_ddl.o $(B)/web_assets.o \
	$(B)/openapi_json.o
CLIENT_SRC = $(wildcard client/*.c)
CLIENT_OBJ = $(CLIENT_SRC:client/%.c=$(B)/client/%.o)
# what tpcctl shares with the daemon: allocation, buffers and util.c's leaf helpers
CLIENT_DAEMON_OBJ = $(B)/daemon/xmalloc.o $(B)/daemon/buf.o $(B)/daemon/util.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps deps-test run test asan tsan check unit clean bench schema install demo \
	browser-deps vendor-web fuzz fuzz-replay fuzz-bins
FAKESNOW_SRC = $(wildcard tests/fakesnow/*.c)

all: $(B)/tpcd $(B)/tpcctl $(B)/fakesnow $(UNIT_BIN)

# apt-get install of the missing ones among $(1). A package's postinst must not start a
# service (Debian's nginx would take port 80 where systemd runs): a policy-rc.d denies it
# for the duration, unless the machine has its own. npm counts as present when the
# command is (a nodejs from elsewhere, e.g. nodesource's, ships its own and conflicts
# with Debian's npm package).
define apt_install
	@missing=$$(for p in $(1); do \
		[ $$p = npm ] && command -v npm >/dev/null && continue; \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		rc=/usr/sbin/policy-rc.d; mine=; \
		if [ ! -e $$rc ]; then \
			printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$rc >/dev/null && \
			$$SUDO chmod 755 $$rc && mine=1; \
		fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		st=$$?; [ -z "$$mine" ] || $$SUDO rm -f $$rc; \
		[ $$st = 0 ] || exit $$st; \
	fi
endef

# The browser test's client (playwright-core, pinned by tests/browser/package-lock.json):
# fetched once; with node_modules in place this needs no network.
browser-deps:
	@[ -d tests/browser/node_modules/playwright-core ] || \
		(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# Re-fetches the vendored chart library at the version pinned in web/vendor/VERSION and
# checks it against the pinned sha256.
vendor-web:
	@v=$$(sed -n 's/^version //p' web/vendor/VERSION); \
	sum=$$(sed -n 's/^sha256 //p' web/vendor/VERSION); \
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	(cd $$d && npm pack --silent chart.js@$$v >/dev/null && tar xzf chart.js-$$v.tgz) && \
	echo "$$sum  $$d/package/dist/chart.umd.min.js" | sha256sum -c --quiet && \
	cp $$d/package/dist/chart.umd.min.js web/vendor/chart.umd.min.js && \
	cp $$d/package/LICENSE.md web/vendor/LICENSE.chart.js.md && \
	echo "vendor-web: chart.js $$v in web/vendor/"

deps:
	$(call apt_install,$(DEB_PKGS))

deps-test: deps
	$(call apt_install,$(DEB_TEST_PKGS))
	@$(MAKE) -s browser-deps

# Q=@ (make run) prints one short line per file instead of the command.
Q	?=
$(B)/daemon/%.o: daemon/%.c $(wildcard daemon/*.h)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# As C strings: the source's DDL (demo.c) and the views the queries share, SQLite's
# (source_sqlite.c) and Snowflake's (ddl.c).
SQL_TO_C = sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/'
$(B)/schema_ddl.c: schema/source_sqlite.sql schema/sqlite/views.sql schema/snowflake/views.sql
	@mkdir -p $(@D)
	{ echo '/* generated from schema/source_sqlite.sql and schema/{sqlite,snowflake}/views.sql */'; \
	  echo 'extern const char source_sqlite_ddl[], source_sqlite_views[], snowflake_views[];'; \
	  echo 'const char source_sqlite_ddl[] ='; \
	  $(SQL_TO_C) schema/source_sqlite.sql; echo ';'; \
	  echo 'const char source_sqlite_views[] ='; \
	  $(SQL_TO_C) schema/sqlite/views.sql; echo ';'; \
	  echo 'const char snowflake_views[] ='; \
	  $(SQL_TO_C) schema/snowflake/views.sql; echo ';'; } > $@

$(B)/schema_ddl.o: $(B)/schema_ddl.c
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

# The dashboard (web/), compiled in: hashed asset names, gzip variants (web/embed.py).
WEB_SRC	= web/embed.py web/index.html web/app.css web/favicon.svg web/vendor/chart.umd.min.js \
	$(wildcard web/js/*.js)

$(B)/web_assets.c: $(WEB_SRC)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  EMBED   web/")
	$(Q)$(PYTHON) web/embed.py web $@

$(B)/web_assets.o: $(B)/web_assets.c daemon/web_assets.h
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The OpenAPI document, YAML in schema/, served as JSON by GET /v1/openapi.json.
$(B)/openapi_json.c: schema/openapi.yaml
	@mkdir -p $(@D)
	$(PYTHON) -c 'import json, sys, yaml; \
	d = json.dumps(yaml.safe_load(open(sys.argv[1])), separators=(",", ":"), \
	    ensure_ascii=False).encode(); \
	print("/* generated from schema/openapi.yaml */\n#include <stddef.h>\n" \
	    "extern const unsigned char openapi_json[];\nextern const size_t openapi_json_len;\n" \
	    "const unsigned char openapi_json[] = {" + ",".join(str(b) for b in d) + "};\n" \
	    "const size_t openapi_json_len = %d;" % len(d))' $< > $@.tmp && mv $@.tmp $@

$(B)/openapi_json.o: $(B)/openapi_json.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tpcd: $(B)/daemon/main.o $(DAEMON_OBJ)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/client/%.o: client/%.c $(wildcard client/*.h) daemon/tpcd.h
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tpcctl: $(CLIENT_OBJ) $(CLIENT_DAEMON_OBJ)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The fake Snowflake SQL API the tests run tpcd against (tests/fakesnow/README.md).
$(B)/fakesnow: $(FAKESNOW_SRC) tests/fakesnow/fakesnow.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(OPT) $(SAN) $(PKG_CFLAGS) -Itests/fakesnow $(LDFLAGS) -o $@ \
	    $(FAKESNOW_SRC) $(PKG_LIBS)

# The unit tests share tests/unit/fixture.c (temporary directories, a case filter).
$(B)/tests/fixture.o: tests/unit/fixture.c tests/unit/fixture.h daemon/tpcd.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c tests/unit/fixture.h $(B)/tests/fixture.o $(DAEMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/tests/fixture.o $(DAEMON_OBJ) $(PKG_LIBS) \
	    -lcmocka

# Sanitizer builds check the thread contract too (TPCD_THREAD_CHECKS: a store write
# from a serving thread aborts the daemon).
asan:
	$(MAKE) B=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    DEFS=-DTPCD_THREAD_CHECKS all fuzz-replay

# ThreadSanitizer: build/tsan, then the integration tests that run the refresh thread,
# reloads (SIGHUP under load), the writer and hashing pools and two serving threads at
# once: test_never_waits.py (its catalogue is small enough for TSan's ~10x; the demo
# catalogue of test_service.py is not, within its deadlines). Any race report fails it
# (halt_on_error, and the harness looks for "WARNING: ThreadSanitizer" in the log);
# tests/tsan.supp names third-party code only.
TSAN_TESTS ?= tests/integration/test_never_waits.py
tsan:
	$(MAKE) B=build/tsan OPT=-O1 SAN="-fsanitize=thread -fno-omit-frame-pointer" \
	    DEFS=-DTPCD_THREAD_CHECKS build/tsan/tpcd
	@$(MAKE) -s all
	@rc=0; for t in $(TSAN_TESTS); do \
		TPCD_BIN=build/tsan/tpcd TPCD_TSAN=1 TPCD_TEST_DEADLINE=180 \
		TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		$(PYTHON) $$t || rc=1; \
	done; \
	if [ $$rc -ne 0 ]; then echo "make tsan: FAILED"; exit 1; fi; echo "make tsan: no races"

# ---- fuzzing (tests/fuzz/README.md) ----
# The targets link with libFuzzer (make fuzz: clang, into build/fuzz/) or with
# tests/fuzz/replay.c (make asan: $(B)/fuzz/replay_*, which make test runs over the corpora).
FUZZ_TARGETS = config users catalog sfdecode sfresult router tpcctl
FUZZ_SECONDS ?= 60
FUZZ_NICE ?= nice -n 10
FUZZ_ARGS ?=
FUZZ_CFLAGS = -Itests/fuzz -DFUZZ_SRCDIR='"$(CURDIR)"'
# The daemon's targets link its objects; tpcctl's links the client's but tpcctl.o (main and
# the command line: the target sets up what they would), with what it shares of the daemon.
FUZZ_OBJ = $(if $(filter tpcctl,$*),$(filter-out $(B)/client/tpcctl.o,$(CLIENT_OBJ)) \
	$(CLIENT_DAEMON_OBJ),$(DAEMON_OBJ))

fuzz-replay: $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)
fuzz-bins: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(DAEMON_OBJ) \
    $(CLIENT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_OBJ) \
	    $(PKG_LIBS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(DAEMON_OBJ) $(CLIENT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
	    $(PKG_LIBS)

# make fuzz FUZZ_SECONDS=N [FUZZ_TARGETS="config users"]: each target for N seconds, niced,
# from its seeds (tests/fuzz/corpus/T, never written) plus what earlier runs found
# (build/fuzz/corpus/T); crashes land in build/fuzz/artifacts/. Ends with one line per target.
fuzz:
	$(MAKE) B=build/fuzz CC=clang OPT=-O1 SAN="-fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-format-nonliteral" \
	    FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins
	@mkdir -p build/fuzz/artifacts; rc=0; \
	for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		ASAN_OPTIONS=detect_leaks=1 $(FUZZ_NICE) build/fuzz/fuzz/fuzz_$$t $$dict \
		    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=build/fuzz/artifacts/$$t- $(FUZZ_ARGS) \
		    build/fuzz/corpus/$$t tests/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1 \
		    || rc=1; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$$t.log); \
		cov=$$(grep -o 'cov: [0-9]*' build/fuzz/$$t.log | tail -1); \
		found=$$(ls build/fuzz/artifacts | grep -c "^$$t-"); \
		echo "fuzz $$t: $${runs:-?} executions, $${cov:-cov: ?}, $$found artifacts" \
		    "(log build/fuzz/$$t.log)"; \
	done; exit $$rc

# The demo store: deterministic data for every brand of etc/tpcd.yaml.
demo: all
	$(B)/tpcd -c etc/tpcd.yaml --demo

# Builds only what it runs (tpcd, tpcctl), on every core, one line per file.
run:
	@$(MAKE) -s deps
	@echo "make run: building tpcd and tpcctl ($(NPROC) jobs)"
	@$(MAKE) -s --no-print-directory -j$(NPROC) Q=@ $(B)/tpcd $(B)/tpcctl
	@$(B)/tpcd -c etc/tpcd.yaml --demo
	@echo
	@echo "tpcd: starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	@echo "  dashboard: open http://127.0.0.1:$(PORT)/ in a browser and log in as"
	@echo "  brand_a_user or admin with a password printed above"
	@echo "  curl with the dashboard token printed above, or log in (password above):"
	@echo "  $(B)/tpcctl login brand_a_user && $(B)/tpcctl get a mau_users"
	@echo "  $(B)/tpcctl login admin && $(B)/tpcctl status"
	@echo
	exec $(B)/tpcd -c etc/tpcd.yaml

# Each phase prints its wall time ("phase X: Ns") for whoever reads a slow CI log. The
# normal and the sanitizer build share one job server, as many jobs as processors.
test:
	@t=$$(date +%s); $(MAKE) -s deps-test && echo "phase deps: $$(($$(date +%s) - t))s"
	@t=$$(date +%s); $(MAKE) -s -j$(NPROC) all asan && \
		echo "phase build (normal and asan): $$(($$(date +%s) - t))s"
	@PYTHON=$(PYTHON) bash tests/run.sh

# tpcd against Debian's nginx serving the same bytes, restart time, idle connections,
# Snowflake ingest (tests/bench/bench.py; figures with targets, not a test).
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="-d 2 -r 2 --only serve".
bench:
	@$(MAKE) -s deps && $(MAKE) -s all && \
	{ missing=$$(for p in wrk nginx; do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	  if [ -n "$$missing" ]; then \
		echo "make bench: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null; \
	  fi; } && \
	$(PYTHON) tests/bench/bench.py $(BENCH_ARGS)

schema: all
	@$(B)/tpcd -c etc/tpcd.yaml --print-ddl $(BRAND)

clean:
	rm -rf build

# ---- install (PREFIX=/usr DESTDIR=/tmp/stage make install) ----
# Binaries in $(PREFIX)/bin, as the units' ExecStart= expects; the units, configuration
# examples and man pages get $(PREFIX) substituted for /usr when it differs. Files under
# /etc are not overwritten on a live system: a changed one is installed as FILE.new.
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share/tpcd
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR	?= $(PREFIX)/share/doc/tpcd
SYSCONFDIR ?= /etc
INSTALL	?= install
SUBST	= sed -e 's|/usr/bin/tpc|$(BINDIR)/tpc|g' -e 's|/usr/share/tpcd|$(DATADIR)|g'
UNITS	= systemd/tpcd.service systemd/tpcd.socket systemd/tpcd@.service
SCHEMA_FILES = schema/aggregates.yaml schema/source_sqlite.sql $(wildcard schema/sqlite/*.sql) \
	$(wildcard schema/snowflake/*.sql)

install: $(B)/tpcd $(B)/tpcctl
	$(INSTALL) -D -m 0755 $(B)/tpcd $(DESTDIR)$(BINDIR)/tpcd
	$(INSTALL) -D -m 0755 $(B)/tpcctl $(DESTDIR)$(BINDIR)/tpcctl
	$(INSTALL) -D -m 0644 systemd/tpcd.sysusers $(DESTDIR)$(SYSUSERSDIR)/tpcd.conf
	for f in $(SCHEMA_FILES); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DATADIR)/$$f || exit 1; \
	done
	$(INSTALL) -D -m 0644 etc/bash-completion/tpcctl $(DESTDIR)$(BASHCOMPDIR)/tpcctl
	$(INSTALL) -D -m 0644 etc/nginx/tpcd.conf $(DESTDIR)$(DOCDIR)/examples/nginx-tpcd.conf
	$(INSTALL) -D -m 0644 systemd/README.md $(DESTDIR)$(DOCDIR)/README.systemd.md
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for p in $(UNITS:%=%:$(UNITDIR)) man/tpcctl.1:$(MANDIR)/man1 \
	    man/tpcd.yaml.5:$(MANDIR)/man5 man/tpcd.8:$(MANDIR)/man8; do \
		src=$${p%%:*}; dst=$(DESTDIR)$${p#*:}/$${src##*/}; \
		$(SUBST) $$src > $$tmp/file || exit 1; \
		echo "$(INSTALL) -D -m 0644 $$src $$dst"; \
		$(INSTALL) -D -m 0644 $$tmp/file $$dst || exit 1; \
	done && \
	for p in tpcd-production.yaml:tpcd/tpcd.yaml tpcd-blue.yaml:tpcd/blue.yaml \
	    tpcd-green.yaml:tpcd/green.yaml logrotate.d/tpcd:logrotate.d/tpcd; do \
		src=etc/$${p%%:*}; dst=$(DESTDIR)$(SYSCONFDIR)/$${p#*:}; \
		$(SUBST) $$src > $$tmp/conf || exit 1; \
		if [ -e $$dst ] && ! cmp -s $$tmp/conf $$dst; then \
			echo "install: $$dst exists and differs; installing $$dst.new"; \
			dst=$$dst.new; \
		fi; \
		echo "$(INSTALL) -D -m 0644 $$src $$dst"; \
		$(INSTALL) -D -m 0644 $$tmp/conf $$dst || exit 1; \
	done

# systemd-analyze verify on copies of the units whose ExecStart= point at the build
# output (verify insists that the binaries exist), with the man pages of Documentation=
# looked up in man/. TPCD_BIN may name another tpcd binary to point them at.
TPCD_BIN ?= $(B)/tpcd
.PHONY: verify-units
verify-units: $(TPCD_BIN)
	@command -v systemd-analyze >/dev/null || \
		{ echo "verify-units: systemd-analyze not found (apt-get install systemd)"; exit 1; }
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	mkdir -p $$d/units $$d/man/man1 $$d/man/man5 $$d/man/man8 && \
	cp man/tpcctl.1 $$d/man/man1/ && cp man/tpcd.yaml.5 $$d/man/man5/ && \
	cp man/tpcd.8 $$d/man/man8/ && \
	for u in $(UNITS); do \
		sed 's|/usr/bin/tpcd|$(abspath $(TPCD_BIN))|g' $$u > $$d/units/$${u##*/}; \
	done && \
	cd $$d/units && MANPATH=$$d/man: systemd-analyze verify tpcd.service tpcd.socket \
		tpcd@blue.service tpcd@green.service > $$d/out 2>&1; rc=$$?; cat $$d/out; \
	if [ $$rc -ne 0 ] || [ -s $$d/out ]; then echo "verify-units: FAILED"; exit 1; fi; \
	echo "verify-units: tpcd.service tpcd.socket tpcd@.service ok"
