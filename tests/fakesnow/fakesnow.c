/* fakesnow main: command line, start-up (database, key, listener, port
 * announcement) and clean shutdown on SIGTERM/SIGINT.
 * Usage: see usage() below and README.md.
 */
#include "fakesnow.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fakesnow FS;

static void
usage(void)
{
	fprintf(stderr, "usage: fakesnow --port N --db FILE --public-key PEM --account ACCT --user USER\n"
	    "        [--token TOKEN] [--partition-rows N] [--async-polls N] [--port-file F]\n"
	    "        [--retention-days N]\n");
	exit(2);
}

static int
int_arg(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		usage();
	return (int)v;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "db", required_argument, NULL, 'd' },
		{ "public-key", required_argument, NULL, 'k' },
		{ "account", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "partition-rows", required_argument, NULL, 'r' },
		{ "async-polls", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "retention-days", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	FS.cfg.port = -1;
	FS.cfg.partition_rows = 1000;
	FS.cfg.retention_days = 1;	/* Snowflake's default */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': FS.cfg.port = int_arg(optarg, 0, 65535); break;
		case 'd': FS.cfg.db_path = optarg; break;
		case 'k': FS.cfg.pubkey_path = optarg; break;
		case 'a': FS.cfg.account = optarg; break;
		case 'u': FS.cfg.user = optarg; break;
		case 't': FS.cfg.token = optarg; break;
		case 'r': FS.cfg.partition_rows = int_arg(optarg, 1, 10000000); break;
		case 's': FS.cfg.async_polls = int_arg(optarg, 0, 1000); break;
		case 'f': FS.cfg.port_file = optarg; break;
		case 'R': FS.cfg.retention_days = int_arg(optarg, 0, 90); break;
		default: usage();
		}
	}
	if (optind != argc || FS.cfg.port < 0 || !FS.cfg.db_path || !FS.cfg.pubkey_path ||
	    !FS.cfg.account || !FS.cfg.user || !*FS.cfg.account || !*FS.cfg.user)
		usage();
}

/* Written to a temporary name and renamed, so a harness polling for the file never
 * reads a half-written port. */
static int
write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fp = fopen(tmp, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp, "%d\n", port);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(FS.base, NULL);
}

int
main(int argc, char **argv)
{
	struct event *sigterm = NULL, *sigint = NULL;
	char err[512];
	int rc = 1;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (auth_init(FS.cfg.pubkey_path, FS.cfg.account, FS.cfg.user, err, sizeof(err)) != 0) {
		fprintf(stderr, "fakesnow: %s\n", err);
		goto out;
	}
	/* no SQLITE_OPEN_CREATE: a mistyped path must fail, not serve an empty account */
	if (sqlite3_open_v2(FS.cfg.db_path, &FS.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "fakesnow: %s: %s\n", FS.cfg.db_path, FS.db ? sqlite3_errmsg(FS.db) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(FS.db, 2000);
	tt_init();
	counters_init();
	FS.base = event_base_new();
	if (FS.base == NULL) {
		fprintf(stderr, "fakesnow: event_base_new failed\n");
		goto out;
	}
	if (http_start(err, sizeof(err)) != 0) {
		fprintf(stderr, "fakesnow: %s\n", err);
		goto out;
	}
	sigterm = evsignal_new(FS.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(FS.base, SIGINT, on_signal, NULL);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL)) {
		fprintf(stderr, "fakesnow: cannot install signal handlers\n");
		goto out;
	}
	if (FS.cfg.port_file) {
		if (write_port_file(FS.cfg.port_file, FS.cfg.port) != 0) {
			fprintf(stderr, "fakesnow: cannot write %s\n", FS.cfg.port_file);
			goto out;
		}
	} else {
		printf("PORT %d\n", FS.cfg.port);
		fflush(stdout);
	}
	fprintf(stderr, "fakesnow: listening on 127.0.0.1:%d, iss %s\n", FS.cfg.port, auth_expected_iss());
	event_base_dispatch(FS.base);
	rc = 0;
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	http_stop();
	store_free_all();
	billing_free();
	faults_clear();
	tt_clear();
	counters_free();
	if (FS.base)
		event_base_free(FS.base);
	sqlite3_close(FS.db);
	auth_cleanup();
	libevent_global_shutdown();
	return rc;
}
