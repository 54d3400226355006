/*
 * http_info.c — the read-only answers that are not data bodies: health, the brands and
 * aggregates a principal may read, the operator's status (refresh state, live snapshot,
 * staleness, a held candidate and its failed guards) and both colours' manifests. The router has checked access before any of these runs;
 * they only read (the store through the thread's read views, the refresher's state
 * through refresh_status), never change anything.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

void
http_info_health(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);
	int have = v != NULL && store_view_colour(v) != NULL;
	uint64_t gen = v ? store_view_generation(v) : 0;

	if (v == NULL) {
		http_reply_unavailable(r->req);
		return;
	}
	store_view_release(v);
	if (!have) {
		http_reply_json(r->req, 503, "Service Unavailable",
		    json_pack("{s:s, s:s}", "status", "starting", "message",
		    "no snapshot published yet"));
		return;
	}
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:I}", "status", "ok",
	    "generation", (json_int_t)gen));
}

/* The brands the principal may read (all of them for an admin). */
void
http_info_brands(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	json_t *list = json_array();

	for (size_t i = 0; i < cf->nbrands; i++)
		if (principal_may_read(&r->p, i))
			json_array_append_new(list, json_pack("{s:s, s:s}", "id",
			    cf->brands[i].id, "name", cf->brands[i].name));
	http_reply_json(r->req, 200, "OK", json_pack("{s:o}", "brands", list));
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

void
http_info_aggregates(struct http_req *r)
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
			clock_iso8601(m.refreshed_at, ts);
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
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:s, s:o}", "brand", b->id, "name",
	    b->name, "aggregates", list));
}

/* The last refresh cycle, or null before the first one ended. */
static json_t *
status_last_json(const struct refresh_status *st)
{
	char ts[32];
	json_t *last;

	if (st->runs == 0)
		return json_null();
	last = json_pack("{s:s, s:b, s:I}", "result", st->last_ok ? "ok" : "error",
	    "published", st->last_published, "duration_ms",
	    (json_int_t)st->last_duration_ms);
	clock_iso8601(st->last_started_ms / 1000, ts);
	json_object_set_new(last, "started_at", json_string(ts));
	clock_iso8601(st->last_finished_ms / 1000, ts);
	json_object_set_new(last, "finished_at", json_string(ts));
	json_object_set_new(last, "error", st->last_error ? json_string(st->last_error) :
	    json_null());
	return last;
}

/* The staleness entry of a's brand and aggregate, found by name; NULL: none. */
static const struct staleness *
status_staleness_of(const struct refresh_agg *a, const struct staleness *all, size_t n,
    const struct config *cf, const struct catalog *cat)
{
	const struct brand *b = config_find_brand(cf, a->brand);
	const struct aggregate *g = catalog_find(cat, a->aggregate);
	size_t k;

	if (b == NULL || g == NULL)
		return NULL;
	k = (size_t)(b - cf->brands) * cat->naggs + (size_t)(g - cat->aggs);
	return k < n ? &all[k] : NULL;
}

/*
 * The refresher's part of /v1/status, each aggregate's refresh state beside its data
 * time and staleness (stale, n of them); pinned is the store's word.
 */
static json_t *
status_refresh_json(const struct refresh_status *st, int pinned,
    const struct staleness *stale, size_t n, const struct config *cf,
    const struct catalog *cat)
{
	json_t *o, *aggs = json_array();
	char ts[32];

	for (size_t i = 0; i < st->naggs; i++) {
		const struct refresh_agg *a = &st->aggs[i];
		const struct staleness *sa = status_staleness_of(a, stale, n, cf, cat);
		json_t *e = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s?, s:s?, s:I, s:I}",
		    "brand", a->brand, "aggregate", a->aggregate, "rows", (json_int_t)a->rows,
		    "generation", (json_int_t)a->generation, "duration_ms",
		    (json_int_t)a->duration_ms, "data_timestamp", a->data_ts,
		    "statement_handle", a->handle, "refreshes_ok", (json_int_t)a->ok_count,
		    "refreshes_failed", (json_int_t)a->fail_count);
		json_object_set_new(e, "ok", a->ok_count + a->fail_count == 0 ? json_null() :
		    json_boolean(a->ok));
		json_object_set_new(e, "result", a->ok_count + a->fail_count == 0 ?
		    json_null() : json_string(a->ok ? "ok" : "error"));
		json_object_set_new(e, "error", a->error ? json_string(a->error) : json_null());
		if (sa != NULL)
			http_staleness_set(e, sa);
		json_array_append_new(aggs, e);
	}
	clock_iso8601(st->next_due, ts);
	o = json_pack("{s:b, s:b, s:I, s:o, s:s, s:s, s:I, s:I, s:o}", "refreshing",
	    st->refreshing, "pinned", pinned, "refreshes", (json_int_t)st->runs,
	    "last_refresh", status_last_json(st), "next_refresh_at", ts, "source", st->source,
	    "statements", (json_int_t)st->statements, "upstream_retries",
	    (json_int_t)st->retries, "aggregates", aggs);
	/* a failing freshness check turns every cycle into a full pull: say so */
	json_object_set_new(o, "freshness", json_pack("{s:b, s:I, s:s?}", "ok",
	    st->freshness_error == NULL, "failures", (json_int_t)st->freshness_failures,
	    "error", st->freshness_error));
	json_object_set_new(o, "lease", json_pack("{s:s, s:b, s:s?}", "owner", st->lease_owner,
	    "held", st->lease_held, "holder", st->lease_holder));
	return o;
}

/* A manifest's guard failures as a JSON list. */
static json_t *
status_failures_json(const struct manifest *m)
{
	json_t *list = json_array();

	for (size_t i = 0; i < m->nfailures; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:s}", "check",
		    m->failures[i].check, "brand", m->failures[i].brand, "aggregate",
		    m->failures[i].aggregate, "message", m->failures[i].message));
	return list;
}

/* The candidate the guards held back, or null: what failed, and where to look. */
static json_t *
status_held_json(struct store_view *v)
{
	const char *held = store_view_held(v);
	struct manifest m;
	json_t *o;
	char ts[32];

	if (held == NULL || store_view_manifest(v, held, &m) != 0) {
		if (held != NULL)
			manifest_free(&m);
		return json_null();
	}
	clock_iso8601(m.created_at, ts);
	o = json_pack("{s:s, s:I, s:s, s:o}", "colour", held, "generation",
	    (json_int_t)m.generation, "created_at", ts, "failed", status_failures_json(&m));
	manifest_free(&m);
	return o;
}

void
http_info_status(struct http_req *r)
{
	struct refresh_status st;
	struct store_view *v;
	json_t *o, *snap = json_null(), *guards = json_null(), *created = json_null();
	struct staleness *stale;
	const char *colour;
	size_t n, nstale = 0;

	/*
	 * The refresher's state first, then the store: a client that sees refresh N done
	 * then sees what refresh N published (the other order could show the count of a
	 * cycle beside the snapshot from before its flip).
	 */
	refresh_status(r->t->rt->rf, &st);
	v = store_view_begin(r->t->rd);
	colour = v ? store_view_colour(v) : NULL;

	if (colour != NULL) {
		struct manifest m;
		int have = store_view_manifest(v, colour, &m) == 0;
		char ts[32];

		if (have)
			clock_iso8601(m.created_at, ts);
		snap = json_pack("{s:s, s:I, s:o, s:o}", "colour", colour, "generation",
		    (json_int_t)store_view_generation(v), "created_at",
		    have ? json_string(ts) : json_null(), "source",
		    have ? json_string(m.source) : json_null());
		if (have && m.guards != NULL)
			guards = json_pack("{s:s, s:o}", "result", m.guards, "failed",
			    status_failures_json(&m));
		if (have)
			created = json_string(ts);
		manifest_free(&m);
	}
	/* the pin lives in the store: what it says now, whichever instance set it */
	stale = http_staleness_all(r, v, &n, &nstale);
	o = status_refresh_json(&st, v != NULL && store_view_pinned(v), stale, n,
	    r->t->rt->cf, r->t->rt->cat);
	refresh_status_free(&st);
	free(stale);
	json_object_set_new(o, "held", v ? status_held_json(v) : json_null());
	store_view_release(v);
	json_object_set_new(o, "stale", json_integer((json_int_t)nstale));
	json_object_set_new(o, "guards_mode", json_string(r->t->rt->cf->guards_warn ? "warn" :
	    "enforce"));
	json_object_set_new(o, "guards", guards);
	json_object_set_new(o, "active", colour ? json_string(colour) : json_null());
	json_object_set_new(o, "generation", colour ?
	    json_incref(json_object_get(snap, "generation")) : json_integer(0));
	json_object_set_new(o, "created_at", created);
	json_object_set_new(o, "snapshot", snap);
	json_object_set_new(o, "version", json_string(TPCD_VERSION));
	http_reply_json(r->req, 200, "OK", o);
}

/* Both colours' manifests: what each holds, which one is live. */
void
http_info_snapshots(struct http_req *r)
{
	static const char *const colours[2] = { "blue", "green" };
	struct store_view *v = store_view_begin(r->t->rd);
	json_t *list = json_array();
	const char *active = v ? store_view_colour(v) : NULL;

	for (int i = 0; v != NULL && i < 2; i++) {
		struct manifest m;
		json_t *mj;

		if (store_view_manifest(v, colours[i], &m) != 0)
			continue;
		mj = manifest_json(&m);
		manifest_free(&m);
		json_object_set_new(mj, "colour", json_string(colours[i]));
		json_object_set_new(mj, "active", json_boolean(active != NULL &&
		    strcmp(active, colours[i]) == 0));
		json_object_set_new(mj, "held", json_boolean(store_view_held(v) != NULL &&
		    strcmp(store_view_held(v), colours[i]) == 0));
		json_array_append_new(list, mj);
	}
	http_reply_json(r->req, 200, "OK", json_pack("{s:s?, s:s?, s:o}", "active", active,
	    "held", v ? store_view_held(v) : NULL, "snapshots", list));
	store_view_release(v);
}
