/*
 * http_data.c — serves one aggregate: picks the pre-encoded body (format from ?format=
 * or Accept, gzip from Accept-Encoding), answers 304 on a matching If-None-Match, and
 * hands the body to libevent by reference into LMDB's map. The read view stays open
 * until libevent has written the last byte and calls view_release_cb; a GET never
 * encodes or copies a body. Every answer says how old its data is (http_staleness.c)
 * and makes a browser revalidate rather than keep it (no-cache, ETag); the head's
 * values are http_head.c's, formatted once per snapshot and second.
 */
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tpcd.h"
#include "http.h"

enum fmt { FMT_JSON, FMT_MSGPACK, FMT_CSV };

static const char *const fmt_types[] = {
	[FMT_JSON] = "application/json; charset=utf-8",
	[FMT_MSGPACK] = "application/msgpack",
	[FMT_CSV] = "text/csv; charset=utf-8",
};

/* Does a comma-separated header list name token (ignoring parameters, unless q=0)? */
static int
header_has(const char *h, const char *token)
{
	size_t tl = strlen(token);

	for (const char *p = h; p != NULL && *p != '\0';) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",;");
		const char *end = p + strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(p, token, tl) == 0) {
			const char *q = strstr(p, "q=");
			if (q == NULL || q > end || strtod(q + 2, NULL) > 0)
				return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Format from the query (?format=) or Accept. Returns -1 on a bad query (400 sent). */
static int
pick_format(struct evhttp_request *req, const char *accept, enum fmt *out, char colour[8])
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq params;
	struct evkeyval *kv;
	int have = 0;

	*out = FMT_JSON;
	TAILQ_INIT(&params);
	if (q != NULL && evhttp_parse_query_str(q, &params) != 0) {
		http_reply_error(req, 400, "bad_request", "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, &params, next) {
		if (strcmp(kv->key, "_") == 0)	/* dashboards' cache busters */
			continue;
		if (strcmp(kv->key, "colour") == 0) {	/* a given snapshot (tpcctl diff) */
			if (strcmp(kv->value, "blue") != 0 && strcmp(kv->value, "green") != 0) {
				http_reply_error(req, 400, "bad_parameter",
				    "colour must be blue or green");
				goto fail;
			}
			snprintf(colour, 8, "%s", kv->value);
			continue;
		}
		if (strcmp(kv->key, "format") != 0) {
			http_reply_error(req, 400, "bad_parameter", "unknown parameter '%.64s'",
			    kv->key);
			goto fail;
		}
		if (strcmp(kv->value, "json") == 0)
			*out = FMT_JSON;
		else if (strcmp(kv->value, "msgpack") == 0)
			*out = FMT_MSGPACK;
		else if (strcmp(kv->value, "csv") == 0)
			*out = FMT_CSV;
		else {
			http_reply_error(req, 400, "bad_parameter",
			    "format must be json, msgpack or csv");
			goto fail;
		}
		have = 1;
	}
	evhttp_clear_headers(&params);
	if (!have && accept != NULL) {
		if (header_has(accept, "application/msgpack") ||
		    header_has(accept, "application/x-msgpack"))
			*out = FMT_MSGPACK;
		else if (header_has(accept, "text/csv"))
			*out = FMT_CSV;
	}
	return 0;
fail:
	evhttp_clear_headers(&params);
	return -1;
}

static int
etag_matches(const char *inm, const char *etag)
{
	if (inm == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	/* A list of entity tags; weak comparison is allowed for If-None-Match. */
	for (const char *p = inm; (p = strstr(p, etag + 1)) != NULL; p++)
		if (p > inm && p[-1] == '"' && p[ETAG_LEN - 2] == '"')
			return 1;
	return 0;
}

static void
view_release_cb(const void *data, size_t len, void *arg)
{
	(void)data; (void)len;
	store_view_release(arg);
}

/*
 * Replicas never take a client back in time: a client (or its load balancer) that sends
 * the newest X-Tpcd-Data-Time it has seen as X-Tpcd-Not-Before gets a 503 from an
 * instance whose data is older, which a proxy retries on another instance.
 */
static int
data_behind(const char *nb, int64_t data_time)
{
	int64_t ms;

	return nb != NULL && clock_parse_iso8601_ms(nb, &ms) == 0 && data_time < ms / 1000;
}

/* The request headers a data response reads, found in one pass over the head. */
struct data_in {
	const char	*accept, *accept_encoding, *if_none_match, *not_before;
};

static void
data_headers(struct evkeyvalq *in, struct data_in *d)
{
	struct evkeyval *kv;

	memset(d, 0, sizeof *d);
	TAILQ_FOREACH(kv, in, next) {
		const char *k = kv->key, **slot = NULL;

		switch (k[0] | 0x20) {
		case 'a':
			if (strcasecmp(k, "Accept") == 0)
				slot = &d->accept;
			else if (strcasecmp(k, "Accept-Encoding") == 0)
				slot = &d->accept_encoding;
			break;
		case 'i':
			if (strcasecmp(k, "If-None-Match") == 0)
				slot = &d->if_none_match;
			break;
		case 'x':
			if (strcasecmp(k, "X-Tpcd-Not-Before") == 0)
				slot = &d->not_before;
			break;
		}
		if (slot != NULL && *slot == NULL)	/* the first, as evhttp_find_header */
			*slot = kv->value;
	}
}

/* The router has checked that r->p may read r->brand and that r->agg exists. */
void
http_data(struct http_req *r)
{
	struct http_thread *t = r->t;
	struct evhttp_request *req = r->req;
	const struct brand *b = r->brand;
	const struct aggregate *a = r->agg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct data_in in;
	int gz;
	struct store_view *v;
	struct record_meta m;
	enum body_variant var;
	struct http_head h;
	const char *body, *etag, *q;
	const void *rec;
	size_t len, blen;
	enum fmt f;
	char colour[8] = "";
	int64_t dt;

	/* a plain request pays for no query parse; only a slice's parses more */
	if ((q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) != NULL &&
	    http_slice_asked(q) && http_slice(r, q))
		return;
	data_headers(evhttp_request_get_input_headers(req), &in);
	gz = in.accept_encoding != NULL && header_has(in.accept_encoding, "gzip");
	if (pick_format(req, in.accept, &f, colour) != 0)
		return;
	if (colour[0] != '\0' && !r->p.admin) {
		r->reason = "admin_only";
		http_reply_error(req, 403, "forbidden", "reading a given colour needs the admin role");
		return;
	}
	if ((v = store_view_begin(t->rd)) == NULL) {
		http_reply_unavailable(req);
		return;
	}
	if (colour[0] != '\0') {
		if (store_view_get_colour(v, colour, b->id, a->name, &rec, &len) != 0 ||
		    record_parse(rec, len, &m) != 0) {
			store_view_release(v);
			http_reply_error(req, 404, "not_found", "the %s colour holds no such aggregate",
			    colour);
			return;
		}
	} else if (store_view_colour(v) == NULL ||
	    store_view_get(v, b->id, a->name, &rec, &len) != 0 ||
	    record_parse(rec, len, &m) != 0) {
		store_view_release(v);
		http_reply_error(req, 503, "not_ready", "aggregate not available yet");
		return;
	}
	if (f == FMT_MSGPACK)
		var = BODY_MSGPACK;
	else if (f == FMT_CSV)
		var = gz ? BODY_CSV_GZ : BODY_CSV;
	else
		var = gz ? BODY_JSON_GZ : BODY_JSON;
	/* the time the data describes (unknown, or a ?colour= read: when it was pulled) */
	dt = colour[0] == '\0' ? http_staleness_data_time(r, v) : 0;
	if (data_behind(in.not_before, dt > 0 ? dt : m.refreshed_at)) {
		store_view_release(v);
		evhttp_add_header(out, "Retry-After", "1");
		http_reply_error(req, 503, "behind",
		    "this instance's data is older than X-Tpcd-Not-Before; another is newer");
		return;
	}
	record_body(rec, len, var, &body, &blen, &etag);
	h = (struct http_head){
		.brand_ix = (size_t)(b - t->rt->cf->brands),
		.agg_ix = (size_t)(a - t->rt->cat->aggs),
		.generation = store_view_generation(v), .refreshed_at = m.refreshed_at,
		.data_time = dt > 0 ? dt : 0, .variant = var, .etag = etag,
		.colour = colour[0] ? colour : store_view_colour(v),
		.content_type = fmt_types[f], .gzip = var == BODY_JSON_GZ || var == BODY_CSV_GZ,
	};
	if (etag_matches(in.if_none_match, etag)) {
		store_view_release(v);
		http_head_data(out, &h, 1);
		http_reply_note(304, 0);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	http_head_data(out, &h, 0);
	/* zero-copy from the map; the view lives until the body has left */
	http_reply_reference(req, body, blen, view_release_cb, v);
}

/* What http_slice.c answers with as a whole aggregate does. */
int
http_data_accepts(const char *h, const char *token)
{
	return header_has(h, token);
}

int
http_data_etag_matches(const char *inm, const char *etag)
{
	return etag_matches(inm, etag);
}

int
http_data_behind(struct evkeyvalq *in, int64_t data_time)
{
	return data_behind(evhttp_find_header(in, "X-Tpcd-Not-Before"), data_time);
}
