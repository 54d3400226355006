/*
 * source_sqlite.c — the embedded source: runs an aggregate's SQLite query against a
 * brand's database file (<sqlite dir>/<schema>.db, opened read-only), checking the
 * result's shape and types against the catalogue, its rows handed to the encoder in small
 * batches as they step (no whole result is held), and reads the time the data describes
 * (its declared data time) in the same transaction. All of one brand's
 * aggregates in a cycle run in one read transaction: one source state per snapshot. The
 * queries' shared TEMP views (schema/sqlite/views.sql) are created on that connection
 * only, never in the file. Runs on the refresh thread only; never touches store or HTTP.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tpcd.h"

extern const char source_sqlite_views[];	/* generated from schema/sqlite/views.sql */

struct sqlite_source {
	const struct config	*cf;
	const struct catalog	*cat;
	char			*pause_after;	/* the test hook's environment, or NULL */
	char			*pause_dir;
};

static int
bind_params(sqlite3_stmt *st, const struct catalog *cat, char **cause)
{
	for (size_t i = 0; i < cat->nparams; i++) {
		char name[80], *end;
		long long n;
		int idx, rc;

		snprintf(name, sizeof name, ":%s", cat->params[i].name);
		if ((idx = sqlite3_bind_parameter_index(st, name)) == 0)
			continue;
		n = strtoll(cat->params[i].value, &end, 10);
		if (*cat->params[i].value != '\0' && *end == '\0')
			rc = sqlite3_bind_int64(st, idx, n);
		else
			rc = sqlite3_bind_text(st, idx, cat->params[i].value, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			*cause = xasprintf("binding %s: %s", name, sqlite3_errstr(rc));
			return -1;
		}
	}
	/* A parameter the catalogue does not define would silently bind NULL. */
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
		const char *p = sqlite3_bind_parameter_name(st, i);
		size_t j;

		for (j = 0; j < cat->nparams; j++)
			if (p != NULL && strcmp(p + 1, cat->params[j].name) == 0)
				break;
		if (j == cat->nparams) {
			*cause = xasprintf("query uses %s, which the catalogue's params do not "
			    "define", p ? p : "a positional parameter");
			return -1;
		}
	}
	return 0;
}

static int
check_shape(sqlite3_stmt *st, const struct aggregate *a, char **cause)
{
	if ((size_t)sqlite3_column_count(st) != a->ncols) {
		*cause = xasprintf("query returns %d columns, the catalogue lists %zu",
		    sqlite3_column_count(st), a->ncols);
		return -1;
	}
	for (size_t i = 0; i < a->ncols; i++) {
		const char *n = sqlite3_column_name(st, (int)i);
		if (n == NULL || strcasecmp(n, a->cols[i].name) != 0) {
			*cause = xasprintf("column %zu is '%s', the catalogue says '%s'", i + 1,
			    n ? n : "?", a->cols[i].name);
			return -1;
		}
	}
	return 0;
}

/* Converts one SQLite value to the catalogue's type; -1 on a type the column can't hold. */
static int
read_cell(struct table *t, struct cell *c, sqlite3_stmt *st, int i,
    const struct column *col, char **cause)
{
	int vt = sqlite3_column_type(st, i);

	if (vt == SQLITE_NULL)
		return 0;
	switch (col->type) {
	case COL_INT64:
		if (vt != SQLITE_INTEGER)
			goto bad;
		c->kind = CELL_INT;
		c->v.i = sqlite3_column_int64(st, i);
		return 0;
	case COL_DOUBLE:
		if (vt != SQLITE_INTEGER && vt != SQLITE_FLOAT)
			goto bad;
		c->kind = CELL_DOUBLE;
		c->v.d = sqlite3_column_double(st, i);
		return 0;
	case COL_STRING:
	case COL_DATE:
		if (vt != SQLITE_TEXT)
			goto bad;
		table_set_text(t, c, (const char *)sqlite3_column_text(st, i),
		    (size_t)sqlite3_column_bytes(st, i));
		return 0;
	}
bad:
	*cause = xasprintf("column '%s' is %s but the query returned SQLite type %d",
	    col->name, col_type_name(col->type), vt);
	return -1;
}

/*
 * Runs pull p's aggregate on db (brand b's database at path, inside the brand's read
 * transaction), its rows streamed into p's encoder a batch at a time as they step.
 * Returns 0, or -1 and *cause (caller frees).
 */
static int
sqlite_pull_one(sqlite3 *db, const char *path, const struct catalog *cat, struct pull *p,
    char **cause)
{
	const struct aggregate *a = p->agg;
	sqlite3_stmt *st = NULL;
	struct table batch;
	char *err = NULL;
	int rc;

	table_init(&batch, a->ncols);
	if (sqlite3_prepare_v2(db, a->sqlite_sql, -1, &st, NULL) != SQLITE_OK) {
		err = xasprintf("%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (bind_params(st, cat, &err) != 0 || check_shape(st, a, &err) != 0)
		goto out;
	encode_pull_begin(p);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cell *row = table_add_row(&batch);
		for (size_t i = 0; i < a->ncols; i++)
			if (read_cell(&batch, &row[i], st, (int)i, &a->cols[i], &err) != 0)
				goto out;
		if (batch.nrows == ENCODE_BATCH_ROWS)
			encode_pull_rows(p, &batch);
	}
	if (rc != SQLITE_DONE)
		err = xasprintf("%s: %s", path, sqlite3_errmsg(db));
	else
		encode_pull_rows(p, &batch);
out:
	sqlite3_finalize(st);
	table_free(&batch);
	if (err != NULL) {
		encode_free(p->enc);
		p->enc = NULL;
		*cause = err;
		return -1;
	}
	return 0;
}

/*
 * Opens brand b's database read-only, creates the queries' TEMP views on the connection
 * (its temp schema is writable though the file is not: nothing reaches the file) and
 * starts the read transaction every aggregate of the brand runs in, so that they all
 * describe one state of the source: a writer committing between two aggregates is seen
 * by none of them (in WAL mode it proceeds; in rollback-journal mode it waits for the
 * transaction to end). BEGIN alone takes no snapshot, so a cheap read of the schema
 * does. Returns 0, or -1 and *cause.
 */
static int
sqlite_begin(const struct config *cf, const struct brand *b, sqlite3 **dbp, char **pathp,
    char **cause)
{
	char *path = xasprintf("%s/%s.db", cf->sqlite_dir, b->schema);
	sqlite3 *db = NULL;
	int rc;

	*pathp = path;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, source_sqlite_views, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL,
		    NULL);
	if (rc != SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	*dbp = db;
	return 0;
}

/*
 * The time the brand's data describes, as the source declares it, read in the brand's
 * transaction: meta 'data_time' (ISO 8601; no zone is UTC), else its newest order (local
 * Asia/Seoul wall-clock time, UTC+9). Unix seconds, or 0 when neither reads.
 */
static int64_t
sqlite_data_time(sqlite3 *db)
{
	static const char *const q[2] = {
		"SELECT value FROM meta WHERE key = 'data_time'",
		"SELECT max(ordered_at) FROM orders",
	};
	int64_t t = 0;

	for (int i = 0; i < 2 && t == 0; i++) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, q[i], -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
			t = clock_parse_iso8601((const char *)sqlite3_column_text(st, 0));
			if (i == 1 && t != 0)
				t -= 9 * 3600;
		}
		sqlite3_finalize(st);
	}
	return t;
}

/* Ends the read transaction (it wrote nothing, so nothing can fail that matters). */
static void
sqlite_end(sqlite3 *db, char *path)
{
	if (db != NULL) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	free(path);
}

/*
 * Test hook, for proving the brand-wide transaction (tpcd(8), ENVIRONMENT): with
 * TPCD_TEST_PAUSE_AFTER=<aggregate> and TPCD_TEST_PAUSE_DIR=<dir> in the environment at
 * start-up, after pulling that aggregate the refresh thread creates <dir>/paused and waits
 * until <dir>/resume exists (at most 60 s), so a test can commit a write to the source at
 * exactly that point. Unset, it costs a NULL test per aggregate.
 */
static void
sqlite_test_pause(const struct sqlite_source *s, const struct aggregate *a)
{
	const char *after = s->pause_after, *dir = s->pause_dir;
	char *paused, *resume;
	FILE *f;

	if (after == NULL || dir == NULL || strcmp(after, a->name) != 0)
		return;
	paused = xasprintf("%s/paused", dir);
	resume = xasprintf("%s/resume", dir);
	if (access(resume, F_OK) != 0 && (f = fopen(paused, "w")) != NULL) {
		fclose(f);
		for (int i = 0; i < 6000 && access(resume, F_OK) != 0; i++)
			nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
	}
	free(paused);
	free(resume);
}

/* Runs pull p of the brand whose transaction db holds; fills its state and timing. */
static void
sqlite_pull_timed(struct source *src, sqlite3 *db, const char *path, struct pull *p)
{
	struct sqlite_source *s = src->impl;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	src->statements++;
	if (sqlite_pull_one(db, path, s->cat, p, &p->error) == 0)
		p->state = PULL_DONE;
	else
		p->state = PULL_FAILED;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p->duration_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	sqlite_test_pause(s, p->agg);
}

/*
 * Synchronous: the refresh thread is the only one waiting, and it has nothing else to do.
 * Pulls come brand-major; each brand's wanted pulls run in one read transaction.
 */
static void
sqlite_pull_all(struct source *src, struct pull *p, size_t n, void (*done)(void *),
    void *arg)
{
	struct sqlite_source *s = src->impl;

	for (size_t i = 0; i < n; ) {
		const struct brand *b = p[i].brand;
		sqlite3 *db = NULL;
		char *path = NULL, *err = NULL;
		int64_t data_time = 0;
		size_t end;

		for (end = i; end < n && p[end].brand == b; end++)
			;
		for (size_t j = i; j < end; j++) {
			if (!p[j].wanted)
				continue;
			if (src->stopping != NULL && atomic_load(src->stopping)) {
				sqlite_end(db, path);
				free(err);
				return;		/* shutting down: done is not called */
			}
			if (db == NULL && err == NULL && path == NULL &&
			    sqlite_begin(s->cf, b, &db, &path, &err) == 0)
				data_time = sqlite_data_time(db);	/* the same state */
			if (err != NULL) {	/* the brand's database cannot be read */
				p[j].error = xstrdup(err);
				p[j].state = PULL_FAILED;
				continue;
			}
			p[j].data_time = data_time;
			sqlite_pull_timed(src, db, path, &p[j]);
		}
		sqlite_end(db, path);
		free(err);
		i = end;
	}
	done(arg);
}

static void
sqlite_cancel(struct source *src, void (*stopped)(void *), void *arg)
{
	(void)src;
	stopped(arg);
}

static void
sqlite_free(struct source *src)
{
	struct sqlite_source *s;

	if (src == NULL)
		return;
	s = src->impl;
	free(s->pause_after);
	free(s->pause_dir);
	free(s);
	free(src);
}

struct source *
source_sqlite_new(const struct config *cf, const struct catalog *cat)
{
	struct source *src = xcalloc(1, sizeof *src);
	struct sqlite_source *s = xcalloc(1, sizeof *s);

	const char *after = getenv("TPCD_TEST_PAUSE_AFTER");
	const char *dir = getenv("TPCD_TEST_PAUSE_DIR");

	s->cf = cf;
	s->cat = cat;
	/* read once, here, not on every pull: a hook for the tests, not a setting */
	if (after != NULL && dir != NULL) {
		s->pause_after = xstrdup(after);
		s->pause_dir = xstrdup(dir);
	}
	src->name = "sqlite";
	src->pull = sqlite_pull_all;
	src->cancel = sqlite_cancel;
	src->free = sqlite_free;
	src->impl = s;
	return src;
}
