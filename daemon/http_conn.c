/*
 * http_conn.c — the connections a serving thread knows (those that sent a request) and
 * the cap on them: a connection beyond http.max_connections gets one clean 503 with
 * "Connection: close" instead of service. A small open-addressing set of evhttp
 * connection pointers per thread, touched only by that thread; evhttp's close callback
 * takes a connection out. (libevent 2.1 has no connection limit of its own.)
 */
#include <stdint.h>
#include <stdlib.h>

#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

#define TOMBSTONE ((struct evhttp_connection *)(uintptr_t)1)

static size_t
slot_of(const struct conn_set *cs, const struct evhttp_connection *c)
{
	uintptr_t h = (uintptr_t)c;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 7) & (cs->cap - 1);
}

static int
conn_find(const struct conn_set *cs, const struct evhttp_connection *c, size_t *at)
{
	if (cs->cap == 0)
		return 0;
	for (size_t i = slot_of(cs, c), n = 0; n < cs->cap; i = (i + 1) & (cs->cap - 1), n++) {
		if (cs->slot[i] == NULL)
			return 0;
		if (cs->slot[i] == c) {
			*at = i;
			return 1;
		}
	}
	return 0;
}

static void
conn_insert(struct conn_set *cs, struct evhttp_connection *c);

static void
conn_grow(struct conn_set *cs)
{
	struct conn_set old = *cs;

	cs->cap = old.cap ? old.cap * 2 : 64;
	cs->slot = xcalloc(cs->cap, sizeof *cs->slot);
	cs->used = cs->count = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i] != NULL && old.slot[i] != TOMBSTONE)
			conn_insert(cs, old.slot[i]);
	free(old.slot);
}

static void
conn_insert(struct conn_set *cs, struct evhttp_connection *c)
{
	size_t i;

	if ((cs->used + 1) * 2 > cs->cap)
		conn_grow(cs);
	for (i = slot_of(cs, c); cs->slot[i] != NULL && cs->slot[i] != TOMBSTONE;
	    i = (i + 1) & (cs->cap - 1))
		;
	if (cs->slot[i] == NULL)
		cs->used++;
	cs->slot[i] = c;
	cs->count++;
}

static void
conn_closed_cb(struct evhttp_connection *c, void *arg)
{
	struct http_thread *t = arg;
	size_t at;

	if (conn_find(&t->conns, c, &at)) {
		t->conns.slot[at] = TOMBSTONE;
		t->conns.count--;
	}
}

/*
 * Called for every request: a connection seen for the first time is taken in, unless
 * the thread is at its cap. Returns 0 to serve the request, -1 when it must be refused.
 */
int
http_conn_admit(struct http_thread *t, struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	size_t at;

	if (c == NULL || conn_find(&t->conns, c, &at))
		return 0;
	if (t->conns.count >= (size_t)t->rt->cf->http_max_connections)
		return -1;
	conn_insert(&t->conns, c);
	evhttp_connection_set_closecb(c, conn_closed_cb, t);
	return 0;
}

size_t
http_conn_count(const struct http_thread *t)
{
	return t->conns.count;
}

void
http_conn_free(struct http_thread *t)
{
	free(t->conns.slot);
	t->conns.slot = NULL;
	t->conns.cap = t->conns.used = t->conns.count = 0;
}
