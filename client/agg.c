/*
 * agg.c — one aggregate as the server sends it in msgpack ({columns, rows, generation,
 * refreshed_at, ...}): checked once on decoding, so that get and diff can index rows and
 * columns without checking again. The objects live in the unpacked zone of struct agg.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

int
agg_decode(const struct resp *r, struct agg *a, struct err *e)
{
	size_t off = 0;
	uint32_t i, ncols;
	const msgpack_object *name;

	msgpack_unpacked_init(&a->up);
	if (!mpcheck_sizes(r->body, r->len) ||
	    msgpack_unpack_next(&a->up, r->body, r->len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != r->len)
		return fail(e, EXIT_SERVER, "malformed response from server: not one msgpack "
		    "value (Content-Type %s)", r->ctype);
	a->root = &a->up.data;
	a->cols = body_mp_get(a->root, "columns");
	a->rows = body_mp_get(a->root, "rows");
	if (a->cols == NULL || a->cols->type != MSGPACK_OBJECT_ARRAY ||
	    a->cols->via.array.size == 0 ||
	    a->rows == NULL || a->rows->type != MSGPACK_OBJECT_ARRAY)
		return fail(e, EXIT_SERVER, "malformed response from server: no columns or rows");
	ncols = a->cols->via.array.size;
	for (i = 0; i < ncols; i++) {
		name = body_mp_get(&a->cols->via.array.ptr[i], "name");
		if (name == NULL || name->type != MSGPACK_OBJECT_STR)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "column %u has no name", (unsigned)i);
	}
	for (i = 0; i < a->rows->via.array.size; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != ncols)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "row %u does not have %u cells", (unsigned)i, (unsigned)ncols);
	}
	return 0;
}

int
agg_grid(const struct agg *a, struct grid *g, struct err *e)
{
	uint32_t ncols = a->cols->via.array.size, i, k;
	char *t;
	bool num;

	grid_init(g, ncols);
	for (k = 0; k < ncols; k++) {
		const msgpack_object *n = body_mp_get(&a->cols->via.array.ptr[k], "name");

		grid_add(g, xstrndup(n->via.str.ptr, n->via.str.size), false);
	}
	for (i = 0; i < a->rows->via.array.size; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		for (k = 0; k < ncols; k++) {
			if (body_mp_text(&row->via.array.ptr[k], &t, &num, e) == -1) {
				grid_free(g);
				return -1;
			}
			grid_add(g, t, num);
		}
	}
	return 0;
}

/*
 * "(N rows, generation G, refreshed T)" on stderr: it is about the table, not part of it,
 * so that the rows on stdout go to a file or a pipe alone. stdout is flushed first so
 * that on a terminal the line still comes after the table.
 */
void
agg_footer(const struct agg *a, size_t nrows, long long total)
{
	const msgpack_object *gen = body_mp_get(a->root, "generation");
	const msgpack_object *at = body_mp_get(a->root, "refreshed_at");
	struct err ignored;
	char *t = NULL, *d;
	bool num;
	size_t w;

	fflush(stdout);
	if (total >= 0)		/* a slice: of how many that match */
		fprintf(stderr, "(%zu of %lld row%s", nrows, total, total == 1 ? "" : "s");
	else
		fprintf(stderr, "(%zu row%s", nrows, nrows == 1 ? "" : "s");
	if (gen != NULL && body_mp_text(gen, &t, &num, &ignored) == 0 && t != NULL)
		fprintf(stderr, ", generation %s", t);
	free(t);
	if (at != NULL && at->type == MSGPACK_OBJECT_STR) {
		t = xstrndup(at->via.str.ptr, at->via.str.size);
		d = term_text(t, &w);
		fprintf(stderr, ", refreshed %s", d);
		free(d);
		free(t);
	}
	fputs(")\n", stderr);
}

int
agg_col_index(const struct agg *a, const char *name)
{
	size_t len = strlen(name);

	for (uint32_t i = 0; i < a->cols->via.array.size; i++) {
		const msgpack_object *n = body_mp_get(&a->cols->via.array.ptr[i], "name");

		if (n->via.str.size == len && memcmp(n->via.str.ptr, name, len) == 0)
			return (int)i;
	}
	return -1;
}

char *
agg_col_name(const struct agg *a, uint32_t i)
{
	const msgpack_object *n = body_mp_get(&a->cols->via.array.ptr[i], "name");

	return xstrndup(n->via.str.ptr, n->via.str.size);
}
