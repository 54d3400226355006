/*
 * http_staleness.c — how old the live data is, per aggregate: the time its data
 * describes (the live manifest's data_time: a DT's data timestamp, a SQLite source's
 * declared time) against the catalogue's max_staleness. Feeds the data responses'
 * X-Tpcd-Data-Time / X-Tpcd-Staleness headers (formatted by http_head.c), GET /readyz,
 * /v1/status and /metrics.
 * Reads only; the hot path reads a per-thread copy of the data times, renewed when the
 * live snapshot changes and at most once a second (a refresh that changed nothing moves
 * the data times of the same snapshot on).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

#define STALE_MAX	1024		/* brands x aggregates a thread's copy holds */

struct stale_copy {
	const struct catalog	*cat;	/* of the runtime it was read for */
	const struct config	*cf;
	int			 colour;	/* first letter of the live colour */
	uint64_t		 generation;
	int64_t			 read_at;	/* mono_ms */
	int64_t			 t[STALE_MAX];	/* [brand * naggs + agg]: unix seconds, 0 unknown */
};

static __thread struct stale_copy stale_tls;

static void
stale_fill(int64_t *t, size_t n, struct store_view *v, const struct config *cf,
    const struct catalog *cat)
{
	const char *colour = store_view_colour(v);
	struct manifest m;

	memset(t, 0, n * sizeof *t);
	if (colour == NULL || store_view_manifest(v, colour, &m) != 0)
		return;
	for (size_t i = 0; i < m.nentries; i++) {
		const struct brand *b = config_find_brand(cf, m.entries[i].brand);
		const struct aggregate *a = catalog_find(cat, m.entries[i].aggregate);
		size_t k;

		if (b == NULL || a == NULL)
			continue;
		k = (size_t)(b - cf->brands) * cat->naggs + (size_t)(a - cat->aggs);
		if (k < n)
			t[k] = m.entries[i].data_time;
	}
	manifest_free(&m);
}

/* The data time of brand b's aggregate a in view v's live snapshot; 0: unknown. */
int64_t
http_staleness_data_time(struct http_req *r, struct store_view *v)
{
	struct stale_copy *c = &stale_tls;
	const struct config *cf = r->t->rt->cf;
	const struct catalog *cat = r->t->rt->cat;
	const char *colour = store_view_colour(v);
	size_t n = cf->nbrands * cat->naggs, k;
	int64_t now = mono_ms();

	if (colour == NULL)
		return 0;
	k = (size_t)(r->brand - cf->brands) * cat->naggs + (size_t)(r->agg - cat->aggs);
	if (n > STALE_MAX) {		/* too many to keep: read this one */
		int64_t *t = xcalloc(n, sizeof *t), x;
		stale_fill(t, n, v, cf, cat);
		x = t[k];
		free(t);
		return x;
	}
	if (c->cat != cat || c->cf != cf || c->colour != colour[0] ||
	    c->generation != store_view_generation(v) || now - c->read_at >= 1000) {
		stale_fill(c->t, n, v, cf, cat);
		c->cat = cat;
		c->cf = cf;
		c->colour = colour[0];
		c->generation = store_view_generation(v);
		c->read_at = now;
	}
	return c->t[k];
}

/*
 * Every configured aggregate's staleness in v's live snapshot (none known without v), in
 * configuration order: [brand * naggs + aggregate]; *n of them, *nstale stale. Caller
 * frees; the names point into the runtime's configuration and catalogue.
 */
struct staleness *
http_staleness_all(struct http_req *r, struct store_view *v, size_t *n, size_t *nstale)
{
	const struct config *cf = r->t->rt->cf;
	const struct catalog *cat = r->t->rt->cat;
	size_t nn = cf->nbrands * cat->naggs;
	int64_t *t = xcalloc(nn ? nn : 1, sizeof *t), now = time(NULL);
	struct staleness *all = xcalloc(nn ? nn : 1, sizeof *all);

	*n = nn;
	*nstale = 0;
	if (v != NULL)
		stale_fill(t, nn, v, cf, cat);
	for (size_t k = 0; k < nn; k++) {
		struct staleness *s = &all[k];
		const struct aggregate *a = &cat->aggs[k % cat->naggs];

		s->brand = cf->brands[k / cat->naggs].id;
		s->aggregate = a->name;
		s->data_time = t[k];
		s->age_s = t[k] > 0 && now > t[k] ? now - t[k] : 0;
		s->max_s = catalog_max_staleness(cat, a);
		s->stale = s->max_s > 0 && (t[k] <= 0 || s->age_s > s->max_s);
		*nstale += s->stale;
	}
	free(t);
	return all;
}

/* Sets s's data_time, staleness_s, max_staleness_s and stale on object e. */
void
http_staleness_set(json_t *e, const struct staleness *s)
{
	char ts[32];

	if (s->data_time > 0)
		clock_iso8601(s->data_time, ts);
	json_object_set_new(e, "data_time", s->data_time > 0 ? json_string(ts) : json_null());
	json_object_set_new(e, "staleness_s", s->data_time > 0 ? json_integer(s->age_s) :
	    json_null());
	json_object_set_new(e, "max_staleness_s", s->max_s > 0 ? json_integer(s->max_s) :
	    json_null());
	json_object_set_new(e, "stale", json_boolean(s->stale));
}

/*
 * Every configured aggregate's staleness in v's live snapshot, as a JSON list of
 * {brand, aggregate, data_time, staleness_s, max_staleness_s, stale}; only the stale
 * ones when only_stale. *nstale counts them. A new reference.
 */
json_t *
http_staleness_list(struct http_req *r, struct store_view *v, int only_stale,
    size_t *nstale)
{
	size_t n;
	struct staleness *all = http_staleness_all(r, v, &n, nstale);
	json_t *list = json_array();

	for (size_t k = 0; k < n; k++) {
		json_t *e;

		if (only_stale && !all[k].stale)
			continue;
		e = json_pack("{s:s, s:s}", "brand", all[k].brand, "aggregate",
		    all[k].aggregate);
		http_staleness_set(e, &all[k]);
		json_array_append_new(list, e);
	}
	free(all);
	return list;
}

/*
 * GET /readyz: 200 when a snapshot is live and no aggregate is past its max_staleness;
 * 503 with the list of those that are (or "starting" before the first snapshot).
 * /healthz stays the liveness check.
 */
void
http_staleness_readyz(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);
	const char *colour = v ? store_view_colour(v) : NULL;
	uint64_t gen = v ? store_view_generation(v) : 0;
	size_t nstale = 0;
	json_t *stale;

	if (colour == NULL) {
		store_view_release(v);
		http_reply_json(r->req, 503, "Service Unavailable", json_pack("{s:s, s:s}",
		    "status", "starting", "message", "no snapshot published yet"));
		return;
	}
	stale = http_staleness_list(r, v, 1, &nstale);
	store_view_release(v);
	if (nstale > 0) {
		http_reply_json(r->req, 503, "Service Unavailable", json_pack("{s:s, s:I, s:o}",
		    "status", "stale", "generation", (json_int_t)gen, "stale", stale));
		return;
	}
	json_decref(stale);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "status", "ready",
	    "generation", (json_int_t)gen));
}

/* tpcd_aggregate_staleness_seconds{brand,aggregate} for /metrics. */
void
http_staleness_metrics(struct http_req *r, struct store_view *v, struct buf *o)
{
	const struct config *cf = r->t->rt->cf;
	const struct catalog *cat = r->t->rt->cat;
	size_t n = cf->nbrands * cat->naggs;
	int64_t *t = xcalloc(n ? n : 1, sizeof *t), now = time(NULL);

	if (v != NULL)
		stale_fill(t, n, v, cf, cat);
	buf_adds(o, "# HELP tpcd_aggregate_staleness_seconds Seconds since the time the live "
	    "data of the aggregate describes.\n# TYPE tpcd_aggregate_staleness_seconds gauge\n");
	for (size_t k = 0; k < n; k++)
		if (t[k] > 0)
			buf_printf(o, "tpcd_aggregate_staleness_seconds{brand=\"%s\",aggregate="
			    "\"%s\"} %lld\n", cf->brands[k / cat->naggs].id,
			    cat->aggs[k % cat->naggs].name,
			    (long long)(now > t[k] ? now - t[k] : 0));
	buf_adds(o, "# HELP tpcd_aggregate_max_staleness_seconds The aggregate's staleness "
	    "limit (max_staleness).\n# TYPE tpcd_aggregate_max_staleness_seconds gauge\n");
	for (size_t k = 0; k < n; k++) {
		int64_t max = catalog_max_staleness(cat, &cat->aggs[k % cat->naggs]);
		if (max > 0)
			buf_printf(o, "tpcd_aggregate_max_staleness_seconds{brand=\"%s\","
			    "aggregate=\"%s\"} %lld\n", cf->brands[k / cat->naggs].id,
			    cat->aggs[k % cat->naggs].name, (long long)max);
	}
	free(t);
}
