/*
 * fuzz_sfresult.c — a Snowflake SQL API result body (POST/GET /api/v2/statements: the JSON
 * with resultSetMetaData and data) through the daemon's own reading of it: sf_result_meta,
 * sf_stmt_error for an error body, and the tree-less readers sf_rows_load and
 * sf_rows_scan, which must agree exactly with a jansson tree (tree_rows, the reference:
 * how rows were read before), refusing the same bodies; the
 * catalogue's column names are taken from the rowType (so decoding is reached) and their
 * types from the first byte, two bits per column.
 */
#include <jansson.h>

#include "fuzz.h"
#include "snowflake.h"

#define FUZZ_MAX_COLS	64

/*
 * The reference: the rows of data (a jansson tree) into t, as the daemon decoded them
 * before sf_rows.c read them in place.
 */
static int
tree_rows(struct sf_stmt *st, json_t *data, struct table *t, char **cause)
{
	size_t i;
	json_t *row;

	if (!json_is_array(data)) {
		*cause = xstrdup("result has no data array");
		return -1;
	}
	json_array_foreach(data, i, row) {
		struct cell *c;

		if (!json_is_array(row) || json_array_size(row) != st->rcols) {
			*cause = xasprintf("row %zu has the wrong number of cells", i);
			return -1;
		}
		c = table_add_row(t);
		for (size_t k = 0; k < st->ncols; k++) {
			json_t *v = json_array_get(row, st->colmap ? st->colmap[k] : k);
			const char *sv;
			if (json_is_null(v))
				continue;
			if ((sv = json_string_value(v)) == NULL) {
				*cause = xasprintf("row %zu cell %zu is not a string", i, k);
				return -1;
			}
			if (sf_decode(&st->cols[k], sv, json_string_length(v), st->want[k].type,
			    t, &c[k], cause) != 0)
				return -1;
		}
	}
	return 0;
}


static void
fuzz_row(struct sf_stmt *st, struct table *t)
{
	(void)st; (void)t;
}

/*
 * The partition reader (sf_rows_scan) on the same body must decode exactly what the tree
 * did: the same rows, cells and texts, or the same refusal.
 */
static void
fuzz_same_as_tree(struct sf_stmt *st, const char *body, size_t size, const char *tree_cause)
{
	struct table t;
	char *cause = NULL;
	int rc;

	table_init(&t, st->ncols);
	rc = sf_rows_scan(st, body, size, &t, fuzz_row, &cause);
	if (rc == SF_ROWS_MALFORMED || (rc == 0) != (tree_cause == NULL) ||
	    (cause && tree_cause && strcmp(cause, tree_cause) != 0))
		abort();
	if (rc == 0) {
		if (t.nrows != st->table.nrows)
			abort();
		for (size_t r = 0; r < t.nrows; r++)
			for (size_t c = 0; c < st->ncols; c++) {
				const struct cell *a = table_cell(&t, r, c);
				const struct cell *b = table_cell(&st->table, r, c);
				if (a->kind != b->kind ||
				    (a->kind == CELL_INT && a->v.i != b->v.i) ||
				    (a->kind == CELL_DOUBLE && memcmp(&a->v.d, &b->v.d,
				    sizeof a->v.d) != 0) ||
				    (a->kind == CELL_TEXT && (a->v.t.len != b->v.t.len ||
				    memcmp(table_text(&t, a), table_text(&st->table, b),
				    a->v.t.len) != 0)))
					abort();
			}
	}
	free(cause);
	table_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct column want[FUZZ_MAX_COLS];
	struct sf_stmt st;
	struct buf body;
	json_t *j, *meta, *rt, *cut;
	char *cause = NULL, *e;
	unsigned types;
	int meta_ok;

	if (size < 1)
		return 0;
	types = data[0];
	data++;
	size--;

	/* any status but 200 turns the body into an error message */
	body.data = size ? (char *)(uintptr_t)data : NULL;
	body.len = size;
	body.cap = size;
	e = sf_stmt_error(422, &body);
	free(e);

	if ((j = json_loadb((const char *)data, size, 0, NULL)) == NULL) {
		/* what jansson refuses, the daemon's readers refuse before decoding anything */
		memset(&st, 0, sizeof st);
		if (sf_rows_load((const char *)data, size) != NULL ||
		    sf_rows_scan(&st, (const char *)data, size, NULL, NULL, &cause) !=
		    SF_ROWS_MALFORMED)
			abort();
		return 0;
	}
	if ((cut = sf_rows_load((const char *)data, size)) == NULL)
		abort();
	json_decref(cut);
	meta = json_object_get(j, "resultSetMetaData");
	rt = json_object_get(meta, "rowType");
	memset(&st, 0, sizeof st);
	st.ncols = json_array_size(rt);
	if (st.ncols > FUZZ_MAX_COLS) {
		json_decref(j);
		return 0;
	}
	for (size_t i = 0; i < st.ncols; i++) {
		const char *n = json_string_value(json_object_get(json_array_get(rt, i), "name"));
		memset(&want[i], 0, sizeof want[i]);
		want[i].name = (char *)(uintptr_t)(n ? n : "?");
		want[i].type = (enum col_type)((types >> (2 * (i % 4))) & 3);
	}
	st.want = want;
	table_init(&st.table, st.ncols);
	if ((meta_ok = sf_result_meta(&st, meta, &cause) == 0) &&
	    tree_rows(&st, json_object_get(j, "data"), &st.table, &cause) == 0) {
		for (size_t r = 0; r < st.table.nrows; r++)
			for (size_t c = 0; c < st.ncols; c++) {
				const struct cell *cl = table_cell(&st.table, r, c);
				if (cl->kind == CELL_TEXT)
					(void)table_text(&st.table, cl);
			}
	} else if (cause == NULL)
		abort();	/* a refusal always says why */
	if (meta_ok)
		fuzz_same_as_tree(&st, (const char *)data, size, cause);
	fuzz_note("sfresult", cause);
	free(cause);
	free(st.cols);
	free(st.colmap);
	table_free(&st.table);
	json_decref(j);
	return 0;
}
