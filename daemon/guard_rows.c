/*
 * guard_rows.c — reads a record's rows for the publish guards (guard.c): its msgpack
 * body walked a row at a time, each row decoded alone into a one-row table, so that
 * checking a million-row candidate never unpacks it whole. Reads only; knows nothing of
 * what the guards check.
 */
#include <string.h>

#include <msgpack.h>

#include "tpcd.h"

/* One msgpack value into cell c of t. */
static void
guard_rows_cell(struct table *t, struct cell *c, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		c->kind = CELL_INT;
		c->v.i = (int64_t)o->via.u64;
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		c->kind = CELL_INT;
		c->v.i = o->via.i64;
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		c->kind = CELL_DOUBLE;
		c->v.d = o->via.f64;
		break;
	case MSGPACK_OBJECT_STR:
		table_set_text(t, c, o->via.str.ptr, o->via.str.size);
		break;
	default:
		c->kind = CELL_NULL;
	}
}

/* A msgpack array or map header at p[*off]: its size, or -1 when it is not one. */
static int64_t
guard_rows_header(const unsigned char *p, size_t len, size_t *off, int map)
{
	size_t o = *off;
	unsigned char b;

	if (o >= len)
		return -1;
	b = p[o];
	if ((b & 0xf0) == (map ? 0x80 : 0x90)) {
		*off = o + 1;
		return b & 0x0f;
	}
	if (b == (map ? 0xde : 0xdc) && len - o >= 3) {
		*off = o + 3;
		return (int64_t)p[o + 1] << 8 | p[o + 2];
	}
	if (b == (map ? 0xdf : 0xdd) && len - o >= 5) {
		*off = o + 5;
		return (int64_t)p[o + 1] << 24 | (int64_t)p[o + 2] << 16 |
		    (int64_t)p[o + 3] << 8 | p[o + 4];
	}
	return -1;
}

/*
 * Calls fn(arg, t) for every row of a record's msgpack body (blen bytes), each decoded alone into the
 * one-row table t (initialised and freed here): a large aggregate is not unpacked whole.
 * 0, or -1 when it does not read (no rows, or a row of the wrong width).
 */
int
guard_rows(const char *body, size_t blen, size_t ncols,
    void (*fn)(void *, const struct table *), void *arg)
{
	msgpack_unpacked u;
	size_t off = 0;
	int64_t nkeys, nrows;
	struct table t;
	int rc = -1;

	msgpack_unpacked_init(&u);
	table_init(&t, ncols);
	if ((nkeys = guard_rows_header((const unsigned char *)body, blen, &off, 1)) < 0)
		goto out;
	for (int64_t k = 0; k < nkeys; k++) {
		int is_rows;

		if (msgpack_unpack_next(&u, body, blen, &off) != MSGPACK_UNPACK_SUCCESS)
			goto out;
		is_rows = u.data.type == MSGPACK_OBJECT_STR && u.data.via.str.size == 4 &&
		    memcmp(u.data.via.str.ptr, "rows", 4) == 0;
		if (!is_rows) {
			if (msgpack_unpack_next(&u, body, blen, &off) != MSGPACK_UNPACK_SUCCESS)
				goto out;
			continue;
		}
		if ((nrows = guard_rows_header((const unsigned char *)body, blen, &off, 0)) < 0)
			goto out;
		for (int64_t r = 0; r < nrows; r++) {
			struct cell *cells;

			if (msgpack_unpack_next(&u, body, blen, &off) != MSGPACK_UNPACK_SUCCESS ||
			    u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != ncols)
				goto out;
			table_clear(&t);
			cells = table_add_row(&t);
			for (size_t c = 0; c < ncols; c++)
				guard_rows_cell(&t, &cells[c], &u.data.via.array.ptr[c]);
			fn(arg, &t);
		}
		rc = 0;
	}
out:
	table_free(&t);
	msgpack_unpacked_destroy(&u);
	return rc;
}

