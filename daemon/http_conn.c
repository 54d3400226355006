/*
 * http_conn.c — every connection a serving thread accepts, from accept to close: the cap
 * (http.max_connections counts each accepted connection; at the cap the oldest idle one
 * is closed to make room, else the new one is refused), the deadlines on a request's head
 * and body (http.header_timeout, http.body_timeout; http.timeout stays evhttp's idle
 * timeout), and the in-flight count the drain waits for. Touched only by its thread.
 *
 * libevent 2.1 tells a server nothing between accept and a complete request, so this file
 * watches from below: it makes each connection's bufferevent (evhttp's bevcb), learns the
 * evhttp connection from it later in the same turn of the loop, and reads the bytes as
 * they arrive to see where a request's head ends. It frees a connection only while evhttp
 * holds its request (idle, head, body), never while the router does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

/* Bodies of 100 KB+ must leave in one go, not in libevent's default 16 KiB slices. */
#define MAX_SINGLE_WRITE (1 << 20)

static void
conn_set_state(struct conn *c, enum conn_state to)
{
	struct http_thread *t = c->t;
	const struct config *cf = t->rt->cf;
	struct timeval tv = { 0, 0 };

	if (c->state == CONN_ACTIVE && to != CONN_ACTIVE)
		atomic_fetch_sub_explicit(&t->inflight, 1, memory_order_relaxed);
	else if (c->state != CONN_ACTIVE && to == CONN_ACTIVE)
		atomic_fetch_add_explicit(&t->inflight, 1, memory_order_relaxed);
	if (c->on_idle && to != CONN_IDLE) {
		TAILQ_REMOVE(&t->conns.idle, c, idle_entry);
		c->on_idle = 0;
	} else if (!c->on_idle && to == CONN_IDLE) {
		TAILQ_INSERT_TAIL(&t->conns.idle, c, idle_entry);
		c->on_idle = 1;
	}
	switch (to) {
	case CONN_HEAD:
		/* a fresh connection's deadline runs from accept, as nginx's does */
		if (!evtimer_pending(&c->deadline, NULL)) {
			tv.tv_sec = cf->http_header_timeout;
			evtimer_add(&c->deadline, &tv);
		}
		break;
	case CONN_BODY:
		tv.tv_sec = cf->http_body_timeout;
		evtimer_add(&c->deadline, &tv);
		break;
	case CONN_IDLE:
	case CONN_ACTIVE:
		evtimer_del(&c->deadline);
		break;
	}
	if (to == CONN_IDLE || to == CONN_HEAD) {
		c->head_lines = 0;
		c->line_len = 0;
	}
	c->state = to;
}

/*
 * The head ends at its first empty line; blank lines before the request line do not
 * count. Line by line (memchr), not byte by byte: a line is empty when it holds only
 * CRs, and line_len counts only whether it held anything else.
 */
static int
conn_scan_head(struct conn *c, const unsigned char *p, size_t n, size_t *used)
{
	for (size_t i = 0; i < n;) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - p) : n, j = i;

		while (j < end && p[j] == '\r')
			j++;
		if (j < end)
			c->line_len++;
		if (nl == NULL)
			break;
		if (c->line_len == 0 && c->head_lines > 0) {
			*used = end + 1;
			return 1;
		}
		if (c->line_len > 0)
			c->head_lines++;
		c->line_len = 0;
		i = end + 1;
	}
	*used = n;
	return 0;
}

/* Bytes arrived (before evhttp parses them): a request starts, or its head ends. */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	struct evbuffer_iovec v[4];
	struct evbuffer_ptr p;
	size_t left = info->n_added, used;
	int n;

	if (left == 0 || c->evcon == NULL || c->state == CONN_ACTIVE ||
	    c->state == CONN_BODY)
		return;
	if (c->state == CONN_IDLE)
		conn_set_state(c, CONN_HEAD);
	if (evbuffer_ptr_set(buf, &p, evbuffer_get_length(buf) - left, EVBUFFER_PTR_SET) != 0)
		return;
	while (left > 0 && (n = evbuffer_peek(buf, (ev_ssize_t)left, &p, v, 4)) > 0) {
		for (int i = 0; i < n && i < 4 && left > 0; i++) {
			size_t len = v[i].iov_len < left ? v[i].iov_len : left;
			if (conn_scan_head(c, v[i].iov_base, len, &used)) {
				conn_set_state(c, CONN_BODY);
				return;
			}
			left -= used;
			if (evbuffer_ptr_set(buf, &p, used, EVBUFFER_PTR_ADD) != 0)
				return;
		}
	}
}

/* Output while no request is with the router: libevent answers on its own (400, 413...). */
static void
conn_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	struct conn_set *cs = &c->t->conns;

	(void)buf;
	if (info->n_added == 0 || c->evcon == NULL || c->state == CONN_ACTIVE || c->refusing)
		return;
	/* the whole reply is written before this turn of the loop ends: rewrite it then */
	c->refusing = 1;
	TAILQ_INSERT_TAIL(&cs->refused, c, work_entry);
	c->on_work = 1;
	event_active(cs->work_ev, EV_TIMEOUT, 0);
}

static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd; (void)what;
	if (c->state == CONN_HEAD || c->state == CONN_BODY)
		http_refuse_late(c);
	evhttp_connection_free(c->evcon);	/* calls conn_closed_cb: c is gone */
}

/* evhttp closes the connection (or the server stops): the record goes. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	struct conn_set *cs = &c->t->conns;

	(void)evcon;
	if (c->state == CONN_ACTIVE)
		atomic_fetch_sub_explicit(&c->t->inflight, 1, memory_order_relaxed);
	if (c->on_idle)
		TAILQ_REMOVE(&cs->idle, c, idle_entry);
	if (c->on_work)
		TAILQ_REMOVE(&cs->refused, c, work_entry);
	evtimer_del(&c->deadline);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	if (c->fd >= 0 && (size_t)c->fd < cs->nfd && cs->by_fd[c->fd] == c)
		cs->by_fd[c->fd] = NULL;
	http_auth_forget(c);
	http_tally_flush_conn(c);
	cs->count--;
	free(c);
}

static void
conn_index(struct conn_set *cs, struct conn *c)
{
	if ((size_t)c->fd >= cs->nfd) {
		size_t n = cs->nfd ? cs->nfd : 256;
		while (n <= (size_t)c->fd)
			n *= 2;
		cs->by_fd = xreallocarray(cs->by_fd, n, sizeof *cs->by_fd);
		memset(cs->by_fd + cs->nfd, 0, (n - cs->nfd) * sizeof *cs->by_fd);
		cs->nfd = n;
	}
	cs->by_fd[c->fd] = c;
}

/*
 * A connection accepted this turn: evhttp has set it up, so its evhttp connection is the
 * argument of its bufferevent's callbacks. Admitted, or at the cap: the oldest idle one
 * makes room, and when none is idle the new one is refused.
 */
static void
conn_adopt(struct conn *c)
{
	struct http_thread *t = c->t;
	struct conn_set *cs = &t->conns;
	struct conn *old;
	struct timeval tv = { 0, 0 };
	void *evcon = NULL;

	cs->pending--;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
	c->evcon = evcon;
	c->fd = bufferevent_getfd(c->bev);
	if (c->evcon == NULL || c->fd < 0)
		fatal("http: an accepted connection without its evhttp connection");
	evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
	conn_index(cs, c);
	/* those accepted in the same turn and not yet adopted are judged after this one */
	if (cs->count - cs->pending > (size_t)t->rt->cf->http_max_connections) {
		if ((old = TAILQ_FIRST(&cs->idle)) != NULL)
			evhttp_connection_free(old->evcon);
		else {
			http_refuse_full(c);
			evhttp_connection_free(c->evcon);
			return;
		}
	}
	conn_set_state(c, CONN_IDLE);
	/* idle, and evictable, but the first request's head is due from now on */
	tv.tv_sec = t->rt->cf->http_header_timeout;
	evtimer_add(&c->deadline, &tv);
}

static void
conn_work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;
	struct conn_set *cs = &t->conns;
	struct conn *c;

	(void)fd; (void)what;
	while ((c = TAILQ_FIRST(&cs->adopt)) != NULL) {
		TAILQ_REMOVE(&cs->adopt, c, work_entry);
		c->on_work = 0;
		conn_adopt(c);
	}
	while ((c = TAILQ_FIRST(&cs->refused)) != NULL) {
		TAILQ_REMOVE(&cs->refused, c, work_entry);
		c->on_work = 0;
		http_refuse_rewrite(c);
	}
}

/* evhttp's bufferevent callback: called for every connection it accepts. */
struct bufferevent *
http_conn_bev_cb(struct event_base *base, void *arg)
{
	struct http_thread *t = arg;
	struct conn_set *cs = &t->conns;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct conn *c;

	if (bev == NULL)
		return NULL;
	bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
	c = xcalloc(1, sizeof *c);
	c->t = t;
	c->bev = bev;
	c->fd = -1;
	c->state = CONN_IDLE;
	evtimer_assign(&c->deadline, base, conn_deadline_cb, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_output_cb, c);
	if (c->in_cb == NULL || c->out_cb == NULL)
		fatal("http: evbuffer_add_cb failed");
	cs->count++;
	cs->pending++;
	TAILQ_INSERT_TAIL(&cs->adopt, c, work_entry);
	c->on_work = 1;
	event_active(cs->work_ev, EV_TIMEOUT, 0);
	return bev;
}

static void
conn_complete_cb(struct evhttp_request *req, void *arg)
{
	(void)req;
	conn_set_state(arg, CONN_IDLE);
}

/*
 * A complete request goes to the router: in flight until its last byte is sent. Returns
 * its connection (valid while the router has the request), or NULL when unknown.
 */
struct conn *
http_conn_request(struct http_thread *t, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn_set *cs = &t->conns;
	struct conn *c;
	int fd;

	if (evcon == NULL)
		return NULL;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd < 0 || (size_t)fd >= cs->nfd || (c = cs->by_fd[fd]) == NULL || c->evcon != evcon)
		return NULL;
	conn_set_state(c, CONN_ACTIVE);
	evhttp_request_set_on_complete_cb(req, conn_complete_cb, c);
	return c;
}

int
http_conn_init(struct http_thread *t)
{
	TAILQ_INIT(&t->conns.idle);
	TAILQ_INIT(&t->conns.adopt);
	TAILQ_INIT(&t->conns.refused);
	TAILQ_INIT(&t->conns.tallied);
	t->conns.tally_ms = mono_ms();
	t->conns.work_ev = event_new(t->base, -1, 0, conn_work_cb, t);
	return t->conns.work_ev != NULL ? 0 : -1;
}

size_t
http_conn_count(const struct http_thread *t)
{
	return t->conns.count;
}

/* After evhttp_free (which closed every adopted connection), before event_base_free. */
void
http_conn_free(struct http_thread *t)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&t->conns.adopt)) != NULL) {
		TAILQ_REMOVE(&t->conns.adopt, c, work_entry);
		free(c);
	}
	if (t->conns.work_ev != NULL)
		event_free(t->conns.work_ev);
	t->conns.work_ev = NULL;
	free(t->conns.by_fd);
	t->conns.by_fd = NULL;
	t->conns.nfd = t->conns.count = t->conns.pending = 0;
}
