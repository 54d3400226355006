/*
 * table.c — rows in memory: the hand-over format between a source and the encoder, a
 * batch of a few hundred rows at a time (emptied with table_clear and filled again), and
 * the guards' tables. Cells are row-major; text lives in one arena, so a batch is a few
 * allocations reused, not one per cell. The table owns everything it holds.
 */
#include <stdlib.h>

#include "tpcd.h"

void
table_init(struct table *t, size_t ncols)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cap = 0;
	t->cells = NULL;
	buf_init(&t->text);
}

void
table_free(struct table *t)
{
	free(t->cells);
	buf_free(&t->text);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* Empties t for the next batch of rows, keeping its memory. */
void
table_clear(struct table *t)
{
	t->nrows = 0;
	buf_reset(&t->text);
}

/* Appends a row of NULL cells and returns its first cell. */
struct cell *
table_add_row(struct table *t)
{
	size_t need = (t->nrows + 1) * t->ncols;

	if (need > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64 * (t->ncols ? t->ncols : 1);
		while (cap < need)
			cap *= 2;
		t->cells = xreallocarray(t->cells, cap, sizeof *t->cells);
		t->cap = cap;
	}
	struct cell *row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++)
		row[i].kind = CELL_NULL;
	t->nrows++;
	return row;
}

void
table_set_text(struct table *t, struct cell *c, const char *s, size_t len)
{
	c->kind = CELL_TEXT;
	c->v.t.off = t->text.len;
	c->v.t.len = len;
	buf_add(&t->text, s, len);
	buf_addc(&t->text, '\0');
}

const struct cell *
table_cell(const struct table *t, size_t row, size_t col)
{
	return t->cells + row * t->ncols + col;
}

/* The NUL-terminated text of a CELL_TEXT cell; valid until the table changes. */
const char *
table_text(const struct table *t, const struct cell *c)
{
	return t->text.data + c->v.t.off;
}
