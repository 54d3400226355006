# tpcd — build, run, test. Plain make + pkg-config; see README.md.
#
# `make run` and `make test` install missing Debian packages first (make deps), then
# re-enter make so pkg-config sees what was just installed.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
PYTHON	?= /usr/bin/python3
PORT	?= 8080
BRAND	?= a

DEB_PKGS = build-essential pkg-config libevent-dev libcurl4-openssl-dev liblmdb-dev \
	libmsgpack-dev libyaml-dev libsystemd-dev libsqlite3-dev libjansson-dev libssl-dev \
	zlib1g-dev libcrypt-dev libcmocka-dev python3 python3-msgpack curl
PKGS	= libevent libevent_pthreads libcurl lmdb msgpack yaml-0.1 libsystemd sqlite3 \
	jansson openssl zlib libcrypt

WARN	= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

B	?= build
OPT	?= -O2
SAN	?=
CFLAGS	= $(BASE_CFLAGS) $(OPT) $(SAN) $(PKG_CFLAGS) -Idaemon
LDFLAGS	= $(SAN)

DAEMON_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c))
DAEMON_OBJ = $(DAEMON_SRC:daemon/%.c=$(B)/daemon/%.o) $(B)/schema_ddl.o
CLIENT_SRC = $(wildcard client/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps run test asan check unit clean bench schema install demo
all: $(B)/tpcd $(B)/tpcctl $(UNIT_BIN)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(B)/daemon/%.o: daemon/%.c daemon/tpcd.h daemon/yamldoc.h daemon/http.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/schema_ddl.c: schema/source_sqlite.sql
	@mkdir -p $(@D)
	{ echo '/* generated from schema/source_sqlite.sql */'; \
	  echo 'extern const char source_sqlite_ddl[];'; \
	  echo 'const char source_sqlite_ddl[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(B)/schema_ddl.o: $(B)/schema_ddl.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(B)/tpcd: $(B)/daemon/main.o $(DAEMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tpcctl: $(CLIENT_SRC) daemon/tpcd.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLIENT_SRC) $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(DAEMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(DAEMON_OBJ) $(PKG_LIBS) -lcmocka

asan:
	$(MAKE) B=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" all

# The demo store: deterministic data for every brand of etc/tpcd.yaml.
demo: all
	$(B)/tpcd -c etc/tpcd.yaml --demo

run:
	@$(MAKE) -s deps
	@$(MAKE) -s all
	@$(B)/tpcd -c etc/tpcd.yaml --demo
	@echo
	@echo "tpcd: starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	@echo "  curl -s http://127.0.0.1:$(PORT)/v1/brands/a/aggregates/mau_users"
	@echo "  $(B)/tpcctl get a mau_users"
	@echo "  $(B)/tpcctl status"
	@echo
	exec $(B)/tpcd -c etc/tpcd.yaml

test:
	@$(MAKE) -s deps
	@$(MAKE) -s all
	@$(MAKE) -s asan
	@PYTHON=$(PYTHON) bash tests/run.sh

schema: all
	@$(B)/tpcd -c etc/tpcd.yaml --print-ddl $(BRAND)

clean:
	rm -rf build
