/*
 * render.c — output on stdout: a grid as an aligned table or as CSV, and JSON documents
 * with every double exact. The verbs decide what to print; this file only how.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

static void
render_pad(struct buf *b, size_t n)
{
	while (n-- > 0)
		buf_add(b, " ", 1);
}

static void
render_cell(struct buf *line, const char *s, size_t w, size_t colw, bool right)
{
	if (right)
		render_pad(line, colw - w);
	buf_adds(line, s);
	if (!right)
		render_pad(line, colw - w);
	buf_adds(line, "  ");
}

/* Trailing blanks (an empty last cell, the gutter) would only confuse diff and grep. */
static void
render_line(FILE *out, struct buf *line)
{
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->len--;
	if (line->data != NULL)
		line->data[line->len] = '\0';
	fputs(line->data ? line->data : "", out);
	fputc('\n', out);
	line->len = 0;
}

static void
render_table(const struct grid *g, FILE *out)
{
	size_t nc = g->ncols, n = g->ncells, i, c;
	struct buf line = { 0 };
	char **disp;
	size_t *w, *colw;
	bool *right;

	if (nc == 0)
		return;
	disp = xcalloc(n, sizeof *disp);
	w = xcalloc(n, sizeof *w);
	colw = xcalloc(nc, sizeof *colw);
	right = xcalloc(nc, sizeof *right);
	for (i = 0; i < n; i++) {
		disp[i] = term_text(g->text[i] ? g->text[i] : "", &w[i]);
		if (w[i] > colw[i % nc])
			colw[i % nc] = w[i];
	}
	/* a column is numeric when every non-null value is; its header follows it */
	for (c = 0; c < nc; c++) {
		bool seen = false, allnum = true;

		for (i = nc + c; i < n; i += nc) {
			if (g->text[i] == NULL)
				continue;
			seen = true;
			allnum = allnum && g->num[i];
		}
		right[c] = seen && allnum;
	}
	for (i = 0; i < n; i++) {
		c = i % nc;
		render_cell(&line, disp[i], w[i], colw[c], right[c]);
		if (c + 1 < nc)
			continue;
		render_line(out, &line);
		if (i + 1 == nc) {
			for (c = 0; c < nc; c++) {
				size_t k;

				for (k = 0; k < colw[c]; k++)
					buf_add(&line, "-", 1);
				buf_adds(&line, "  ");
			}
			render_line(out, &line);
		}
	}
	for (i = 0; i < n; i++)
		free(disp[i]);
	free(disp);
	free(w);
	free(colw);
	free(right);
	free(line.data);
}

/*
 * RFC 4180 fields (the quoting is util.c's, shared with the daemon's encoder), but LF line
 * ends, as the POSIX tools that read this (cut, awk, sort, a shell's read) expect. A null
 * cell is an empty field; an empty string is quoted so that it stays distinct from null.
 */
static void
render_csv(const struct grid *g, FILE *out)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < g->ncells; i++) {
		if (g->text[i] != NULL && *g->text[i] == '\0')
			buf_adds(&b, "\"\"");
		else if (g->text[i] != NULL)
			util_csv_field(&b, g->text[i], strlen(g->text[i]));
		buf_adds(&b, (i + 1) % g->ncols == 0 ? "\n" : ",");
		if (b.len >= 65536) {
			fwrite(b.data, 1, b.len, out);
			buf_reset(&b);
		}
	}
	if (b.len > 0)
		fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

void
render_grid(const struct ctx *c, const struct grid *g)
{
	if (c->fmt == OUT_CSV)
		render_csv(g, stdout);
	else
		render_table(g, stdout);
}

/*
 * One JSON document on one line, whatever the verb: -o json is for jq and scripts, which
 * read a document per line (and eyes have jq . for indenting). jansson has one precision
 * per dump; the largest any double needs keeps every value exact and, unless some value
 * needs 16+ digits, prints the others shortest too.
 */
void
render_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(body_json_digits(j)));

	if (s == NULL)
		fatal("out of memory");
	puts(s);
	free(s);
}
