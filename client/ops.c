/*
 * ops.c — the operator's verbs on the daemon's snapshots: status, refresh (and waiting
 * for it), swap, rollback, pin, unpin, snapshots, and publish --force / discard of a
 * candidate the publish guards held. Each is one or two API calls and a rendering; the
 * exit code comes back through struct err.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tpcctl.h"

#define OPS_PROGRESS_EVERY	5	/* seconds between the lines refresh --wait prints */

static void
ops_status_kv(const char *key, const json_t *v, const char *dflt)
{
	bool num;
	char *t = body_json_text(v, &num), *d;
	size_t w;

	d = term_text(t ? t : dflt, &w);
	printf("%-14s%s\n", key, d);
	free(d);
	free(t);
}

static void
ops_last_refresh(const json_t *lr)
{
	const json_t *res = json_object_get(lr, "result");
	const json_t *dur = json_object_get(lr, "duration_ms");
	const json_t *fin = json_object_get(lr, "finished_at");
	const json_t *err = json_object_get(lr, "error");
	struct buf b = { 0 };
	bool num;
	char *t;

	if (!json_is_object(lr)) {
		ops_status_kv("last refresh", NULL, "never");
		return;
	}
	buf_adds(&b, json_is_string(res) ? json_string_value(res) : "?");
	if ((t = body_json_text(dur, &num)) != NULL) {
		buf_adds(&b, " in ");
		buf_adds(&b, t);
		buf_adds(&b, " ms");
		free(t);
	}
	if (json_is_string(fin)) {
		buf_adds(&b, ", finished ");
		buf_adds(&b, json_string_value(fin));
	}
	t = buf_steal(&b, NULL);
	ops_status_kv("last refresh", NULL, t);
	free(t);
	if (json_is_string(err) && *json_string_value(err) != '\0')
		ops_status_kv("refresh error", err, "");
}

/*
 * The result column of the aggregates: /v1/status says "ok": true, false or null (never
 * refreshed) per aggregate; shown as ok or error, as last_refresh's result is.
 */
static void
ops_status_results(json_t *aggs)
{
	json_t *o, *ok;
	size_t i;

	json_array_foreach(aggs, i, o) {
		if (json_object_get(o, "result") != NULL || !json_is_boolean(ok =
		    json_object_get(o, "ok")))
			continue;
		json_object_set_new(o, "result", json_string(json_is_true(ok) ? "ok" : "error"));
	}
}

/* Staleness and a candidate the publish guards held, with its failed checks. */
static void
ops_status_guards(const json_t *root)
{
	const json_t *held = json_object_get(root, "held"), *f;
	size_t i;

	ops_status_kv("stale", json_object_get(root, "stale"), "-");
	if (!json_is_object(held)) {
		ops_status_kv("held", NULL, "no");
		return;
	}
	ops_status_kv("held", json_object_get(held, "colour"), "?");
	json_array_foreach(json_object_get(held, "failed"), i, f) {
		const char *a = json_string_value(json_object_get(f, "aggregate"));
		char *t = xasprintf("%s %s%s%s: %s",
		    json_string_value(json_object_get(f, "check")),
		    json_string_value(json_object_get(f, "brand")), a ? "/" : "", a ? a : "",
		    json_string_value(json_object_get(f, "message")));
		ops_status_kv("  failed", NULL, t);
		free(t);
	}
}

int
ops_status(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "brand", "aggregate", "rows", "generation",
	    "result", "data_time", "staleness_s", "error" };
	json_t *root;
	struct grid g;
	int rc = 0;

	(void)args;
	if (api_get_json(c, "/v1/status", &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON) {
		render_json(root);
		goto out;
	}
	ops_status_results(json_object_get(root, "aggregates"));
	if ((rc = grid_from_objects(&g, json_object_get(root, "aggregates"), keys, keys, 8,
	    e)) == -1)
		goto out;
	if (c->fmt == OUT_TABLE) {
		const json_t *ref = json_object_get(root, "refreshing");

		ops_status_kv("active", json_object_get(root, "active"), "(no snapshot)");
		ops_status_kv("generation", json_object_get(root, "generation"), "-");
		ops_status_kv("created_at", json_object_get(root, "created_at") ?
		    json_object_get(root, "created_at") :
		    json_object_get(json_object_get(root, "snapshot"), "created_at"), "-");
		ops_status_kv("source", json_object_get(root, "source"), "-");
		ops_status_kv("refreshing", NULL, json_is_true(ref) ? "yes" : "no");
		ops_status_kv("pinned", NULL, json_is_true(json_object_get(root, "pinned")) ?
		    "yes (refreshes publish nothing until tpcctl unpin)" : "no");
		ops_last_refresh(json_object_get(root, "last_refresh"));
		ops_status_guards(root);
		putchar('\n');
	}
	render_grid(c, &g);
	grid_free(&g);
out:
	json_decref(root);
	return rc;
}

static double
ops_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ops_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* /v1/status's completed-refresh counter; -1 with the error when it is missing. */
static int
ops_refreshes(struct ctx *c, json_t **st, json_int_t *n, struct err *e)
{
	const json_t *v;

	if (api_get_json(c, "/v1/status", st, e) == -1)
		return -1;
	if (!json_is_integer(v = json_object_get(*st, "refreshes"))) {
		json_decref(*st);
		*st = NULL;
		return fail(e, EXIT_SERVER, "the server does not report \"refreshes\" in "
		    "/v1/status, so --wait cannot tell when the refresh ends");
	}
	*n = json_integer_value(v);
	return 0;
}

/* One line about a finished refresh, from /v1/status's last_refresh. */
static void
ops_print_refresh(const json_t *st)
{
	const json_t *lr = json_object_get(st, "last_refresh");
	const json_t *dur = json_object_get(lr, "duration_ms");
	const json_t *pub = json_object_get(lr, "published");
	const char *res = json_string_value(json_object_get(lr, "result"));
	char *d;
	size_t w;

	d = term_text(res ? res : "?", &w);
	printf("refresh %s", d);
	free(d);
	if (json_is_integer(dur))
		printf(" in %" JSON_INTEGER_FORMAT " ms", json_integer_value(dur));
	if (json_is_true(pub))
		printf(", published generation %" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(st, "generation")));
	else if (json_is_false(pub) && json_is_true(json_object_get(st, "pinned")))
		printf(", not published (pinned)");
	else if (json_is_false(pub))
		printf(", nothing changed");
	putchar('\n');
}

/* What a refresh being waited for is doing, from /v1/status. */
static const char *
ops_wait_state(const json_t *st, json_int_t n, json_int_t target)
{
	if (n + 1 < target)
		return "an earlier refresh is still to finish";
	if (json_is_true(json_object_get(st, "refreshing")))
		return "running";
	return "not started yet";
}

/*
 * Polls /v1/status every 200 ms until "refreshes" reaches target and no refresh runs, or
 * --timeout (default 300 s) passes; *st is then the last status (caller json_decref's).
 * A refresh can take minutes: stderr hears when the wait starts and every
 * OPS_PROGRESS_EVERY seconds after, so that a silent terminal does not look hung.
 */
static int
ops_wait_refresh(struct ctx *c, json_int_t before, json_int_t target, json_t **st,
    struct err *e)
{
	long limit = c->timeout >= 0 ? c->timeout : 300;
	double start = ops_now(), deadline = start + (double)limit, told = start;
	json_int_t n;

	*st = NULL;
	fprintf(stderr, "tpcctl: waiting for the refresh to finish (at most %ld s)\n", limit);
	for (;;) {
		double now = ops_now(), left = deadline - now;

		if (left <= 0)
			return fail(e, EXIT_SERVER, "refresh: not finished after %ld s (refreshes %"
			    JSON_INTEGER_FORMAT ", waiting for %" JSON_INTEGER_FORMAT ")", limit,
			    before, target);
		c->http_timeout = left < 60 ? (long)left + 1 : 60;
		ops_sleep_ms(left < 0.2 ? (long)(left * 1000) + 1 : 200);
		if (ops_refreshes(c, st, &n, e) == -1)
			return -1;
		before = n;
		if (n >= target && !json_is_true(json_object_get(*st, "refreshing")))
			return 0;
		if ((now = ops_now()) - told >= OPS_PROGRESS_EVERY) {
			told = now;
			fprintf(stderr, "tpcctl: still waiting after %.0f s: %s\n", now - start,
			    ops_wait_state(*st, n, target));
		}
		json_decref(*st);
		*st = NULL;
	}
}

/*
 * POST /v1/refresh, of everything or of one aggregate (of one brand with --brand). With
 * --wait, polls /v1/status until the refresh this request asked for has completed: the
 * server's refresh_id is the value "refreshes" reaches then.
 */
int
ops_refresh(struct ctx *c, char **args, struct err *e)
{
	json_t *req = NULL, *root = NULL, *st = NULL, *out;
	json_int_t before = 0, target;
	const json_t *id;
	const char *res;
	char *body = NULL;
	int rc = -1;

	if ((c->opts & OPTF_TIMEOUT) && !c->wait)
		return fail(e, EXIT_USAGE, "refresh: --timeout needs --wait");
	if (c->wait) {
		if (ops_refreshes(c, &st, &before, e) == -1)
			return -1;
		if (json_is_true(json_object_get(st, "pinned")))
			fputs("tpcctl: note: the daemon is pinned; the refresh will not publish\n",
			    stderr);
		json_decref(st);
		st = NULL;
	}
	if (args[0] != NULL || c->brand != NULL) {
		req = json_object();
		if ((c->brand != NULL && json_object_set_new(req, "brand",
		    json_string(c->brand)) == -1) || (args[0] != NULL &&
		    json_object_set_new(req, "aggregate", json_string(args[0])) == -1)) {
			fail(e, EXIT_USAGE, "refresh: brand and aggregate must be UTF-8");
			goto out;
		}
		if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
			fatal("out of memory");
	}
	if (api_post_json(c, "/v1/refresh", body, &root, e) == -1)
		goto out;
	if (!c->wait) {
		if (c->fmt == OUT_JSON)
			render_json(root);
		else if (json_is_true(json_object_get(root, "already_running")))
			puts("refresh accepted (one is running; this one follows it)");
		else
			puts("refresh accepted");
		rc = 0;
		goto out;
	}
	target = before + 1;
	if (json_is_integer(id = json_object_get(root, "refresh_id")) &&
	    json_integer_value(id) > target)
		target = json_integer_value(id);
	if (ops_wait_refresh(c, before, target, &st, e) == -1)
		goto out;
	res = json_string_value(json_object_get(json_object_get(st, "last_refresh"), "result"));
	if (c->fmt == OUT_JSON) {
		out = json_deep_copy(root);
		json_object_set(out, "refreshes", json_object_get(st, "refreshes"));
		json_object_set(out, "generation", json_object_get(st, "generation"));
		json_object_set(out, "last_refresh", json_object_get(st, "last_refresh"));
		render_json(out);
		json_decref(out);
	} else if (res == NULL || strcmp(res, "ok") == 0)
		ops_print_refresh(st);
	if (res != NULL && strcmp(res, "ok") != 0) {
		const char *msg = json_string_value(json_object_get(json_object_get(st,
		    "last_refresh"), "error"));
		char *d;
		size_t w;

		d = term_text(msg ? msg : "no error message", &w);
		fail(e, EXIT_SERVER, "refresh failed: %s", d);
		free(d);
		goto out;
	}
	rc = 0;
out:
	free(body);
	json_decref(req);
	json_decref(root);
	json_decref(st);
	return rc;
}

/*
 * swap, rollback, publish --force: POSTs body (or nothing) to path, after which another
 * colour is active. Prints "WHAT: COLOUR is active (generation N)" and tail, or, with
 * tail NULL, the pin's note when the answer says pinned.
 */
static int
ops_colour_action(struct ctx *c, const char *path, const char *body, const char *what,
    const char *tail, struct err *e)
{
	json_t *root;
	bool num;
	char *colour, *gen;

	if (api_post_json(c, path, body, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		render_json(root);
	else {
		colour = body_json_text(json_object_get(root, "active"), &num);
		gen = body_json_text(json_object_get(root, "generation"), &num);
		if (tail == NULL)
			tail = json_is_true(json_object_get(root, "pinned")) ?
			    "; pinned: refreshes publish nothing until tpcctl unpin" : "";
		printf("%s: %s is active (generation %s)%s\n", what, colour ? colour : "?",
		    gen ? gen : "?", tail);
		free(colour);
		free(gen);
	}
	json_decref(root);
	return 0;
}

int
ops_swap(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return ops_colour_action(c, "/v1/swap", NULL, "swapped", NULL, e);
}

int
ops_rollback(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return ops_colour_action(c, "/v1/rollback", NULL, "rolled back", NULL, e);
}

static int
ops_pin_action(struct ctx *c, const char *path, struct err *e)
{
	json_t *root;

	if (api_post_json(c, path, NULL, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		render_json(root);
	else if (json_is_true(json_object_get(root, "pinned")))
		puts("pinned: no refresh publishes until tpcctl unpin");
	else
		puts("unpinned: refreshes publish again");
	json_decref(root);
	return 0;
}

int
ops_pin(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return ops_pin_action(c, "/v1/pin", e);
}

int
ops_unpin(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return ops_pin_action(c, "/v1/unpin", e);
}

int
ops_snapshots(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "colour", "generation", "created_at", "source" };
	const json_t *arr, *o;
	json_t *root;
	struct grid g;
	size_t i;
	bool num;

	(void)args;
	if (api_get_json(c, "/v1/snapshots", &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON) {
		render_json(root);
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr = json_object_get(root, "snapshots"))) {
		json_decref(root);
		return fail(e, EXIT_SERVER, "malformed response from server: no snapshots array");
	}
	grid_init(&g, 6);
	grid_add(&g, xstrdup("colour"), false);
	grid_add(&g, xstrdup("active"), false);
	grid_add(&g, xstrdup("generation"), false);
	grid_add(&g, xstrdup("created_at"), false);
	grid_add(&g, xstrdup("source"), false);
	grid_add(&g, xstrdup("aggregates"), false);
	json_array_foreach(arr, i, o) {
		const json_t *aggs = json_object_get(o, "aggregates");

		char *t = body_json_text(json_object_get(o, keys[0]), &num);

		grid_add(&g, t, num);
		grid_add(&g, xstrdup(json_is_true(json_object_get(o, "active")) ? "yes" :
		    json_is_true(json_object_get(o, "held")) ? "held" : "no"), false);
		for (size_t k = 1; k < 4; k++) {
			t = body_json_text(json_object_get(o, keys[k]), &num);
			grid_add(&g, t, num);
		}
		grid_add(&g, json_is_array(aggs) ? xasprintf("%zu", json_array_size(aggs)) :
		    NULL, true);
	}
	render_grid(c, &g);
	grid_free(&g);
	json_decref(root);
	return 0;
}

/* publish --force: the candidate the publish guards held goes live anyway. */
int
ops_publish(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	if (!c->force)
		return fail(e, EXIT_USAGE, "publish needs --force: it makes a candidate that "
		    "failed its publish guards live (tpcctl status names the failed checks)");
	return ops_colour_action(c, "/v1/publish", "{\"force\":true}", "published by force",
	    "; unpinned", e);
}

/* discard: the candidate the publish guards held is dropped. */
int
ops_discard(struct ctx *c, char **args, struct err *e)
{
	json_t *root;
	const char *colour;

	(void)args;
	if (api_post_json(c, "/v1/discard", NULL, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		render_json(root);
	else {
		colour = json_string_value(json_object_get(root, "discarded"));
		printf("discarded the held candidate in %s\n", colour ? colour : "?");
	}
	json_decref(root);
	return 0;
}
