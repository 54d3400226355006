/*
 * demo.c — deterministic demo data for the embedded SQLite source. demo_generate()
 * (re)creates one brand's database file with the tables of schema/source_sqlite.sql and
 * writes into it the rows demo_gen.c draws for the brand (demo_profile.c) and the seed:
 * the same seed and brand always give the same rows. It owns the SQLite side only; a
 * failed run leaves no file behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tpcd.h"
#include "demo_priv.h"

extern const char source_sqlite_ddl[];	/* generated from schema/source_sqlite.sql */

/* ------------------------------------------------------------------ SQLite output */

struct stmts {
	sqlite3_stmt	*meta, *member, *store, *product, *order, *line;
};

static int
db_error(sqlite3 *db, const char *what, char **cause)
{
	*cause = xasprintf("demo data: %s: %s", what, sqlite3_errmsg(db));
	return -1;
}

/* Runs a fully bound insert and resets it for the next row. */
static int
step(sqlite3 *db, sqlite3_stmt *st, char **cause)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(db, "insert", cause);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int
prepare_all(sqlite3 *db, struct stmts *s, char **cause)
{
	static const char *const sql[] = {
		"INSERT INTO meta (key, value) VALUES (?, ?)",
		"INSERT INTO members (member_id, joined_at, birth_year, gender, region) "
		    "VALUES (?, ?, ?, ?, ?)",
		"INSERT INTO stores (store_id, name, region) VALUES (?, ?, ?)",
		"INSERT INTO products (product_id, name, category, is_new, is_signature, "
		    "launched_at) VALUES (?, ?, ?, ?, ?, ?)",
		"INSERT INTO orders (order_id, member_id, store_id, ordered_at) VALUES (?, ?, ?, ?)",
		"INSERT INTO order_lines (order_id, line_no, product_id, qty, unit_price) "
		    "VALUES (?, ?, ?, ?, ?)",
	};
	sqlite3_stmt **dst[] = { &s->meta, &s->member, &s->store, &s->product, &s->order,
	    &s->line };

	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, dst[i], NULL) != SQLITE_OK)
			return db_error(db, "prepare", cause);
	return 0;
}

static void
finalize_all(struct stmts *s)
{
	sqlite3_finalize(s->meta);
	sqlite3_finalize(s->member);
	sqlite3_finalize(s->store);
	sqlite3_finalize(s->product);
	sqlite3_finalize(s->order);
	sqlite3_finalize(s->line);
}

static int
put_meta(sqlite3 *db, struct stmts *s, const char *key, const char *value, char **cause)
{
	sqlite3_bind_text(s->meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->meta, 2, value, -1, SQLITE_TRANSIENT);
	return step(db, s->meta, cause);
}

static int
put_stores(sqlite3 *db, struct stmts *s, const struct gen *g, char **cause)
{
	int seen[NREGIONS] = { 0 };

	for (int i = 0; i < g->nstores; i++) {
		const struct region *r = &demo_profile_regions[g->stores[i].region];
		int nd = 0, k = seen[g->stores[i].region]++;
		char name[64];

		while (r->districts[nd] != NULL)
			nd++;
		/* "Gangnam", then "Gangnam 2" once every district of the region has a store */
		if (k < nd)
			snprintf(name, sizeof name, "%s", r->districts[k]);
		else
			snprintf(name, sizeof name, "%s %d", r->districts[k % nd], k / nd + 1);
		sqlite3_bind_int(s->store, 1, i + 1);
		sqlite3_bind_text(s->store, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s->store, 3, r->name, -1, SQLITE_STATIC);
		if (step(db, s->store, cause) != 0)
			return -1;
	}
	return 0;
}

static int
put_products(sqlite3 *db, struct stmts *s, const struct gen *g, char **cause)
{
	for (int i = 0; i < g->pf->nmenu; i++) {
		const struct menu_item *it = &g->pf->menu[i];

		sqlite3_bind_int(s->product, 1, i + 1);
		sqlite3_bind_text(s->product, 2, it->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->product, 3, it->category, -1, SQLITE_STATIC);
		sqlite3_bind_int(s->product, 4, it->is_new);
		sqlite3_bind_int(s->product, 5, it->is_signature);
		sqlite3_bind_text(s->product, 6, it->launched ? it->launched : ESTABLISHED, -1,
		    SQLITE_STATIC);
		if (step(db, s->product, cause) != 0)
			return -1;
	}
	return 0;
}

/* Birth year, then gender, drawn per member as it is inserted (demo_gen.c). */
static int
put_members(sqlite3 *db, struct stmts *s, struct gen *g, char **cause)
{
	for (int i = 0; i < g->pf->members; i++) {
		const struct member_row *m = &g->members[i];
		int by = demo_gen_birth_year(g);
		char ts[TS_LEN];

		demo_gen_format_time(ts, m->join_day, m->join_sec);
		sqlite3_bind_int(s->member, 1, i + 1);
		sqlite3_bind_text(s->member, 2, ts, -1, SQLITE_TRANSIENT);
		if (by == 0)
			sqlite3_bind_null(s->member, 3);
		else
			sqlite3_bind_int(s->member, 3, by);
		sqlite3_bind_text(s->member, 4, demo_gen_gender(g), -1, SQLITE_STATIC);
		sqlite3_bind_text(s->member, 5, demo_profile_regions[m->region].name, -1,
		    SQLITE_STATIC);
		if (step(db, s->member, cause) != 0)
			return -1;
	}
	return 0;
}

static int
put_lines(sqlite3 *db, struct stmts *s, struct gen *g, int order_id,
    const struct order_row *o, char **cause)
{
	int nlines = demo_gen_lines(g);

	for (int line = 1; line <= nlines; line++) {
		int it = demo_gen_line_item(g, &g->members[o->member], o->day, line);

		sqlite3_bind_int(s->line, 1, order_id);
		sqlite3_bind_int(s->line, 2, line);
		sqlite3_bind_int(s->line, 3, it + 1);
		sqlite3_bind_int(s->line, 4, demo_gen_qty(g));
		sqlite3_bind_int(s->line, 5, g->pf->menu[it].price);
		if (step(db, s->line, cause) != 0)
			return -1;
	}
	return 0;
}

/* Orders in time order, so order ids grow with ordered_at. */
static int
put_orders(sqlite3 *db, struct stmts *s, struct gen *g, char **cause)
{
	demo_gen_sort_orders(g);
	for (int i = 0; i < g->norders; i++) {
		const struct order_row *o = &g->orders[i];
		char ts[TS_LEN];

		demo_gen_format_time(ts, o->day, o->sec);
		sqlite3_bind_int(s->order, 1, i + 1);
		sqlite3_bind_int(s->order, 2, o->member + 1);
		sqlite3_bind_int(s->order, 3, o->store + 1);
		sqlite3_bind_text(s->order, 4, ts, -1, SQLITE_TRANSIENT);
		if (step(db, s->order, cause) != 0 || put_lines(db, s, g, i + 1, o, cause) != 0)
			return -1;
	}
	return 0;
}

static int
put_all(sqlite3 *db, struct gen *g, const char *brand_id, unsigned seed, char **cause)
{
	struct stmts s = { 0 };
	char seedstr[16], now[32];
	int rc = -1;

	snprintf(seedstr, sizeof seedstr, "%u", seed);
	/* the data is declared current when made: tpcd measures its staleness from here */
	clock_iso8601(time(NULL), now);
	if (prepare_all(db, &s, cause) == 0 &&
	    put_meta(db, &s, "as_of", AS_OF, cause) == 0 &&
	    put_meta(db, &s, "seed", seedstr, cause) == 0 &&
	    put_meta(db, &s, "brand", brand_id, cause) == 0 &&
	    put_meta(db, &s, "data_time", now, cause) == 0 &&
	    put_meta(db, &s, "coverage_start", COVERAGE_START, cause) == 0 &&
	    put_stores(db, &s, g, cause) == 0 &&
	    put_products(db, &s, g, cause) == 0 &&
	    put_members(db, &s, g, cause) == 0 &&
	    put_orders(db, &s, g, cause) == 0)
		rc = 0;
	finalize_all(&s);
	return rc;
}

/* ------------------------------------------------------------------ entry point */

/* Removes path and SQLite's side files; a missing file is fine. */
static int
remove_db(const char *path, char **cause)
{
	static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };

	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		int rc = unlink(p);

		if (rc != 0 && errno != ENOENT) {
			*cause = xasprintf("demo data: removing %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int
exec_sql(sqlite3 *db, const char *sql, const char *what, char **cause)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, what, cause);
	return 0;
}

/*
 * (Re)creates the brand database at path with deterministic demo data for brand_id.
 * Returns 0, or -1 and *cause (caller frees); a failed run leaves no file behind.
 */
int
demo_generate(const char *path, const char *brand_id, unsigned seed, char **cause)
{
	sqlite3 *db = NULL;
	struct gen g;
	int rc = -1;

	if (remove_db(path, cause) != 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL) != SQLITE_OK) {
		*cause = xasprintf("demo data: %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	demo_gen_run(&g, brand_id, seed);
	if (exec_sql(db, source_sqlite_ddl, "schema", cause) == 0 &&
	    exec_sql(db, "BEGIN", "begin", cause) == 0 &&
	    put_all(db, &g, brand_id, seed, cause) == 0 &&
	    exec_sql(db, "COMMIT", "commit", cause) == 0 &&
	    exec_sql(db, "ANALYZE", "analyze", cause) == 0)
		rc = 0;
	demo_gen_free(&g);
	sqlite3_close(db);
	if (rc != 0) {
		char *ignored = NULL;

		if (remove_db(path, &ignored) != 0)
			free(ignored);
	}
	return rc;
}
