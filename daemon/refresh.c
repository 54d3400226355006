/*
 * refresh.c — the refresh thread: its schedule and timers, the lease check, starting a
 * cycle and handing the source its pulls, stop, and the requests and status copies other
 * threads ask for (refresh_*). What a cycle does with the pulls (compare, encode, guard,
 * publish or hold) is refresh_cycle.c's; this file never opens a store transaction
 * itself but the lease's. Nothing here runs on a serving loop. It owns the refresh
 * status that /v1/status, /metrics and systemd's STATUS show; other threads get a copy
 * of it, taken under the mutex (refresh_status), never a view into it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tpcd.h"
#include "refresh_priv.h"

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

static void cycle_start(struct refresher *);

/* Takes or renews the refresh lease; returns 1 when this process may refresh. */
static int
lease_check(struct refresher *r)
{
	char *holder = NULL;
	enum store_lease rc = store_lease(r->st, r->owner, r->cf->refresh_lease_ttl, &holder);

	pthread_mutex_lock(&r->mu);
	if (rc == STORE_LEASE_MINE && !r->lease_mine)
		log_info("refresh: this instance (%s) holds the refresh lease", r->owner);
	if (rc == STORE_LEASE_HELD && (r->lease_holder == NULL || strcmp(r->lease_holder, holder) != 0))
		log_info("refresh: instance %s holds the refresh lease; not refreshing", holder);
	r->lease_mine = rc == STORE_LEASE_MINE;
	free(r->lease_holder);
	r->lease_holder = holder;
	pthread_mutex_unlock(&r->mu);
	if (rc == STORE_LEASE_ERROR)
		log_warn("refresh: cannot read the refresh lease");
	return rc == STORE_LEASE_MINE;
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
	refresh_cycle_publish(r);
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
		refresh_cycle_finish(r, 1, 0, NULL);
		pthread_mutex_lock(&r->mu);
		free(r->last_error);
		r->last_error = xasprintf("skipped: %s holds the refresh lease", who);
		pthread_mutex_unlock(&r->mu);
		free(who);
		return;
	}
	refresh_cycle_prepare(r, brand, agg);
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
		refresh_seen_clear(&r->seen[i]);
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
