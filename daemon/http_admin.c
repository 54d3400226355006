/*
 * http_admin.c — the operator's actions: swap and rollback between the blue and green
 * snapshots, pin/unpin (no publishing while pinned), and asking for a refresh. The
 * router has checked the admin role before any of these runs. The checks read the
 * store here; the writes (the active flip, the pin) are the writer thread's (worker.c),
 * and the request is answered when they commit.
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
	int		 on;		/* pin: 1, unpin: 0 */
	char		 other[8];	/* swap: the colour made active */
	uint64_t	 gen_other;
	int		 rc;
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
}

static void
swap_reply(struct http_req *r, void *arg)
{
	struct admin_job *j = arg;

	if (j->rc != 0) {
		http_reply_error(r->req, 409, "conflict", "%s", j->cause);
	} else {
		log_info("admin %s: active snapshot is now %s (generation %llu)", r->p.name,
		    j->other, (unsigned long long)j->gen_other);
		http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "active", j->other,
		    "generation", (json_int_t)j->gen_other));
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

/* Asks the refresher for a full refresh; it runs on its own thread, not here. */
void
http_admin_refresh(struct http_req *r)
{
	int running = refresh_running(r->t->rt->rf);
	uint64_t runs = refresh_request(r->t->rt->rf, NULL, NULL);

	http_reply_json(r->req, 202, "Accepted", json_pack("{s:b, s:b, s:I}", "accepted", 1,
	    "already_running", running, "refresh_id", (json_int_t)runs + 1 + running));
}
