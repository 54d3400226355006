/*
 * refresh.c — the refresh thread: on its schedule, or when asked, it pulls every
 * aggregate of every brand from the source, encodes the bodies and publishes them into
 * the store as one new snapshot. It runs its own event_base so nothing here can stall a
 * serving loop. It owns the refresh status that /v1/status shows; other threads read it
 * under the mutex.
 *
 * A failing aggregate keeps its last good record (carried into the new snapshot) and
 * shows its error; when every aggregate fails nothing is published at all.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "tpcd.h"

struct agg_status {
	char		*brand;
	char		*aggregate;
	int		 ok;
	char		*error;
	uint64_t	 rows;
	uint64_t	 generation;	/* of the content now published */
	int64_t		 duration_ms;
};

struct refresher {
	const struct config	*cf;
	const struct catalog	*cat;
	struct store		*st;
	pthread_t		 thread;
	struct event_base	*base;
	struct event		*timer;
	struct event		*wake;
	atomic_int		 stopping;
	atomic_llong		 next_due;

	pthread_mutex_t		 mu;		/* guards everything below */
	int			 running;
	uint64_t		 runs;
	int			 last_ok;
	char			*last_error;
	int64_t			 last_started;
	int64_t			 last_finished;
	int64_t			 last_duration_ms;
	struct agg_status	*aggs;
	size_t			 naggs;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
status_set(struct agg_status *s, int ok, const char *error, uint64_t rows, uint64_t gen,
    int64_t ms)
{
	s->ok = ok;
	free(s->error);
	s->error = error ? xstrdup(error) : NULL;
	s->rows = rows;
	s->generation = gen;
	s->duration_ms = ms;
}

/*
 * Pulls and encodes one aggregate into rec. Returns 1 when rec holds a new record,
 * 0 when the previous record (already in prev) is still right, -1 on error (*cause).
 */
static int
refresh_one(struct refresher *r, const struct brand *b, const struct aggregate *a,
    uint64_t gen, int64_t at, const struct buf *prev, int have_prev, struct buf *rec,
    uint64_t *rows, char **cause)
{
	struct record_meta nm, pm;
	struct table t;
	int rc;

	rc = source_sqlite_pull(r->cf, r->cat, b, a, &t, cause);
	if (rc == 0)
		rc = encode_record(b, a, &t, gen, at, rec, cause);
	table_free(&t);
	if (rc != 0)
		return -1;
	record_parse(rec->data, rec->len, &nm);
	*rows = nm.rows;
	/* Same content as the live record: keep its bytes, so its ETag stays valid. */
	if (have_prev && record_parse(prev->data, prev->len, &pm) == 0 &&
	    memcmp(pm.content_hash, nm.content_hash, 32) == 0)
		return 0;
	return 1;
}

static json_t *
manifest_entry(const struct agg_status *s)
{
	json_t *e = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "brand", s->brand,
	    "aggregate", s->aggregate, "ok", s->ok, "rows", (json_int_t)s->rows,
	    "generation", (json_int_t)s->generation, "duration_ms",
	    (json_int_t)s->duration_ms);

	if (s->error != NULL)
		json_object_set_new(e, "error", json_string(s->error));
	return e;
}

static void
refresh_finish(struct refresher *r, int ok, char *error, int64_t started)
{
	pthread_mutex_lock(&r->mu);
	r->running = 0;
	r->runs++;
	r->last_ok = ok;
	free(r->last_error);
	r->last_error = error;
	r->last_started = started;
	r->last_finished = now_ms();
	r->last_duration_ms = r->last_finished - started;
	pthread_mutex_unlock(&r->mu);
	if (ok)
		log_info("refresh: published (%" PRId64 " ms)", r->last_duration_ms);
	else
		log_err("refresh: %s", error);
}

/* One whole refresh: pull everything, publish once. Runs on the refresh thread. */
static void
refresh_run(struct refresher *r)
{
	struct store_pub *pub = NULL;
	struct buf prev, rec;
	json_t *manifest = NULL, *entries;
	char *cause = NULL, *js;
	int64_t started = now_ms();
	size_t nok = 0, k = 0;
	uint64_t gen;

	pthread_mutex_lock(&r->mu);
	r->running = 1;
	pthread_mutex_unlock(&r->mu);
	if (store_pub_begin(r->st, &pub, &cause) != 0) {
		refresh_finish(r, 0, cause, started);
		return;
	}
	gen = store_pub_generation(pub);
	buf_init(&prev);
	buf_init(&rec);
	entries = json_array();
	for (size_t bi = 0; bi < r->cf->nbrands; bi++) {
		const struct brand *b = &r->cf->brands[bi];
		for (size_t ai = 0; ai < r->cat->naggs; ai++, k++) {
			const struct aggregate *a = &r->cat->aggs[ai];
			int64_t t0 = now_ms();
			uint64_t rows = 0;
			struct record_meta pm;
			int have_prev, rc;

			if (atomic_load(&r->stopping)) {
				cause = xstrdup("refresh aborted: shutting down");
				goto fail;
			}
			have_prev = store_pub_prev(pub, b->id, a->name, &prev) == 0;
			rc = refresh_one(r, b, a, gen, started / 1000, &prev, have_prev, &rec,
			    &rows, &cause);
			const struct buf *keep = rc == 1 ? &rec : (have_prev ? &prev : NULL);
			if (keep != NULL && store_pub_put(pub, b->id, a->name, keep->data,
			    keep->len, &cause) != 0)
				goto fail;
			pthread_mutex_lock(&r->mu);
			if (rc >= 0) {
				record_parse(keep->data, keep->len, &pm);
				status_set(&r->aggs[k], 1, NULL, rows, pm.generation,
				    now_ms() - t0);
				nok++;
			} else {
				log_warn("refresh: %s/%s: %s", b->id, a->name, cause);
				pm.generation = 0;
				pm.rows = 0;
				if (have_prev)
					record_parse(prev.data, prev.len, &pm);
				status_set(&r->aggs[k], 0, cause, pm.rows, pm.generation,
				    now_ms() - t0);
				free(cause);
				cause = NULL;
			}
			json_array_append_new(entries, manifest_entry(&r->aggs[k]));
			pthread_mutex_unlock(&r->mu);
		}
	}
	if (nok == 0) {
		cause = xstrdup("every aggregate failed; nothing published");
		goto fail;
	}
	char ts[32];
	iso8601(started / 1000, ts);
	manifest = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:O}", "generation",
	    (json_int_t)gen, "colour", store_pub_colour(pub), "created_at", ts,
	    "created_at_unix", (json_int_t)(started / 1000), "source", "sqlite",
	    "duration_ms", (json_int_t)(now_ms() - started), "aggregates", entries);
	js = json_dumps(manifest, JSON_COMPACT);
	if (store_pub_commit(pub, js, &cause) != 0) {
		pub = NULL;
		free(js);
		goto fail;
	}
	free(js);
	json_decref(manifest);
	json_decref(entries);
	buf_free(&prev);
	buf_free(&rec);
	refresh_finish(r, nok == r->naggs, nok == r->naggs ? NULL :
	    xasprintf("%zu of %zu aggregates failed; their last good data is served",
	    r->naggs - nok, r->naggs), started);
	return;
fail:
	store_pub_abort(pub);
	json_decref(manifest);
	json_decref(entries);
	buf_free(&prev);
	buf_free(&rec);
	refresh_finish(r, 0, cause, started);
}

static void
schedule(struct refresher *r, int64_t delay_s)
{
	struct timeval tv = { (time_t)delay_s, 0 };

	atomic_store(&r->next_due, (long long)(time(NULL) + delay_s));
	evtimer_add(r->timer, &tv);
}

static void
refresh_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct refresher *r = arg;

	(void)fd; (void)what;
	if (atomic_load(&r->stopping))
		return;
	refresh_run(r);
	schedule(r, r->cf->refresh_interval);
}

static void *
refresh_main(void *arg)
{
	struct refresher *r = arg;

	event_base_dispatch(r->base);
	return NULL;
}

/*
 * Starts the refresh thread. last_publish is the active snapshot's creation time (unix
 * seconds; 0 when the store is empty): the first refresh is due interval seconds after
 * it, at once for an empty store.
 */
struct refresher *
refresh_start(const struct config *cf, const struct catalog *cat, struct store *st,
    int64_t last_publish)
{
	struct refresher *r = xcalloc(1, sizeof *r);
	int64_t delay = 0;

	r->cf = cf;
	r->cat = cat;
	r->st = st;
	pthread_mutex_init(&r->mu, NULL);
	r->naggs = cf->nbrands * cat->naggs;
	r->aggs = xcalloc(r->naggs, sizeof *r->aggs);
	for (size_t b = 0, k = 0; b < cf->nbrands; b++) {
		for (size_t a = 0; a < cat->naggs; a++, k++) {
			r->aggs[k].brand = xstrdup(cf->brands[b].id);
			r->aggs[k].aggregate = xstrdup(cat->aggs[a].name);
		}
	}
	if ((r->base = event_base_new()) == NULL)
		fatal("refresh: event_base_new failed");
	r->timer = evtimer_new(r->base, refresh_timer_cb, r);
	r->wake = event_new(r->base, -1, 0, refresh_timer_cb, r);
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

/* Asks for a refresh now; any thread. A request during a refresh runs once it ends. */
void
refresh_request(struct refresher *r)
{
	event_active(r->wake, EV_TIMEOUT, 0);
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

/* Stops the thread: a refresh in progress is aborted between aggregates, unpublished. */
void
refresh_stop(struct refresher *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->stopping, 1);
	event_base_loopbreak(r->base);
	pthread_join(r->thread, NULL);
	event_free(r->timer);
	event_free(r->wake);
	event_base_free(r->base);
	for (size_t i = 0; i < r->naggs; i++) {
		free(r->aggs[i].brand);
		free(r->aggs[i].aggregate);
		free(r->aggs[i].error);
	}
	free(r->aggs);
	free(r->last_error);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int64_t
refresh_next_due(struct refresher *r)
{
	return atomic_load(&r->next_due);
}

/* The refresh state as a JSON object (caller json_decref's it). */
json_t *
refresh_status(struct refresher *r)
{
	json_t *o, *last, *aggs;
	char ts[32];

	pthread_mutex_lock(&r->mu);
	aggs = json_array();
	for (size_t i = 0; i < r->naggs; i++) {
		json_t *e = manifest_entry(&r->aggs[i]);
		if (r->runs == 0)
			json_object_set_new(e, "ok", json_null());
		json_array_append_new(aggs, e);
	}
	if (r->runs == 0) {
		last = json_null();
	} else {
		last = json_pack("{s:s, s:I}", "result", r->last_ok ? "ok" : "error",
		    "duration_ms", (json_int_t)r->last_duration_ms);
		iso8601(r->last_started / 1000, ts);
		json_object_set_new(last, "started_at", json_string(ts));
		iso8601(r->last_finished / 1000, ts);
		json_object_set_new(last, "finished_at", json_string(ts));
		json_object_set_new(last, "error",
		    r->last_error ? json_string(r->last_error) : json_null());
	}
	iso8601(atomic_load(&r->next_due), ts);
	o = json_pack("{s:b, s:I, s:o, s:s, s:o}", "refreshing", r->running,
	    "refreshes", (json_int_t)r->runs, "last_refresh", last, "next_refresh_at", ts,
	    "aggregates", aggs);
	pthread_mutex_unlock(&r->mu);
	return o;
}
