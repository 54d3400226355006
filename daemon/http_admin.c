/*
 * http_admin.c — the operator's actions: swap and rollback between the blue and green
 * snapshots (a rollback pins what it went back to), pin/unpin (no publishing while
 * pinned), publishing (force) or discarding a candidate the publish guards held, and
 * asking for a refresh of everything or of one aggregate. The router has checked the
 * admin role before any of these runs. The checks read the store here; the writes (the
 * active flip, the pin, the hold) are the writer thread's (worker.c), and the request is
 * answered when they commit.
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

/* A store write of an admin route, done by the writer thread. */
struct admin_job {
	struct store	*st;
	int		 on;		/* pin: 1, unpin: 0; rollback: pin after the swap */
	char		 other[8];	/* swap: the colour made active; publish, discard: held */
	uint64_t	 gen_other;
	int		 rc;
	enum store_held	 held;		/* publish, discard */
	int		 pin_failed;	/* rollback: swapped, but the pin did not take */
	char		*cause;
};

static struct admin_job *
admin_job_new(struct http_req *r)
{
	struct admin_job *j = xcalloc(1, sizeof *j);

	j->st = r->t->srv->st;
	return j;
}

static void
admin_job_free(struct admin_job *j)
{
	free(j->cause);
	free(j);
}

static void
swap_work(void *arg)
{
	struct admin_job *j = arg;

	/* waits only while a publish holds the writer lock: on this thread, not a loop */
	j->rc = store_swap(j->st, &j->cause);
	/*
	 * A rollback sticks: the next refresh would otherwise publish the data just rolled
	 * back from. The pin holds until unpin or a forced publish.
	 */
	if (j->rc == 0 && j->on && store_set_pinned(j->st, 1, &j->cause) != 0)
		j->pin_failed = 1;
}

static void
swap_reply(struct http_req *r, void *arg)
{
	struct admin_job *j = arg;

	if (j->rc != 0) {
		http_reply_error(r->req, 409, "conflict", "%s", j->cause);
	} else {
		if (j->pin_failed)
			log_err("admin %s: rolled back, but not pinned: %s", r->p.name, j->cause);
		log_info("admin %s: active snapshot is now %s (generation %llu)%s", r->p.name,
		    j->other, (unsigned long long)j->gen_other, j->on && !j->pin_failed ?
		    "; pinned until unpin" : "");
		http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I, s:b}", "active",
		    j->other, "generation", (json_int_t)j->gen_other, "pinned",
		    j->on && !j->pin_failed));
	}
	admin_job_free(j);
}

static void
swap_to_other(struct http_req *r, int only_older)
{
	struct store_view *v = store_view_begin(r->t->rd);
	const char *active = v ? store_view_colour(v) : NULL, *other;
	uint64_t gen_active, gen_other;
	struct admin_job *j;

	if (v == NULL) {
		http_reply_unavailable(r->req);
		return;
	}
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
	snprintf(r->target, sizeof r->target, "%s", other);
	j = admin_job_new(r);
	snprintf(j->other, sizeof j->other, "%s", other);
	j->gen_other = gen_other;
	j->on = only_older;
	http_defer(r, r->t->srv->writer, swap_work, swap_reply, j);
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
pin_work(void *arg)
{
	struct admin_job *j = arg;

	/* in the store: both instances of a blue/green pair stop publishing */
	j->rc = store_set_pinned(j->st, j->on, &j->cause);
}

static void
pin_reply(struct http_req *r, void *arg)
{
	struct admin_job *j = arg;

	if (j->rc != 0) {
		http_reply_error(r->req, 500, "internal", "%s", j->cause);
	} else {
		log_info("admin %s: refresh publishing %s", r->p.name,
		    j->on ? "pinned" : "unpinned");
		http_reply_json(r->req, 200, "OK", json_pack("{s:b}", "pinned", j->on));
	}
	admin_job_free(j);
}

static void
pin(struct http_req *r, int on)
{
	struct admin_job *j = admin_job_new(r);

	j->on = on;
	http_defer(r, r->t->srv->writer, pin_work, pin_reply, j);
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
	snprintf(r->target, sizeof r->target, "%s/%s", brand ? brand : "*", agg ? agg : "*");
	running = refresh_running(r->t->rt->rf);
	runs = refresh_request(r->t->rt->rf, brand, agg);
	http_reply_json(r->req, 202, "Accepted", json_pack("{s:b, s:b, s:I, s:s?, s:s?}",
	    "accepted", 1, "already_running", running, "refresh_id",
	    (json_int_t)runs + 1 + running, "brand", brand, "aggregate", agg));
	json_decref(body);
}

/* The held candidate's colour into out, or a 409 sent (-1); 503 when the store is busy. */
static int
held_colour(struct http_req *r, char out[8])
{
	struct store_view *v = store_view_begin(r->t->rd);
	const char *held;

	if (v == NULL) {
		http_reply_unavailable(r->req);
		return -1;
	}
	held = store_view_held(v);
	snprintf(out, 8, "%s", held ? held : "");
	store_view_release(v);
	if (held == NULL) {
		http_reply_error(r->req, 409, "conflict", "no candidate is held");
		return -1;
	}
	return 0;
}

static void
held_work(void *arg)
{
	struct admin_job *j = arg;

	j->held = store_held_release(j->st, j->on, &j->cause);
}

static void
held_reply(struct http_req *r, void *arg)
{
	struct admin_job *j = arg;
	struct store_view *v;

	if (j->held != STORE_HELD_RELEASED) {
		int none = j->held == STORE_HELD_NONE;

		http_reply_error(r->req, none ? 409 : 500, none ? "conflict" : "internal", "%s",
		    j->cause);
	} else if (j->on) {
		log_msg(LOG_NOTICE, "admin %s: held candidate in %s published by force; unpinned",
		    r->p.name, j->other);
		v = store_view_begin(r->t->rd);
		http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I, s:b, s:b}", "active",
		    j->other, "generation", (json_int_t)(v ? store_view_generation(v) : 0),
		    "forced", 1, "pinned", 0));
		store_view_release(v);
	} else {
		log_msg(LOG_NOTICE, "admin %s: held candidate in %s discarded", r->p.name,
		    j->other);
		http_reply_json(r->req, 200, "OK", json_pack("{s:s}", "discarded", j->other));
	}
	admin_job_free(j);
}

/*
 * POST /v1/publish {"force":true}: makes the candidate the guards held live anyway (and
 * lifts a rollback's pin). Without force it refuses, naming where the failures are.
 */
void
http_admin_publish(struct http_req *r)
{
	int bad;
	json_t *body = admin_body(r, &bad);
	int force = json_is_true(json_object_get(body, "force"));
	struct admin_job *j;
	char held[8];

	json_decref(body);
	if (bad) {
		http_reply_error(r->req, 400, "bad_request", "the body must be {\"force\": true}");
		return;
	}
	if (held_colour(r, held) != 0)
		return;
	if (!force) {
		http_reply_error(r->req, 409, "conflict", "the %s candidate failed its publish "
		    "guards (GET /v1/status); publish it with {\"force\": true}", held);
		return;
	}
	snprintf(r->target, sizeof r->target, "%s", held);
	j = admin_job_new(r);
	j->on = 1;
	snprintf(j->other, sizeof j->other, "%s", held);
	http_defer(r, r->t->srv->writer, held_work, held_reply, j);
}

/* POST /v1/discard: drops the held candidate; the live snapshot stays as it is. */
void
http_admin_discard(struct http_req *r)
{
	struct admin_job *j;
	char held[8];

	if (held_colour(r, held) != 0)
		return;
	snprintf(r->target, sizeof r->target, "%s", held);
	j = admin_job_new(r);
	j->on = 0;
	snprintf(j->other, sizeof j->other, "%s", held);
	http_defer(r, r->t->srv->writer, held_work, held_reply, j);
}
