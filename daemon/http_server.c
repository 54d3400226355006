/*
 * http_server.c — the HTTP server's machinery: one event_base + evhttp per serving
 * thread, each with its own SO_REUSEPORT listening socket (or a shared inherited one),
 * the heartbeat the watchdog reads, the switch to a reloaded runtime, and the drain at
 * shutdown. Sockets and the instance lock are http_listen.c's, connections and their
 * limits http_conn.c's; it hands each request to the router (http_route.c) and knows no
 * route, no handler and no reply body. Nothing here blocks a serving loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

/* A complete request: in flight from now until sent, then routed. */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	int64_t t0 = mono_us();
	struct http_thread *t = arg;
	struct conn *c = http_conn_request(t, req);

	/* Draining (SIGTERM): answer, then close, so clients move to the other instance. */
	if (atomic_load_explicit(&t->srv->draining, memory_order_relaxed))
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	http_route_request(t, req, c, t0);
}

static void *
http_thread_main(void *arg)
{
	struct http_thread *t = arg;

	http_listen_watch(t);
	store_thread_serving();		/* from here on, this thread only reads the store */
	event_base_dispatch(t->base);
	return NULL;
}

/* The loop is alive: the watchdog (main.c) pings systemd only while every loop beats. */
static void
http_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	atomic_store(&t->beat_ms, mono_us() / 1000);
	http_tally_tick(t);	/* counted data access reaches the audit log each second */
}

static int
http_thread_init(struct http_server *s, struct http_thread *t, int fd, char **cause)
{
	struct event_config *ec = event_config_new();
	struct timeval beat = { 0, 250000 };
	const struct config *cf = s->rt->cf;

	t->srv = s;
	t->rt = s->rt;
	t->fd = fd;
	if (ec == NULL) {
		*cause = xstrdup("cannot create event config");
		return -1;
	}
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	t->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (t->base == NULL || (t->http = evhttp_new(t->base)) == NULL ||
	    http_conn_init(t) != 0) {
		*cause = xstrdup("cannot create event base");
		return -1;
	}
	evhttp_set_timeout(t->http, cf->http_timeout);
	evhttp_set_max_headers_size(t->http, (ev_ssize_t)cf->http_max_header);
	evhttp_set_max_body_size(t->http, (ev_ssize_t)cf->http_max_body);
	/* Let every method reach the router, so a wrong one gets a JSON 405. */
	evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(t->http, http_conn_bev_cb, t);
	evhttp_set_gencb(t->http, http_request_cb, t);
	if ((t->bound = evhttp_accept_socket_with_handle(t->http, fd)) == NULL) {
		*cause = xstrdup("evhttp_accept_socket failed");
		return -1;
	}
	t->rd = store_reader_new(s->st);
	atomic_store(&t->beat_ms, mono_us() / 1000);
	if ((t->beat_timer = event_new(t->base, -1, EV_PERSIST, http_beat_cb, t)) == NULL ||
	    event_add(t->beat_timer, &beat) != 0) {
		*cause = xstrdup("cannot create the heartbeat timer");
		return -1;
	}
	return 0;
}

/*
 * Binds and starts the serving threads. listen_fd >= 0 is an inherited socket (socket
 * activation) that every thread shares. Returns the server, or NULL and *cause.
 */
struct http_server *
http_server_start(struct runtime *rt, struct store *st, int listen_fd, char **cause)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const struct config *cf = rt->cf;
	int port = cf->listen_port;

	s->rt = rt;
	s->st = st;
	s->lock_fd = -1;
	s->nthreads = cf->threads > 0 ? cf->threads : (ncpu > 0 ? (int)ncpu : 1);
	s->th = xcalloc((size_t)s->nthreads, sizeof *s->th);
	/* one tpcd per address: the lock first, then nobody else may be on the port */
	if (http_listen_lock(cf->listen_addr, port, listen_fd, &s->lock_fd, cause) != 0 ||
	    (listen_fd < 0 && port != 0 && http_listen_probe(cf->listen_addr, port, cause) != 0))
		goto fail;		/* before any thread starts: the refusal exits alone */
	s->writer = worker_pool_new("store writer", 1);
	s->hashers = worker_pool_new("password hashing", 2);
	s->slicers = worker_pool_new("slices", 2);
	s->slice_cache = slice_cache_new(SLICE_CACHE_BYTES);
	http_listen_limit(s->nthreads, cf->http_max_connections);
	for (int i = 0; i < s->nthreads; i++) {
		/* evhttp closes what it listens on: each thread gets its own descriptor */
		int fd = listen_fd >= 0 ? fcntl(listen_fd, F_DUPFD_CLOEXEC, 0) :
		    http_listen_open(cf->listen_addr, port, &port, cause);
		if (fd < 0) {
			if (listen_fd >= 0)
				*cause = xasprintf("dup: %s", strerror(errno));
			goto fail;
		}
		if (http_thread_init(s, &s->th[i], fd, cause) != 0) {
			if (s->th[i].bound == NULL)
				close(fd);
			goto fail;
		}
	}
	if (listen_fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) == 0)
			port = ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port);
	}
	s->port = port;
	for (int i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->th[i].thread, NULL, http_thread_main, &s->th[i]) != 0)
			fatal("http: cannot start thread");
		s->th[i].started = 1;
	}
	return s;
fail:
	http_server_stop(s);
	return NULL;
}

static void
http_switch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	http_tally_flush(t);	/* what was counted under the old runtime, before its reload line */
	t->rt = t->srv->rt;
	atomic_fetch_add(&t->srv->switched, 1);
}

/*
 * Makes rt the runtime of every serving thread, each between two requests, and returns
 * once all have switched: the caller may then retire the old one.
 */
void
http_server_switch(struct http_server *s, struct runtime *rt)
{
	struct timespec ms = { 0, 1000000 };

	atomic_store(&s->switched, 0);
	s->rt = rt;
	for (int i = 0; i < s->nthreads; i++)
		if (event_base_once(s->th[i].base, -1, EV_TIMEOUT, http_switch_cb, &s->th[i],
		    NULL) != 0)
			fatal("reload: cannot reach serving thread %d", i);
	while (atomic_load(&s->switched) < s->nthreads)
		nanosleep(&ms, NULL);
}

static void
http_unlisten_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	http_listen_stop(t);
	if (t->bound != NULL)
		evhttp_del_accept_socket(t->http, t->bound);	/* closes the socket */
	t->bound = NULL;
	atomic_fetch_add(&t->srv->switched, 1);
}

/*
 * SIGTERM: stops accepting, marks every later response "Connection: close", and waits
 * (at most timeout_s) until no request is in flight. Keep-alive connections that stay
 * idle are closed by http_server_stop after this.
 */
void
http_server_drain(struct http_server *s, int timeout_s)
{
	struct timespec ms = { 0, 10000000 };
	int64_t end = mono_us() + (int64_t)timeout_s * 1000000;
	int busy;

	atomic_store(&s->draining, 1);
	atomic_store(&s->switched, 0);
	for (int i = 0; i < s->nthreads; i++)
		if (event_base_once(s->th[i].base, -1, EV_TIMEOUT, http_unlisten_cb, &s->th[i],
		    NULL) != 0)
			atomic_fetch_add(&s->switched, 1);	/* out of memory: stop anyway */
	while (atomic_load(&s->switched) < s->nthreads && mono_us() < end)
		nanosleep(&ms, NULL);
	do {
		busy = 0;
		for (int i = 0; i < s->nthreads; i++)
			busy += atomic_load_explicit(&s->th[i].inflight, memory_order_relaxed);
		if (busy == 0)
			break;
		nanosleep(&ms, NULL);
	} while (mono_us() < end);
	if (busy > 0)
		log_warn("shutdown: %d requests still in flight after %d s", busy, timeout_s);
}

/* Has every serving loop beaten within max_silence_ms? (the systemd watchdog's test) */
int
http_server_alive(struct http_server *s, int64_t max_silence_ms)
{
	int64_t now = mono_us() / 1000;

	for (int i = 0; i < s->nthreads; i++)
		if (now - atomic_load(&s->th[i].beat_ms) > max_silence_ms)
			return 0;
	return 1;
}

int
http_server_port(const struct http_server *s)
{
	return s->port;
}

void
http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	/*
	 * The pools first, while the loops still run: every job's work finishes and its
	 * reply is queued on its loop ahead of the loop's exit. A login passes itself from
	 * the hashers to the writer, so the hashers go first.
	 */
	worker_pool_free(s->slicers);
	worker_pool_free(s->hashers);
	worker_pool_free(s->writer);
	for (int i = 0; i < s->nthreads; i++)
		if (s->th[i].started)
			event_base_loopexit(s->th[i].base, NULL);
	for (int i = 0; i < s->nthreads; i++) {
		struct http_thread *t = &s->th[i];
		if (t->started)
			pthread_join(t->thread, NULL);
		if (t->beat_timer != NULL)
			event_free(t->beat_timer);
		http_listen_stop(t);
		if (t->http != NULL)
			evhttp_free(t->http);
		http_conn_free(t);
		/*
		 * libevent finalizes some bufferevents only in event_base_free, and with
		 * them the zero-copy bodies whose cleanup releases a read view: the
		 * reader goes last.
		 */
		if (t->base != NULL)
			event_base_free(t->base);
		store_reader_free(t->rd);
	}
	slice_cache_free(s->slice_cache);	/* after the bodies that still held slices */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->th);
	free(s);
}
