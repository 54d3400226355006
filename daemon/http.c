/*
 * http.c — the HTTP server: one event_base + evhttp per serving thread, each with its
 * own SO_REUSEPORT listening socket (or a shared inherited one), request routing, and
 * the responses that are not data (errors, health, brand lists, status, refresh).
 * Data bodies are served by http_data.c. Nothing here blocks: the store is read through
 * per-thread pooled read views, refreshes are only requested, never run here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* Bodies of 100 KB+ must leave in one go, not in libevent's default 16 KiB slices. */
#define MAX_SINGLE_WRITE (1 << 20)

void
http_send_json(struct evhttp_request *req, int status, const char *reason, json_t *o)
{
	struct evbuffer *b = evbuffer_new();
	char *s = json_dumps(o, JSON_COMPACT);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-store");
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	evhttp_send_reply(req, status, reason, b);
	evbuffer_free(b);
	free(s);
	json_decref(o);
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Every error is JSON: {"error":{"status":N,"code":"...","message":"..."}}. */
void
http_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	http_send_json(req, status, status_reason(status), json_pack("{s:{s:i, s:s, s:s}}",
	    "error", "status", status, "code", code, "message", msg));
	free(msg);
}

/*
 * Splits an URL path into at most max segments. Refuses (returns -1) anything that is
 * not a plain /seg/seg path of [A-Za-z0-9_.-]: percent-escapes, empty segments ("//"),
 * "." and "..". Routes are matched on what is left, so no trick reaches a handler.
 */
static int
split_path(const char *path, char seg[][HTTP_SEG_MAX], int max)
{
	int n = 0;

	if (path == NULL || path[0] != '/')
		return -1;
	if (path[1] == '\0')
		return 0;
	for (const char *p = path + 1;;) {
		size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-");
		if (len == 0 || len >= HTTP_SEG_MAX || n == max)
			return -1;
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		if (strcmp(seg[n], ".") == 0 || strcmp(seg[n], "..") == 0)
			return -1;
		n++;
		p += len;
		if (*p == '\0')
			return n;
		if (*p != '/' || p[1] == '\0')
			return -1;
		p++;
	}
}

static int
method_is(struct evhttp_request *req, int allowed, const char *allow)
{
	int m = evhttp_request_get_command(req);

	if (m & allowed)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	http_error(req, 405, "method_not_allowed", "method not allowed; allowed: %s", allow);
	return 0;
}

static void
http_health(struct http_thread *t, struct evhttp_request *req)
{
	struct store_view *v = store_view_begin(t->rd);
	int have = v != NULL && store_view_colour(v) != NULL;
	uint64_t gen = v ? store_view_generation(v) : 0;

	store_view_release(v);
	if (!have) {
		http_send_json(req, 503, "Service Unavailable",
		    json_pack("{s:s, s:s}", "status", "starting", "message",
		    "no snapshot published yet"));
		return;
	}
	http_send_json(req, 200, "OK", json_pack("{s:s, s:I}", "status", "ok", "generation",
	    (json_int_t)gen));
}

static void
http_brands(struct http_thread *t, struct evhttp_request *req)
{
	json_t *list = json_array();

	for (size_t i = 0; i < t->srv->cf->nbrands; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "id",
		    t->srv->cf->brands[i].id, "name", t->srv->cf->brands[i].name));
	http_send_json(req, 200, "OK", json_pack("{s:o}", "brands", list));
}

static json_t *
columns_json(const struct aggregate *a)
{
	json_t *cols = json_array();

	for (size_t i = 0; i < a->ncols; i++) {
		const struct column *c = &a->cols[i];
		json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
		    "name", c->name, "type", col_type_name(c->type), "role", c->role,
		    "unit", c->unit ? c->unit : "none",
		    "title_en", c->title_en ? c->title_en : c->name,
		    "title_ko", c->title_ko ? c->title_ko : c->name));
	}
	return cols;
}

static void
http_aggregates(struct http_thread *t, struct evhttp_request *req, const struct brand *b)
{
	const struct catalog *cat = t->srv->cat;
	struct store_view *v = store_view_begin(t->rd);
	json_t *list = json_array();

	for (size_t i = 0; i < cat->naggs; i++) {
		const struct aggregate *a = &cat->aggs[i];
		struct record_meta m;
		const void *rec;
		size_t len;
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", a->name,
		    "title_en", a->title_en, "title_ko", a->title_ko, "description",
		    a->description, "columns", columns_json(a));

		if (v != NULL && store_view_get(v, b->id, a->name, &rec, &len) == 0 &&
		    record_parse(rec, len, &m) == 0) {
			char ts[32];
			iso8601(m.refreshed_at, ts);
			json_object_set_new(e, "rows", json_integer((json_int_t)m.rows));
			json_object_set_new(e, "generation",
			    json_integer((json_int_t)m.generation));
			json_object_set_new(e, "refreshed_at", json_string(ts));
		} else {
			json_object_set_new(e, "rows", json_null());
			json_object_set_new(e, "generation", json_null());
			json_object_set_new(e, "refreshed_at", json_null());
		}
		json_array_append_new(list, e);
	}
	store_view_release(v);
	http_send_json(req, 200, "OK", json_pack("{s:s, s:s, s:o}", "brand", b->id, "name",
	    b->name, "aggregates", list));
}

static void
http_status(struct http_thread *t, struct evhttp_request *req)
{
	struct store_view *v = store_view_begin(t->rd);
	json_t *o = refresh_status(t->srv->rf), *snap = json_null();
	const char *colour = v ? store_view_colour(v) : NULL;

	if (colour != NULL) {
		char *m = store_view_manifest(v, colour);
		json_t *mj = m ? json_loads(m, 0, NULL) : NULL;
		snap = json_pack("{s:s, s:I, s:O, s:O}", "colour", colour, "generation",
		    (json_int_t)store_view_generation(v), "created_at",
		    mj ? json_object_get(mj, "created_at") : json_null(), "source",
		    mj ? json_object_get(mj, "source") : json_null());
		json_decref(mj);
		free(m);
	}
	store_view_release(v);
	json_object_set_new(o, "active", colour ? json_string(colour) : json_null());
	json_object_set_new(o, "generation", colour ?
	    json_incref(json_object_get(snap, "generation")) : json_integer(0));
	json_object_set_new(o, "snapshot", snap);
	json_object_set_new(o, "version", json_string(TPCD_VERSION));
	http_send_json(req, 200, "OK", o);
}

/* Both colours' manifests: what each holds, which one is live. */
static void
http_snapshots(struct http_thread *t, struct evhttp_request *req)
{
	static const char *const colours[2] = { "blue", "green" };
	struct store_view *v = store_view_begin(t->rd);
	json_t *list = json_array();
	const char *active = v ? store_view_colour(v) : NULL;

	for (int i = 0; v != NULL && i < 2; i++) {
		char *m = store_view_manifest(v, colours[i]);
		json_t *mj = m ? json_loads(m, 0, NULL) : NULL;
		free(m);
		if (mj == NULL)
			continue;
		json_object_set_new(mj, "colour", json_string(colours[i]));
		json_object_set_new(mj, "active", json_boolean(active != NULL &&
		    strcmp(active, colours[i]) == 0));
		json_array_append_new(list, mj);
	}
	http_send_json(req, 200, "OK", json_pack("{s:s?, s:o}", "active", active,
	    "snapshots", list));
	store_view_release(v);
}

static void
http_refresh(struct http_thread *t, struct evhttp_request *req)
{
	int running = refresh_running(t->srv->rf);
	uint64_t runs = refresh_request(t->srv->rf, NULL, NULL);

	http_send_json(req, 202, "Accepted", json_pack("{s:b, s:b, s:I}", "accepted", 1,
	    "already_running", running, "refresh_id", (json_int_t)runs + 1 + running));
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http_thread *t = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	char seg[HTTP_MAX_SEGS][HTTP_SEG_MAX];
	int n = split_path(evhttp_uri_get_path(uri), seg, HTTP_MAX_SEGS);
	const struct brand *b;

	if (n < 0)
		goto notfound;
	if (n == 1 && strcmp(seg[0], "healthz") == 0) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_health(t, req);
		return;
	}
	if (n == 2 && strcmp(seg[0], "_stcore") == 0 && strcmp(seg[1], "health") == 0) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_health(t, req);
		return;
	}
	if (n < 2 || strcmp(seg[0], "v1") != 0)
		goto notfound;
	if (n == 2 && strcmp(seg[1], "status") == 0) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_status(t, req);
		return;
	}
	if (n == 2 && strcmp(seg[1], "snapshots") == 0) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_snapshots(t, req);
		return;
	}
	if (n == 2 && strcmp(seg[1], "refresh") == 0) {
		if (method_is(req, EVHTTP_REQ_POST, "POST"))
			http_refresh(t, req);
		return;
	}
	if (strcmp(seg[1], "brands") != 0)
		goto notfound;
	if (n == 2) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_brands(t, req);
		return;
	}
	if ((b = config_find_brand(t->srv->cf, seg[2])) == NULL) {
		http_error(req, 404, "not_found", "no such brand");
		return;
	}
	if (n == 4 && strcmp(seg[3], "aggregates") == 0) {
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_aggregates(t, req, b);
		return;
	}
	if (n == 5 && strcmp(seg[3], "aggregates") == 0) {
		const struct aggregate *a = catalog_find(t->srv->cat, seg[4]);
		if (a == NULL) {
			http_error(req, 404, "not_found", "no such aggregate");
			return;
		}
		if (method_is(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"))
			http_data(t, req, b, a);
		return;
	}
notfound:
	http_error(req, 404, "not_found", "no such resource");
}

static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	(void)arg;
	if (bev != NULL)
		bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
	return bev;
}

/* A listening socket of our own: SO_REUSEPORT so each thread can have one. */
static int
http_listen(const char *addr, int port, int *bound_port, char **cause)
{
	struct sockaddr_in6 sa6;
	struct sockaddr_in sa4;
	struct sockaddr *sa;
	socklen_t salen;
	int fd, one = 1, v6 = strchr(addr, ':') != NULL;

	memset(&sa4, 0, sizeof sa4);
	memset(&sa6, 0, sizeof sa6);
	if (v6) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) != 1)
			goto badaddr;
		sa = (struct sockaddr *)&sa6;
		salen = sizeof sa6;
	} else {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &sa4.sin_addr) != 1)
			goto badaddr;
		sa = (struct sockaddr *)&sa4;
		salen = sizeof sa4;
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	/* Inherited by accepted sockets: no Nagle delay on the last segment of a body. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(fd, sa, salen) != 0 || listen(fd, 1024) != 0) {
		*cause = xasprintf("listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockname(fd, sa, &salen) == 0)
		*bound_port = ntohs(v6 ? sa6.sin6_port : sa4.sin_port);
	return fd;
badaddr:
	*cause = xasprintf("listen address '%s' is not an IPv4 or IPv6 address", addr);
	return -1;
}

static void *
http_thread_main(void *arg)
{
	struct http_thread *t = arg;

	event_base_dispatch(t->base);
	return NULL;
}

static int
http_thread_init(struct http_server *s, struct http_thread *t, int fd, char **cause)
{
	struct event_config *ec = event_config_new();

	t->srv = s;
	t->fd = fd;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	t->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (t->base == NULL || (t->http = evhttp_new(t->base)) == NULL) {
		*cause = xstrdup("cannot create event base");
		return -1;
	}
	evhttp_set_timeout(t->http, s->cf->http_timeout);
	evhttp_set_max_headers_size(t->http, (ev_ssize_t)s->cf->http_max_header);
	evhttp_set_max_body_size(t->http, (ev_ssize_t)s->cf->http_max_body);
	/* Let every method reach the router, so a wrong one gets a JSON 405. */
	evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(t->http, http_bev_cb, t);
	evhttp_set_gencb(t->http, http_request_cb, t);
	if (evhttp_accept_socket(t->http, fd) != 0) {
		*cause = xstrdup("evhttp_accept_socket failed");
		return -1;
	}
	t->rd = store_reader_new(s->st);
	return 0;
}

/*
 * Binds and starts the serving threads. listen_fd >= 0 is an inherited socket (socket
 * activation) that every thread shares. Returns the server, or NULL and *cause.
 */
struct http_server *
http_start(const struct config *cf, const struct catalog *cat, struct store *st,
    struct refresher *rf, int listen_fd, char **cause)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int port = cf->listen_port;

	s->cf = cf;
	s->cat = cat;
	s->st = st;
	s->rf = rf;
	s->nthreads = cf->threads > 0 ? cf->threads : (ncpu > 0 ? (int)ncpu : 1);
	s->th = xcalloc((size_t)s->nthreads, sizeof *s->th);
	for (int i = 0; i < s->nthreads; i++) {
		int fd = listen_fd;
		if (fd < 0 && (fd = http_listen(cf->listen_addr, port, &port, cause)) < 0)
			goto fail;
		s->th[i].owns_fd = listen_fd < 0;
		if (http_thread_init(s, &s->th[i], fd, cause) != 0)
			goto fail;
	}
	s->port = port;
	for (int i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->th[i].thread, NULL, http_thread_main, &s->th[i]) != 0)
			fatal("http: cannot start thread");
		s->th[i].started = 1;
	}
	return s;
fail:
	http_stop(s);
	return NULL;
}

int
http_port(const struct http_server *s)
{
	return s->port;
}

void
http_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->nthreads; i++)
		if (s->th[i].started)
			event_base_loopexit(s->th[i].base, NULL);
	for (int i = 0; i < s->nthreads; i++) {
		struct http_thread *t = &s->th[i];
		if (t->started)
			pthread_join(t->thread, NULL);
		if (t->http != NULL)
			evhttp_free(t->http);
		store_reader_free(t->rd);
		if (t->base != NULL)
			event_base_free(t->base);
		if (t->owns_fd && t->fd > 0)
			close(t->fd);
	}
	free(s->th);
	free(s);
}
