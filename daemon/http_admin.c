/*
 * http_admin.c — the operator's actions: swap and rollback between the blue and green
 * snapshots (a rollback pins what it went back to), pin/unpin (no publishing while
 * pinned), publishing (force) or discarding a candidate the guards held, and asking for
 * a refresh of everything or of one aggregate. The router has checked the admin role
 * before any of these runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* The generation a colour's manifest records, or 0 when it holds no snapshot. */
static uint64_t
colour_generation(struct store_view *v, const char *colour)
{
	struct manifest m;
	uint64_t g = store_view_manifest(v, colour, &m) == 0 ? m.generation : 0;

	manifest_free(&m);
	return g;
}

static void
swap_to_other(struct http_req *r, int only_older)
{
	struct store_view *v = store_view_begin(r->t->rd);
	const char *active = v ? store_view_colour(v) : NULL, *other;
	uint64_t gen_active, gen_other;
	char *cause = NULL;

	if (active == NULL) {
		store_view_release(v);
		http_reply_error(r->req, 409, "conflict", "no snapshot published yet");
		return;
	}
	other = strcmp(active, "blue") == 0 ? "green" : "blue";
	gen_active = store_view_generation(v);
	gen_other = colour_generation(v, other);
	store_view_release(v);
	if (gen_other == 0) {
		http_reply_error(r->req, 409, "conflict", "the %s colour holds no snapshot", other);
		return;
	}
	if (only_older && gen_other >= gen_active) {
		http_reply_error(r->req, 409, "conflict", "the %s snapshot (generation %llu) is not "
		    "older than the active one; use swap", other, (unsigned long long)gen_other);
		return;
	}
	/* A tiny write transaction; it waits only while a publish holds the writer lock. */
	if (store_swap(r->t->srv->st, &cause) != 0) {
		http_reply_error(r->req, 409, "conflict", "%s", cause);
		free(cause);
		return;
	}
	/*
	 * A rollback sticks: the next refresh would otherwise publish the data just rolled
	 * back from. The pin holds until unpin or a forced publish.
	 */
	if (only_older && store_set_pinned(r->t->srv->st, 1, &cause) != 0) {
		log_err("admin %s: rollback done, but not pinned: %s", r->p.name, cause);
		free(cause);
	}
	snprintf(r->target, sizeof r->target, "%s", other);
	log_info("admin %s: active snapshot is now %s (generation %llu)%s", r->p.name, other,
	    (unsigned long long)gen_other, only_older ? "; pinned until unpin" : "");
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I, s:b}", "active", other,
	    "generation", (json_int_t)gen_other, "pinned", only_older));
}

void
http_admin_swap(struct http_req *r)
{
	swap_to_other(r, 0);
}

void
http_admin_rollback(struct http_req *r)
{
	swap_to_other(r, 1);
}

static void
pin(struct http_req *r, int on)
{
	char *cause = NULL;

	/* in the store: both instances of a blue/green pair stop publishing */
	if (store_set_pinned(r->t->srv->st, on, &cause) != 0) {
		http_reply_error(r->req, 500, "internal", "%s", cause);
		free(cause);
		return;
	}
	log_info("admin %s: refresh publishing %s", r->p.name, on ? "pinned" : "unpinned");
	http_reply_json(r->req, 200, "OK", json_pack("{s:b}", "pinned", on));
}

void
http_admin_pin(struct http_req *r)
{
	pin(r, 1);
}

void
http_admin_unpin(struct http_req *r)
{
	pin(r, 0);
}

/* The request's JSON body: NULL when empty (*bad 0) or not a JSON object (*bad 1). */
static json_t *
admin_body(struct http_req *r, int *bad)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_t *body;

	*bad = 0;
	if (len == 0)
		return NULL;
	body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		*bad = 1;
		return NULL;
	}
	return body;
}

/*
 * Asks the refresher for a refresh: of everything, or of what the body names
 * ({"brand","aggregate"}, either or both; unknown names are 404). It runs on its own
 * thread, not here.
 */
void
http_admin_refresh(struct http_req *r)
{
	int bad, running;
	json_t *body = admin_body(r, &bad), *jb, *ja;
	const char *brand = NULL, *agg = NULL;
	uint64_t runs;

	jb = json_object_get(body, "brand");
	ja = json_object_get(body, "aggregate");
	if (bad || (jb != NULL && !json_is_null(jb) && !json_is_string(jb)) ||
	    (ja != NULL && !json_is_null(ja) && !json_is_string(ja))) {
		json_decref(body);
		http_reply_error(r->req, 400, "bad_request", "the body must be {\"brand\": "
		    "\"...\", \"aggregate\": \"...\"} (either optional), or empty");
		return;
	}
	brand = json_string_value(jb);
	agg = json_string_value(ja);
	if (brand != NULL && config_find_brand(r->t->rt->cf, brand) == NULL) {
		http_reply_error(r->req, 404, "not_found", "no such brand");
		json_decref(body);
		return;
	}
	if (agg != NULL && catalog_find(r->t->rt->cat, agg) == NULL) {
		http_reply_error(r->req, 404, "not_found", "no such aggregate");
		json_decref(body);
		return;
	}
	snprintf(r->target, sizeof r->target, "%s%s%s", brand ? brand : "*", "/",
	    agg ? agg : "*");
	running = refresh_running(r->t->rt->rf);
	runs = refresh_request(r->t->rt->rf, brand, agg);
	http_reply_json(r->req, 202, "Accepted", json_pack("{s:b, s:b, s:I, s:s?, s:s?}",
	    "accepted", 1, "already_running", running, "refresh_id",
	    (json_int_t)runs + 1 + running, "brand", brand, "aggregate", agg));
	json_decref(body);
}

/*
 * POST /v1/publish {"force":true}: makes the candidate the guards held live anyway (and
 * lifts a rollback's pin). Without force it refuses, naming the failed checks.
 */
void
http_admin_publish(struct http_req *r)
{
	int bad;
	json_t *body = admin_body(r, &bad);
	int force = json_is_true(json_object_get(body, "force"));
	struct store_view *v;
	struct manifest m;
	const char *held;
	char *cause = NULL;
	int rc;

	memset(&m, 0, sizeof m);
	json_decref(body);
	if (bad) {
		http_reply_error(r->req, 400, "bad_request", "the body must be {\"force\": true}");
		return;
	}
	if ((v = store_view_begin(r->t->rd)) == NULL) {
		http_reply_error(r->req, 503, "unavailable", "store busy; retry");
		return;
	}
	held = store_view_held(v);
	store_view_release(v);
	if (held == NULL) {
		http_reply_error(r->req, 409, "conflict", "no candidate is held");
		return;
	}
	if (!force) {
		http_reply_error(r->req, 409, "conflict", "the %s candidate failed its publish "
		    "guards (GET /v1/status); publish it with {\"force\": true}", held);
		return;
	}
	if ((rc = store_held_release(r->t->srv->st, 1, &cause)) != 0) {
		http_reply_error(r->req, rc > 0 ? 409 : 500, rc > 0 ? "conflict" : "internal",
		    "%s", cause);
		free(cause);
		return;
	}
	snprintf(r->target, sizeof r->target, "%s", held);
	log_msg(LOG_NOTICE, "admin %s: held candidate in %s published by force; unpinned", r->p.name,
	    held);
	/* the manifest says from now on that this snapshot went live by force */
	v = store_view_begin(r->t->rd);
	if (v != NULL && store_view_manifest(v, held, &m) == 0) {
		free(m.guards);
		m.guards = xstrdup("forced");
		if (store_manifest_update(r->t->srv->st, &m, &cause) != 0) {
			log_warn("admin: %s", cause);
			free(cause);
		}
	}
	manifest_free(&m);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I, s:b, s:b}", "active", held,
	    "generation", (json_int_t)(v ? store_view_generation(v) : 0), "forced", 1,
	    "pinned", 0));
	store_view_release(v);
}

/* POST /v1/discard: drops the held candidate; the live snapshot stays as it is. */
void
http_admin_discard(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);
	const char *held = v ? store_view_held(v) : NULL;
	char *cause = NULL;
	int rc;

	store_view_release(v);
	if (held == NULL) {
		http_reply_error(r->req, 409, "conflict", "no candidate is held");
		return;
	}
	if ((rc = store_held_release(r->t->srv->st, 0, &cause)) != 0) {
		http_reply_error(r->req, rc > 0 ? 409 : 500, rc > 0 ? "conflict" : "internal",
		    "%s", cause);
		free(cause);
		return;
	}
	snprintf(r->target, sizeof r->target, "%s", held);
	log_msg(LOG_NOTICE, "admin %s: held candidate in %s discarded", r->p.name, held);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s}", "discarded", held));
}
