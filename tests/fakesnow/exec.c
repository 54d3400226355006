/* Statement execution on SQLite: prepare (one statement only), bind, step, copy
 * the values out, then build rowType and the rows of JSON strings via encode.c.
 * SQLite errors are mapped onto the Snowflake error codes a client may test.
 */
#include "fakesnow.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_err(struct sql_error *, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_err(struct sql_error *err, const char *code, const char *state, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->sql_state = state;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* ---- rowType ---- */

static json_t *
row_type_entry(sqlite3_stmt *q, int col, const struct coltype *ct, const char *database,
    const char *schema)
{
	const char *name = sqlite3_column_name(q, col);
	const char *table = sqlite3_column_table_name(q, col);
	char *uname = strdup(name ? name : ""), sch[256] = "", tbl[256] = "";
	const char *sep;
	json_t *e;

	if (table != NULL) {
		/* SCHEMA__TABLE is the fake's spelling of SCHEMA.TABLE */
		if ((sep = strstr(table, "__")) != NULL && sep != table) {
			snprintf(sch, sizeof(sch), "%.*s", (int)(sep - table), table);
			snprintf(tbl, sizeof(tbl), "%s", sep + 2);
		} else {
			snprintf(sch, sizeof(sch), "%s", schema ? schema : "");
			snprintf(tbl, sizeof(tbl), "%s", table);
		}
		upcase(sch);
		upcase(tbl);
	}
	if (uname)
		upcase(uname);
	e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", uname ? uname : "",
	    "database", database ? database : "", "schema", sch, "table", tbl,
	    "type", sf_type_name(ct->t));
	free(uname);
	if (e == NULL)
		return NULL;
	if (ct->t == T_FIXED || ct->t == T_TIME || ct->t == T_TS_NTZ || ct->t == T_TS_LTZ ||
	    ct->t == T_TS_TZ) {
		json_object_set_new(e, "precision", json_integer(ct->t == T_FIXED ? ct->precision : 0));
		json_object_set_new(e, "scale", json_integer(ct->scale));
	} else {
		json_object_set_new(e, "precision", json_null());
		json_object_set_new(e, "scale", json_null());
	}
	if (ct->t == T_TEXT || ct->t == T_BINARY) {
		json_object_set_new(e, "length", json_integer(ct->length));
		json_object_set_new(e, "byteLength",
		    json_integer(ct->t == T_TEXT ? (ct->length * 4 > 16777216 ? 16777216 : ct->length * 4) : ct->length));
	} else {
		json_object_set_new(e, "length", json_null());
		json_object_set_new(e, "byteLength", json_null());
	}
	json_object_set_new(e, "nullable", json_true());
	json_object_set_new(e, "collation", json_null());
	return e;
}

/* ---- execution ---- */

static int
bind_all(sqlite3_stmt *q, json_t *bindings, struct sql_error *err)
{
	const char *key;
	json_t *b;

	if (bindings == NULL)
		return 0;
	json_object_foreach(bindings, key, b) {
		char *end;
		long idx = strtol(key, &end, 10);
		json_t *type = json_object_get(b, "type"), *value = json_object_get(b, "value");
		const char *t, *v;
		int rc;

		if (*key == '\0' || *end != '\0' || idx < 1 || idx > sqlite3_bind_parameter_count(q)) {
			set_err(err, "002049", "42601", "SQL compilation error: Bind variable '%s' not set or out of range.", key);
			return -1;
		}
		if (!json_is_string(type) || !(json_is_string(value) || json_is_null(value))) {
			set_err(err, "002049", "42601", "Binding '%s' needs string \"type\" and string \"value\".", key);
			return -1;
		}
		t = json_string_value(type);
		v = json_string_value(value);
		if (v == NULL)
			rc = sqlite3_bind_null(q, (int)idx);
		else if (strcasecmp(t, "FIXED") == 0 && strchr(v, '.') == NULL && *v)
			rc = sqlite3_bind_int64(q, (int)idx, strtoll(v, NULL, 10));
		else if (strcasecmp(t, "REAL") == 0)
			rc = sqlite3_bind_double(q, (int)idx, strtod(v, NULL));
		else if (strcasecmp(t, "BOOLEAN") == 0)
			rc = sqlite3_bind_int(q, (int)idx, strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
		else
			rc = sqlite3_bind_text(q, (int)idx, v, -1, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK) {
			set_err(err, "002049", "42601", "Cannot bind '%s'.", key);
			return -1;
		}
	}
	return 0;
}

/* SQLite's error text mapped onto the Snowflake error codes tpcd may look at. */
static void
compile_error(sqlite3 *db, struct sql_error *err)
{
	const char *m = sqlite3_errmsg(db);

	if (strstr(m, "no such table"))
		set_err(err, "002003", "42S02", "SQL compilation error:\nObject does not exist or not authorized. (%s)", m);
	else if (strstr(m, "no such column"))
		set_err(err, "000904", "42000", "SQL compilation error: invalid identifier (%s)", m);
	else if (strstr(m, "syntax error") || strstr(m, "incomplete input"))
		set_err(err, "001003", "42000", "SQL compilation error:\nsyntax error (%s)", m);
	else
		set_err(err, "002003", "42S02", "SQL compilation error:\n%s", m);
}

static void
free_cells(struct cell *cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i].s);
	free(cells);
}

static int
only_space_or_semicolons(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s) && *s != ';')
			return 0;
	return 1;
}

int
exec_statement(sqlite3 *db, const char *sql, json_t *bindings, const char *database,
    const char *schema, int nulls_as_text, json_t **row_type, json_t **rows, struct sql_error *err)
{
	sqlite3_stmt *q = NULL;
	const char *tail = NULL;
	struct cell *cells = NULL;
	struct coltype *types = NULL;
	size_t ncells = 0, cap = 0, nrows = 0, ncols;
	json_t *rt = NULL, *data = NULL;
	int rc, ret = -1;

	*row_type = *rows = NULL;
	if (only_space_or_semicolons(sql)) {
		set_err(err, "000900", "42000", "SQL compilation error:\nEmpty SQL statement.%s", "");
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &q, &tail) != SQLITE_OK) {
		compile_error(db, err);
		goto out;
	}
	if (tail != NULL && !only_space_or_semicolons(tail)) {
		/* without MULTI_STATEMENT_COUNT the SQL API runs exactly one statement */
		set_err(err, "000008", "0A000", "Actual statement count 2 did not match the desired "
		    "statement count 1.%s", "");
		goto out;
	}
	if (q == NULL) {
		set_err(err, "000900", "42000", "SQL compilation error:\nEmpty SQL statement.%s", "");
		goto out;
	}
	if (bind_all(q, bindings, err) != 0)
		goto out;
	ncols = (size_t)sqlite3_column_count(q);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (ncells + ncols > cap) {
			size_t ncap = cap ? cap * 2 : 256 + ncols;
			struct cell *nc = realloc(cells, ncap * sizeof(*nc));

			if (nc == NULL) {
				set_err(err, "000603", "XX000", "SQL execution internal error: %s", "out of memory");
				goto out;
			}
			cells = nc;
			cap = ncap;
		}
		for (size_t c = 0; c < ncols; c++) {
			struct cell *cl = &cells[ncells++];
			const void *p;

			memset(cl, 0, sizeof(*cl));
			cl->vtype = sqlite3_column_type(q, (int)c);
			if (cl->vtype == SQLITE_INTEGER)
				cl->i = sqlite3_column_int64(q, (int)c);
			else if (cl->vtype == SQLITE_FLOAT)
				cl->d = sqlite3_column_double(q, (int)c);
			else if (cl->vtype == SQLITE_TEXT || cl->vtype == SQLITE_BLOB) {
				p = cl->vtype == SQLITE_TEXT ? (const void *)sqlite3_column_text(q, (int)c)
				    : sqlite3_column_blob(q, (int)c);
				cl->len = (size_t)sqlite3_column_bytes(q, (int)c);
				cl->s = malloc(cl->len + 1);
				if (cl->s == NULL) {
					set_err(err, "000603", "XX000", "SQL execution internal error: %s", "out of memory");
					goto out;
				}
				if (cl->len)
					memcpy(cl->s, p, cl->len);
				cl->s[cl->len] = '\0';
			}
		}
		nrows++;
	}
	if (rc != SQLITE_DONE) {
		set_err(err, "100097", "22000", "SQL execution error: %s", sqlite3_errmsg(db));
		goto out;
	}
	types = calloc(ncols ? ncols : 1, sizeof(*types));
	rt = json_array();
	data = json_array();
	if (types == NULL || rt == NULL || data == NULL) {
		set_err(err, "000603", "XX000", "SQL execution internal error: %s", "out of memory");
		goto out;
	}
	for (size_t c = 0; c < ncols; c++) {
		types[c] = coltype_from_decl(sqlite3_column_decltype(q, (int)c));
		if (types[c].t == T_UNKNOWN)
			types[c] = coltype_from_values(cells, nrows, ncols, c);
		json_array_append_new(rt, row_type_entry(q, (int)c, &types[c], database, schema));
	}
	for (size_t r = 0; r < nrows; r++) {
		json_t *row = json_array();

		for (size_t c = 0; c < ncols; c++) {
			const struct cell *cl = &cells[r * ncols + c];
			char *s;

			if (cl->vtype == SQLITE_NULL) {
				json_array_append_new(row, nulls_as_text ? json_string("null") : json_null());
				continue;
			}
			if ((s = encode_cell(cl, &types[c])) == NULL) {
				char what[160];

				snprintf(what, sizeof(what), "'%.60s' in column %s is not a valid %s",
				    cl->vtype == SQLITE_TEXT ? cl->s : "(non-text)",
				    sqlite3_column_name(q, (int)c), sf_type_name(types[c].t));
				set_err(err, "100038", "22018", "Value %s.", what);
				json_decref(row);
				goto out;
			}
			json_array_append_new(row, json_text(s, strlen(s)));
			free(s);
		}
		json_array_append_new(data, row);
	}
	*row_type = rt;
	*rows = data;
	rt = data = NULL;
	ret = 0;
out:
	json_decref(rt);
	json_decref(data);
	free(types);
	free_cells(cells, ncells);
	sqlite3_finalize(q);
	return ret;
}
