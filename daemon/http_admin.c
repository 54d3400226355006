/*
 * http_admin.c — the operator's routes: swap and rollback between the blue and green
 * snapshots, pin/unpin (no publishing while pinned), and /metrics. The router has
 * checked the admin role (or loopback, for /metrics) before any of these runs.
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
		http_error(r->req, 409, "conflict", "no snapshot published yet");
		return;
	}
	other = strcmp(active, "blue") == 0 ? "green" : "blue";
	gen_active = store_view_generation(v);
	gen_other = colour_generation(v, other);
	store_view_release(v);
	if (gen_other == 0) {
		http_error(r->req, 409, "conflict", "the %s colour holds no snapshot", other);
		return;
	}
	if (only_older && gen_other >= gen_active) {
		http_error(r->req, 409, "conflict", "the %s snapshot (generation %llu) is not "
		    "older than the active one; use swap", other, (unsigned long long)gen_other);
		return;
	}
	/* A tiny write transaction; it waits only while a publish holds the writer lock. */
	if (store_swap(r->t->srv->st, &cause) != 0) {
		http_error(r->req, 409, "conflict", "%s", cause);
		free(cause);
		return;
	}
	snprintf(r->target, sizeof r->target, "%s", other);
	log_info("admin %s: active snapshot is now %s (generation %llu)", r->p.name, other,
	    (unsigned long long)gen_other);
	http_send_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "active", other,
	    "generation", (json_int_t)gen_other));
}

void
http_swap(struct http_req *r)
{
	swap_to_other(r, 0);
}

void
http_rollback(struct http_req *r)
{
	swap_to_other(r, 1);
}

static void
pin(struct http_req *r, int on)
{
	char *cause = NULL;

	/* in the store: both instances of a blue/green pair stop publishing */
	if (store_set_pinned(r->t->srv->st, on, &cause) != 0) {
		http_error(r->req, 500, "internal", "%s", cause);
		free(cause);
		return;
	}
	log_info("admin %s: refresh publishing %s", r->p.name, on ? "pinned" : "unpinned");
	http_send_json(r->req, 200, "OK", json_pack("{s:b}", "pinned", on));
}
void
http_pin(struct http_req *r)
{
	pin(r, 1);
}

void
http_unpin(struct http_req *r)
{
	pin(r, 0);
}

/* Established connections to our port, from the kernel's table (read at scrape only). */
static int64_t
open_connections(int port)
{
	static const char *const tables[] = { "/proc/self/net/tcp", "/proc/self/net/tcp6" };
	char line[512];
	int64_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(tables[i], "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			char local[128];
			unsigned lport, st;
			if (sscanf(line, " %*d: %127[0-9A-Fa-f]:%x %*s %x", local, &lport,
			    &st) == 3 && (int)lport == port && st == 1)	/* ESTABLISHED */
				n++;
		}
		fclose(f);
	}
	return n;
}

void
http_metrics(struct http_req *r)
{
	struct http_server *s = r->t->srv;
	struct http_counters *th[256];
	struct store_view *v = store_view_begin(r->t->rd);
	struct refresh_status st;
	uint64_t gen = 0;
	int64_t created = 0;
	struct evbuffer *eb;
	struct buf o;
	int n = s->nthreads < 256 ? s->nthreads : 256;

	if (v != NULL && store_view_colour(v) != NULL) {
		struct manifest m;
		if (store_view_manifest(v, store_view_colour(v), &m) == 0)
			created = m.created_at;
		manifest_free(&m);
		gen = store_view_generation(v);
	}
	store_view_release(v);
	for (int i = 0; i < n; i++)
		th[i] = &s->th[i].counters;
	refresh_status(r->t->rt->rf, &st);
	buf_init(&o);
	metrics_render(&o, th, n, open_connections(s->port), &st, gen, created);
	refresh_status_free(&st);
	eb = evbuffer_new();
	evbuffer_add(eb, o.data, o.len);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	http_note_reply(200, o.len);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
	buf_free(&o);
}
