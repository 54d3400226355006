/* The bill: which statements a warehouse would run, and for how long. Owns the
 * result cache (same text, same role and context, the tables it reads unchanged:
 * answered without a warehouse, as Snowflake's persisted query results are) and
 * SHOW DYNAMIC TABLES (answered by the cloud services layer, no warehouse). Knows
 * nothing about HTTP; api.c asks it before and after running a statement.
 */
#include "fakesnow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_MAX	512

struct cached {
	char		*key;		/* role \n database \n schema \n rewritten text */
	char		*versions;	/* of every table the text reads, when it ran */
	json_t		*row_type;
	json_t		*rows;
	long long	 at_ms;
};

static struct cached cache[CACHE_MAX];
static size_t ncache, next_slot;

/* 24 hours, as Snowflake keeps persisted results */
#define CACHE_TTL_MS	(24LL * 3600 * 1000)

static int
word_at(const char *sql, const char *p, size_t len)
{
	int before = p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
	int after = !(isalnum((unsigned char)p[len]) || p[len] == '_');

	return before && after;
}

static int
mentions(const char *sql, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = sql; (p = strcasestr(p, name)) != NULL; p++)
		if (word_at(sql, p, len))
			return 1;
	return 0;
}

/*
 * The version of one table: for a dynamic table, its latest data timestamp of a refresh
 * that changed data (a NO_DATA refresh leaves the table, and so the cache, as it was);
 * for any other table, SQLite's data_version, which moves with any outside commit.
 */
static void
table_version(const char *table, long long data_version, char *out, size_t outlen)
{
	sqlite3_stmt *q;
	int found = 0;

	if (sqlite3_prepare_v2(FS.db, "SELECT COUNT(*), MAX(DATA_TIMESTAMP) FROM "
	    "FAKESNOW_REFRESH_HISTORY WHERE SCHEMA_NAME || '__' || NAME = ? COLLATE NOCASE "
	    "AND STATE = 'SUCCEEDED' AND REFRESH_ACTION IS NOT 'NO_DATA'", -1, &q,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) > 0) {
			snprintf(out, outlen, "%s=%lld/%s;", table, sqlite3_column_int64(q, 0),
			    (const char *)sqlite3_column_text(q, 1));
			found = 1;
		}
		sqlite3_finalize(q);
	}
	if (!found)
		snprintf(out, outlen, "%s=v%lld;", table, data_version);
}

/* The versions of every table or view the (rewritten) text names; malloc'd. */
static char *
versions_of(const char *sql)
{
	sqlite3_stmt *q;
	long long dv = 0;
	size_t cap = 256, len = 0;
	char *out = calloc(1, cap), one[512];

	if (sqlite3_prepare_v2(FS.db, "PRAGMA data_version", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			dv = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	if (out == NULL || sqlite3_prepare_v2(FS.db, "SELECT name FROM sqlite_master WHERE "
	    "type IN ('table', 'view') ORDER BY name", -1, &q, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		size_t n;
		if (name == NULL || !mentions(sql, name))
			continue;
		table_version(name, dv, one, sizeof one);
		n = strlen(one);
		if (len + n + 1 > cap) {
			char *grown = realloc(out, cap = (len + n + 1) * 2);
			if (grown == NULL)
				break;
			out = grown;
		}
		memcpy(out + len, one, n + 1);
		len += n;
	}
	sqlite3_finalize(q);
	return out;
}

static char *
cache_key(const char *role, const char *database, const char *schema, const char *sql)
{
	size_t n = strlen(sql) + (role ? strlen(role) : 0) + (database ? strlen(database) : 0) +
	    (schema ? strlen(schema) : 0) + 4;
	char *k = malloc(n);

	if (k != NULL)
		snprintf(k, n, "%s\n%s\n%s\n%s", role ? role : "", database ? database : "",
		    schema ? schema : "", sql);
	return k;
}

/*
 * A persisted result for this text, when every reuse condition Snowflake documents
 * that the fake can see holds: the same text byte for byte, the same role (and
 * database/schema, which decide what unqualified names mean), the tables it reads
 * unchanged, within 24 hours. Returns 1 with new references in *row_type, *rows.
 */
int
billing_cached(const char *role, const char *database, const char *schema, const char *sql,
    json_t **row_type, json_t **rows)
{
	char *key = cache_key(role, database, schema, sql), *ver;
	int hit = 0;

	if (key == NULL)
		return 0;
	ver = versions_of(sql);
	for (size_t i = 0; i < ncache; i++) {
		struct cached *c = &cache[i];
		if (strcmp(c->key, key) != 0 || ver == NULL || strcmp(c->versions, ver) != 0 ||
		    now_ms() - c->at_ms > CACHE_TTL_MS)
			continue;
		*row_type = json_incref(c->row_type);
		*rows = json_incref(c->rows);
		hit = 1;
		break;
	}
	free(key);
	free(ver);
	if (hit) {
		counter_inc("result_cache_hits");
		counter_key("statements_by_kind", "result_cache");
	}
	return hit;
}

/* Remembers a result a warehouse computed and bills the warehouse for it. */
void
billing_ran(const char *role, const char *database, const char *schema, const char *sql,
    json_t *row_type, json_t *rows, long long elapsed_us)
{
	struct cached *c;

	counter_inc("warehouse_statements");
	counter_key("statements_by_kind", "warehouse");
	counter_add("warehouse_us", elapsed_us);
	if (row_type == NULL || rows == NULL)
		return;
	c = &cache[next_slot];
	if (next_slot == ncache)
		ncache++;
	else {
		free(c->key);
		free(c->versions);
		json_decref(c->row_type);
		json_decref(c->rows);
	}
	next_slot = (next_slot + 1) % CACHE_MAX;
	c->key = cache_key(role, database, schema, sql);
	c->versions = versions_of(sql);
	c->row_type = json_incref(row_type);
	c->rows = json_incref(rows);
	c->at_ms = now_ms();
	if (c->key == NULL || c->versions == NULL) {	/* never matches */
		free(c->key);
		c->key = strdup("\001");
		free(c->versions);
		c->versions = strdup("");
	}
}

/* A failed statement still ran on a warehouse. */
void
billing_failed(long long elapsed_us)
{
	counter_inc("warehouse_statements");
	counter_key("statements_by_kind", "warehouse");
	counter_add("warehouse_us", elapsed_us);
}

void
billing_free(void)
{
	for (size_t i = 0; i < ncache; i++) {
		free(cache[i].key);
		free(cache[i].versions);
		json_decref(cache[i].row_type);
		json_decref(cache[i].rows);
	}
	ncache = next_slot = 0;
}

static const char *
skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static const char *
keyword(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	p = skip_space(p);
	if (strncasecmp(p, kw, n) == 0 && !(isalnum((unsigned char)p[n]) || p[n] == '_'))
		return p + n;
	return NULL;
}

/* An identifier, unquoted or "quoted", uppercased when unquoted; NULL if none. */
static const char *
ident(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	p = skip_space(p);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (n + 1 < outlen)
				out[n++] = *p;
		if (*p != '"')
			return NULL;
		p++;
	} else {
		for (; isalnum((unsigned char)*p) || *p == '_' || *p == '$'; p++)
			if (n + 1 < outlen)
				out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = '\0';
	return n ? p : NULL;
}

/*
 * SHOW DYNAMIC TABLES [LIKE '<pattern>'] [IN {ACCOUNT | DATABASE <db> | SCHEMA [<db>.]<s>}]
 * as a SELECT over FAKESNOW_REFRESH_HISTORY: one row per dynamic table, with the
 * documented columns tpcd may read. data_timestamp is the latest successful refresh's;
 * scheduling_state is SUSPENDED when the newest refresh failed (Snowflake suspends a
 * table after repeated failures; the fake after one). Returns the SQL (malloc'd), or
 * NULL when the text is not a SHOW DYNAMIC TABLES; *bad on a malformed one.
 */
char *
billing_show_sql(const char *stmt, const char *database, int *bad)
{
	const char *p = stmt, *like = NULL;
	char db[256] = "", schema[256] = "", pat[256] = "%", *sql;
	size_t plen = 0;

	*bad = 0;
	if ((p = keyword(p, "SHOW")) == NULL || (p = keyword(p, "DYNAMIC")) == NULL ||
	    (p = keyword(p, "TABLES")) == NULL)
		return NULL;
	if ((like = keyword(p, "LIKE")) != NULL) {
		like = skip_space(like);
		if (*like != '\'') {
			*bad = 1;
			return NULL;
		}
		for (like++; *like && *like != '\''; like++)
			if (plen + 1 < sizeof pat && *like != '"')
				pat[plen++] = *like;
		pat[plen] = '\0';
		if (*like != '\'') {
			*bad = 1;
			return NULL;
		}
		p = like + 1;
	}
	if ((p = keyword(p, "IN")) != NULL) {
		const char *q;
		if ((q = keyword(p, "ACCOUNT")) != NULL)
			p = q;
		else if ((q = keyword(p, "DATABASE")) != NULL) {
			if ((p = ident(q, db, sizeof db)) == NULL) {
				*bad = 1;
				return NULL;
			}
		} else if ((q = keyword(p, "SCHEMA")) != NULL) {
			if ((p = ident(q, schema, sizeof schema)) == NULL) {
				*bad = 1;
				return NULL;
			}
			if (*p == '.') {
				snprintf(db, sizeof db, "%s", schema);
				if ((p = ident(p + 1, schema, sizeof schema)) == NULL) {
					*bad = 1;
					return NULL;
				}
			} else if (database != NULL)
				snprintf(db, sizeof db, "%s", database);
		} else {
			*bad = 1;
			return NULL;
		}
	} else
		p = stmt + strlen(stmt);
	p = skip_space(p);
	if (*p == ';')
		p = skip_space(p + 1);
	if (*p != '\0') {
		*bad = 1;
		return NULL;
	}
	sql = sqlite3_mprintf(
	    "SELECT s.REFRESH_START_TIME AS created_on, s.NAME AS name, "
	    "s.DATABASE_NAME AS database_name, s.SCHEMA_NAME AS schema_name, "
	    "'DOWNSTREAM' AS target_lag, 'INCREMENTAL' AS refresh_mode, "
	    "(SELECT CASE WHEN n.STATE IN ('FAILED', 'UPSTREAM_FAILED') THEN 'SUSPENDED' "
	    "ELSE 'ACTIVE' END FROM FAKESNOW_REFRESH_HISTORY n WHERE n.QUALIFIED_NAME = "
	    "s.QUALIFIED_NAME ORDER BY n.REFRESH_END_TIME DESC, n.rowid DESC LIMIT 1) "
	    "AS scheduling_state, s.DATA_TIMESTAMP AS data_timestamp "
	    "FROM FAKESNOW_REFRESH_HISTORY s WHERE s.rowid = (SELECT x.rowid FROM "
	    "FAKESNOW_REFRESH_HISTORY x WHERE x.QUALIFIED_NAME = s.QUALIFIED_NAME AND "
	    "x.STATE = 'SUCCEEDED' ORDER BY x.DATA_TIMESTAMP DESC, x.rowid DESC LIMIT 1) "
	    "AND s.NAME LIKE %Q "
	    "AND (%Q = '' OR s.DATABASE_NAME = %Q COLLATE NOCASE) "
	    "AND (%Q = '' OR s.SCHEMA_NAME = %Q COLLATE NOCASE) "
	    "ORDER BY s.SCHEMA_NAME, s.NAME", pat, db, db, schema, schema);
	if (sql == NULL)
		return NULL;
	{
		char *copy = strdup(sql);
		sqlite3_free(sql);
		return copy;
	}
}

/* SHOW commands name their columns in lower case. */
void
billing_show_names(json_t *row_type)
{
	size_t i;
	json_t *e;

	json_array_foreach(row_type, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		char *low = n ? strdup(n) : NULL;
		if (low == NULL)
			continue;
		for (char *c = low; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		json_object_set_new(e, "name", json_string(low));
		free(low);
	}
	counter_inc("cloud_services_statements");
	counter_key("statements_by_kind", "cloud_services");
}
