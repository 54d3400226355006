/*
 * tpcctl.c — the ops client of tpcd: the command line (global and per-verb options, the
 * verb table, help and usage) and main, which alone prints the error a verb hands back
 * and turns it into the exit status. The verbs live in ops.c, health.c, session.c,
 * data.c and diff.c; see tpcctl.h for the tour.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

#define DEFAULT_URL	"http://127.0.0.1:8080"

/* xmalloc.c and buf.c (linked from the daemon) call this when memory runs out. */
_Noreturn void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("tpcctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_SERVER);
}

static int verb_help(struct ctx *, char **, struct err *);

static const struct verb {
	const char	*name;
	const char	*args;
	int		 min;
	int		 max;
	bool		 auth;		/* sends the bearer token */
	int		(*fn)(struct ctx *, char **, struct err *);
	unsigned	 opts;		/* the OPTF_* it takes */
	const char	*optargs;	/* how they read in its usage line */
	const char	*help;
} verbs[] = {
	{ "status", "", 0, 0, true, ops_status, 0, "",
	  "The active snapshot (colour, generation, created_at), the last refresh, whether\n"
	  "a refresh runs, whether the daemon is pinned, and every aggregate's state (its\n"
	  "result: ok or error). -o json prints the server's JSON; -o csv the aggregates.\n" },
	{ "get", "BRAND AGGREGATE", 2, 2, true, data_get, OPTF_SLICE,
	  " [--limit N] [--offset N] [--where COLUMN=VALUE ...]",
	  "One aggregate's rows, fetched as msgpack. After the table, a line on stderr gives\n"
	  "the row count, the generation and when the content last changed; -o json prints\n"
	  "{brand, aggregate, generation, refreshed_at, columns, rows}, doubles exact; -o csv\n"
	  "has a header line, RFC 4180 quoting and LF line ends, null an empty field and an\n"
	  "empty string \"\".\n"
	  "\n"
	  "  --limit N           a slice: at most N rows (server default 1000, at most 10000)\n"
	  "  --offset N          a slice: skip the first N matching rows\n"
	  "  --where COL=VALUE   a slice: only rows whose dimension column COL equals VALUE;\n"
	  "                      repeat for several columns (they combine with AND)\n"
	  "With any of them the line on stderr says \"(N of TOTAL rows, ...)\".\n" },
	{ "refresh", "[AGGREGATE]", 0, 1, true, ops_refresh,
	  OPTF_BRAND | OPTF_WAIT | OPTF_TIMEOUT, " [--brand BRAND] [--wait [--timeout SECONDS]]",
	  "Asks the daemon to refresh now: everything, or only AGGREGATE (of every brand, or\n"
	  "of BRAND with --brand). Says whether a refresh was already running (this one then\n"
	  "follows it). -o json prints the server's answer.\n"
	  "\n"
	  "  --brand BRAND       refresh only this brand's aggregates\n"
	  "  --wait              wait until the refresh has completed (polling /v1/status\n"
	  "                      every 200 ms; a line on stderr every 5 s while it runs)\n"
	  "                      and print its result; exit 1 if it failed\n"
	  "  -t, --timeout SECS  give up waiting after SECS seconds (default 300; exit 1)\n" },
	{ "snapshots", "", 0, 0, true, ops_snapshots, 0, "",
	  "The snapshot each colour holds: colour, whether it is active, generation,\n"
	  "created_at, source and how many aggregates it has. -o json prints the\n"
	  "server's manifests.\n" },
	{ "swap", "", 0, 0, true, ops_swap, 0, "",
	  "Makes the other colour active, if it holds a complete snapshot (exit 1 if not).\n" },
	{ "rollback", "", 0, 0, true, ops_rollback, 0, "",
	  "Makes the other colour active, only if it holds an older snapshot (a lower\n"
	  "generation; exit 1 otherwise). It pins: no refresh publishes until unpin or\n"
	  "publish --force.\n" },
	{ "publish", "", 0, 0, true, ops_publish, OPTF_FORCE, " --force",
	  "Makes the candidate the publish guards held back live anyway (tpcctl status\n"
	  "names its failed checks; tpcctl diff compares it with the live snapshot), and\n"
	  "lifts a rollback's pin. Exit 1 when no candidate is held.\n" },
	{ "discard", "", 0, 0, true, ops_discard, 0, "",
	  "Drops the candidate the publish guards held back; the live snapshot stays.\n" },
	{ "backup", "FILE", 1, 1, true, backup_verb, 0, "",
	  "Writes a consistent, compacted copy of the daemon's store (both snapshots, the\n"
	  "pin, sessions and revocations) to FILE, made while it serves (role admin). The\n"
	  "copy is checked (whole, a known store format) before it takes FILE's name; mode\n"
	  "0600. Restoring: see tpcd(8), BACKUP AND RESTORE.\n" },
	{ "pin", "", 0, 0, true, ops_pin, 0, "",
	  "Pins the active snapshot: refreshes, automatic or requested, publish nothing\n"
	  "until unpin.\n" },
	{ "unpin", "", 0, 0, true, ops_unpin, 0, "",
	  "Lets refreshes publish again.\n" },
	{ "diff", "[BRAND [AGGREGATE]]", 0, 2, true, diff_run, 0, "",
	  "Compares the snapshots of the two colours, from the older generation to the\n"
	  "newer: for each aggregate (of BRAND, or of every brand), the rows added, removed,\n"
	  "changed and unchanged. Rows are matched by their dimension columns (the\n"
	  "catalogue's columns[].role); an aggregate without dimensions is compared row by\n"
	  "row. The note column names columns added (+) or removed (-) and aggregates only\n"
	  "one colour holds. -o json: {from, to, aggregates: [{brand, aggregate, in_from,\n"
	  "in_to, from_rows, to_rows, added, removed, changed, unchanged, columns_added,\n"
	  "columns_removed}]}. Needs a snapshot in both colours.\n"
	  "Exit status, as diff(1)'s: 0 the colours hold the same data, 1 they differ,\n"
	  "2 trouble (no second snapshot, an error, the server unreachable).\n" },
	{ "health", "", 0, 0, true, health_run,
	  OPTF_WARNING | OPTF_CRITICAL | OPTF_TIMEOUT,
	  " [-w SECONDS] [-c SECONDS] [-t SECONDS]",
	  "A check for monitoring systems (Nagios/Icinga plugin convention): one line on\n"
	  "stdout and the exit status\n"
	  "  0 OK        /healthz is 200 and the active snapshot is younger than --warning\n"
	  "  1 WARNING   the snapshot is older than --warning\n"
	  "  2 CRITICAL  /healthz not 200 (503: no snapshot yet), /v1/status failing on the\n"
	  "              server, the last refresh failed, or the snapshot is older than\n"
	  "              --critical\n"
	  "  3 UNKNOWN   the check cannot tell: a usage error, the daemon unreachable, the\n"
	  "              credential missing or refused (401, 403), or an answer that cannot\n"
	  "              be judged\n"
	  "(unlike the other verbs: here a usage error is 3). The line ends with\n"
	  "performance data: | age=Ns;WARN;CRIT;0; generation=N.\n"
	  "\n"
	  "  -w, --warning SECS   default twice the refresh interval (next_refresh_at minus\n"
	  "                       created_at in /v1/status), else 3600\n"
	  "  -c, --critical SECS  default none: age alone is never critical\n"
	  "  -t, --timeout SECS   per request (default 10)\n"
	  "-o json prints {status, exit, message, active, generation, age_seconds, ...}.\n" },
	{ "brands", "", 0, 0, true, data_brands, 0, "",
	  "The brands the daemon serves.\n" },
	{ "aggregates", "BRAND", 1, 1, true, data_aggregates, 0, "",
	  "A brand's aggregates: name, rows, title.\n" },
	{ "login", "[USER]", 0, 1, false, session_login, 0, "",
	  "Asks for USER's password (default $USER; without a terminal, one line of stdin),\n"
	  "gets a token from the daemon and keeps it in $XDG_CONFIG_HOME/tpcd/token, else\n"
	  "~/.config/tpcd/token (mode 0600). The session of the token kept there before is\n"
	  "logged out once the new one is in hand.\n" },
	{ "logout", "", 0, 0, true, session_logout, 0, "",
	  "Ends the session in use; removes the token login kept if it came from there.\n" },
	{ "help", "[VERB]", 0, 1, false, verb_help, 0, "",
	  "The overall help, or a verb's.\n" },
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

static const char usage_text[] =
	"usage: tpcctl [-s URL] [-o table|json|csv] [--token-file FILE] VERB [ARGS]\n"
	"\n"
	"The ops client of tpcd.\n"
	"\n"
	"verbs:\n"
	"  status                  snapshot, last refresh and per-aggregate state\n"
	"  get BRAND AGGREGATE     an aggregate's rows\n"
	"  refresh [AGGREGATE]     start a refresh now (--brand B, --wait, --timeout S)\n"
	"  snapshots               the snapshot of each colour\n"
	"  swap                    make the other colour active\n"
	"  rollback                make the other, older colour active (and pin)\n"
	"  publish --force         make the candidate held by the guards live anyway\n"
	"  discard                 drop the candidate held by the guards\n"
	"  pin, unpin              stop / let refreshes publish\n"
	"  diff [BRAND [AGGREGATE]]  rows added/removed/changed between the colours;\n"
	"                          exit 0 same, 1 different, 2 trouble\n"
	"  health                  monitoring check: OK/WARNING/CRITICAL/UNKNOWN, exit 0-3\n"
	"                          (-w SECONDS, -c SECONDS, -t SECONDS)\n"
	"  brands                  the brands served\n"
	"  aggregates BRAND        a brand's aggregates\n"
	"  backup FILE             a consistent copy of the store, made while serving\n"
	"  login [USER]            log in; keep the token in $XDG_CONFIG_HOME/tpcd/token\n"
	"  logout                  revoke the token, remove the kept one\n"
	"  help [VERB]             this text, or a verb's (same as tpcctl VERB --help)\n"
	"\n"
	"options (also accepted after the verb):\n"
	"  -s, --server URL        the daemon (default $TPCD_URL, else " DEFAULT_URL ")\n"
	"  -o, --output FORMAT     table (default); json: one document on one line;\n"
	"                          csv: a header line, RFC 4180 quoting, LF line ends\n"
	"      --token-file FILE   read the bearer token from FILE; without it, the token\n"
	"                          is $TPCD_TOKEN, else the one login kept in\n"
	"                          $XDG_CONFIG_HOME/tpcd/token (~/.config/tpcd/token)\n"
	"  -h, --help              help\n"
	"  -V, --version           the version\n"
	"\n"
	"exit status: 0 ok; 1 the server answered with an error (or another failure);\n"
	"2 usage error; 3 the server is unreachable (refused, timed out, unknown host).\n"
	"diff and health differ: diff 0 same, 1 different, 2 trouble; health 0 OK,\n"
	"1 WARNING, 2 CRITICAL, 3 UNKNOWN (unreachable and usage errors too).\n"
	"Tables, CSV and JSON go to stdout; notes, progress and errors to stderr.\n";

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void
verb_usage(const struct verb *v, FILE *out)
{
	fprintf(out, "usage: tpcctl [-s URL] [--token-file FILE] %s [-o table|json|csv]%s%s%s\n",
	    v->name, v->optargs, *v->args ? " " : "", v->args);
}

static int
verb_help(struct ctx *c, char **args, struct err *e)
{
	const struct verb *v;

	(void)c;
	if (args[0] == NULL) {
		fputs(usage_text, stdout);
		return 0;
	}
	if ((v = find_verb(args[0])) == NULL)
		return fail(e, EXIT_USAGE, "no verb '%s' (tpcctl --help lists them)", args[0]);
	verb_usage(v, stdout);
	printf("\n%s", v->help);
	return 0;
}

enum { OPT_TOKEN_FILE = 256, OPT_BRAND, OPT_WAIT, OPT_FORCE, OPT_LIMIT, OPT_OFFSET,
	OPT_WHERE };

static const struct option long_opts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "output", required_argument, NULL, 'o' },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "brand", required_argument, NULL, OPT_BRAND },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "where", required_argument, NULL, OPT_WHERE },
	{ "timeout", required_argument, NULL, 't' },
	{ "warning", required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

enum parsed { PARSED_OK, PARSED_HELP, PARSED_VERSION };

static int
parse_seconds(const char *opt, const char *s, long *out, struct err *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > 100L * 365 * 86400)
		return fail(e, EXIT_USAGE, "%s %s: a whole number of seconds", opt, s);
	*out = n;
	return 0;
}

/* The names of the verb options, for "VERB takes no --x". */
static const char *
opt_name(unsigned f)
{
	switch (f) {
	case OPTF_BRAND: return "--brand";
	case OPTF_WAIT: return "--wait";
	case OPTF_TIMEOUT: return "--timeout";
	case OPTF_WARNING: return "--warning";
	case OPTF_FORCE: return "--force";
	case OPTF_SLICE: return "--limit, --offset or --where";
	default: return "--critical";
	}
}

/*
 * One pass of getopt over argv. The global pass stops at the verb ('+'); the verb's pass
 * permutes, so "get a b -o json" works. A later -o or -s overrides an earlier one.
 */
static int
parse_opts(int argc, char **argv, const char *optstr, const char **url, struct ctx *c,
    enum parsed *what, struct err *e)
{
	int ch;

	*what = PARSED_OK;
	optind = 0;	/* GNU: full re-initialisation for the second pass */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, long_opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			*url = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "table") == 0)
				c->fmt = OUT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				c->fmt = OUT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				c->fmt = OUT_CSV;
			else
				return fail(e, EXIT_USAGE, "-o %s: table, json or csv", optarg);
			break;
		case OPT_TOKEN_FILE:
			c->token_file = optarg;
			break;
		case OPT_BRAND:
			if (*optarg == '\0')
				return fail(e, EXIT_USAGE, "--brand needs a brand id");
			c->brand = optarg;
			c->opts |= OPTF_BRAND;
			break;
		case OPT_WAIT:
			c->wait = true;
			c->opts |= OPTF_WAIT;
			break;
		case OPT_FORCE:
			c->force = true;
			c->opts |= OPTF_FORCE;
			break;
		case OPT_LIMIT:
		case OPT_OFFSET:
			/* the server checks the range and says which parameter is wrong */
			if (optarg[0] == '\0' || optarg[strspn(optarg, "0123456789")] != '\0')
				return fail(e, EXIT_USAGE, "--%s %s: a whole number of rows",
				    ch == OPT_LIMIT ? "limit" : "offset", optarg);
			*(ch == OPT_LIMIT ? &c->limit : &c->offset) = optarg;
			c->opts |= OPTF_SLICE;
			break;
		case OPT_WHERE:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return fail(e, EXIT_USAGE, "--where %s: COLUMN=VALUE", optarg);
			c->where = xreallocarray(c->where, c->nwhere + 1, sizeof *c->where);
			c->where[c->nwhere++] = optarg;
			c->opts |= OPTF_SLICE;
			break;
		case 't':
			if (parse_seconds("--timeout", optarg, &c->timeout, e) == -1)
				return -1;
			c->opts |= OPTF_TIMEOUT;
			break;
		case 'w':
			if (parse_seconds("--warning", optarg, &c->warning, e) == -1)
				return -1;
			c->opts |= OPTF_WARNING;
			break;
		case 'c':
			if (parse_seconds("--critical", optarg, &c->critical, e) == -1)
				return -1;
			c->opts |= OPTF_CRITICAL;
			break;
		case 'h':
			*what = PARSED_HELP;
			break;
		case 'V':
			*what = PARSED_VERSION;
			break;
		case ':':
			return fail(e, EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return fail(e, EXIT_USAGE, "unknown option -%c", optopt);
			return fail(e, EXIT_USAGE, "unknown option %s", argv[optind - 1]);
		}
	}
	return optind;
}

static int
set_url(struct ctx *c, const char *url, struct err *e)
{
	size_t n;

	if (url == NULL && (url = getenv("TPCD_URL")) != NULL && *url == '\0')
		url = NULL;
	if (url == NULL)
		url = DEFAULT_URL;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n == 0)
		return fail(e, EXIT_USAGE, "empty server URL");
	c->url = xstrndup(url, n);
	return 0;
}

/* The verb word of argv as getopt will find it (skipping options and their values). */
static const char *
verb_word(int argc, char **argv)
{
	static const char *const with_value[] = { "-s", "-o", "-t", "-w", "-c", "--server",
	    "--output", "--token-file", "--brand", "--timeout", "--warning", "--critical" };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return argv[i];
		for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
			if (strcmp(argv[i], with_value[k]) == 0) {
				i++;
				break;
			}
	}
	return NULL;
}

/* Parses, runs one verb; everything printed about failure is printed here. */
static int
run(struct ctx *c, int argc, char **argv, struct err *e)
{
	const char *url = NULL;
	const struct verb *v = NULL;
	enum parsed what;
	int first, nargs;
	unsigned bad;
	char **vargv;

	if ((first = parse_opts(argc, argv, "+:s:o:hVt:w:c:", &url, c, &what, e)) == -1)
		goto usage;
	if (what == PARSED_HELP) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (what == PARSED_VERSION) {
		puts("tpcctl " TPCD_VERSION);
		return 0;
	}
	if (first >= argc) {
		fail(e, EXIT_USAGE, "no verb given");
		goto usage;
	}
	if ((v = find_verb(argv[first])) == NULL) {
		fail(e, EXIT_USAGE, "no verb '%s'", argv[first]);
		goto usage;
	}
	vargv = argv + first;
	if (parse_opts(argc - first, vargv, ":s:o:hVt:w:c:", &url, c, &what, e) == -1)
		goto verb_usage;
	if (what == PARSED_HELP)
		return verb_help(c, (char *[]){ vargv[0], NULL }, e);
	if (what == PARSED_VERSION) {
		puts("tpcctl " TPCD_VERSION);
		return 0;
	}
	nargs = argc - first - optind;
	if (nargs < v->min || nargs > v->max) {
		fail(e, EXIT_USAGE, "%s: %s", v->name, nargs < v->min ? "missing arguments" :
		    "too many arguments");
		goto verb_usage;
	}
	if ((bad = c->opts & ~v->opts) != 0) {
		fail(e, EXIT_USAGE, "%s takes no %s", v->name, opt_name(bad & -bad));
		goto verb_usage;
	}
	if (set_url(c, url, e) == -1 || (v->auth && token_load(c, e) == -1)) {
		if (v->fn == health_run && e->code == EXIT_USAGE)
			return health_usage(e);
		return -1;
	}
	/* vargv is NULL-terminated: argv was, and getopt only permutes it */
	return v->fn(c, vargv + optind, e);

usage:
	fprintf(stderr, "tpcctl: %s\n", e->msg);
	if ((v = find_verb(verb_word(argc, argv) ? verb_word(argc, argv) : "")) != NULL &&
	    v->fn == health_run)
		return health_usage(e);
	fputs("usage: tpcctl [-s URL] [-o table|json|csv] [--token-file FILE] VERB [ARGS]\n"
	    "       tpcctl --help\n", stderr);
	return -2;
verb_usage:
	fprintf(stderr, "tpcctl: %s\n", e->msg);
	verb_usage(v, stderr);
	if (v->fn == health_run)
		return health_usage(e);
	return -2;
}

int
main(int argc, char **argv)
{
	struct ctx c = { .fmt = OUT_TABLE, .http_timeout = 60, .timeout = -1, .warning = -1,
	    .critical = -1 };
	struct err e = { .code = EXIT_SERVER };
	int rc, status = EXIT_OK;

	term_setup_locale();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c.curl = curl_easy_init()) == NULL) {
		fputs("tpcctl: cannot initialise libcurl\n", stderr);
		return EXIT_SERVER;
	}
	rc = run(&c, argc, argv, &e);
	if (rc == -1)
		fprintf(stderr, "tpcctl: %s\n", e.msg);
	if (rc < 0)
		status = e.code;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "tpcctl: writing output: %s\n", strerror(errno));
		status = EXIT_SERVER;
	}
	if (c.token != NULL)
		explicit_bzero(c.token, strlen(c.token));
	free(c.token);
	free(c.url);
	free(c.where);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return status;
}
