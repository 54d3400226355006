/*
 * http.c — the HTTP server: one event_base + evhttp per serving thread, each with its
 * own SO_REUSEPORT listening socket (or a shared inherited one), request routing, and
 * the route table with each route's access level (enforced here, before any handler),
 * the audit line of every /v1 request, and the responses that are not data (errors,
 * health, brand lists, status, refresh). Data bodies are served by http_data.c, login
 * and sessions by http_auth.c. Nothing here blocks: the store is read through
 * per-thread pooled read views, refreshes are only requested, never run here.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	if (s == NULL) {	/* a json_pack that failed upstream: a bug, never a crash */
		log_warn("http: a %d reply could not be encoded as JSON", status);
		status = 500;
		reason = "Internal Server Error";
		s = xstrdup("{\"error\":{\"status\":500,\"code\":\"internal\","
		    "\"message\":\"the reply could not be encoded\"}}");
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-store");
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	http_note_reply(status, evbuffer_get_length(b));
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
	json_t *o;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	o = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
	    "message", msg);
	if (o == NULL) {
		/*
		 * The message quotes the client (a query key: raw bytes of the request line)
		 * in bytes that need not be UTF-8, or cut inside a character by "%.64s":
		 * jansson refuses it, and the reply would be NULL. Say it in ASCII then.
		 */
		for (char *p = msg; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		o = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
		    "message", msg);
	}
	http_send_json(req, status, status_reason(status), o);
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
http_health(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);
	int have = v != NULL && store_view_colour(v) != NULL;
	uint64_t gen = v ? store_view_generation(v) : 0;

	store_view_release(v);
	if (!have) {
		http_send_json(r->req, 503, "Service Unavailable",
		    json_pack("{s:s, s:s}", "status", "starting", "message",
		    "no snapshot published yet"));
		return;
	}
	http_send_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "status", "ok",
	    "generation", (json_int_t)gen));
}

/* The brands the principal may read (all of them for an admin). */
static void
http_brands(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	json_t *list = json_array();

	for (size_t i = 0; i < cf->nbrands; i++)
		if (principal_may_read(&r->p, i))
			json_array_append_new(list, json_pack("{s:s, s:s}", "id",
			    cf->brands[i].id, "name", cf->brands[i].name));
	http_send_json(r->req, 200, "OK", json_pack("{s:o}", "brands", list));
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
http_aggregates(struct http_req *r)
{
	const struct catalog *cat = r->t->rt->cat;
	const struct brand *b = r->brand;
	struct store_view *v = store_view_begin(r->t->rd);
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
	http_send_json(r->req, 200, "OK", json_pack("{s:s, s:s, s:o}", "brand", b->id, "name",
	    b->name, "aggregates", list));
}

static void
http_status(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);
	json_t *o = refresh_status(r->t->rt->rf), *snap = json_null();
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
	/* the pin lives in the store: what it says now, whichever instance set it */
	json_object_set_new(o, "pinned", json_boolean(v != NULL && store_view_pinned(v)));
	store_view_release(v);
	json_object_set_new(o, "active", colour ? json_string(colour) : json_null());
	json_object_set_new(o, "generation", colour ?
	    json_incref(json_object_get(snap, "generation")) : json_integer(0));
	json_object_set_new(o, "snapshot", snap);
	json_object_set_new(o, "version", json_string(TPCD_VERSION));
	http_send_json(r->req, 200, "OK", o);
}

/* Both colours' manifests: what each holds, which one is live. */
static void
http_snapshots(struct http_req *r)
{
	static const char *const colours[2] = { "blue", "green" };
	struct store_view *v = store_view_begin(r->t->rd);
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
	http_send_json(r->req, 200, "OK", json_pack("{s:s?, s:o}", "active", active,
	    "snapshots", list));
	store_view_release(v);
}

static void
http_refresh(struct http_req *r)
{
	int running = refresh_running(r->t->rt->rf);
	uint64_t runs = refresh_request(r->t->rt->rf, NULL, NULL);

	http_send_json(r->req, 202, "Accepted", json_pack("{s:b, s:b, s:I}", "accepted", 1,
	    "already_running", running, "refresh_id", (json_int_t)runs + 1 + running));
}

/* ---- routing and access control ---- */

#define GET_HEAD	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

/*
 * Every route, with who may use it. The router authenticates, checks the access level
 * and the brand scope before any handler runs, so a new admin route is protected by
 * its row alone. "*" matches one segment; brand/agg name the segments holding them.
 */
struct route {
	const char	*path[HTTP_MAX_SEGS];
	int		 nseg;
	int		 methods;
	const char	*allow;
	enum http_access access;
	int		 brand;		/* segment index of the brand id, or -1 */
	int		 agg;		/* segment index of the aggregate name, or -1 */
	void		(*fn)(struct http_req *);
	const char	*action;	/* admin routes: the audit's action */
};

static const struct route routes[] = {
	{ { "healthz" }, 1, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1, http_health, NULL },
	{ { "_stcore", "health" }, 2, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1,
	    http_health, NULL },
	{ { "metrics" }, 1, GET_HEAD, "GET, HEAD", ACCESS_ADMIN_OR_LOOPBACK, -1, -1,
	    http_metrics, "metrics" },
	{ { "v1", "login" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_LOGIN, -1, -1, http_login,
	    NULL },
	{ { "v1", "logout" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_USER, -1, -1, http_logout,
	    NULL },
	{ { "v1", "brands" }, 2, GET_HEAD, "GET, HEAD", ACCESS_USER, -1, -1, http_brands,
	    NULL },
	{ { "v1", "brands", "*", "aggregates" }, 4, GET_HEAD, "GET, HEAD", ACCESS_USER, 2, -1,
	    http_aggregates, NULL },
	{ { "v1", "brands", "*", "aggregates", "*" }, 5, GET_HEAD, "GET, HEAD", ACCESS_USER,
	    2, 4, http_data, NULL },
	{ { "v1", "status" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_status,
	    "status" },
	{ { "v1", "snapshots" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1,
	    http_snapshots, "snapshots" },
	{ { "v1", "refresh" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1, http_refresh,
	    "refresh" },
	{ { "v1", "swap" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1, http_swap,
	    "swap" },
	{ { "v1", "rollback" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_rollback, "rollback" },
	{ { "v1", "pin" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1, http_pin, "pin" },
	{ { "v1", "unpin" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1, http_unpin,
	    "unpin" },
	{ { "v1", "sessions" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_sessions,
	    "sessions_list" },
	{ { "v1", "sessions", "*" }, 3, EVHTTP_REQ_DELETE, "DELETE", ACCESS_ADMIN, -1, -1,
	    http_session_delete, "session_revoke" },
	{ { "v1", "tokens" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_tokens,
	    "tokens_list" },
	{ { "v1", "tokens", "*", "revoke" }, 4, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_token_revoke, "token_revoke" },
};

static const struct route *
route_find(const struct http_req *r)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *rt = &routes[i];
		int j;

		if (rt->nseg != r->nseg)
			continue;
		for (j = 0; j < rt->nseg; j++)
			if (strcmp(rt->path[j], "*") != 0 && strcmp(rt->path[j], r->seg[j]) != 0)
				break;
		if (j == rt->nseg)
			return rt;
	}
	return NULL;
}

/* The reply of the request being routed on this thread, for its audit line. */
static _Thread_local struct http_req *http_cur;

void
http_note_reply(int status, size_t bytes)
{
	if (http_cur != NULL) {
		http_cur->status = status;
		http_cur->bytes = bytes;
	}
}

static void
http_deny(struct http_req *r, int status, const char *reason, const char *msg)
{
	r->reason = reason;
	http_error(r->req, status, status == 404 ? "not_found" : "forbidden", "%s", msg);
}

/*
 * The brand of a brand route. A principal that may not read the brand gets 403 whether
 * or not it exists; only an admin (who may read any) learns that it does not (404).
 */
static int
route_brand(struct http_req *r, const struct route *rt)
{
	const struct config *cf = r->t->rt->cf;

	if (rt->brand < 0)
		return 0;
	r->brand = config_find_brand(cf, r->seg[rt->brand]);
	if (r->brand != NULL && principal_may_read(&r->p, (size_t)(r->brand - cf->brands)))
		return 0;
	if (r->brand == NULL && r->p.admin)
		http_deny(r, 404, "no_such_brand", "no such brand");
	else
		http_deny(r, 403, "brand_not_permitted", "not permitted for this brand");
	r->brand = NULL;
	return -1;
}

/* Authenticated /v1 routing: 401, then 404, 403 (role, brand), 405, then the handler. */
static void
route_v1(struct http_req *r, const struct route *rt)
{
	struct store_view *v;

	if (rt != NULL && rt->access == ACCESS_LOGIN) {
		if (method_is(r->req, rt->methods, rt->allow))
			rt->fn(r);
		return;
	}
	if ((v = store_view_begin(r->t->rd)) == NULL) {
		http_error(r->req, 503, "unavailable", "store busy; retry");
		return;
	}
	http_authenticate(r, v);
	store_view_release(v);
	if (r->auth != AUTH_OK) {
		http_unauthorized(r);
		return;
	}
	if (rt == NULL) {
		http_error(r->req, 404, "not_found", "no such resource");
		return;
	}
	r->action = rt->action;
	if (rt->access == ACCESS_ADMIN && !r->p.admin) {
		http_deny(r, 403, "admin_only", "this needs the admin role");
		return;
	}
	if (route_brand(r, rt) != 0)
		return;
	if (rt->agg >= 0 && (r->agg = catalog_find(r->t->rt->cat, r->seg[rt->agg])) == NULL) {
		http_error(r->req, 404, "not_found", "no such aggregate");
		return;
	}
	if (method_is(r->req, rt->methods, rt->allow))
		rt->fn(r);
}

/* Outside /v1: health (open) and /metrics (admin, or open on the loopback). */
static void
route_other(struct http_req *r, const struct route *rt)
{
	struct store_view *v;

	if (rt == NULL || rt->access == ACCESS_USER || rt->access == ACCESS_ADMIN) {
		http_error(r->req, 404, "not_found", "no such resource");
		return;
	}
	if (rt->access == ACCESS_ADMIN_OR_LOOPBACK && strcmp(r->addr, "127.0.0.1") != 0 &&
	    strcmp(r->addr, "::1") != 0) {
		if ((v = store_view_begin(r->t->rd)) != NULL) {
			http_authenticate(r, v);
			store_view_release(v);
		}
		if (r->auth != AUTH_OK) {
			http_unauthorized(r);
			return;
		}
		if (!r->p.admin) {
			http_deny(r, 403, "admin_only", "this needs the admin role");
			return;
		}
	}
	if (method_is(r->req, rt->methods, rt->allow))
		rt->fn(r);
}

static const char *
method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* One audit line per /v1 request, unless its handler wrote its own (login). */
static void
http_audit(struct http_req *r, const char *path)
{
	const char *event = r->event, *kind = NULL;
	char clean[257];
	size_t n = 0;
	json_t *o;

	if (event != NULL && *event == '\0')
		return;
	if (event == NULL)
		event = r->status == 401 || r->status == 403 ? "denied" :
		    (r->action != NULL ? "admin" : "access");
	if (r->p.kind != PRINCIPAL_NONE)
		kind = r->p.kind == PRINCIPAL_SESSION ? "session" : "token";
	/* the path as asked, printable ASCII only, at most 256 bytes */
	for (; path != NULL && path[n] != '\0' && n < sizeof clean - 1; n++)
		clean[n] = path[n] > 0x20 && path[n] < 0x7f ? path[n] : '?';
	clean[n] = '\0';
	if (strcmp(event, "access") == 0 && r->action == NULL && r->target[0] == '\0' &&
	    r->reason == NULL) {
		struct audit_access a = {
			.principal = r->p.kind != PRINCIPAL_NONE ? r->p.name : NULL,
			.kind = kind, .session = r->p.session_id[0] ? r->p.session_id : NULL,
			.addr = r->addr, .method = method_name(r->req), .path = clean,
			.pathlen = n, .brand = r->brand ? r->brand->id : NULL,
			.aggregate = r->agg ? r->agg->name : NULL, .status = r->status,
			.bytes = r->bytes,
		};
		audit_access(&a);	/* the hot path: no JSON tree */
		return;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s%, s:i}", "event", event,
	    "principal", r->p.kind != PRINCIPAL_NONE ? r->p.name : NULL, "kind", kind,
	    "session", r->p.session_id[0] ? r->p.session_id : NULL, "addr", r->addr,
	    "method", method_name(r->req), "path", clean, n, "status", r->status);
	if (r->brand != NULL)
		json_object_set_new(o, "brand", json_string(r->brand->id));
	if (r->agg != NULL)
		json_object_set_new(o, "aggregate", json_string(r->agg->name));
	if (r->action != NULL)
		json_object_set_new(o, "action", json_string(r->action));
	if (r->target[0] != '\0')
		json_object_set_new(o, "target", json_string(r->target));
	if (r->reason != NULL)
		json_object_set_new(o, "reason", json_string(r->reason));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	audit_write(o);
}


/* The metrics' name for a route (its first distinctive segment). */
static enum metric_route
metric_route_of(const struct route *rt)
{
	if (rt == NULL)
		return ROUTE_OTHER;
	if (rt->fn == http_health)
		return ROUTE_HEALTH;
	if (rt->fn == http_metrics)
		return ROUTE_METRICS;
	if (rt->fn == http_data)
		return ROUTE_DATA;
	if (rt->fn == http_aggregates)
		return ROUTE_AGGREGATES;
	if (rt->fn == http_brands)
		return ROUTE_BRANDS;
	if (rt->fn == http_status)
		return ROUTE_STATUS;
	if (rt->fn == http_snapshots)
		return ROUTE_SNAPSHOTS;
	if (rt->fn == http_refresh)
		return ROUTE_REFRESH;
	if (rt->access == ACCESS_LOGIN || rt->fn == http_logout)
		return ROUTE_SESSION;
	return ROUTE_ADMIN;
}

/* The last byte of a response has gone (or the connection died): no longer in flight. */
static void
http_complete_cb(struct evhttp_request *req, void *arg)
{
	struct http_thread *t = arg;

	(void)req;
	atomic_fetch_sub_explicit(&t->inflight, 1, memory_order_relaxed);
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	int v1 = path != NULL && strncmp(path, "/v1", 3) == 0 &&
	    (path[3] == '/' || path[3] == '\0');
	int64_t t0 = mono_us();
	struct http_thread *t = arg;
	struct http_req r;

	atomic_fetch_add_explicit(&t->inflight, 1, memory_order_relaxed);
	evhttp_request_set_on_complete_cb(req, http_complete_cb, t);
	/* Draining (SIGTERM): answer, then close, so clients move to the other instance. */
	if (atomic_load_explicit(&t->srv->draining, memory_order_relaxed))
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	if (http_conn_admit(t, req) != 0) {
		/* over http.max_connections: one clean refusal, then the connection closes */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		http_cur = NULL;
		http_error(req, 503, "too_many_connections", "the server is at its connection "
		    "limit; retry");
		metrics_request(&t->counters, ROUTE_OTHER, 503, (uint64_t)(mono_us() - t0), 0);
		return;
	}
	memset(&r, 0, sizeof r);
	r.t = t;
	r.req = req;
	r.now = time(NULL);
	r.nseg = split_path(path, r.seg, HTTP_MAX_SEGS);
	http_client_addr(&r);
	http_cur = &r;
	const struct route *rt = r.nseg >= 0 ? route_find(&r) : NULL;
	if (v1) {
		route_v1(&r, rt);
		http_audit(&r, path);
	} else
		route_other(&r, rt);
	http_cur = NULL;
	metrics_request(&t->counters, metric_route_of(rt), r.status,
	    (uint64_t)(mono_us() - t0), r.bytes);
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

/* The loop is alive: the watchdog (main.c) pings systemd only while every loop beats. */
static void
http_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	atomic_store(&t->beat_ms, mono_us() / 1000);
	audit_flush();		/* batched data-access lines reach the file within 250 ms */
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
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	t->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (t->base == NULL || (t->http = evhttp_new(t->base)) == NULL) {
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
	evhttp_set_bevcb(t->http, http_bev_cb, t);
	evhttp_set_gencb(t->http, http_request_cb, t);
	if ((t->bound = evhttp_accept_socket_with_handle(t->http, fd)) == NULL) {
		*cause = xstrdup("evhttp_accept_socket failed");
		return -1;
	}
	t->rd = store_reader_new(s->st);
	atomic_store(&t->beat_ms, mono_us() / 1000);
	t->beat_timer = event_new(t->base, -1, EV_PERSIST, http_beat_cb, t);
	event_add(t->beat_timer, &beat);
	return 0;
}

/*
 * Binds and starts the serving threads. listen_fd >= 0 is an inherited socket (socket
 * activation) that every thread shares. Returns the server, or NULL and *cause.
 */
struct http_server *
http_start(struct runtime *rt, struct store *st, int listen_fd, char **cause)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const struct config *cf = rt->cf;
	int port = cf->listen_port;

	s->rt = rt;
	s->st = st;
	s->nthreads = cf->threads > 0 ? cf->threads : (ncpu > 0 ? (int)ncpu : 1);
	s->th = xcalloc((size_t)s->nthreads, sizeof *s->th);
	for (int i = 0; i < s->nthreads; i++) {
		/* evhttp closes what it listens on: each thread gets its own descriptor */
		int fd = listen_fd >= 0 ? fcntl(listen_fd, F_DUPFD_CLOEXEC, 0) :
		    http_listen(cf->listen_addr, port, &port, cause);
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
	http_stop(s);
	return NULL;
}

static void
http_switch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	t->rt = t->srv->rt;
	atomic_fetch_add(&t->srv->switched, 1);
}

/*
 * Makes rt the runtime of every serving thread, each between two requests, and returns
 * once all have switched: the caller may then retire the old one.
 */
void
http_switch(struct http_server *s, struct runtime *rt)
{
	struct timespec ms = { 0, 1000000 };

	atomic_store(&s->switched, 0);
	s->rt = rt;
	for (int i = 0; i < s->nthreads; i++)
		event_base_once(s->th[i].base, -1, EV_TIMEOUT, http_switch_cb, &s->th[i], NULL);
	while (atomic_load(&s->switched) < s->nthreads)
		nanosleep(&ms, NULL);
}

static void
http_unlisten_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	if (t->bound != NULL)
		evhttp_del_accept_socket(t->http, t->bound);	/* closes the socket */
	t->bound = NULL;
	atomic_fetch_add(&t->srv->switched, 1);
}

/*
 * SIGTERM: stops accepting, marks every later response "Connection: close", and waits
 * (at most timeout_s) until no request is in flight. Keep-alive connections that stay
 * idle are closed by http_stop after this.
 */
void
http_drain(struct http_server *s, int timeout_s)
{
	struct timespec ms = { 0, 10000000 };
	int64_t end = mono_us() + (int64_t)timeout_s * 1000000;
	int busy;

	atomic_store(&s->draining, 1);
	atomic_store(&s->switched, 0);
	for (int i = 0; i < s->nthreads; i++)
		event_base_once(s->th[i].base, -1, EV_TIMEOUT, http_unlisten_cb, &s->th[i], NULL);
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
http_alive(struct http_server *s, int64_t max_silence_ms)
{
	int64_t now = mono_us() / 1000;

	for (int i = 0; i < s->nthreads; i++)
		if (now - atomic_load(&s->th[i].beat_ms) > max_silence_ms)
			return 0;
	return 1;
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
		if (t->beat_timer != NULL)
			event_free(t->beat_timer);
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
	free(s->th);
	free(s);
}
