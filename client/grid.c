/*
 * grid.c — a table of display strings (row 0 the header, a NULL cell a null value) that
 * the verbs fill and render.c prints. The grid owns every cell's text.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

void
grid_init(struct grid *g, size_t ncols)
{
	memset(g, 0, sizeof *g);
	g->ncols = ncols;
}

/* Takes ownership of text. */
void
grid_add(struct grid *g, char *text, bool num)
{
	if (g->ncells == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->text = xreallocarray(g->text, g->cap, sizeof *g->text);
		g->num = xreallocarray(g->num, g->cap, sizeof *g->num);
	}
	g->text[g->ncells] = text;
	g->num[g->ncells] = num;
	g->ncells++;
}

void
grid_free(struct grid *g)
{
	size_t i;

	for (i = 0; i < g->ncells; i++)
		free(g->text[i]);
	free(g->text);
	free(g->num);
	memset(g, 0, sizeof *g);
}

size_t
grid_rows(const struct grid *g)
{
	return g->ncols && g->ncells >= g->ncols ? g->ncells / g->ncols - 1 : 0;
}

/* One row per object of arr, one column per key. */
int
grid_from_objects(struct grid *g, const json_t *arr, const char *const *keys,
    const char *const *heads, size_t n, struct err *e)
{
	const json_t *o;
	size_t i, k;
	bool num;

	if (!json_is_array(arr))
		return fail(e, EXIT_SERVER, "malformed response from server: expected an array");
	grid_init(g, n);
	for (k = 0; k < n; k++)
		grid_add(g, xstrdup(heads[k]), false);
	for (i = 0; i < json_array_size(arr); i++) {
		o = json_array_get(arr, i);
		for (k = 0; k < n; k++) {
			char *t = body_json_text(json_object_get(o, keys[k]), &num);

			grid_add(g, t, num);
		}
	}
	return 0;
}
