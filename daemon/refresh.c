/*
 * refresh.c — the refresh thread. On its schedule, or when asked, it has the source pull
 * every aggregate of every brand (asynchronously: the Snowflake source runs on this
 * thread's own event_base), then encodes the bodies and publishes them into the store as
 * one new snapshot. Nothing here runs on a serving loop. It owns the refresh status that
 * /v1/status, /metrics and systemd's STATUS show; other threads get a copy of it, taken
 * under the mutex (refresh_status), never a view into it.
 *
 * Publishing rules: a failed aggregate keeps its last good record and shows its error;
 * an aggregate whose content did not change keeps its record byte for byte (same ETag);
 * a cycle that changes nothing publishes nothing; while pinned nothing is published; a
 * candidate failing a publish guard (guard.c) is held in the inactive colour, not
 * published (guards: warn publishes it and reports the failures).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "tpcd.h"

/*
 * Thread contract: set up by refresh_start, then owned by the refresh thread (which runs
 * at background priority) but for: mu's fields (any thread, under mu), next_due and
 * stopping (atomics), wake/stop (event_active from any thread). The source's counters
 * are atomics it adds to here and refresh_status copies.
 */
struct refresher {
	const struct config	*cf;
	const struct catalog	*cat;
	struct store		*st;
	struct store_reader	*rd;
	struct source		*src;
	pthread_t		 thread;
	struct event_base	*base;
	struct event		*timer;
	struct event		*wake;
	struct event		*stop;
	struct event		*stop_deadline;
	struct event		*lease_timer;
	char			*owner;		/* "<pid>@<host>": this process, for the lease */
	atomic_int		 stopping;
	atomic_llong		 next_due;

	/* the cycle in progress (refresh thread only) */
	struct pull		*pulls;
	size_t			 npulls;
	int64_t			 started_ms;
	uint64_t		 live_gen;	/* of the snapshot the cycle compares with */
	uint64_t		 snap_gen;	/* the candidate's, as the pulls began */
	struct refresh_seen	*seen;		/* like pulls: lineage not yet published */

	pthread_mutex_t		 mu;		/* guards everything below */
	int			 running;
	int			 requested;	/* a request arrived: run (again) */
	char			*req_brand;	/* NULL: all */
	char			*req_agg;	/* NULL: all */
	uint64_t		 runs;
	int			 last_ok;
	int			 last_published;
	char			*last_error;
	int64_t			 last_started;
	int64_t			 last_finished;
	int64_t			 last_duration_ms;
	struct refresh_agg	*aggs;		/* brand-major, like pulls; names are cf's */
	size_t			 naggs;
	int			 lease_mine;
	char			*lease_holder;	/* another process, when it holds the lease */
	struct refresh_guard_count *guard_counts;
	size_t			 nguard_counts;
	uint64_t		 fresh_failures;	/* copied from the source */
	char			*fresh_error;
};

/*
 * A pull whose content came back identical to the live record is not published, so the
 * manifest keeps the older data timestamp. Remembered here (for that live snapshot
 * only), the next cycle compares with what was pulled, not with the manifest, and does
 * not pull the same unchanged table again and again.
 */
struct refresh_seen {
	uint64_t	 live_gen;
	char		*data_ts;
	char		*handle;
};


static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
pulls_free(struct pull *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		encode_free(p[i].enc);
		free(p[i].error);
		free(p[i].prev_data_ts);
		free(p[i].data_ts);
		free(p[i].handle);
		free(p[i].prev_handle);
	}
	free(p);
}

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
static void
cycle_prepare(struct refresher *r, const char *brand, const char *agg)
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

static void
seen_clear(struct refresh_seen *sn)
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
			seen_clear(&r->seen[i]);
			continue;
		}
		if (!same[i] || p->data_ts == NULL)
			continue;
		seen_clear(&r->seen[i]);
		r->seen[i].live_gen = r->live_gen;
		r->seen[i].data_ts = xstrdup(p->data_ts);
		r->seen[i].handle = dup_or_null(p->handle);
	}
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
	const int		*keep;		/* per pull: 1 new (recs), 0 the live one, -1 none */
	struct buf		*recs;
};

static int
guard_get_cb(void *arg, int live, const char *brand, const char *agg, const void **rec,
    size_t *len)
{
	struct guard_src *g = arg;
	const struct brand *b = config_find_brand(g->r->cf, brand);
	const struct aggregate *a = catalog_find(g->r->cat, agg);
	size_t i;

	if (b == NULL || a == NULL)
		return -1;
	i = (size_t)(b - g->r->cf->brands) * g->r->cat->naggs + (size_t)(a - g->r->cat->aggs);
	if (!live && i < g->r->npulls && g->keep[i] != 0) {
		if (g->keep[i] < 0)
			return -1;
		*rec = g->recs[i].data;
		*len = g->recs[i].len;
		return 0;
	}
	return store_view_get(g->v, brand, agg, rec, len);
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
 * Decides one pull's record: the new one (returns 1, in rec), the live one (0), or none
 * (-1: failed and never published). Updates its status entry.
 */
static int
settle_one(struct refresher *r, struct store_view *v, struct pull *p,
    struct refresh_agg *s, struct buf *rec)
{
	struct record_meta pm = { 0 }, nm = { 0 };
	const void *prev;
	size_t prevlen;
	/* the live record's header, read in place: a large one is not copied to compare */
	int have_prev = store_view_get(v, p->brand->id, p->agg->name, &prev, &prevlen) == 0 &&
	    record_parse(prev, prevlen, &pm) == 0;
	char *cause = NULL;
	int rc = have_prev ? 0 : -1;

	if (p->state == PULL_DONE) {
		/* the bodies were encoded as the rows came (encode_pull_begin): seal them */
		int erc = encode_finish(p->enc, rec, &cause);

		encode_free(p->enc);	/* what it held is in rec now, or gone */
		p->enc = NULL;
		if (erc != 0) {
			p->state = PULL_FAILED;
			free(p->error);
			p->error = cause;
		} else {
			record_parse(rec->data, rec->len, &nm);
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

static void
cycle_finish(struct refresher *r, int ok, int published, char *error)
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
cycle_write(struct refresher *r, uint64_t gen, const int *keep, struct buf *recs,
    struct manifest *m, int held, char **cause)
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
		const struct buf *b = keep[i] == 1 ? &recs[i] : &prev;

		if (keep[i] < 0)
			continue;
		if (keep[i] == 0 && store_pub_prev(pub, p->brand->id, p->agg->name,
		    &prev) != 0) {
			*cause = xasprintf("%s/%s: the live record went away while encoding",
			    p->brand->id, p->agg->name);
			goto out;
		}
		if (store_pub_put(pub, p->brand->id, p->agg->name, b->data, b->len,
		    cause) != 0)
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
 * All pulls are settled: encode what changed (no write transaction open: a cycle that
 * changes nothing opens none), then publish it in one short write (or not).
 */
static void
cycle_publish(struct refresher *r)
{
	struct store_view *v = store_view_begin(r->rd);
	struct buf *recs = xcalloc(r->npulls ? r->npulls : 1, sizeof *recs);
	int *keep = xcalloc(r->npulls ? r->npulls : 1, sizeof *keep);
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

		buf_init(&recs[i]);
		keep[i] = settle_one(r, v, p, &r->aggs[i], &recs[i]);
		if (keep[i] != 1)
			buf_free(&recs[i]);
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
		struct guard_src gs = { r, v, keep, recs };

		guard_run(r->cf, r->cat, r->pulls, r->npulls, guard_get_cb, &gs, &m);
		held = m.nfailures > 0 && !r->cf->guards_warn;
		m.guards = xstrdup(m.nfailures == 0 ? "passed" : held ? "held" : "warned");
	}
	store_view_release(v);
	if (nlive == 0) {
		cause = xstrdup("every aggregate failed; nothing published");
		goto out;
	}
	if (nchanged > 0 && !pinned) {
		if (cycle_write(r, gen, keep, recs, &m, held, &cause) != 0)
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
	cycle_finish(r, nfailed == 0 && !held, published, cause);
	cause = NULL;
out:
	if (cause != NULL)
		cycle_finish(r, 0, 0, cause);
	for (size_t i = 0; i < r->npulls; i++)
		buf_free(&recs[i]);
	free(recs);
	free(keep);
	free(same);
	manifest_free(&m);
}

static void cycle_start(struct refresher *);

/* Takes or renews the refresh lease; returns 1 when this process may refresh. */
static int
lease_check(struct refresher *r)
{
	char *holder = NULL;
	int rc = store_lease(r->st, r->owner, r->cf->refresh_lease_ttl, &holder);

	pthread_mutex_lock(&r->mu);
	if (rc == 1 && !r->lease_mine)
		log_info("refresh: this instance (%s) holds the refresh lease", r->owner);
	if (rc == 0 && (r->lease_holder == NULL || strcmp(r->lease_holder, holder) != 0))
		log_info("refresh: instance %s holds the refresh lease; not refreshing", holder);
	r->lease_mine = rc == 1;
	free(r->lease_holder);
	r->lease_holder = holder;
	pthread_mutex_unlock(&r->mu);
	if (rc < 0)
		log_warn("refresh: cannot read the refresh lease");
	return rc == 1;
}

static void
lease_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	lease_check(arg);
}

/*
 * The next scheduled refresh, delay_s from now plus up to the source's spread of random
 * seconds: replicas started together then do not all ask upstream in the same second.
 */
static void
schedule(struct refresher *r, int64_t delay_s)
{
	struct timeval tv;
	uint32_t rnd;

	if (delay_s > 0 && r->src->spread > 0 &&
	    getrandom(&rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd)
		delay_s += (int64_t)(rnd % (uint32_t)(r->src->spread + 1));
	tv.tv_sec = (time_t)delay_s;
	tv.tv_usec = 0;

	atomic_store(&r->next_due, (long long)(time(NULL) + delay_s));
	evtimer_add(r->timer, &tv);
}

/* The source settled every pull (refresh thread). */
static void
cycle_pulled_cb(void *arg)
{
	struct refresher *r = arg;
	int again;

	if (atomic_load(&r->stopping))
		return;
	cycle_publish(r);
	pulls_free(r->pulls, r->npulls);
	r->pulls = NULL;
	r->npulls = 0;
	pthread_mutex_lock(&r->mu);
	again = r->requested;
	pthread_mutex_unlock(&r->mu);
	if (again)
		cycle_start(r);
}

static void
cycle_start(struct refresher *r)
{
	char *brand, *agg;

	pthread_mutex_lock(&r->mu);
	if (r->running || !r->requested) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	r->running = 1;
	r->requested = 0;
	brand = r->req_brand;
	agg = r->req_agg;
	r->req_brand = r->req_agg = NULL;
	pthread_mutex_unlock(&r->mu);
	r->started_ms = wall_ms();
	if (!lease_check(r)) {
		char *who = xstrdup(r->lease_holder ? r->lease_holder : "another instance");
		if (brand == NULL && agg == NULL)
			schedule(r, r->cf->refresh_interval);
		free(brand);
		free(agg);
		cycle_finish(r, 1, 0, NULL);
		pthread_mutex_lock(&r->mu);
		free(r->last_error);
		r->last_error = xasprintf("skipped: %s holds the refresh lease", who);
		pthread_mutex_unlock(&r->mu);
		free(who);
		return;
	}
	cycle_prepare(r, brand, agg);
	if (brand == NULL && agg == NULL)	/* a full cycle resets the schedule */
		schedule(r, r->cf->refresh_interval);
	free(brand);
	free(agg);
	r->src->pull(r->src, r->pulls, r->npulls, cycle_pulled_cb, r);
}

/* The schedule: a full refresh, now or (when one is running) right after it. */
static void
refresh_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct refresher *r = arg;

	(void)fd; (void)what;
	pthread_mutex_lock(&r->mu);
	r->requested = 1;
	free(r->req_brand);
	free(r->req_agg);
	r->req_brand = r->req_agg = NULL;
	pthread_mutex_unlock(&r->mu);
	cycle_start(r);
}

static void
refresh_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	cycle_start(arg);
}

static void
stopped_cb(void *arg)
{
	struct refresher *r = arg;

	event_base_loopbreak(r->base);
}

static void
stop_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	log_warn("refresh: upstream cancels unanswered; stopping anyway");
	stopped_cb(arg);
}

/* On the refresh thread: let the source cancel what it runs, bounded to 2 s. */
static void
refresh_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct refresher *r = arg;
	struct timeval tv = { 2, 0 };

	(void)fd; (void)what;
	evtimer_del(r->timer);
	evtimer_add(r->stop_deadline, &tv);
	r->src->cancel(r->src, stopped_cb, r);
}

static void *
refresh_main(void *arg)
{
	struct refresher *r = arg;

	worker_background("refresh");	/* encoding must not take the serving threads' CPU */
	event_base_dispatch(r->base);
	return NULL;
}

/*
 * Starts the refresh thread with its source (which it owns from now on). last_publish
 * is the active snapshot's creation time (unix seconds; 0 when the store is empty): the
 * first refresh is due interval seconds after it, at once for an empty store.
 */
struct refresher *
refresh_start(const struct config *cf, const struct catalog *cat, struct store *st,
    struct source *src, struct event_base *base, int64_t last_publish)
{
	struct refresher *r = xcalloc(1, sizeof *r);
	int64_t delay = 0;

	r->cf = cf;
	r->cat = cat;
	r->st = st;
	r->src = src;
	r->base = base;
	r->rd = store_reader_new(st);
	pthread_mutex_init(&r->mu, NULL);
	r->naggs = cf->nbrands * cat->naggs;
	r->aggs = xcalloc(r->naggs, sizeof *r->aggs);
	r->seen = xcalloc(r->naggs ? r->naggs : 1, sizeof *r->seen);
	for (size_t i = 0; i < r->naggs; i++) {
		r->aggs[i].brand = cf->brands[i / cat->naggs].id;
		r->aggs[i].aggregate = cat->aggs[i % cat->naggs].name;
	}
	r->timer = evtimer_new(r->base, refresh_timer_cb, r);
	r->wake = event_new(r->base, -1, 0, refresh_wake_cb, r);
	r->stop = event_new(r->base, -1, 0, refresh_stop_cb, r);
	r->stop_deadline = evtimer_new(r->base, stop_deadline_cb, r);
	r->lease_timer = event_new(r->base, -1, EV_PERSIST, lease_timer_cb, r);
	if (r->timer == NULL || r->wake == NULL || r->stop == NULL || r->stop_deadline == NULL ||
	    r->lease_timer == NULL)
		fatal("refresh: cannot create its events (out of memory)");
	{
		char host[256] = "localhost";
		struct timeval ltv = { cf->refresh_lease_ttl / 3, 0 };
		gethostname(host, sizeof host - 1);
		r->owner = xasprintf("%ld@%s", (long)getpid(), host);
		if (ltv.tv_sec == 0)
			ltv.tv_sec = 1;
		evtimer_add(r->lease_timer, &ltv);
	}
	src->stopping = &r->stopping;
	if (last_publish > 0) {
		delay = last_publish + cf->refresh_interval - (int64_t)time(NULL);
		if (delay < 0)
			delay = 0;
	}
	schedule(r, delay);
	if (pthread_create(&r->thread, NULL, refresh_main, r) != 0)
		fatal("refresh: cannot start thread");
	return r;
}

/*
 * Asks for a refresh (any thread): of everything, or of one brand and/or aggregate.
 * A request during a refresh runs once it ends. Returns the number of refreshes
 * completed so far, so a caller can wait for the next one.
 */
uint64_t
refresh_request(struct refresher *r, const char *brand, const char *agg)
{
	uint64_t runs;

	pthread_mutex_lock(&r->mu);
	/* Requests waiting together merge into the least refresh covering both. */
	if (r->requested) {
		if (r->req_brand != NULL && (brand == NULL || strcmp(brand, r->req_brand))) {
			free(r->req_brand);
			r->req_brand = NULL;
		}
		if (r->req_agg != NULL && (agg == NULL || strcmp(agg, r->req_agg))) {
			free(r->req_agg);
			r->req_agg = NULL;
		}
	} else {
		r->req_brand = dup_or_null(brand);
		r->req_agg = dup_or_null(agg);
	}
	r->requested = 1;
	runs = r->runs;
	pthread_mutex_unlock(&r->mu);
	event_active(r->wake, EV_TIMEOUT, 0);
	return runs;
}

int
refresh_running(struct refresher *r)
{
	int running;

	pthread_mutex_lock(&r->mu);
	running = r->running;
	pthread_mutex_unlock(&r->mu);
	return running;
}


/*
 * Stops the thread. A refresh in progress is abandoned: its source cancels what is in
 * flight, nothing is published, the active snapshot stays as it was.
 */
void
refresh_stop(struct refresher *r)
{
	struct refresh_status st;

	if (r == NULL)
		return;
	atomic_store(&r->stopping, 1);
	event_active(r->stop, EV_TIMEOUT, 0);
	pthread_join(r->thread, NULL);
	/* its counters carry on in the process's (a reload must not reset them) */
	refresh_status(r, &st);
	metrics_refresh_retire(&st);
	refresh_status_free(&st);
	event_free(r->timer);
	event_free(r->wake);
	event_free(r->stop);
	event_free(r->stop_deadline);
	event_free(r->lease_timer);
	if (r->lease_mine)
		store_lease_release(r->st, r->owner);
	free(r->owner);
	free(r->lease_holder);
	pulls_free(r->pulls, r->npulls);
	r->src->free(r->src);
	store_reader_free(r->rd);
	for (size_t i = 0; i < r->naggs; i++) {
		free(r->aggs[i].error);
		free(r->aggs[i].data_ts);
		free(r->aggs[i].handle);
	}
	free(r->aggs);
	for (size_t i = 0; i < r->nguard_counts; i++) {
		free(r->guard_counts[i].check);
		free(r->guard_counts[i].brand);
		free(r->guard_counts[i].aggregate);
	}
	free(r->guard_counts);
	for (size_t i = 0; i < r->naggs; i++)
		seen_clear(&r->seen[i]);
	free(r->seen);
	free(r->fresh_error);
	free(r->last_error);
	free(r->req_brand);
	free(r->req_agg);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int64_t
refresh_next_due(struct refresher *r)
{
	return atomic_load(&r->next_due);
}

static void
agg_copy(struct refresh_agg *to, const struct refresh_agg *from)
{
	*to = *from;
	to->brand = xstrdup(from->brand);
	to->aggregate = xstrdup(from->aggregate);
	to->error = dup_or_null(from->error);
	to->data_ts = dup_or_null(from->data_ts);
	to->handle = dup_or_null(from->handle);
}

/*
 * The refresh state now into *out, copied under the lock so that it is one instant's
 * and the caller may keep it; the caller frees it with refresh_status_free.
 */
void
refresh_status(struct refresher *r, struct refresh_status *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&r->mu);
	out->refreshing = r->running;
	out->runs = r->runs;
	out->last_ok = r->last_ok;
	out->last_published = r->last_published;
	out->last_error = dup_or_null(r->last_error);
	out->last_started_ms = r->last_started;
	out->last_finished_ms = r->last_finished;
	out->last_duration_ms = r->last_duration_ms;
	out->next_due = atomic_load(&r->next_due);
	out->source = xstrdup(r->src->name);
	out->statements = atomic_load(&r->src->statements);
	out->retries = atomic_load(&r->src->retries);
	out->freshness_failures = r->fresh_failures;
	out->freshness_error = dup_or_null(r->fresh_error);
	out->lease_owner = xstrdup(r->owner);
	out->lease_held = r->lease_mine;
	out->lease_holder = dup_or_null(r->lease_mine ? r->owner : r->lease_holder);
	out->naggs = r->naggs;
	out->aggs = xcalloc(r->naggs ? r->naggs : 1, sizeof *out->aggs);
	for (size_t i = 0; i < r->naggs; i++)
		agg_copy(&out->aggs[i], &r->aggs[i]);
	out->nguard_counts = r->nguard_counts;
	out->guard_counts = xcalloc(r->nguard_counts ? r->nguard_counts : 1,
	    sizeof *out->guard_counts);
	for (size_t i = 0; i < r->nguard_counts; i++) {
		out->guard_counts[i] = r->guard_counts[i];
		out->guard_counts[i].check = xstrdup(r->guard_counts[i].check);
		out->guard_counts[i].brand = xstrdup(r->guard_counts[i].brand);
		out->guard_counts[i].aggregate = xstrdup(r->guard_counts[i].aggregate);
	}
	pthread_mutex_unlock(&r->mu);
}

/* Frees what st holds (not st); st may be NULL. */
void
refresh_status_free(struct refresh_status *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->naggs; i++) {
		free(st->aggs[i].brand);
		free(st->aggs[i].aggregate);
		free(st->aggs[i].error);
		free(st->aggs[i].data_ts);
		free(st->aggs[i].handle);
	}
	free(st->aggs);
	for (size_t i = 0; i < st->nguard_counts; i++) {
		free(st->guard_counts[i].check);
		free(st->guard_counts[i].brand);
		free(st->guard_counts[i].aggregate);
	}
	free(st->guard_counts);
	free(st->last_error);
	free(st->freshness_error);
	free(st->source);
	free(st->lease_owner);
	free(st->lease_holder);
	memset(st, 0, sizeof *st);
}
