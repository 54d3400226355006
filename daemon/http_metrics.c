/*
 * http_metrics.c — GET /metrics: gathers what a scrape shows (every serving thread's
 * counters, a refresh_status snapshot, the live snapshot's generation and age, the
 * connections the kernel has open to our port) and sends metrics.c's rendering of it.
 * The router has checked access (admin, or the loopback) before this runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

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

/* The scrape; the text is built in a buffer of ours, then copied once into libevent's. */
void
http_metrics(struct http_req *r)
{
	struct http_server *s = r->t->srv;
	struct http_counters *th[256];
	struct store_view *v = store_view_begin(r->t->rd);
	struct refresh_status st;
	struct store_counters sc;
	uint64_t gen = 0;
	int64_t created = 0;
	int held = 0;
	int pinned = 0;
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
	held = v != NULL && store_view_held(v) != NULL;
	if (v != NULL)
		pinned = store_view_pinned(v);
	for (int i = 0; i < n; i++)
		th[i] = &s->th[i].counters;
	refresh_status(r->t->rt->rf, &st);
	buf_init(&o);
	metrics_render(&o, th, n, open_connections(s->port), &st, gen, created, pinned);
	http_staleness_metrics(r, v, &o);
	store_view_release(v);
	buf_adds(&o, "# HELP tpcd_snapshot_held 1 while a candidate snapshot is held back by "
	    "its publish guards.\n# TYPE tpcd_snapshot_held gauge\n");
	buf_printf(&o, "tpcd_snapshot_held %d\n", held);
	buf_adds(&o, "# HELP tpcd_guard_failures_total Publish guard checks failed, by "
	    "check.\n# TYPE tpcd_guard_failures_total counter\n");
	for (size_t i = 0; i < st.nguard_counts; i++)
		buf_printf(&o, "tpcd_guard_failures_total{brand=\"%s\",aggregate=\"%s\","
		    "check=\"%s\"} %llu\n", st.guard_counts[i].brand,
		    st.guard_counts[i].aggregate, st.guard_counts[i].check,
		    (unsigned long long)st.guard_counts[i].count);
	store_counters(s->st, &sc);
	metrics_render_store(&o, &sc, worker_pending(s->writer), worker_pending(s->hashers));
	refresh_status_free(&st);
	if ((eb = evbuffer_new()) == NULL || evbuffer_add(eb, o.data, o.len) != 0) {
		if (eb != NULL)
			evbuffer_free(eb);
		buf_free(&o);
		http_reply_note(500, 0);
		evhttp_send_reply(r->req, 500, "Internal Server Error", NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	http_reply_note(200, o.len);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
	buf_free(&o);
}
