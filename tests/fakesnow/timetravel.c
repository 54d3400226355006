/* Time Travel over the fake's dynamic tables, and refreshes a test schedules. A refresh
 * queued on /_fake/refreshes runs after the Nth statement from then on is answered (so
 * between two reads of one client's cycle): it keeps the table's content in a copy
 * (listed in FAKESNOW_TIME_TRAVEL with the instant it stopped being current), applies
 * the change and records a SUCCEEDED refresh committed now. `T AT(TIMESTAMP => t)` then
 * reads the version committed at t; a t before the table's first refresh committed (its
 * creation) or older than the retention is Snowflake's 000707. Knows nothing of HTTP
 * beyond the JSON specs control.c hands it.
 */
#include "fakesnow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct refresh {
	char		*table;		/* the SQLite name, SCHEMA__NAME */
	char		*change;	/* SQL with {T} for the table, or NULL */
	char		*action;	/* REFRESH_ACTION of the history row */
	double		 data_ts;	/* epoch seconds */
	int		 after;		/* statements still to answer first */
	struct refresh	*next;
};

static struct refresh *queue;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
exec_sql(const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(FS.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, msg ? msg : "failed");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void
tt_init(void)
{
	char err[256];

	if (exec_sql("CREATE TABLE IF NOT EXISTS FAKESNOW_TIME_TRAVEL(TABLE_NAME TEXT, "
	    "VALID_TO REAL, COPY_NAME TEXT)", err, sizeof err) != 0)
		fprintf(stderr, "fakesnow: %s\n", err);
}

/* One number from a query with one text parameter; NAN when NULL or no row. */
static double
query_number(const char *sql, const char *arg)
{
	sqlite3_stmt *q;
	double v = NAN;

	if (sqlite3_prepare_v2(FS.db, sql, -1, &q, NULL) != SQLITE_OK)
		return NAN;
	sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The dynamic table's first committed refresh: its creation. NAN: not a dynamic table. */
static double
created_at(const char *table)
{
	return query_number("SELECT MIN(REFRESH_END_TIME) FROM FAKESNOW_REFRESH_HISTORY WHERE "
	    "SCHEMA_NAME || '__' || NAME = ?1 COLLATE NOCASE AND STATE = 'SUCCEEDED'", table);
}

/*
 * The SQLite table holding `table` as committed at epoch seconds `at`: the table itself
 * or one of its copies; malloc'd. NULL with err set (000707) when Snowflake would have
 * no Time Travel data for that instant.
 */
char *
tt_resolve(const char *table, double at, struct sql_error *err)
{
	double created = created_at(table), oldest = now_s() - FS.cfg.retention_days * 86400.0;
	const char *dot = strstr(table, "__");
	sqlite3_stmt *q;
	char *name = NULL;

	if ((!isnan(created) && at < created) || at < oldest) {
		err->code = "000707";
		err->sql_state = "02000";
		snprintf(err->message, sizeof err->message, "Time travel data is not available "
		    "for table %s. The requested time is either beyond the allowed time travel "
		    "period or before the object creation time.", dot ? dot + 2 : table);
		return NULL;
	}
	if (sqlite3_prepare_v2(FS.db, "SELECT COPY_NAME FROM FAKESNOW_TIME_TRAVEL WHERE "
	    "TABLE_NAME = ?1 COLLATE NOCASE AND VALID_TO > ?2 ORDER BY VALID_TO LIMIT 1", -1, &q,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_double(q, 2, at);
		if (sqlite3_step(q) == SQLITE_ROW)
			name = strdup((const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	return name ? name : strdup(table);
}

/* Copies the table's current content aside, valid until `until`. */
static int
keep_version(const char *table, double until, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	char *create = NULL, copy[512], sql[2048];
	const char *open;
	int n = 1, rc = -1;

	n += (int)query_number("SELECT COUNT(*) FROM FAKESNOW_TIME_TRAVEL WHERE TABLE_NAME = ?1 "
	    "COLLATE NOCASE", table);
	snprintf(copy, sizeof copy, "%s__AT%d", table, n);
	if (sqlite3_prepare_v2(FS.db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND "
	    "name = ?1 COLLATE NOCASE", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		create = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	/* the same declared types (the rowType comes from them): CREATE TABLE <copy> (...) */
	if (create == NULL || (open = strchr(create, '(')) == NULL) {
		snprintf(err, errlen, "no table %s", table);
		goto out;
	}
	snprintf(sql, sizeof sql, "CREATE TABLE \"%s\" %s", copy, open);
	if (exec_sql(sql, err, errlen) != 0)
		goto out;
	snprintf(sql, sizeof sql, "INSERT INTO \"%s\" SELECT * FROM \"%s\"", copy, table);
	if (exec_sql(sql, err, errlen) != 0)
		goto out;
	snprintf(sql, sizeof sql, "INSERT INTO FAKESNOW_TIME_TRAVEL VALUES ('%s', %.6f, '%s')",
	    table, until, copy);
	rc = exec_sql(sql, err, errlen);
out:
	free(create);
	return rc;
}

/* Runs one refresh now: a new version committed at this instant. */
static void
tt_apply(const struct refresh *r)
{
	double t = now_s();
	sqlite3_stmt *q;
	char err[1024];

	if (keep_version(r->table, t, err, sizeof err) != 0) {
		fprintf(stderr, "fakesnow: refresh of %s: %s\n", r->table, err);
		return;
	}
	if (r->change != NULL) {
		size_t n = 0, tl = strlen(r->table);
		char *sql, *o;

		for (const char *p = r->change; (p = strstr(p, "{T}")) != NULL; p += 3)
			n++;
		if ((sql = o = malloc(strlen(r->change) + n * tl + 1)) == NULL)
			return;
		for (const char *p = r->change; *p; )
			if (strncmp(p, "{T}", 3) == 0) {
				memcpy(o, r->table, tl);
				o += tl;
				p += 3;
			} else
				*o++ = *p++;
		*o = '\0';
		if (exec_sql(sql, err, sizeof err) != 0)
			fprintf(stderr, "fakesnow: refresh of %s: %s\n", r->table, err);
		free(sql);
	}
	if (sqlite3_prepare_v2(FS.db, "INSERT INTO FAKESNOW_REFRESH_HISTORY SELECT NAME, "
	    "SCHEMA_NAME, DATABASE_NAME, QUALIFIED_NAME, 'SUCCEEDED', '', ?2, ?3, ?4, ?4 FROM "
	    "FAKESNOW_REFRESH_HISTORY WHERE SCHEMA_NAME || '__' || NAME = ?1 COLLATE NOCASE "
	    "LIMIT 1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, r->table, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, r->action, -1, SQLITE_STATIC);
		sqlite3_bind_double(q, 3, r->data_ts);
		sqlite3_bind_double(q, 4, t);
		sqlite3_step(q);
		sqlite3_finalize(q);
	}
	counter_inc("dt_refreshes");
}

static void
refresh_free(struct refresh *r)
{
	free(r->table);
	free(r->change);
	free(r->action);
	free(r);
}

/*
 * Queues {"table": "SCHEMA.NAME", "data_timestamp": epoch s, "change": "SQL with {T}",
 * "action": "INCREMENTAL", "after": N}; after 0 (the default) runs it at once.
 */
int
tt_queue(json_t *spec, char *err, size_t errlen)
{
	const char *table = json_string_value(json_object_get(spec, "table"));
	const char *change = json_string_value(json_object_get(spec, "change"));
	const char *action = json_string_value(json_object_get(spec, "action"));
	json_t *ts = json_object_get(spec, "data_timestamp"), *after = json_object_get(spec,
	    "after");
	struct refresh *r, **pp;
	char name[512];
	const char *dot;

	if (!json_is_object(spec) || table == NULL || (dot = strchr(table, '.')) == NULL ||
	    !json_is_number(ts) || (after != NULL && !json_is_integer(after))) {
		snprintf(err, errlen, "want {\"table\": \"SCHEMA.NAME\", \"data_timestamp\": "
		    "seconds, \"change\"?: SQL with {T}, \"action\"?, \"after\"?: statements}");
		return -1;
	}
	snprintf(name, sizeof name, "%.*s__%s", (int)(dot - table), table, dot + 1);
	if (isnan(created_at(name))) {
		snprintf(err, errlen, "%s is not a dynamic table (no SUCCEEDED refresh)", table);
		return -1;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return -1;
	r->table = strdup(name);
	r->change = change ? strdup(change) : NULL;
	r->action = strdup(action ? action : "INCREMENTAL");
	r->data_ts = json_number_value(ts);
	r->after = after ? (int)json_integer_value(after) : 0;
	if (r->after <= 0) {
		tt_apply(r);
		refresh_free(r);
		return 0;
	}
	for (pp = &queue; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = r;
	return 0;
}

/* One more statement answered: runs the refreshes whose turn it is, in queue order. */
void
tt_statement_answered(void)
{
	struct refresh **pp = &queue, *r;

	while ((r = *pp) != NULL) {
		if (--r->after > 0) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		tt_apply(r);
		refresh_free(r);
	}
}

json_t *
tt_list(void)
{
	json_t *a = json_array();

	for (struct refresh *r = queue; r != NULL; r = r->next)
		json_array_append_new(a, json_pack("{s:s, s:f, s:i}", "table", r->table,
		    "data_timestamp", r->data_ts, "after", r->after));
	return a;
}

void
tt_clear(void)
{
	while (queue != NULL) {
		struct refresh *r = queue;
		queue = r->next;
		refresh_free(r);
	}
}
