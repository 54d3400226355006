/*
 * http_route.c — routing: the path split and refused tricks, the route table with each
 * route's access level and metric name, the access checks (authentication, role, brand
 * scope, method) run before any handler, and the audit line of every /v1 request. It
 * calls handlers through the table; handlers never call back here.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* How many bytes at p are [A-Za-z0-9_.-]: a table, not strspn's 65-byte set per call. */
static size_t
seg_len(const char *p)
{
	static const unsigned char ok[256] = {
		['-'] = 1, ['.'] = 1, ['_'] = 1,
		['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
		['7'] = 1, ['8'] = 1, ['9'] = 1,
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
		['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
		['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
		['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
		['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
		['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
		['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
		['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	};
	size_t n = 0;

	while (ok[(unsigned char)p[n]])
		n++;
	return n;
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
		size_t len = seg_len(p);
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
	http_reply_error(req, 405, "method_not_allowed", "method not allowed; allowed: %s",
	    allow);
	return 0;
}

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
	enum metric_route metric;	/* what /metrics counts it as */
};

static const struct route routes[] = {
	{ { NULL }, 0, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1, http_ui_index, NULL,
	    ROUTE_UI },
	{ { "assets", "*" }, 2, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1, http_ui_asset,
	    NULL, ROUTE_UI },
	{ { "healthz" }, 1, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1, http_info_health,
	    NULL, ROUTE_HEALTH },
	{ { "readyz" }, 1, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1, http_staleness_readyz,
	    NULL, ROUTE_HEALTH },
	{ { "_stcore", "health" }, 2, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1,
	    http_info_health, NULL, ROUTE_HEALTH },
	{ { "metrics" }, 1, GET_HEAD, "GET, HEAD", ACCESS_MONITOR_OR_LOOPBACK, -1, -1,
	    http_metrics, "metrics", ROUTE_METRICS },
	{ { "v1", "login" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_LOGIN, -1, -1, http_login,
	    NULL, ROUTE_SESSION },
	{ { "v1", "openapi.json" }, 2, GET_HEAD, "GET, HEAD", ACCESS_OPEN, -1, -1,
	    http_openapi, NULL, ROUTE_UI },
	{ { "v1", "logout" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_USER, -1, -1, http_logout,
	    NULL, ROUTE_SESSION },
	{ { "v1", "brands" }, 2, GET_HEAD, "GET, HEAD", ACCESS_READER, -1, -1,
	    http_info_brands, NULL, ROUTE_BRANDS },
	{ { "v1", "me" }, 2, GET_HEAD, "GET, HEAD", ACCESS_USER, -1, -1, http_me, NULL,
	    ROUTE_BRANDS },
	{ { "v1", "freshness" }, 2, GET_HEAD, "GET, HEAD", ACCESS_USER, -1, -1,
	    http_freshness, NULL, ROUTE_STATUS },
	{ { "v1", "brands", "*", "aggregates" }, 4, GET_HEAD, "GET, HEAD", ACCESS_READER, 2, -1,
	    http_info_aggregates, NULL, ROUTE_AGGREGATES },
	{ { "v1", "brands", "*", "aggregates", "*" }, 5, GET_HEAD, "GET, HEAD", ACCESS_READER,
	    2, 4, http_data, NULL, ROUTE_DATA },
	{ { "v1", "status" }, 2, GET_HEAD, "GET, HEAD", ACCESS_MONITOR, -1, -1,
	    http_info_status, "status", ROUTE_STATUS },
	{ { "v1", "snapshots" }, 2, GET_HEAD, "GET, HEAD", ACCESS_MONITOR, -1, -1,
	    http_info_snapshots, "snapshots", ROUTE_SNAPSHOTS },
	{ { "v1", "refresh" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_refresh, "refresh", ROUTE_REFRESH },
	{ { "v1", "swap" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_swap, "swap", ROUTE_ADMIN },
	{ { "v1", "rollback" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_rollback, "rollback", ROUTE_ADMIN },
	{ { "v1", "publish" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_publish, "publish", ROUTE_ADMIN },
	{ { "v1", "discard" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_discard, "discard", ROUTE_ADMIN },
	{ { "v1", "pin" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1, http_admin_pin,
	    "pin", ROUTE_ADMIN },
	{ { "v1", "unpin" }, 2, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_admin_unpin, "unpin", ROUTE_ADMIN },
	{ { "v1", "backup" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_backup,
	    "backup", ROUTE_ADMIN },
	{ { "v1", "sessions" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_sessions,
	    "sessions_list", ROUTE_ADMIN },
	{ { "v1", "sessions", "*" }, 3, EVHTTP_REQ_DELETE, "DELETE", ACCESS_ADMIN, -1, -1,
	    http_session_delete, "session_revoke", ROUTE_ADMIN },
	{ { "v1", "tokens" }, 2, GET_HEAD, "GET, HEAD", ACCESS_ADMIN, -1, -1, http_tokens,
	    "tokens_list", ROUTE_ADMIN },
	{ { "v1", "tokens", "*", "revoke" }, 4, EVHTTP_REQ_POST, "POST", ACCESS_ADMIN, -1, -1,
	    http_token_revoke, "token_revoke", ROUTE_ADMIN },
};

static const struct route *
route_find(const struct http_req *r)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *ro = &routes[i];
		int j;

		if (ro->nseg != r->nseg)
			continue;
		for (j = 0; j < ro->nseg; j++)
			if (strcmp(ro->path[j], "*") != 0 && strcmp(ro->path[j], r->seg[j]) != 0)
				break;
		if (j == ro->nseg)
			return ro;
	}
	return NULL;
}

static void
route_deny(struct http_req *r, int status, const char *reason, const char *msg)
{
	r->reason = reason;
	http_reply_error(r->req, status, status == 404 ? "not_found" : "forbidden", "%s",
	    msg);
}

/*
 * The brand of a brand route. A principal that may not read the brand gets 403 whether
 * or not it exists; only an admin (who may read any) learns that it does not (404).
 */
static int
route_brand(struct http_req *r, const struct route *ro)
{
	const struct config *cf = r->t->rt->cf;

	if (ro->brand < 0)
		return 0;
	r->brand = config_find_brand(cf, r->seg[ro->brand]);
	if (r->brand != NULL && principal_may_read(&r->p, (size_t)(r->brand - cf->brands)))
		return 0;
	if (r->brand == NULL && r->p.admin)
		route_deny(r, 404, "no_such_brand", "no such brand");
	else
		route_deny(r, 403, "brand_not_permitted", "not permitted for this brand");
	r->brand = NULL;
	return -1;
}

/*
 * The role check of an authenticated request: admin routes need role admin; status and
 * snapshots admin or monitor; data routes any role but monitor, which reads no brand.
 */
static int
route_role(struct http_req *r, enum http_access access)
{
	if ((access == ACCESS_ADMIN && !r->p.admin) ||
	    ((access == ACCESS_MONITOR || access == ACCESS_MONITOR_OR_LOOPBACK) &&
	    !r->p.admin && !r->p.monitor)) {
		route_deny(r, 403, "admin_only", access == ACCESS_ADMIN ?
		    "this needs the admin role" : "this needs the admin or monitor role");
		return -1;
	}
	if (access == ACCESS_READER && r->p.monitor) {
		route_deny(r, 403, "monitor_reads_no_data", "role monitor reads no brand data");
		return -1;
	}
	return 0;
}

/* Authenticated /v1 routing: 401, then 404, 403 (role, brand), 405, then the handler. */
static void
route_v1(struct http_req *r, const struct route *ro)
{
	if (ro != NULL && (ro->access == ACCESS_LOGIN || ro->access == ACCESS_OPEN)) {
		if (method_is(r->req, ro->methods, ro->allow) && http_cors_allow(r))
			ro->fn(r);
		return;
	}
	if (http_authenticate(r) != 0) {
		http_reply_unavailable(r->req);
		return;
	}
	if (r->auth != AUTH_OK) {
		http_unauthorized(r);
		return;
	}
	if (ro == NULL) {
		http_reply_error(r->req, 404, "not_found", "no such resource");
		return;
	}
	r->action = ro->action;
	if (route_role(r, ro->access) != 0)
		return;
	if (route_brand(r, ro) != 0)
		return;
	if (ro->agg >= 0 && (r->agg = catalog_find(r->t->rt->cat, r->seg[ro->agg])) == NULL) {
		http_reply_error(r->req, 404, "not_found", "no such aggregate");
		return;
	}
	if (method_is(r->req, ro->methods, ro->allow) && http_cors_allow(r))
		ro->fn(r);
}

/* Outside /v1: health (open) and /metrics (admin or monitor, or open on the loopback). */
static void
route_other(struct http_req *r, const struct route *ro)
{
	if (ro == NULL || (ro->access != ACCESS_OPEN &&
	    ro->access != ACCESS_MONITOR_OR_LOOPBACK)) {
		http_reply_error(r->req, 404, "not_found", "no such resource");
		return;
	}
	if (ro->access == ACCESS_MONITOR_OR_LOOPBACK && strcmp(r->addr, "127.0.0.1") != 0 &&
	    strcmp(r->addr, "::1") != 0) {
		http_authenticate(r);	/* no view: r->auth stays as it was */
		if (r->auth != AUTH_OK) {
			http_unauthorized(r);
			return;
		}
		if (route_role(r, ro->access) != 0)
			return;
	}
	if (method_is(r->req, ro->methods, ro->allow))
		ro->fn(r);
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

/*
 * The audit of a /v1 request, unless its handler wrote its own (login): plain data
 * access is counted on its connection (http_tally.c); denials, admin actions and
 * anything with a reason or target are one line each, at once.
 */
static void
route_audit(struct http_req *r, const char *path)
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
			.addr = r->addr, .method = r->method, .path = clean,
			.pathlen = n, .brand = r->brand ? r->brand->id : NULL,
			.aggregate = r->agg ? r->agg->name : NULL, .status = r->status,
			.bytes = r->bytes,
		};
		http_tally_add(r, &a);	/* the hot path: counted, written per interval */
		return;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s%, s:i}", "event", event,
	    "principal", r->p.kind != PRINCIPAL_NONE ? r->p.name : NULL, "kind", kind,
	    "session", r->p.session_id[0] ? r->p.session_id : NULL, "addr", r->addr,
	    "method", r->method, "path", clean, n, "status", r->status);
	if (o == NULL) {
		log_err("audit: cannot build the line of %s %s", r->method, clean);
		return;
	}
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
		route_audit(r, d->path);
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

/*
 * Routes one admitted request of thread t on connection c (NULL: unknown), whose
 * handling began at t0 (mono_us): the checks, the handler, the audit line (/v1), the
 * metrics. A deferred handler's audit line and metrics come with its reply
 * (deferred_done).
 */
void
http_route_request(struct http_thread *t, struct evhttp_request *req, struct conn *c,
    int64_t t0)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const struct route *ro;
	struct http_req r;

	memset(&r, 0, sizeof r);
	r.t = t;
	r.req = req;
	r.conn = c;
	r.now = time(NULL);
	r.t0 = t0;
	r.method = method_name(req);
	r.v1 = path != NULL && strncmp(path, "/v1", 3) == 0 &&
	    (path[3] == '/' || path[3] == '\0');
	r.nseg = split_path(path, r.seg, HTTP_MAX_SEGS);
	http_client_addr(&r);
	http_reply_track(&r);
	ro = r.nseg >= 0 ? route_find(&r) : NULL;
	r.metric = ro != NULL ? ro->metric : ROUTE_OTHER;
	if (http_cors_begin(&r))
		r.v1 = 0;	/* a CORS preflight, answered before any authentication */
	else if (r.v1)
		route_v1(&r, ro);
	else
		route_other(&r, ro);
	http_reply_track(NULL);
	if (r.deferred)
		return;
	if (r.v1)
		route_audit(&r, path);
	metrics_request(&t->counters, r.metric, r.status, (uint64_t)(mono_us() - t0),
	    r.bytes);
}
