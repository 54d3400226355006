/*
 * main.c — tpcd's entry point: parses the command line, loads config and catalogue,
 * opens the store, starts the refresh thread and the serving threads, then waits for
 * signals on its own small event loop. One-shot modes (-t, --demo, --print-ddl) exit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "tpcd.h"

#define DEFAULT_CONFIG "/etc/tpcd/tpcd.yaml"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tpcd [-c FILE] [-t] [--demo [--seed N]] [--print-ddl BRAND] [-v]\n"
	    "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t, --test          check the configuration and catalogue, then exit\n"
	    "      --demo          (re)create the embedded source's demo data for every\n"
	    "                      brand of the configuration, then exit\n"
	    "      --seed N        demo generator seed (default 1)\n"
	    "      --print-ddl B   print the Snowflake dynamic-table DDL for brand B\n"
	    "  -v, --version       print the version\n");
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_warn("SIGHUP: configuration reload is not implemented yet; ignored");
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(base);
}

/* mkdir -p: the state and source directories may be a fresh checkout's var/. */
static int
mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *q = p + 1; *q != '\0' && rc == 0; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST)
			rc = -1;
		*q = '/';
	}
	if (rc == 0 && mkdir(p, 0750) != 0 && errno != EEXIST)
		rc = -1;
	if (rc != 0)
		log_err("%s: cannot create: %s", path, strerror(errno));
	free(p);
	return rc;
}

static int
make_demo(const struct config *cf, unsigned seed)
{
	char *cause = NULL;

	if (mkdir_p(cf->sqlite_dir) != 0)
		return 1;
	for (size_t i = 0; i < cf->nbrands; i++) {
		char *path = xasprintf("%s/%s.db", cf->sqlite_dir, cf->brands[i].schema);
		int rc = demo_generate(path, cf->brands[i].id, seed, &cause);
		if (rc != 0) {
			log_err("demo data for brand %s: %s", cf->brands[i].id, cause);
			free(cause);
			free(path);
			return 1;
		}
		log_info("demo data for brand %s: %s", cf->brands[i].id, path);
		free(path);
	}
	return 0;
}

/* Creation time of the active snapshot (unix seconds), 0 when the store is empty. */
static int64_t
last_publish(struct store *st)
{
	struct store_reader *rd = store_reader_new(st);
	struct store_view *v = store_view_begin(rd);
	int64_t t = 0;

	if (v != NULL && store_view_colour(v) != NULL) {
		char *m = store_view_manifest(v, store_view_colour(v));
		json_t *j = m ? json_loads(m, 0, NULL) : NULL;
		t = json_integer_value(json_object_get(j, "created_at_unix"));
		json_decref(j);
		free(m);
	}
	store_view_release(v);
	store_reader_free(rd);
	return t;
}

static int
serve(struct config *cf, struct catalog *cat)
{
	struct store *st;
	struct refresher *rf;
	struct http_server *http;
	struct event_base *base, *rbase;
	struct source *src;
	struct event *sig[3];
	const int signals[3] = { SIGINT, SIGTERM, SIGHUP };
	char *cause = NULL;

	if (mkdir_p(cf->state_dir) != 0)
		return 1;
	if (store_open(&st, cf->state_dir, cf->map_size_mb, cf->max_readers, &cause) != 0)
		fatal("%s", cause);
	if ((rbase = event_base_new()) == NULL)
		fatal("event_base_new failed");
	if (cf->source == SOURCE_SNOWFLAKE) {
		if ((src = source_snowflake_new(cf, cat, rbase, &cause)) == NULL)
			fatal("snowflake source: %s", cause);
	} else
		src = source_sqlite_new(cf, cat);
	rf = refresh_start(cf, cat, st, src, rbase, last_publish(st));
	if ((http = http_start(cf, cat, st, rf, -1, &cause)) == NULL)
		fatal("%s", cause);
	if ((base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	for (int i = 0; i < 3; i++) {
		sig[i] = evsignal_new(base, signals[i], signal_cb, base);
		evsignal_add(sig[i], NULL);
	}
	log_info("serving on http://%s:%d/ (%d threads, store %s)", cf->listen_addr,
	    http_port(http), cf->threads > 0 ? cf->threads : (int)sysconf(_SC_NPROCESSORS_ONLN),
	    cf->state_dir);
	event_base_dispatch(base);
	http_stop(http);
	refresh_stop(rf);
	event_base_free(rbase);
	store_close(st);
	for (int i = 0; i < 3; i++)
		event_free(sig[i]);
	event_base_free(base);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "demo", no_argument, NULL, 'D' },
		{ "seed", required_argument, NULL, 'S' },
		{ "print-ddl", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *ddl_brand = NULL;
	int ch, test = 0, demo = 0, rc;
	unsigned seed = 1;
	struct config *cf;
	struct catalog *cat;
	char *cause = NULL;

	while ((ch = getopt_long(argc, argv, "c:tvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'D': demo = 1; break;
		case 'S': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': ddl_brand = optarg; break;
		case 'v': printf("tpcd %s\n", TPCD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(LOG_INFO);
	if ((cf = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if ((cat = catalog_load(cf->catalog_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		config_free(cf);
		return 1;
	}
	log_set_level(cf->log_level);
	if (test) {
		printf("%s: ok (%zu brands, %zu aggregates)\n", path, cf->nbrands, cat->naggs);
		rc = 0;
	} else if (demo) {
		rc = make_demo(cf, seed);
	} else if (ddl_brand != NULL) {
		const struct brand *b = config_find_brand(cf, ddl_brand);
		if (b == NULL) {
			fprintf(stderr, "tpcd: no brand '%s' in %s\n", ddl_brand, path);
			rc = 1;
		} else if (ddl_render(stdout, cf, cat, b, "TPCD_WH", &cause) != 0) {
			fprintf(stderr, "tpcd: %s\n", cause);
			free(cause);
			rc = 1;
		} else
			rc = 0;
	} else {
		signal(SIGPIPE, SIG_IGN);
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			fatal("curl_global_init failed");
		if (evthread_use_pthreads() != 0)
			fatal("evthread_use_pthreads failed");
		rc = serve(cf, cat);
		curl_global_cleanup();
	}
	catalog_free(cat);
	config_free(cf);
	return rc;
}
