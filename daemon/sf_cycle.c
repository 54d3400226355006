/*
 * sf_cycle.c — the Snowflake source: pulls the aggregates from their dynamic tables over
 * the SQL API v2 (statements: sf_stmt.c, results: sf_result.c), on the refresh thread's
 * event loop, never blocking. Per cycle one SHOW DYNAMIC TABLES (cloud services, no
 * warehouse) reads every table's data timestamp; only tables whose data moved since
 * the last pull are pulled, with byte-identical SQL from cycle to cycle and instance to
 * instance (so Snowflake's result cache can answer) and at most max_statements in
 * flight; sf_point.c then makes every brand one point in time. It only fills struct
 * pull. Its constructor keeps the name main.c knows sources by, source_<kind>_new.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "snowflake.h"

/* the columns of SHOW DYNAMIC TABLES read, found by name among the others */
static const struct column fresh_cols[] = {
	{ "name", COL_STRING, NULL, NULL, NULL, NULL },
	{ "schema_name", COL_STRING, NULL, NULL, NULL, NULL },
	{ "data_timestamp", COL_STRING, NULL, NULL, NULL, NULL },
	{ "scheduling_state", COL_STRING, NULL, NULL, NULL, NULL },
};

static char *
sf_cycle_upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* Where a brand's dynamic tables live: the schema ddl.c creates them in. Caller frees. */
char *
sf_cycle_schema(const struct brand *b)
{
	char *id = sf_cycle_upper(b->id), *s = xasprintf("ANALYSIS_BRAND_%s", id);

	free(id);
	return s;
}

/*
 * The pull SQL: stable text, so Snowflake's result cache can answer repeats for free.
 * at_ms > 0 reads the table as committed at that instant (Time Travel, sf_point.c); the
 * text then names the instant, so only readers of the same instant share the result.
 */
static char *
sf_cycle_pull_sql(struct sf_source *s, const struct brand *b, const struct aggregate *a,
    int64_t at_ms)
{
	struct buf q;
	char *schema = sf_cycle_schema(b), *db = sf_cycle_upper(s->sc->database);
	char *id = sf_cycle_upper(b->id);
	int ndim = 0;

	buf_init(&q);
	buf_adds(&q, "SELECT ");
	for (size_t i = 0; i < a->ncols; i++) {
		char *c = sf_cycle_upper(a->cols[i].name);
		buf_printf(&q, "%s%s", i ? ", " : "", c);
		free(c);
	}
	buf_printf(&q, " FROM %s.%s.DT_BRAND_%s_%s", db, schema, id, a->relation);
	if (at_ms > 0)
		buf_printf(&q, " AT(TIMESTAMP => TO_TIMESTAMP_LTZ(%lld, 3))", (long long)at_ms);
	buf_adds(&q, " ORDER BY ");
	for (size_t i = 0; i < a->ncols; i++) {
		if (strcmp(a->cols[i].role, "dimension") != 0)
			continue;
		char *c = sf_cycle_upper(a->cols[i].name);
		/* explicit: Snowflake's ASC default is NULLS LAST, SQLite's NULLS FIRST */
		buf_printf(&q, "%s%s NULLS FIRST", ndim++ ? ", " : "", c);
		free(c);
	}
	if (ndim == 0)
		buf_adds(&q, "1");
	free(schema); free(db); free(id);
	return buf_steal(&q, NULL);
}

/*
 * The freshness statement: SHOW runs in the cloud services layer, not on the warehouse,
 * so a quiet cycle costs no warehouse time at all (DYNAMIC_TABLE_REFRESH_HISTORY is a
 * table function: it needs a running warehouse, and covers only the past day unless
 * given DATA_TIMESTAMP_START). One per cycle for every brand: its text never changes.
 */
static char *
sf_cycle_freshness_sql(struct sf_source *s)
{
	char *db = sf_cycle_upper(s->sc->database);
	char *q = xasprintf("SHOW DYNAMIC TABLES LIKE 'DT_BRAND_%%' IN DATABASE %s", db);

	free(db);
	return q;
}

const char *
sf_cycle_text(const struct table *t, size_t r, size_t c)
{
	const struct cell *cl = table_cell(t, r, c);

	return cl->kind == CELL_TEXT ? table_text(t, cl) : NULL;
}

/* The pull reading dynamic table schema.name, or NULL. */
struct pull *
sf_cycle_pull_of(struct sf_source *s, const char *schema, const char *dt_name)
{
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		char *sch = sf_cycle_schema(p->brand), *id = sf_cycle_upper(p->brand->id);
		char *name = xasprintf("DT_BRAND_%s_%s", id, p->agg->relation);
		int match = strcasecmp(sch, schema) == 0 && strcasecmp(name, dt_name) == 0;

		free(sch);
		free(id);
		free(name);
		if (match)
			return p;
	}
	return NULL;
}

/*
 * The freshness answer: a pull whose table's data timestamp is the one last pulled is
 * settled as unchanged; the others get their data timestamp and stay pending. A
 * suspended table (Snowflake suspends one whose refreshes keep failing) is reported,
 * its last good data kept.
 */
static void
sf_cycle_freshness_apply(struct sf_source *s, struct sf_stmt *st)
{
	const struct table *t = &st->table;

	for (size_t r = 0; r < t->nrows; r++) {
		const char *name = sf_cycle_text(t, r, 0), *schema = sf_cycle_text(t, r, 1);
		const char *ts = sf_cycle_text(t, r, 2), *state = sf_cycle_text(t, r, 3);
		struct pull *p;

		if (name == NULL || schema == NULL ||
		    (p = sf_cycle_pull_of(s, schema, name)) == NULL || !p->wanted)
			continue;
		free(p->error);
		p->error = NULL;
		/* a suspended table's refreshes stopped: the "every DT SUCCEEDED" guard fails */
		p->source_failed = state != NULL && strcasecmp(state, "SUSPENDED") == 0;
		if (ts != NULL) {
			free(p->data_ts);
			p->data_ts = xstrdup(ts);
			/* the table is current as of its data timestamp (a NO_DATA refresh too) */
			p->data_time = manifest_data_time(ts);
		}
		if (state != NULL && strcasecmp(state, "SUSPENDED") == 0)
			p->error = xasprintf("dynamic table %s.%s is SUSPENDED: its refreshes "
			    "stopped; data as of %s", schema, name, ts ? ts : "unknown");
	}
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		if (!p->wanted || p->state != PULL_PENDING)
			continue;
		if (p->data_ts != NULL && p->prev_data_ts != NULL &&
		    strcmp(p->data_ts, p->prev_data_ts) == 0) {
			p->state = PULL_UNCHANGED;	/* p->error, if any, is a warning */
		}
	}
}

static void sf_cycle_pump(struct sf_source *);

/*
 * Settles a statement's pull (or the freshness check's, or a cancel) and frees the
 * statement; error (failures only) is consumed. Then starts what may start next.
 */
void
sf_cycle_finish(struct sf_stmt *st, int ok, char *error)
{
	struct sf_source *s = st->s;

	if (st->kind == SF_STMT_CANCEL) {
		free(error);
		sf_stmt_free(st);
		if (--s->cancels == 0 && s->stopped != NULL)
			s->stopped(s->stopped_arg);
		return;
	}
	s->inflight--;
	if (st->kind == SF_STMT_VERIFY) {
		sf_point_verified(s, st, ok, error);
		free(error);
		s->fresh_pending--;
	} else if (st->kind == SF_STMT_FRESHNESS) {
		if (ok) {
			sf_cycle_freshness_apply(s, st);
			s->point_ms = st->created_on_ms;	/* the brands' point in time */
		} else {
			/*
			 * Without it every table of the brand is pulled: costly and silent
			 * unless shown, so status and metrics carry it (a missing MONITOR
			 * grant looks exactly like this).
			 */
			log_warn("snowflake: %s: %s; pulling every table", st->tag, error);
			s->src->freshness_failures++;
			free(s->src->freshness_error);
			s->src->freshness_error = xasprintf("%s: %s", st->tag, error);
			free(error);
		}
		s->fresh_pending--;
	} else {
		struct pull *p = st->pull;
		p->duration_ms = mono_ms() - st->started_ms;
		free(p->handle);
		p->handle = st->handle ? xstrdup(st->handle) : NULL;
		if (ok) {
			p->state = PULL_DONE;	/* its rows are in p->enc already */
			free(p->error);
			p->error = NULL;
		} else {
			encode_free(p->enc);	/* what a failed result encoded */
			p->enc = NULL;
			p->state = PULL_FAILED;
			free(p->error);
			p->error = error;
			error = NULL;
		}
		free(error);
	}
	sf_stmt_free(st);
	sf_cycle_pump(s);
}

/* Starts what may start; when nothing is left, hands the cycle back to refresh. */
static void
sf_cycle_pump(struct sf_source *s)
{
	if (s->cancelled || s->pulls == NULL)
		return;
	while (s->fresh_pending == 0 && s->inflight < (size_t)s->sc->max_statements &&
	    s->queued_next < s->npulls) {
		struct pull *p = &s->pulls[s->queued_next++];
		struct sf_stmt *st;
		size_t bi = (size_t)(p->brand - s->cf->brands);

		if (!p->wanted || p->state != PULL_PENDING)
			continue;
		st = sf_stmt_new(s, SF_STMT_PULL, bi);
		st->pull = p;
		st->sql = sf_cycle_pull_sql(s, p->brand, p->agg, sf_point_at(s, p));
		st->tag = xasprintf("tpcd:%s:%s", p->brand->id, p->agg->name);
		st->want = p->agg->cols;
		st->ncols = p->agg->ncols;
		table_init(&st->table, st->ncols);
		s->inflight++;
		sf_stmt_send(st);
	}
	if (s->fresh_pending == 0 && s->inflight == 0 && s->queued_next >= s->npulls) {
		void (*done)(void *) = s->done;
		/* the point in time may want a second look, and re-reads: pump those */
		if (sf_point_next(s)) {
			sf_cycle_pump(s);
			return;
		}
		sf_point_end(s);
		s->pulls = NULL;
		s->done = NULL;
		done(s->done_arg);
	}
}

/* The SHOW DYNAMIC TABLES statement of kind (freshness or verify), sent. */
struct sf_stmt *
sf_cycle_show(struct sf_source *s, enum sf_stmt_kind kind, const char *tag)
{
	struct sf_stmt *st = sf_stmt_new(s, kind, 0);

	st->sql = sf_cycle_freshness_sql(s);
	st->tag = xstrdup(tag);
	st->want = fresh_cols;
	st->ncols = sizeof fresh_cols / sizeof fresh_cols[0];
	table_init(&st->table, st->ncols);
	s->fresh_pending++;
	s->inflight++;
	sf_stmt_send(st);
	return st;
}

static void
sf_cycle_pull(struct source *src, struct pull *p, size_t n, void (*done)(void *), void *arg)
{
	struct sf_source *s = src->impl;

	s->pulls = p;
	s->npulls = n;
	s->done = done;
	s->done_arg = arg;
	s->queued_next = 0;
	s->fresh_pending = 0;
	free(src->freshness_error);	/* this cycle's checks decide it anew */
	src->freshness_error = NULL;
	/* one freshness statement for every brand, when anything is wanted */
	int any = 0;
	for (size_t i = 0; i < n; i++)
		any |= p[i].wanted;
	sf_point_begin(s);
	if (any && s->cf->nbrands > 0)
		sf_cycle_show(s, SF_STMT_FRESHNESS, "tpcd:freshness");
	sf_cycle_pump(s);
}

/*
 * Shutdown: drops every statement and asks Snowflake to cancel those it is running;
 * stopped(arg) runs once the cancels are answered (the caller bounds the wait).
 */
static void
sf_cycle_cancel(struct source *src, void (*stopped)(void *), void *arg)
{
	struct sf_source *s = src->impl;
	struct sf_stmt *list = s->stmts, *next;

	s->cancelled = 1;
	s->pulls = NULL;
	sf_point_end(s);
	s->stmts = NULL;
	s->stopped = stopped;
	s->stopped_arg = arg;
	for (struct sf_stmt *st = list; st != NULL; st = next) {
		next = st->next;
		if (st->handle != NULL && (st->req != NULL || st->timer != NULL)) {
			struct sf_stmt *c = sf_stmt_new(s, SF_STMT_CANCEL, st->brand);
			c->handle = xstrdup(st->handle);
			c->tag = xasprintf("%s:cancel", st->tag);
			log_info("snowflake: cancelling statement %s (%s)", st->handle, st->tag);
			s->cancels++;
		}
		st->next = NULL;
		sf_stmt_free(st);
	}
	for (struct sf_stmt *c = s->stmts; c != NULL; c = c->next)
		sf_stmt_send(c);
	if (s->cancels == 0)
		stopped(arg);
}

static void
sf_cycle_free(struct source *src)
{
	struct sf_source *s;

	if (src == NULL)
		return;
	s = src->impl;
	while (s->stmts != NULL)
		sf_stmt_free(s->stmts);
	sf_point_end(s);
	upstream_free(s->up);
	jwt_key_free(s->key);
	if (s->token != NULL)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s);
	free(src->freshness_error);
	free(src);
}

/* The Snowflake source; loads the key now so a bad one stops start-up, not a refresh. */
struct source *
source_snowflake_new(const struct config *cf, const struct catalog *cat,
    struct event_base *base, char **cause)
{
	struct sf_source *s = xcalloc(1, sizeof *s);
	struct source *src;

	s->cf = cf;
	s->sc = &cf->sf;
	s->cat = cat;
	s->base = base;
	if (strcmp(s->sc->auth, "keypair") == 0 &&
	    (s->key = jwt_key_load(s->sc->private_key, s->sc->private_key_passphrase_file,
	    cause)) == NULL) {
		free(s);
		return NULL;
	}
	if (getrandom(&s->rng, sizeof s->rng, 0) != sizeof s->rng)
		fatal("getrandom failed");
	s->up = upstream_new(base, "tpcd/" TPCD_VERSION);
	src = xcalloc(1, sizeof *src);
	src->name = "snowflake";
	src->pull = sf_cycle_pull;
	src->cancel = sf_cycle_cancel;
	src->free = sf_cycle_free;
	src->impl = s;
	/* replicas share one warehouse: a tenth of the interval, at most a minute, apart */
	src->spread = cf->refresh_interval / 10 < 60 ? cf->refresh_interval / 10 : 60;
	s->src = src;
	return src;
}
