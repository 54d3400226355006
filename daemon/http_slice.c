/*
 * http_slice.c — a slice of one aggregate: GET .../aggregates/NAME?limit=&offset= and
 * equality filters on its dimension columns (?month=2025-12&region=Seoul). The serving
 * thread parses and checks the query, answers 400/304 itself, sends a slice the refresh
 * built at publish (the catalogue's slice_key) by reference, and hands any other to the
 * slicer pool (slice.c, through http_defer): it never reads a million rows nor encodes.
 * The reply carries the whole aggregate's head (http_head.c) with the slice's own ETag,
 * and X-Tpcd-Total-Rows. The router has checked access as for the whole aggregate.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tpcd.h"
#include "http.h"

#define SLICE_LIMIT_DEFAULT	1000
#define SLICE_LIMIT_MAX		10000
#define SLICE_OFFSET_MAX	1000000000000ULL	/* beyond any record (32-bit sizes) */
#define SLICE_QUEUE_MAX		64	/* slices waiting for the pool: more answer 503 */

/* A slice being built: the serving thread's view stays open until the reply. */
struct slice_job {
	const struct brand	*brand;
	const struct aggregate	*agg;
	struct store_view	*v;
	const void		*rec;		/* in v: valid until v is released */
	size_t			 len;
	struct slice_query	 q;		/* filters' values owned here */
	enum body_variant	 var;
	char			 etag[ETAG_LEN + 1];
	char			 colour[8];	/* "" for the active snapshot */
	struct record_meta	 meta;
	int64_t			 data_time;	/* 0: unknown, or a ?colour= read */
	size_t			 brand_ix, agg_ix;	/* http_head.c's slot, as routed */
	struct slice_cache	*cache;
	struct slice_entry	*built;		/* the slice's record, from or into the cache */
	char			*cause;
};

/* The parsed query: what http_data's own parse reads, plus the slice's. */
struct slice_args {
	struct slice_query	 q;
	int			 sliced;	/* a limit, an offset or a filter was given */
	int			 have_limit, have_offset;
	const char		*format;	/* NULL: from Accept */
	char			 colour[8];
};

static const char *const slice_types[] = {
	[BODY_JSON] = "application/json; charset=utf-8",
	[BODY_JSON_GZ] = "application/json; charset=utf-8",
	[BODY_MSGPACK] = "application/msgpack",
	[BODY_CSV] = "text/csv; charset=utf-8",
	[BODY_CSV_GZ] = "text/csv; charset=utf-8",
};

/*
 * Does query q ask for more than http_data serves (a key other than format, colour
 * and _)? A plain scan: no parse, no allocation. A percent-escaped key counts as asking:
 * http_slice decodes it and hands back what is not a slice.
 */
int
http_slice_asked(const char *q)
{
	for (const char *p = q; *p != '\0';) {
		size_t n = strcspn(p, "=&;");
		if (!((n == 6 && strncmp(p, "format", 6) == 0) ||
		    (n == 6 && strncmp(p, "colour", 6) == 0) ||
		    (n == 1 && p[0] == '_') || n == 0))
			return 1;
		p += strcspn(p, "&");
		if (*p == '&')
			p++;
	}
	return 0;
}

/* A 400 naming the parameter (printable ASCII of it, at most 64 bytes). */
static void
slice_refuse(struct evhttp_request *req, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
slice_refuse(struct evhttp_request *req, const char *param, const char *fmt, ...)
{
	char name[65], *msg;
	va_list ap;
	size_t i;

	for (i = 0; i < sizeof name - 1 && param[i] != '\0'; i++)
		name[i] = param[i] > 0x20 && param[i] < 0x7f ? param[i] : '?';
	name[i] = '\0';
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)	/* the client's bytes: JSON wants UTF-8 */
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	http_reply_json(req, 400, "Bad Request", json_pack("{s:{s:i, s:s, s:s, s:s}}",
	    "error", "status", 400, "code", "bad_parameter", "message", msg,
	    "parameter", name));
	free(msg);
}

/* A decimal count in [0, max], digits only (no sign, no blanks). */
static int
slice_count(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 20)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* A filter key: a dimension column of a, or a 400 naming it. Returns its index or -1. */
static int
slice_column(struct evhttp_request *req, const struct aggregate *a, const char *key)
{
	for (size_t i = 0; i < a->ncols; i++) {
		if (strcmp(a->cols[i].name, key) != 0)
			continue;
		if (strcmp(a->cols[i].role, "dimension") == 0)
			return (int)i;
		slice_refuse(req, key, "'%s' is a measure of %s; only its dimension columns "
		    "filter", a->cols[i].name, a->name);
		return -1;
	}
	slice_refuse(req, key, "unknown parameter '%.64s'", key);
	return -1;
}

/* One key=value of the query into args; -1 when a 400 has been sent. */
static int
slice_arg(struct evhttp_request *req, const struct aggregate *a, struct slice_filter *byc,
    struct slice_args *s, const char *k, const char *val)
{
	char *cause = NULL;
	int col;

	if (strcmp(k, "_") == 0)
		return 0;
	if (strcmp(k, "format") == 0) {
		if (strcmp(val, "json") != 0 && strcmp(val, "msgpack") != 0 &&
		    strcmp(val, "csv") != 0) {
			slice_refuse(req, k, "format must be json, msgpack or csv");
			return -1;
		}
		s->format = val;
		return 0;
	}
	if (strcmp(k, "colour") == 0) {
		if (strcmp(val, "blue") != 0 && strcmp(val, "green") != 0) {
			slice_refuse(req, k, "colour must be blue or green");
			return -1;
		}
		snprintf(s->colour, sizeof s->colour, "%s", val);
		return 0;
	}
	s->sliced = 1;
	if (strcmp(k, "limit") == 0 || strcmp(k, "offset") == 0) {
		int lim = k[0] == 'l';
		int *have = lim ? &s->have_limit : &s->have_offset;
		if (*have) {
			slice_refuse(req, k, "'%s' is given twice", k);
			return -1;
		}
		*have = 1;
		if (slice_count(val, lim ? SLICE_LIMIT_MAX : SLICE_OFFSET_MAX,
		    lim ? &s->q.limit : &s->q.offset) != 0) {
			if (lim)
				slice_refuse(req, k, "limit must be an integer from 0 to %d",
				    SLICE_LIMIT_MAX);
			else
				slice_refuse(req, k, "offset must be an integer from 0 to %llu",
				    (unsigned long long)SLICE_OFFSET_MAX);
			return -1;
		}
		return 0;
	}
	if ((col = slice_column(req, a, k)) < 0)
		return -1;
	if (byc[col].s != NULL) {
		slice_refuse(req, k, "'%s' is given twice", k);
		return -1;
	}
	if (slice_filter_parse(a, (size_t)col, val, &byc[col], &cause) != 0) {
		slice_refuse(req, k, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/*
 * Parses query q for aggregate a into s; the filters' values are copied (s->q owns
 * them: slice_query_free). Returns 0, or -1 when a 400 has been sent.
 */
static int
slice_args_parse(struct evhttp_request *req, const struct aggregate *a, const char *q,
    struct slice_args *s)
{
	struct slice_filter *byc = xcalloc(a->ncols ? a->ncols : 1, sizeof *byc);
	struct evkeyvalq params;
	struct evkeyval *kv;
	int rc = -1;

	memset(s, 0, sizeof *s);
	s->q.limit = SLICE_LIMIT_DEFAULT;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) != 0) {
		http_reply_error(req, 400, "bad_request", "malformed query string");
		goto out;
	}
	TAILQ_FOREACH(kv, &params, next)
		if (slice_arg(req, a, byc, s, kv->key, kv->value) != 0)
			goto out;
	/* in column order, so that one query has one canonical form and one ETag */
	s->q.filters = xcalloc(a->ncols ? a->ncols : 1, sizeof *s->q.filters);
	for (size_t i = 0; i < a->ncols; i++)
		if (byc[i].s != NULL) {
			s->q.filters[s->q.nfilters] = byc[i];
			s->q.filters[s->q.nfilters++].s = xstrdup(byc[i].s);
		}
	if (s->format != NULL)	/* points into params, which go below */
		s->format = strcmp(s->format, "json") == 0 ? "json" :
		    strcmp(s->format, "csv") == 0 ? "csv" : "msgpack";
	rc = 0;
out:
	evhttp_clear_headers(&params);
	free(byc);
	return rc;
}

static void
slice_query_free(struct slice_query *q)
{
	for (size_t i = 0; i < q->nfilters; i++)
		free((char *)q->filters[i].s);
	free(q->filters);
}

static void
slice_job_free(struct slice_job *j)
{
	slice_query_free(&j->q);
	slice_cache_release(j->built);
	free(j->cause);
	free(j);
}

/* The body variant: ?format= or Accept, gzip by Accept-Encoding, as http_data picks. */
static enum body_variant
slice_variant(struct evkeyvalq *in, const char *format)
{
	const char *accept = evhttp_find_header(in, "Accept");
	const char *ae = evhttp_find_header(in, "Accept-Encoding");
	int gz = ae != NULL && http_data_accepts(ae, "gzip");

	if (format == NULL && accept != NULL) {
		if (http_data_accepts(accept, "application/msgpack") ||
		    http_data_accepts(accept, "application/x-msgpack"))
			format = "msgpack";
		else if (http_data_accepts(accept, "text/csv"))
			format = "csv";
	}
	if (format != NULL && strcmp(format, "msgpack") == 0)
		return BODY_MSGPACK;
	if (format != NULL && strcmp(format, "csv") == 0)
		return gz ? BODY_CSV_GZ : BODY_CSV;
	return gz ? BODY_JSON_GZ : BODY_JSON;
}

/*
 * The head of a whole aggregate's answer (http_head.c: the same lines, the same way),
 * with the slice's ETag; unless not_modified, its Content-Type and Content-Encoding.
 */
static void
slice_head(struct slice_job *j, struct evkeyvalq *out, int not_modified)
{
	struct http_head h = {
		.brand_ix = j->brand_ix, .agg_ix = j->agg_ix,
		.generation = store_view_generation(j->v), .refreshed_at = j->meta.refreshed_at,
		.data_time = j->data_time, .variant = j->var, .etag = j->etag,
		.colour = j->colour[0] != '\0' ? j->colour : store_view_colour(j->v),
		.content_type = slice_types[j->var],
		.gzip = j->var == BODY_JSON_GZ || j->var == BODY_CSV_GZ,
	};

	http_head_data(out, &h, not_modified);
}

/*
 * On a slicer: the slice from the cache, or built and kept there. Its key is the slice's
 * ETag over the whole msgpack body's, which names the data's generation and content (and
 * brand and aggregate) whatever representation was asked for.
 */
static void
slice_work(void *arg)
{
	struct slice_job *j = arg;
	const char *body, *whole;
	char key[ETAG_LEN + 1];
	struct buf out;
	uint64_t total;
	size_t blen;

	if (record_body(j->rec, j->len, BODY_MSGPACK, &body, &blen, &whole) != 0) {
		j->cause = xstrdup("not a record");
		return;
	}
	slice_etag(whole, &j->q, key);
	if ((j->built = slice_cache_get(j->cache, key)) != NULL)
		return;
	buf_init(&out);
	if (slice_build(j->brand, j->agg, j->rec, j->len, &j->q, &out, &total,
	    &j->cause) != 0) {
		log_warn("slice of %s/%s: %s", j->brand->id, j->agg->name, j->cause);
		buf_free(&out);
		return;
	}
	j->built = slice_cache_put(j->cache, key, &out, total);
}

static void
slice_body_free_cb(const void *data, size_t len, void *arg)
{
	(void)data; (void)len;
	slice_cache_release(arg);
}

/*
 * Sends body by reference with the slice's row count and kind; done(body, blen, arg)
 * releases what holds the body when the last byte has left, or at once when no reply
 * could be made of it.
 */
static void
slice_send(struct evhttp_request *req, const char *body, size_t blen, uint64_t total,
    const char *kind, evbuffer_ref_cleanup_cb done, void *arg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)total);
	evhttp_add_header(out, "X-Tpcd-Total-Rows", tmp);
	evhttp_add_header(out, "X-Tpcd-Slice", kind);
	http_reply_reference(req, body, blen, done, arg);
}

/* Back on the serving thread: the slice's body, or a 500 when it could not be built. */
static void
slice_reply(struct http_req *r, void *arg)
{
	struct slice_job *j = arg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct slice_entry *e = j->built;
	const struct buf *rec;
	const char *body, *etag;
	uint64_t total;
	size_t blen;

	if (e == NULL || (rec = slice_cache_record(e, &total)) == NULL ||
	    record_body(rec->data, rec->len, j->var, &body, &blen, &etag) != 0) {
		store_view_release(j->v);
		slice_job_free(j);
		http_reply_error(r->req, 500, "internal", "the slice could not be built");
		return;
	}
	slice_head(j, out, 0);
	store_view_release(j->v);	/* the body is the slice's own from here */
	j->built = NULL;		/* its reference goes with the body */
	slice_job_free(j);
	slice_send(r->req, body, blen, total, "computed", slice_body_free_cb, e);
}

/* The record the slice is cut from, in j->v; -1 when an error has been sent. */
static int
slice_record(struct http_req *r, struct slice_job *j)
{
	const char *c = j->colour;

	if ((j->v = store_view_begin(r->t->rd)) == NULL) {
		http_reply_unavailable(r->req);
		return -1;
	}
	if (c[0] != '\0' ? store_view_get_colour(j->v, c, j->brand->id, j->agg->name,
	    &j->rec, &j->len) == 0 && record_parse(j->rec, j->len, &j->meta) == 0 :
	    store_view_colour(j->v) != NULL && store_view_get(j->v, j->brand->id,
	    j->agg->name, &j->rec, &j->len) == 0 && record_parse(j->rec, j->len,
	    &j->meta) == 0)
		return 0;
	store_view_release(j->v);
	if (c[0] != '\0')
		http_reply_error(r->req, 404, "not_found", "the %s colour holds no such "
		    "aggregate", c);
	else
		http_reply_error(r->req, 503, "not_ready", "aggregate not available yet");
	return -1;
}

static void
slice_view_release_cb(const void *data, size_t len, void *arg)
{
	(void)data; (void)len;
	store_view_release(arg);
}

/*
 * A slice built at publish, sent as a whole aggregate is: by reference into the map,
 * the view held until the last byte has left. Consumes j.
 */
static void
slice_send_part(struct http_req *r, struct slice_job *j, const void *rec, size_t len,
    uint64_t rows)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct store_view *v = j->v;
	const char *body, *etag;
	size_t blen;

	record_body(rec, len, j->var, &body, &blen, &etag);
	slice_head(j, out, 0);
	slice_job_free(j);
	slice_send(r->req, body, blen, rows, "publish", slice_view_release_cb, v);
}

/*
 * A query with a filter on the aggregate's slice key reads the slice built at publish for
 * that value, which holds every row it can match: sent at once when that filter is the
 * only one and the window holds all of it (returns 1, j consumed); else the window and
 * the other filters are cut from it rather than from the whole (returns 0, j's record now
 * that slice, the key's filter dropped). No such slice: 0, j unchanged.
 */
static int
slice_from_publish(struct http_req *r, struct slice_job *j)
{
	struct record_meta pm;
	const char *value;
	const void *rec;
	char num[32], *name;
	size_t n, len, which;
	int rc;

	if ((value = slice_part_value(j->agg, &j->q, num, &n, &which)) == NULL ||
	    (name = slice_part_name(j->agg->name, value, n)) == NULL)
		return 0;
	rc = j->colour[0] != '\0' ? store_view_get_colour(j->v, j->colour, j->brand->id, name,
	    &rec, &len) : store_view_get(j->v, j->brand->id, name, &rec, &len);
	free(name);
	if (rc != 0 || record_parse(rec, len, &pm) != 0)
		return 0;
	if (j->q.nfilters == 1 && j->q.offset == 0 && j->q.limit >= pm.rows) {
		slice_send_part(r, j, rec, len, pm.rows);
		return 1;
	}
	j->rec = rec;
	j->len = len;
	free((char *)j->q.filters[which].s);
	memmove(&j->q.filters[which], &j->q.filters[which + 1],
	    (j->q.nfilters - which - 1) * sizeof *j->q.filters);
	j->q.nfilters--;
	return 0;
}

/*
 * Answers a data request whose query string q asks for a slice: returns 1 when it has
 * (answered now or handed to the pool), 0 when q, decoded, asks for nothing http_data
 * does not serve itself (it goes on then).
 */
int
http_slice(struct http_req *r, const char *q)
{
	struct evhttp_request *req = r->req;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct slice_args s;
	struct slice_job *j;
	const char *body, *whole;
	size_t blen;
	int64_t dt;

	if (slice_args_parse(req, r->agg, q, &s) != 0)
		return 1;
	if (!s.sliced) {
		slice_query_free(&s.q);
		return 0;
	}
	if (s.colour[0] != '\0' && !r->p.admin) {
		slice_query_free(&s.q);
		r->reason = "admin_only";
		http_reply_error(req, 403, "forbidden", "reading a given colour needs the admin role");
		return 1;
	}
	j = xcalloc(1, sizeof *j);
	j->brand = r->brand;
	j->agg = r->agg;
	j->brand_ix = (size_t)(r->brand - r->t->rt->cf->brands);
	j->agg_ix = (size_t)(r->agg - r->t->rt->cat->aggs);
	j->cache = r->t->srv->slice_cache;
	j->q = s.q;
	memcpy(j->colour, s.colour, sizeof j->colour);
	j->var = slice_variant(in, s.format);
	if (slice_record(r, j) != 0) {
		slice_job_free(j);
		return 1;
	}
	dt = j->colour[0] == '\0' ? http_staleness_data_time(r, j->v) : 0;
	j->data_time = dt > 0 ? dt : 0;
	if (http_data_behind(in, dt > 0 ? dt : j->meta.refreshed_at)) {
		store_view_release(j->v);
		slice_job_free(j);
		evhttp_add_header(out, "Retry-After", "1");
		http_reply_error(req, 503, "behind",
		    "this instance's data is older than X-Tpcd-Not-Before; another is newer");
		return 1;
	}
	record_body(j->rec, j->len, j->var, &body, &blen, &whole);
	slice_etag(whole, &j->q, j->etag);
	if (http_data_etag_matches(evhttp_find_header(in, "If-None-Match"), j->etag)) {
		slice_head(j, out, 1);
		store_view_release(j->v);
		slice_job_free(j);
		http_reply_note(304, 0);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return 1;
	}
	if (slice_from_publish(r, j))
		return 1;
	if (worker_pending(r->t->srv->slicers) >= SLICE_QUEUE_MAX) {
		store_view_release(j->v);
		slice_job_free(j);
		evhttp_add_header(out, "Retry-After", "1");
		http_reply_error(req, 503, "busy", "too many slices are being built; retry");
		return 1;
	}
	http_defer(r, r->t->srv->slicers, slice_work, slice_reply, j);
	return 1;
}
