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
#include <time.h>
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
	    "usage: tpcd [-c FILE] [-t] [--demo [--seed N]] [--print-ddl BRAND]\n"
	    "            [--hash-password] [--init-users FILE] [-V]\n"
	    "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t, --test          check the configuration and catalogue, then exit\n"
	    "      --demo          (re)create the embedded source's demo data for every\n"
	    "                      brand of the configuration, then exit\n"
	    "      --seed N        demo generator seed (default 1)\n"
	    "      --print-ddl B   print the Snowflake dynamic-table DDL for brand B\n"
	    "      --hash-password read a password (terminal without echo, or one line\n"
	    "                      of stdin) and print its yescrypt hash for users_file\n"
	    "      --init-users F  create users file F (an admin, a monitor token; mode\n"
	    "                      0600, owner tpcd when it exists), print the secrets once\n"
	    "  -V, --version       print the version (-v too)\n");
}

/* mkdir -p: the state and source directories may be a fresh checkout's var/. */
static int
mkdir_p(const char *path)
{
	char *cause = NULL;

	if (util_mkdir_p(path, 0750, &cause) == 0)
		return 0;
	log_err("%s", cause);
	free(cause);
	return -1;
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
	if (demo_accounts_write(cf, stdout, cf->listen_port, &cause) != 0) {
		log_err("demo accounts: %s", cause);
		free(cause);
		return 1;
	}
	return 0;
}

/* tpcd --hash-password: the hash to paste into a users file. */
static int
hash_password(void)
{
	char *pw = NULL, *hash, *cause = NULL;

	if (util_read_password(stdin, "Password: ",
	    UTIL_PW_CONFIRM | UTIL_PW_NONEMPTY, &pw, &cause) != 0 ||
	    (hash = auth_password_hash(pw, &cause)) == NULL) {
		fprintf(stderr, "tpcd: %s\n", cause);
		free(cause);
		if (pw != NULL)
			explicit_bzero(pw, strlen(pw));
		free(pw);
		return 1;
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	printf("%s\n", hash);
	free(hash);
	return 0;
}

/* tpcd --init-users FILE: the first users file, its secrets printed once. */
static int
init_users(const char *path)
{
	char *cause = NULL;

	if (users_init(path, stdout, &cause) != 0) {
		fprintf(stderr, "tpcd: %s\n", cause);
		free(cause);
		return 1;
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
		struct manifest m;
		if (store_view_manifest(v, store_view_colour(v), &m) == 0)
			t = m.created_at;
		manifest_free(&m);
	}
	store_view_release(v);
	store_reader_free(rd);
	return t;
}

/* ---- the running service: runtime, signals, systemd, reload ---- */

struct service {
	const char		*path;		/* the configuration file */
	struct store		*st;
	struct auth_throttle	*throttle;	/* every runtime's: a reload forgives nobody */
	struct http_server	*http;
	struct runtime		*rt;
	struct runtime		**retired;	/* replaced by reloads; freed at exit */
	size_t			 nretired;
	struct event_base	*base;
	struct event		*watchdog;
	struct event		*status;
	int64_t			 watchdog_ms;
	char			*reload_error;	/* the last refused reload, for STATUS */
	int			 ready;
};

/* Brings up what a configuration describes: auth, source, refresh thread. */
static struct runtime *
runtime_new(struct config *cf, struct catalog *cat, struct store *st,
    struct auth_throttle *th, char **cause)
{
	struct runtime *rt = xcalloc(1, sizeof *rt);
	struct source *src;

	rt->cf = cf;
	rt->cat = cat;
	if ((rt->auth = auth_new(cf, st, th, cause)) == NULL)
		goto fail;
	if ((rt->rbase = event_base_new()) == NULL)
		fatal("event_base_new failed");
	if (cf->source == SOURCE_SNOWFLAKE) {
		char *err = NULL;
		if ((src = source_snowflake_new(cf, cat, rt->rbase, &err)) == NULL) {
			*cause = xasprintf("snowflake source: %s", err);
			free(err);
			goto fail;
		}
	} else
		src = source_sqlite_new(cf, cat);
	rt->rf = refresh_start(cf, cat, st, src, rt->rbase, last_publish(st));
	return rt;
fail:
	auth_free(rt->auth);
	if (rt->rbase != NULL)
		event_base_free(rt->rbase);
	free(rt);
	return NULL;
}

/* Frees a runtime whose refresh thread has been stopped (or never ran). */
static void
runtime_free(struct runtime *rt)
{
	if (rt == NULL)
		return;
	auth_free(rt->auth);
	if (rt->rbase != NULL)
		event_base_free(rt->rbase);
	catalog_free(rt->cat);
	config_free(rt->cf);
	free(rt);
}

/* One line for systemctl status: snapshot, age, last refresh, a refused reload. */
static void
service_status(struct service *svc)
{
	struct refresh_status st;
	struct store_reader *rd = store_reader_new(svc->st);
	struct store_view *v = store_view_begin(rd);
	const char *colour = v ? store_view_colour(v) : NULL;
	uint64_t gen = v ? store_view_generation(v) : 0;
	int64_t age = colour ? (int64_t)time(NULL) - last_publish(svc->st) : 0;

	store_view_release(v);
	store_reader_free(rd);
	refresh_status(svc->rt->rf, &st);
	notify_status("%s%s%s snapshot %s generation %llu, %llds old; last refresh %s%s%s",
	    svc->reload_error ? "config reload refused (" : "",
	    svc->reload_error ? svc->reload_error : "", svc->reload_error ? "); " : "",
	    colour ? colour : "none", (unsigned long long)gen, (long long)age,
	    st.runs == 0 ? "none" : st.last_ok ? "ok" : "error",
	    st.runs > 0 && st.last_error != NULL ? ": " : "",
	    st.runs > 0 && st.last_error != NULL ? st.last_error : "");
	refresh_status_free(&st);
}

static void
status_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	service_status(arg);
}

/* WATCHDOG=1 only while every serving loop is beating: a wedged loop gets restarted. */
static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *svc = arg;

	(void)fd; (void)what;
	if (http_server_alive(svc->http, svc->watchdog_ms))
		notify_watchdog();
	else
		log_err("watchdog: a serving loop has not run for %lld ms; not pinging systemd",
		    (long long)svc->watchdog_ms);
}

/*
 * SIGHUP: parse the new configuration completely; refuse it (the old one keeps running)
 * on any error; otherwise bring up its runtime and switch every serving thread to it.
 * Listening sockets, in-flight requests and the store are untouched.
 */
static void
service_reload(struct service *svc)
{
	struct config *cf;
	struct catalog *cat = NULL;
	struct runtime *rt, *old = svc->rt;
	char *cause = NULL;

	notify_reloading();
	log_info("SIGHUP: reloading %s", svc->path);
	if ((cf = config_load(svc->path, &cause)) == NULL ||
	    (cat = catalog_load(cf->catalog_path, &cause)) == NULL ||
	    (rt = runtime_new(cf, cat, svc->st, svc->throttle, &cause)) == NULL) {
		log_err("reload refused, the running configuration stays: %s", cause);
		audit_config_reload(svc->path, 0, cause);
		free(svc->reload_error);
		svc->reload_error = cause;
		if (cat != NULL)
			catalog_free(cat);
		config_free(cf);
		service_status(svc);
		notify_ready();
		return;
	}
	if (strcmp(cf->listen_addr, old->cf->listen_addr) != 0 ||
	    cf->listen_port != old->cf->listen_port || cf->threads != old->cf->threads)
		log_warn("reload: listen address, port and threads change only at restart");
	http_server_switch(svc->http, rt);
	refresh_stop(old->rf);
	old->rf = NULL;
	svc->retired = xreallocarray(svc->retired, svc->nretired + 1, sizeof *svc->retired);
	svc->retired[svc->nretired++] = old;
	svc->rt = rt;
	log_set_level(cf->log_level);
	if (cf->log_file != NULL)
		log_open_file(cf->log_file, cf->log_max_size_mb, cf->log_keep);
	else
		log_close_file();
	audit_config_reload(svc->path, 1, NULL);
	free(svc->reload_error);
	svc->reload_error = NULL;
	log_info("reload: done");
	service_status(svc);
	notify_ready();
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct service *svc = arg;

	(void)what;
	if (sig == SIGHUP) {
		service_reload(svc);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(svc->base);
}

static int
serve(struct config *cf, struct catalog *cat, const char *path)
{
	struct service svc = { .path = path };
	struct event *sig[3];
	const int signals[3] = { SIGINT, SIGTERM, SIGHUP };
	struct timeval status_tv = { 10, 0 };
	char *cause = NULL;
	int lfd, rc;

	if (mkdir_p(cf->state_dir) != 0)
		return 1;
	if (cf->log_file != NULL && log_open_file(cf->log_file, cf->log_max_size_mb,
	    cf->log_keep) != 0)
		fatal("%s: %s", cf->log_file, strerror(errno));
	if (audit_open(cf->audit.file, (size_t)cf->audit.max_size_mb << 20, cf->audit.keep,
	    &cause) != 0)
		fatal("%s", cause);
	if (cf->auth.users_file_missing)
		log_warn("auth: users file %s does not exist: nobody can log in with a password",
		    cf->auth.users_file);
	if (notify_listen_fd(&lfd, &cause) == NOTIFY_LISTEN_ERROR)
		fatal("%s", cause);
	if (store_open(&svc.st, cf->state_dir, cf->map_size_mb, cf->max_readers, &cause) != 0)
		fatal("%s", cause);
	if (revlog_open(cf->state_dir, &cause) != 0 ||
	    (rc = auth_session_replay(svc.st, &cause)) < 0)
		fatal("%s", cause);
	if (rc > 0)
		log_info("revocation log: %d entries checked against the store", rc);
	svc.throttle = auth_throttle_new(0);
	if ((svc.rt = runtime_new(cf, cat, svc.st, svc.throttle, &cause)) == NULL)
		fatal("%s", cause);
	/*
	 * The signals are watched before the serving threads start: a client may get its
	 * first 200 at once and send SIGTERM, which must shut down cleanly rather than kill
	 * the process (the handler runs once the loop below dispatches).
	 */
	if ((svc.base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	for (int i = 0; i < 3; i++)
		if ((sig[i] = evsignal_new(svc.base, signals[i], signal_cb, &svc)) == NULL ||
		    evsignal_add(sig[i], NULL) != 0)
			fatal("cannot watch signal %d", signals[i]);
	if ((svc.http = http_server_start(svc.rt, svc.st, lfd, &cause)) == NULL)
		fatal("%s", cause);
	if (lfd >= 0)
		close(lfd);	/* each serving thread holds its own duplicate */
	if ((svc.status = event_new(svc.base, -1, EV_PERSIST, status_timer_cb, &svc)) == NULL ||
	    evtimer_add(svc.status, &status_tv) != 0)
		fatal("cannot create the status timer");
	if ((svc.watchdog_ms = (int64_t)(notify_watchdog_usec() / 1000)) > 0) {
		struct timeval tv = { svc.watchdog_ms / 2000, (svc.watchdog_ms / 2 % 1000) * 1000 };
		if ((svc.watchdog = event_new(svc.base, -1, EV_PERSIST, watchdog_cb, &svc)) ==
		    NULL || evtimer_add(svc.watchdog, &tv) != 0)
			fatal("cannot create the watchdog timer");
		svc.watchdog_ms /= 2;
	}
	log_info("serving on http://%s:%d/ (%d threads, store %s%s)", cf->listen_addr,
	    http_server_port(svc.http), cf->threads > 0 ? cf->threads :
	    (int)sysconf(_SC_NPROCESSORS_ONLN), cf->state_dir,
	    lfd >= 0 ? ", socket from systemd" : "");
	notify_ready();
	service_status(&svc);
	event_base_dispatch(svc.base);

	notify_stopping();
	http_server_drain(svc.http, svc.rt->cf->shutdown_timeout);
	http_server_stop(svc.http);
	refresh_stop(svc.rt->rf);
	svc.rt->rf = NULL;
	store_close(svc.st);
	revlog_close();
	for (int i = 0; i < 3; i++)
		event_free(sig[i]);
	event_free(svc.status);
	if (svc.watchdog != NULL)
		event_free(svc.watchdog);
	event_base_free(svc.base);
	/* the first runtime's config and catalogue belong to main() */
	for (size_t i = 0; i < svc.nretired; i++) {
		if (svc.retired[i]->cf == cf) {
			svc.retired[i]->cf = NULL;
			svc.retired[i]->cat = NULL;
		}
		runtime_free(svc.retired[i]);
	}
	free(svc.retired);
	if (svc.rt->cf == cf) {
		svc.rt->cf = NULL;
		svc.rt->cat = NULL;
	}
	runtime_free(svc.rt);
	auth_throttle_free(svc.throttle);
	free(svc.reload_error);
	audit_close();
	log_info("stopped");
	log_close_file();
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
		{ "hash-password", no_argument, NULL, 'H' },
		{ "init-users", required_argument, NULL, 'U' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *ddl_brand = NULL;
	int ch, test = 0, demo = 0, rc;
	unsigned seed = 1;
	struct config *cf;
	struct catalog *cat;
	char *cause = NULL;

	while ((ch = getopt_long(argc, argv, "c:tvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'D': demo = 1; break;
		case 'S': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': ddl_brand = optarg; break;
		case 'H': return hash_password();
		case 'U': return init_users(optarg);
		case 'v':
		case 'V': printf("tpcd %s\n", TPCD_VERSION); return 0;
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
		if ((rc = preflight_run(cf, stderr)) == 0)
			printf("%s: ok (%zu brands, %zu aggregates)\n", path, cf->nbrands,
			    cat->naggs);
		rc = rc != 0;
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
		rc = serve(cf, cat, path);
		curl_global_cleanup();
	}
	catalog_free(cat);
	config_free(cf);
	return rc;
}
