/*
 * http_admin.c — the operator's actions: swap and rollback between the blue and green
 * snapshots, pin/unpin (no publishing while pinned), and asking for a refresh. The
 * router has checked the admin role before any of these runs.
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
	snprintf(r->target, sizeof r->target, "%s", other);
	log_info("admin %s: active snapshot is now %s (generation %llu)", r->p.name, other,
	    (unsigned long long)gen_other);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "active", other,
	    "generation", (json_int_t)gen_other));
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

/* Asks the refresher for a full refresh; it runs on its own thread, not here. */
void
http_admin_refresh(struct http_req *r)
{
	int running = refresh_running(r->t->rt->rf);
	uint64_t runs = refresh_request(r->t->rt->rf, NULL, NULL);

	http_reply_json(r->req, 202, "Accepted", json_pack("{s:b, s:b, s:I}", "accepted", 1,
	    "already_running", running, "refresh_id", (json_int_t)runs + 1 + running));
}
