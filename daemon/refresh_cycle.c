/*
 * refresh_cycle.c — one refresh cycle on the refresh thread, once refresh.c started
 * it: the pulls prepared from the live manifest (the candidate's generation fixed, for
 * the rows stream into each pull's encoder as they arrive), each settled pull sealed and
 * compared with only a read view open, the publish guards (and the slices of a
 * slice_key: refresh_slices.c), then one write of the new snapshot (published or held),
 * and the cycle's outcome recorded in the refresh status. It keeps no schedule or timer
 * and takes no requests (refresh.c).
 *
 * Publishing rules: a failed aggregate keeps its last good record and shows its error;
 * an aggregate whose content did not change keeps its record byte for byte (same ETag);
 * a cycle that changes nothing publishes nothing; while pinned nothing is published; a
 * candidate failing a publish guard (guard.c) is held in the inactive colour, not
 * published (guards: warn publishes it and reports the failures).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tpcd.h"
#include "refresh_priv.h"

/*
 * The live snapshot's manifest into *m (empty when there is none): its lineage; and,
 * when next_gen is not NULL, the generation the next snapshot will have.
 */
static void
live_manifest(struct refresher *r, struct manifest *m, uint64_t *next_gen)
{
	struct store_view *v = store_view_begin(r->rd);

	memset(m, 0, sizeof *m);
	if (v != NULL && store_view_colour(v) != NULL)
		store_view_manifest(v, store_view_colour(v), m);
	if (next_gen != NULL)
		*next_gen = v != NULL ? store_view_next_generation(v) : 0;
	store_view_release(v);
}

/* Builds this cycle's pulls; only those matching the request are wanted. */
void
refresh_cycle_prepare(struct refresher *r, const char *brand, const char *agg)
{
	struct manifest m;
	size_t k = 0;

	live_manifest(r, &m, &r->snap_gen);
	r->npulls = r->cf->nbrands * r->cat->naggs;
	r->pulls = xcalloc(r->npulls, sizeof *r->pulls);
	for (size_t b = 0; b < r->cf->nbrands; b++) {
		for (size_t a = 0; a < r->cat->naggs; a++, k++) {
			struct pull *p = &r->pulls[k];
			const struct manifest_entry *e;

			p->brand = &r->cf->brands[b];
			p->agg = &r->cat->aggs[a];
			p->wanted = (brand == NULL || strcmp(brand, p->brand->id) == 0) &&
			    (agg == NULL || strcmp(agg, p->agg->name) == 0);
			p->state = p->wanted ? PULL_PENDING : PULL_UNCHANGED;
			/* rows stream into the encoder: the snapshot's identity is fixed now */
			p->snap_generation = r->snap_gen;
			p->snap_at = r->started_ms / 1000;
			e = manifest_find(&m, p->brand->id, p->agg->name);
			if (e != NULL && r->seen[k].data_ts != NULL &&
			    r->seen[k].live_gen == m.generation) {
				p->prev_data_ts = xstrdup(r->seen[k].data_ts);
				p->prev_handle = dup_or_null(r->seen[k].handle);
			} else {
				p->prev_data_ts = dup_or_null(e ? e->data_ts : NULL);
				p->prev_handle = dup_or_null(e ? e->handle : NULL);
			}
			p->prev_data_time = e ? e->data_time : 0;
			p->prev_point_ms = e ? e->point_ms : 0;
		}
	}
	r->live_gen = m.generation;
	manifest_free(&m);
}

/*
 * The time the kept record's data describes: what the source said of this pull when it
 * worked (new content, or the same content confirmed), else the live record's.
 */
static int64_t
pull_data_time(const struct pull *p)
{
	if (p->wanted && p->state != PULL_FAILED && p->data_time > p->prev_data_time)
		return p->data_time;
	return p->prev_data_time;
}

void
refresh_seen_clear(struct refresh_seen *sn)
{
	free(sn->data_ts);
	free(sn->handle);
	memset(sn, 0, sizeof *sn);
}

/*
 * After a cycle: a published snapshot's manifest holds every lineage, so nothing is
 * remembered; otherwise a pull whose content equals the live record is.
 */
static void
seen_update(struct refresher *r, int published, const int *same)
{
	for (size_t i = 0; i < r->npulls; i++) {
		struct pull *p = &r->pulls[i];

		if (published) {
			refresh_seen_clear(&r->seen[i]);
			continue;
		}
		if (!same[i] || p->data_ts == NULL)
			continue;
		refresh_seen_clear(&r->seen[i]);
		r->seen[i].live_gen = r->live_gen;
		r->seen[i].data_ts = xstrdup(p->data_ts);
		r->seen[i].handle = dup_or_null(p->handle);
	}
}

/* The point in time of the kept record: this cycle's when it read or confirmed it. */
static int64_t
pull_point_ms(const struct pull *p)
{
	if (!p->wanted || p->state == PULL_FAILED)
		return p->prev_point_ms;
	if (p->state == PULL_DONE)
		return p->point_ms;		/* 0: read at no known point */
	return p->point_ms > 0 ? p->point_ms : p->prev_point_ms;
}

/* The manifest's word on one kept record: its size, its generation, its lineage. */
static void
manifest_add_pull(struct manifest *m, const struct pull *p)
{
	int fresh = p->state == PULL_DONE;
	struct manifest_entry e = {
		.brand = p->brand->id, .aggregate = p->agg->name,
		.ok = p->state != PULL_FAILED, .rows = p->rows, .generation = p->generation,
		.duration_ms = p->duration_ms, .error = p->error,
		.data_ts = fresh ? p->data_ts : p->prev_data_ts,
		.handle = fresh ? p->handle : p->prev_handle,
		.data_time = pull_data_time(p),
		.point_ms = pull_point_ms(p),
	};

	manifest_add(m, &e);	/* copies */
}

/*
 * A cycle that changed nothing may still have confirmed the live data as newer: its
 * data times move on in the live manifest (no new snapshot, the same ETags).
 */
static void
cycle_touch(struct refresher *r)
{
	struct manifest m;
	char *cause = NULL;
	int changed = 0;

	live_manifest(r, &m, NULL);
	for (size_t i = 0; i < r->npulls && m.colour != NULL; i++) {
		struct pull *p = &r->pulls[i];
		const struct manifest_entry *e = manifest_find(&m, p->brand->id, p->agg->name);
		int64_t t = pull_data_time(p);

		if (e != NULL && t > e->data_time) {
			((struct manifest_entry *)(uintptr_t)e)->data_time = t;
			changed = 1;
		}
		if (e != NULL && pull_point_ms(p) > e->point_ms) {
			((struct manifest_entry *)(uintptr_t)e)->point_ms = pull_point_ms(p);
			changed = 1;
		}
	}
	if (changed && store_manifest_update(r->st, &m, &cause) != 0) {
		log_warn("refresh: %s", cause);
		free(cause);
	}
	manifest_free(&m);
}

/* The candidate's records (the changed ones encoded, the rest the live ones) and the live. */
struct guard_src {
	struct refresher	*r;
	struct store_view	*v;
	const int		*keep;		/* per pull: 1 new (outs), 0 the live one, -1 none */
	struct record_out	**outs;
};

static int
guard_get_cb(void *arg, int live, const char *brand, const char *agg, const char **body,
    size_t *len)
{
	struct guard_src *g = arg;
	const struct brand *b = config_find_brand(g->r->cf, brand);
	const struct aggregate *a = catalog_find(g->r->cat, agg);
	const char *etag;
	const void *rec;
	size_t i, reclen;

	if (b == NULL || a == NULL)
		return -1;
	i = (size_t)(b - g->r->cf->brands) * g->r->cat->naggs + (size_t)(a - g->r->cat->aggs);
	if (!live && i < g->r->npulls && g->keep[i] != 0) {
		if (g->keep[i] < 0)
			return -1;
		*body = record_out_body(g->outs[i], BODY_MSGPACK, len);
		return 0;
	}
	if (store_view_get(g->v, brand, agg, &rec, &reclen) != 0)
		return -1;
	return record_body(rec, reclen, BODY_MSGPACK, body, len, &etag);
}

/* Counts each failed guard (for /metrics) and logs it. */
static void
guard_count(struct refresher *r, const struct manifest *m)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < m->nfailures; i++) {
		const struct guard_failure *f = &m->failures[i];
		const char *agg = f->aggregate ? f->aggregate : "";
		size_t j;

		for (j = 0; j < r->nguard_counts; j++)
			if (strcmp(r->guard_counts[j].check, f->check) == 0 &&
			    strcmp(r->guard_counts[j].brand, f->brand) == 0 &&
			    strcmp(r->guard_counts[j].aggregate, agg) == 0)
				break;
		if (j == r->nguard_counts) {
			r->guard_counts = xreallocarray(r->guard_counts, j + 1,
			    sizeof *r->guard_counts);
			r->guard_counts[j].check = xstrdup(f->check);
			r->guard_counts[j].brand = xstrdup(f->brand);
			r->guard_counts[j].aggregate = xstrdup(agg);
			r->guard_counts[j].count = 0;
			r->nguard_counts++;
		}
		r->guard_counts[j].count++;
	}
	pthread_mutex_unlock(&r->mu);
	if (m->nfailures > 0) {
		/* the audit trail: which snapshot was held (or published regardless), and why */
		json_t *failed = json_array();
		for (size_t i = 0; i < m->nfailures && i < 20; i++)
			json_array_append_new(failed, json_sprintf("%s %s%s%s", m->failures[i].check,
			    m->failures[i].brand, m->failures[i].aggregate ? "/" : "",
			    m->failures[i].aggregate ? m->failures[i].aggregate : ""));
		audit_write(json_pack("{s:s, s:I, s:s, s:s, s:I, s:o}", "event", "guards",
		    "generation", (json_int_t)m->generation, "colour", m->colour, "result",
		    m->guards, "failures", (json_int_t)m->nfailures, "failed", failed));
	}
	for (size_t i = 0; i < m->nfailures; i++)
		log_warn("guard %s failed on %s%s%s (generation %llu, %s): %s",
		    m->failures[i].check, m->failures[i].brand, m->failures[i].aggregate ?
		    "/" : "", m->failures[i].aggregate ? m->failures[i].aggregate : "",
		    (unsigned long long)m->generation, m->guards, m->failures[i].message);
}

/*
 * Decides one pull's record: the new one (returns 1, in *out), the live one (0), or none
 * (-1: failed and never published). Updates its status entry.
 */
static int
settle_one(struct refresher *r, struct store_view *v, struct pull *p,
    struct refresh_agg *s, struct record_out **out)
{
	struct record_meta pm = { 0 }, nm = { 0 };
	const void *prev;
	size_t prevlen;
	/* the live record's header, read in place: a large one is not copied to compare */
	int have_prev = store_view_get(v, p->brand->id, p->agg->name, &prev, &prevlen) == 0 &&
	    record_parse(prev, prevlen, &pm) == 0;
	char *cause = NULL;
	int rc = have_prev ? 0 : -1;

	*out = NULL;
	if (p->state == PULL_DONE) {
		/* the bodies were encoded as the rows came (encode_pull_begin): seal them */
		*out = encode_finish_out(p->enc, &cause);
		encode_free(p->enc);	/* what it held is in *out now, or gone */
		p->enc = NULL;
		if (*out == NULL) {
			p->state = PULL_FAILED;
			free(p->error);
			p->error = cause;
		} else {
			nm = (*out)->meta;
			rc = have_prev && memcmp(pm.content_hash, nm.content_hash, 32) == 0 ?
			    0 : 1;
		}
	}
	if (p->state == PULL_PENDING) {		/* a source that gave up on it */
		p->state = PULL_FAILED;
		p->error = xstrdup("not pulled");
	}
	p->rows = rc == 1 ? nm.rows : pm.rows;
	p->generation = rc == 1 ? nm.generation : pm.generation;
	if (!p->wanted)
		return rc;
	pthread_mutex_lock(&r->mu);
	s->ok = p->state != PULL_FAILED;
	free(s->error);
	s->error = dup_or_null(p->error);
	s->duration_ms = p->duration_ms;
	s->rows = p->rows;
	s->generation = p->generation;
	if (p->state != PULL_FAILED) {
		free(s->data_ts);
		s->data_ts = dup_or_null(p->state == PULL_DONE ? p->data_ts : p->prev_data_ts);
		free(s->handle);
		s->handle = dup_or_null(p->state == PULL_DONE ? p->handle : p->prev_handle);
		s->ok_count++;
	} else
		s->fail_count++;
	pthread_mutex_unlock(&r->mu);
	if (p->state == PULL_FAILED)
		log_warn("refresh: %s/%s: %s", p->brand->id, p->agg->name, p->error);
	return rc;
}

void
refresh_cycle_finish(struct refresher *r, int ok, int published, char *error)
{
	pthread_mutex_lock(&r->mu);
	r->running = 0;
	r->runs++;
	r->last_ok = ok;
	r->last_published = published;
	free(r->last_error);
	r->last_error = error;
	r->last_started = r->started_ms;
	r->last_finished = wall_ms();
	r->last_duration_ms = r->last_finished - r->started_ms;
	r->fresh_failures = r->src->freshness_failures;
	free(r->fresh_error);
	r->fresh_error = dup_or_null(r->src->freshness_error);
	pthread_mutex_unlock(&r->mu);
	metrics_refresh_observe(r->last_duration_ms);
	if (error != NULL)
		log_err("refresh: %s", error);
	else
		log_info("refresh: %s (%" PRId64 " ms)", published ? "published" :
		    "no changes", r->last_duration_ms);
}

/*
 * Writes the snapshot: the changed records (encoded already), the unchanged ones copied
 * from the live colour, the manifest. One write transaction, no encoding inside it, so
 * the writer lock (shared with the writer pool and the other instance) is held briefly.
 * A candidate held by its guards is written all the same, but not made active.
 */
static int
cycle_write(struct refresher *r, uint64_t gen, const int *keep, struct record_out **outs,
    const struct refresh_slices *slices, struct manifest *m, int held, char **cause)
{
	struct store_pub *pub = NULL;
	struct buf prev;
	int rc = -1;

	buf_init(&prev);
	if (store_pub_begin(r->st, &pub, cause) != 0)
		goto out;
	if (store_pub_generation(pub) != gen) {
		*cause = xstrdup("the store changed while encoding (another instance "
		    "published); the next cycle retries");
		goto out;
	}
	free(m->colour);
	m->colour = xstrdup(store_pub_colour(pub));	/* a swap may have come between */
	for (size_t i = 0; i < r->npulls; i++) {
		struct pull *p = &r->pulls[i];

		if (keep[i] < 0)
			continue;
		if (keep[i] == 0 && store_pub_prev(pub, p->brand->id, p->agg->name,
		    &prev) != 0) {
			*cause = xasprintf("%s/%s: the live record went away while encoding",
			    p->brand->id, p->agg->name);
			goto out;
		}
		/* a new record goes straight into the room the store reserves for it */
		if (keep[i] == 1 ? store_pub_put_out(pub, p->brand->id, p->agg->name, outs[i],
		    cause) != 0 : store_pub_put(pub, p->brand->id, p->agg->name, prev.data,
		    prev.len, cause) != 0)
			goto out;
		if (refresh_slices_write(pub, p, &slices[i], &prev, cause) != 0)
			goto out;
		manifest_add_pull(m, p);
	}
	m->duration_ms = wall_ms() - r->started_ms;
	rc = held ? store_pub_stage(pub, m, cause) : store_pub_commit(pub, m, cause);
	pub = NULL;
out:
	store_pub_abort(pub);
	buf_free(&prev);
	return rc;
}

/*
 * Whether a record of this cycle carries the snapshot's generation (no data timestamp
 * to take it from), which encode_pull_begin took as the pulls began.
 */
static int
cycle_used_snap_gen(struct refresher *r)
{
	int64_t ms;

	for (size_t i = 0; i < r->npulls; i++)
		if (r->pulls[i].state == PULL_DONE &&
		    (clock_parse_iso8601_ms(r->pulls[i].data_ts, &ms) != 0 || ms <= 0))
			return 1;
	return 0;
}

/*
 * All pulls are settled: seal what changed (its bodies were encoded as the rows came; no
 * write transaction open: a cycle that changes nothing opens none), then publish it in
 * one short write (or not).
 */
void
refresh_cycle_publish(struct refresher *r)
{
	struct store_view *v = store_view_begin(r->rd);
	struct record_out **outs = xcalloc(r->npulls ? r->npulls : 1, sizeof *outs);
	int *keep = xcalloc(r->npulls ? r->npulls : 1, sizeof *keep);
	struct refresh_slices *slices = xcalloc(r->npulls ? r->npulls : 1, sizeof *slices);
	struct manifest m;
	char *cause = NULL;
	size_t nfailed = 0, nchanged = 0, nlive = 0;
	uint64_t gen;
	int pinned, published = 0, held = 0;
	int *same = xcalloc(r->npulls ? r->npulls : 1, sizeof *same);

	memset(&m, 0, sizeof m);
	if (v == NULL) {
		cause = xstrdup("store: cannot open a read view (reader table full?)");
		goto out;
	}
	gen = store_view_next_generation(v);
	if (gen != r->snap_gen && cycle_used_snap_gen(r)) {
		cause = xstrdup("the store changed while pulling (another instance published); "
		    "the next cycle retries");
		goto out;
	}
	pinned = store_view_pinned(v);
	for (size_t i = 0; i < r->npulls; i++) {
		struct pull *p = &r->pulls[i];

		keep[i] = settle_one(r, v, p, &r->aggs[i], &outs[i]);
		if (keep[i] != 1) {
			record_out_free(outs[i]);
			outs[i] = NULL;
		}
		nfailed += p->wanted && p->state == PULL_FAILED;
		nchanged += keep[i] == 1;
		nlive += keep[i] >= 0;
		same[i] = keep[i] == 0 && p->state == PULL_DONE;
	}
	manifest_init(&m, gen, store_view_colour(v) != NULL &&
	    strcmp(store_view_colour(v), "blue") == 0 ? "green" : "blue",
	    r->started_ms / 1000, r->src->name);
	if (nlive > 0 && nchanged > 0 && !pinned) {
		/* the guards, on the candidate's records, before anything is written */
		struct guard_src gs = { r, v, keep, outs };

		guard_run(r->cf, r->cat, r->pulls, r->npulls, guard_get_cb, &gs, &m);
		held = m.nfailures > 0 && !r->cf->guards_warn;
		m.guards = xstrdup(m.nfailures == 0 ? "passed" : held ? "held" : "warned");
		/* the slices of a slice_key, built (or found) before the write, as records are */
		for (size_t i = 0; i < r->npulls; i++)
			refresh_slices_prepare(v, &r->pulls[i], keep[i], outs[i], &slices[i]);
	}
	store_view_release(v);
	if (nlive == 0) {
		cause = xstrdup("every aggregate failed; nothing published");
		goto out;
	}
	if (nchanged > 0 && !pinned) {
		if (cycle_write(r, gen, keep, outs, slices, &m, held, &cause) != 0)
			goto out;
		guard_count(r, &m);	/* once the verdict is in the store */
		published = !held;
	} else if (nchanged == 0)
		cycle_touch(r);
	seen_update(r, published, same);
	if (held)
		cause = xasprintf("candidate generation %llu held: %zu guard checks failed "
		    "(first: %s on %s%s%s: %s); the live snapshot stays",
		    (unsigned long long)m.generation, m.nfailures, m.failures[0].check,
		    m.failures[0].brand, m.failures[0].aggregate ? "/" : "",
		    m.failures[0].aggregate ? m.failures[0].aggregate : "",
		    m.failures[0].message);
	else if (nfailed > 0)
		cause = xasprintf("%zu aggregates failed; their last good data is served",
		    nfailed);
	refresh_cycle_finish(r, nfailed == 0 && !held, published, cause);
	cause = NULL;
out:
	if (cause != NULL)
		refresh_cycle_finish(r, 0, 0, cause);
	for (size_t i = 0; i < r->npulls; i++) {
		record_out_free(outs[i]);
		refresh_slices_free(&slices[i]);
	}
	free(outs);
	free(slices);
	free(keep);
	free(same);
	manifest_free(&m);
}
