/*
 * http_defer.c — a request whose handler hands work to a pool (worker.c): the work there,
 * then the reply, audit line and metrics back on its serving thread. A leaf the handlers
 * call; it never calls the router or a handler other than the reply it was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* A request whose handler handed work to a pool: it is answered when that is done. */
struct http_deferred {
	struct http_req		 r;		/* a copy: the router's lives on its stack */
	char			 path[257];	/* for the audit line; the request may go first */
	worker_fn		 work;
	void			(*reply)(struct http_req *, void *);
	void			*arg;
};

static void
deferred_work(void *arg)
{
	struct http_deferred *d = arg;

	d->work(d->arg);
}

/* Back on the serving thread: the reply, the audit line, the metrics. */
static void
deferred_done(void *arg)
{
	struct http_deferred *d = arg;
	struct http_req *r = &d->r;
	struct http_thread *t = r->t;
	/* the client went away: libevent frees the request at the reply, unannounced */
	int gone = evhttp_request_get_connection(r->req) == NULL;

	r->now = time(NULL);
	if (gone)
		r->conn = NULL;	/* closed meanwhile, and freed */
	http_reply_track(r);
	d->reply(r, d->arg);
	http_reply_track(NULL);
	if (gone)
		atomic_fetch_sub_explicit(&t->inflight, 1, memory_order_relaxed);
	r->req = NULL;
	if (r->v1)
		http_audit_request(r, d->path);
	metrics_request(&t->counters, r->metric, r->status, (uint64_t)(mono_us() - r->t0),
	    r->bytes);
	free(d);
}

/*
 * Hands work(arg) to pool; the request stays open, and reply(r, arg) answers it on this
 * serving thread once work is done (reply frees arg). The handler returns at once.
 */
void
http_defer(struct http_req *r, struct worker_pool *pool, worker_fn work,
    void (*reply)(struct http_req *, void *), void *arg)
{
	struct http_deferred *d = xcalloc(1, sizeof *d);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->req));

	d->r = *r;
	snprintf(d->path, sizeof d->path, "%s", path ? path : "");
	d->work = work;
	d->reply = reply;
	d->arg = arg;
	r->deferred = 1;
	worker_submit(pool, r->t->base, deferred_work, deferred_done, d);
}
