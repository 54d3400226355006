/*
 * guard.c — publish guards: evaluates what the catalogue declares (catalog_guards.c) on
 * a candidate snapshot before it goes live, reading its records (and the live ones, for
 * the change limits) through the caller's accessor, and names every failed check in the
 * manifest. It decides nothing: refresh_cycle.c holds or publishes. It never writes the
 * store. Records are read a row at a time (a million-row one is never unpacked whole);
 * only an aggregate a cross-aggregate check names is kept as a table for it.
 * The cross-aggregate checks are a small generic evaluator, not code per rule:
 *   fn(column) [by key | by month(key)] in aggregate == fn(column) [by ...] in aggregate
 * with fn sum, count or last (the value on the row with the greatest key in a group),
 * compared only when both sides describe the same refresh.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "tpcd.h"

/* ---- the check language ---- */

static char *
g_word(const char **p)
{
	const char *s = *p, *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s;
	while (isalnum((unsigned char)*e) || *e == '_' || *e == '*')
		e++;
	*p = e;
	return e > s ? xstrndup(s, (size_t)(e - s)) : NULL;
}

static int
g_expect(const char **p, char c)
{
	while (isspace((unsigned char)**p))
		(*p)++;
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static const struct column *
g_column(const struct aggregate *a, const char *name)
{
	for (size_t i = 0; a != NULL && i < a->ncols; i++)
		if (strcmp(a->cols[i].name, name) == 0)
			return &a->cols[i];
	return NULL;
}

/* One side: "fn(col) [by key | by month(key)] in agg"; *p moves past it. */
static int
g_parse_side(const struct catalog *cat, const char **p, struct guard_side *s, char **cause)
{
	char *fn = g_word(p), *w = NULL;
	const struct aggregate *a;
	const struct column *c;
	int rc = -1;

	if (fn == NULL || (strcmp(fn, "sum") != 0 && strcmp(fn, "count") != 0 &&
	    strcmp(fn, "last") != 0)) {
		*cause = xstrdup("expected sum(, count( or last(");
		goto out;
	}
	s->fn = fn[0] == 's' ? GUARD_SUM : fn[0] == 'c' ? GUARD_COUNT : GUARD_LAST;
	if (g_expect(p, '(') != 0 || (s->column = g_word(p)) == NULL || g_expect(p, ')') != 0) {
		*cause = xasprintf("expected %s(column)", fn);
		goto out;
	}
	w = g_word(p);
	if (w != NULL && strcmp(w, "by") == 0) {
		free(w);
		if ((s->key = g_word(p)) == NULL) {
			*cause = xstrdup("expected a key after 'by'");
			goto out;
		}
		if (strcmp(s->key, "month") == 0 && g_expect(p, '(') == 0) {
			free(s->key);
			if ((s->key = g_word(p)) == NULL || g_expect(p, ')') != 0) {
				*cause = xstrdup("expected month(column)");
				goto out;
			}
			s->key_month = 1;
		}
		w = g_word(p);
	}
	if (w == NULL || strcmp(w, "in") != 0 || (s->aggregate = g_word(p)) == NULL) {
		*cause = xstrdup("expected 'in aggregate'");
		goto out;
	}
	if ((a = catalog_find(cat, s->aggregate)) == NULL) {
		*cause = xasprintf("no aggregate '%s'", s->aggregate);
		goto out;
	}
	if (strcmp(s->column, "*") == 0 ? s->fn != GUARD_COUNT :
	    ((c = g_column(a, s->column)) == NULL ||
	    (s->fn != GUARD_COUNT && c->type != COL_INT64 && c->type != COL_DOUBLE))) {
		*cause = xasprintf("%s has no numeric column '%s'", s->aggregate, s->column);
		goto out;
	}
	if (s->key != NULL && g_column(a, s->key) == NULL) {
		*cause = xasprintf("%s has no column '%s'", s->aggregate, s->key);
		goto out;
	}
	if (s->fn == GUARD_LAST && s->key == NULL) {
		*cause = xstrdup("last() needs 'by key'");
		goto out;
	}
	rc = 0;
out:
	free(fn);
	free(w);
	return rc;
}

/* Parses text into c's sides (c->name is set); c->text keeps the text. */
int
guard_parse_check(const struct catalog *cat, struct guard_check *c, const char *text,
    char **cause)
{
	const char *p = text;

	c->text = xstrdup(text);
	if (g_parse_side(cat, &p, &c->side[0], cause) != 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "==", 2) != 0) {
		*cause = xstrdup("expected '=='");
		return -1;
	}
	p += 2;
	if (g_parse_side(cat, &p, &c->side[1], cause) != 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0') {
		*cause = xasprintf("unexpected '%s'", p);
		return -1;
	}
	if ((c->side[0].key == NULL) != (c->side[1].key == NULL)) {
		*cause = xstrdup("both sides need a key, or neither");
		return -1;
	}
	return 0;
}

/* ---- reading records ---- */

/* guard_rows' callback for a whole table: appends the row. */
static void
g_append_cb(void *arg, const struct table *row)
{
	struct table *t = arg;
	struct cell *cells = table_add_row(t);

	for (size_t c = 0; c < t->ncols; c++) {
		const struct cell *src = table_cell(row, 0, c);
		if (src->kind == CELL_TEXT)
			table_set_text(t, &cells[c], table_text(row, src), src->v.t.len);
		else
			cells[c] = *src;
	}
}

static int
g_number(const struct cell *c, double *out)
{
	if (c->kind == CELL_INT)
		*out = (double)c->v.i;
	else if (c->kind == CELL_DOUBLE)
		*out = c->v.d;
	else
		return -1;
	return 0;
}

/* ---- one run ---- */

/* One column's value checks, accumulated row by row. */
struct g_vcol {
	int		 nonneg, pct, nullok;
	size_t		 bad, first;
	double		 badv;
	const char	*check;
};

/*
 * One aggregate of the brand. The candidate is read once, row by row: its row count,
 * totals and value checks accumulate as it goes, and it is kept whole as a table only
 * when a cross-aggregate check names it.
 */
struct g_agg {
	int		 present;	/* the candidate holds it */
	int		 have;		/* the candidate holds it and it decoded */
	int		 keep;		/* a cross-aggregate check reads t */
	struct table	 t;
	size_t		 rows;
	double		*sum;		/* per column: the candidate's totals */
	struct g_vcol	*vcol;		/* per column */
	int		 have_live;
	double		*live_sum;	/* per column: the live record's totals */
	uint64_t	 live_rows;
};

struct g_run {
	const struct config	*cf;
	const struct catalog	*cat;
	guard_get_fn		 get;
	void			*arg;
	struct manifest		*out;
	const struct brand	*b;
	struct g_agg		*aggs;		/* this brand's, in catalogue order */
	const struct pull	*pulls;
	size_t			 npulls;
};

static void g_fail(struct g_run *, const char *check, const char *agg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
g_fail(struct g_run *g, const char *check, const char *agg, const char *fmt, ...)
{
	struct guard_failure f = { (char *)(uintptr_t)check, g->b->id,
	    (char *)(uintptr_t)agg, NULL };
	va_list ap;

	va_start(ap, fmt);
	f.message = xvasprintf(fmt, ap);
	va_end(ap);
	manifest_add_failure(g->out, &f);
	free(f.message);
}

static int
g_in(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static double
g_change(double live, double cand)
{
	return live == 0 ? (cand == 0 ? 0 : INFINITY) : fabs(cand - live) / fabs(live) * 100;
}

/* guard_rows' callback for the live record: adds the row's numbers to the totals. */
static void
g_sum_cb(void *arg, const struct table *row)
{
	struct g_agg *ga = arg;
	double x;

	for (size_t c = 0; c < row->ncols; c++)
		if (g_number(table_cell(row, 0, c), &x) == 0)
			ga->live_sum[c] += x;
	ga->live_rows++;
}

/* The limits against the live colour: row count and the declared totals. */
static void
g_changes(struct g_run *g, const struct aggregate *a, struct g_agg *ga)
{
	double limit = a->guards.max_row_change >= 0 ? a->guards.max_row_change :
	    g->cat->guards.max_row_change, ch;
	const struct agg_guards *gs[2] = { &g->cat->guards, &a->guards };

	if (!ga->have_live)
		return;		/* the first snapshot of it: nothing to compare with */
	ch = g_change((double)ga->live_rows, (double)ga->rows);
	if (limit > 0 && ga->live_rows > 0 && ch > limit)
		g_fail(g, "max_row_change", a->name, "%zu rows, %" PRIu64 " live: %.1f %% "
		    "change, more than %g %%", ga->rows, ga->live_rows, ch, limit);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < gs[k]->ntotals; i++) {
			const struct guard_total *tot = &gs[k]->totals[i];
			const struct column *c = g_column(a, tot->column);
			double lv, cv;

			if (c == NULL)
				continue;	/* a default naming a column this one lacks */
			lv = ga->live_sum[c - a->cols];
			cv = ga->sum[c - a->cols];
			ch = g_change(lv, cv);
			if (tot->max_change > 0 && ch > tot->max_change)
				g_fail(g, "max_total_change", a->name, "sum(%s) %.15g, %.15g live: "
				    "%.1f %% change, more than %g %%", tot->column, cv, lv, ch,
				    tot->max_change);
		}
}

/* Which value checks apply to each column of a: signs, percentages, NULL dimensions. */
static void
g_values_begin(struct g_run *g, const struct aggregate *a, struct g_vcol *v)
{
	const struct catalog *cat = g->cat;

	for (size_t c = 0; c < a->ncols; c++) {
		const struct column *col = &a->cols[c];
		int measure = strcmp(col->role, "measure") == 0;

		v[c].nonneg = g_in(a->guards.non_negative, a->guards.nnon_negative, col->name) ||
		    (measure && g_in(cat->non_negative_units, cat->nnon_negative_units,
		    col->unit));
		v[c].pct = measure && g_in(cat->percent_units, cat->npercent_units, col->unit);
		v[c].nullok = measure || g_in(a->guards.nullable, a->guards.nnullable,
		    col->name);
	}
}

/* Row r (the one row of t) against the value checks; the first bad one is kept. */
static void
g_values_row(struct g_vcol *v, const struct table *t, size_t r)
{
	for (size_t c = 0; c < t->ncols; c++) {
		const struct cell *cl = table_cell(t, 0, c);
		const char *why = NULL;
		double x = 0;

		if (cl->kind == CELL_NULL)
			why = v[c].nullok ? NULL : "null_dimension";
		else if (g_number(cl, &x) == 0 && (v[c].nonneg || v[c].pct) && x < 0)
			why = v[c].pct ? "percent_range" : "non_negative";
		else if (g_number(cl, &x) == 0 && v[c].pct && x > 100 + 1e-9)
			why = "percent_range";
		if (why == NULL)
			continue;
		if (v[c].bad++ == 0) {
			v[c].first = r;
			v[c].badv = cl->kind == CELL_NULL ? NAN : x;
			v[c].check = why;
		}
	}
}

/* The value checks' failures, one per column. */
static void
g_values_end(struct g_run *g, const struct aggregate *a, const struct g_vcol *v)
{
	for (size_t c = 0; c < a->ncols; c++) {
		const struct column *col = &a->cols[c];

		if (v[c].bad == 0)
			continue;
		if (strcmp(v[c].check, "null_dimension") == 0)
			g_fail(g, v[c].check, a->name, "%s is NULL in %zu rows (first: row %zu)",
			    col->name, v[c].bad, v[c].first + 1);
		else
			g_fail(g, v[c].check, a->name, "%s is %.15g in row %zu (%zu rows out of "
			    "%s)", col->name, v[c].badv, v[c].first + 1, v[c].bad,
			    v[c].pct ? "[0, 100]" : "range");
	}
}

/* guard_rows' callback for the candidate: counts, totals, value checks, and t if kept. */
static void
g_cand_cb(void *arg, const struct table *row)
{
	struct g_agg *ga = arg;
	double x;

	for (size_t c = 0; c < row->ncols; c++)
		if (g_number(table_cell(row, 0, c), &x) == 0)
			ga->sum[c] += x;
	g_values_row(ga->vcol, row, ga->rows);
	if (ga->keep)
		g_append_cb(&ga->t, row);
	ga->rows++;
}

/* Does a cross-aggregate check of the catalogue read aggregate a's rows? */
static int
g_named_by_check(const struct catalog *cat, const struct aggregate *a)
{
	for (size_t i = 0; i < cat->nchecks; i++)
		for (int k = 0; k < 2; k++)
			if (strcmp(cat->checks[i].side[k].aggregate, a->name) == 0)
				return 1;
	return 0;
}

/* ---- cross-aggregate checks ---- */

struct g_group {
	char	*key;
	double	 value;
	char	*order;		/* last(): the greatest key seen so far */
};

struct g_groups {
	struct g_group	*g;
	size_t		 n;
};

static void
g_groups_free(struct g_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->g[i].key);
		free(gs->g[i].order);
	}
	free(gs->g);
}

static struct g_group *
g_group(struct g_groups *gs, const char *key)
{
	for (size_t i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i].key, key) == 0)
			return &gs->g[i];
	gs->g = xreallocarray(gs->g, gs->n + 1, sizeof *gs->g);
	memset(&gs->g[gs->n], 0, sizeof gs->g[0]);
	gs->g[gs->n].key = xstrdup(key);
	return &gs->g[gs->n++];
}

static char *
g_cell_text(const struct table *t, const struct cell *c)
{
	if (c->kind == CELL_TEXT)
		return xstrndup(table_text(t, c), c->v.t.len);
	if (c->kind == CELL_INT)
		return xasprintf("%020" PRId64, c->v.i);
	if (c->kind == CELL_DOUBLE)
		return xasprintf("%.17g", c->v.d);
	return xstrdup("");
}

/* One side's value per key (one group "" without a key). */
static void
g_side(const struct aggregate *a, const struct table *t, const struct guard_side *s,
    struct g_groups *out)
{
	const struct column *vc = strcmp(s->column, "*") ? g_column(a, s->column) : NULL;
	const struct column *kc = s->key ? g_column(a, s->key) : NULL;

	for (size_t r = 0; r < t->nrows; r++) {
		char *raw = kc ? g_cell_text(t, table_cell(t, r, (size_t)(kc - a->cols))) :
		    xstrdup("");
		char *key = s->key_month && strlen(raw) > 7 ? xstrndup(raw, 7) : xstrdup(raw);
		struct g_group *gr = g_group(out, key);
		double x = 0;
		int num = vc == NULL || g_number(table_cell(t, r, (size_t)(vc - a->cols)),
		    &x) == 0;

		if (s->fn == GUARD_COUNT)
			gr->value += vc == NULL || num;
		else if (s->fn == GUARD_SUM)
			gr->value += num ? x : 0;
		else if (gr->order == NULL || strcmp(raw, gr->order) > 0) {
			free(gr->order);
			gr->order = xstrdup(raw);
			gr->value = num ? x : NAN;
		}
		free(raw);
		free(key);
	}
}

static int
g_same(double x, double y)
{
	return fabs(x - y) <= 1e-9 * fmax(1, fmax(fabs(x), fabs(y)));
}

/*
 * Does this cycle's record of brand/agg describe the source now (pulled, or confirmed
 * unchanged), rather than what the live snapshot kept (not asked for, or failed)?
 * Without pulls (no cycle), every record counts as current.
 */
static int
g_current(const struct g_run *g, const char *agg)
{
	for (size_t i = 0; i < g->npulls; i++)
		if (g->pulls[i].brand == g->b && strcmp(g->pulls[i].agg->name, agg) == 0)
			return g->pulls[i].wanted && g->pulls[i].state != PULL_FAILED;
	return 1;
}

static void
g_cross(struct g_run *g, const struct guard_check *c)
{
	struct g_groups v[2] = { { NULL, 0 }, { NULL, 0 } };
	size_t nbad = 0;
	char *first = NULL;

	/*
	 * Totals agree only between records of one source state: a refresh of one
	 * aggregate (or one that failed) leaves its partners describing an older one.
	 */
	if (g_current(g, c->side[0].aggregate) != g_current(g, c->side[1].aggregate)) {
		log_debug("guard %s skipped for %s: its sides describe different refreshes",
		    c->name, g->b->id);
		return;
	}

	for (int i = 0; i < 2; i++) {
		const struct aggregate *a = catalog_find(g->cat, c->side[i].aggregate);
		struct g_agg *ga = &g->aggs[a - g->cat->aggs];

		if (!ga->have)
			goto out;	/* reported as missing already */
		g_side(a, &ga->t, &c->side[i], &v[i]);
	}
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < v[i].n; k++) {
			const struct g_group *x = &v[i].g[k], *y = NULL;

			for (size_t j = 0; j < v[!i].n && y == NULL; j++)
				if (strcmp(v[!i].g[j].key, x->key) == 0)
					y = &v[!i].g[j];
			if (y == NULL && c->common_keys)
				continue;
			if (y != NULL && (i == 1 || g_same(x->value, y->value)))
				continue;	/* a pair is compared once, from side 0 */
			if (nbad++ == 0)
				first = y == NULL ? xasprintf("%s%s%.15g in %s, none in %s",
				    x->key, *x->key ? ": " : "", x->value, c->side[i].aggregate,
				    c->side[!i].aggregate) : xasprintf("%s%s%.15g in %s, %.15g in %s",
				    x->key, *x->key ? ": " : "", x->value, c->side[0].aggregate,
				    y->value, c->side[1].aggregate);
		}
	if (nbad > 0)
		g_fail(g, c->name, NULL, "%s; %zu keys differ (%s)", first, nbad, c->text);
out:
	free(first);
	g_groups_free(&v[0]);
	g_groups_free(&v[1]);
}

static void
g_brand(struct g_run *g, const struct pull *pulls, size_t npulls)
{
	const struct catalog *cat = g->cat;
	size_t missing = 0;

	for (size_t i = 0; i < cat->naggs; i++) {
		const struct aggregate *a = &cat->aggs[i];
		struct g_agg *ga = &g->aggs[i];
		const char *body;
		size_t len;
		long min = a->guards.min_rows >= 0 ? a->guards.min_rows : cat->guards.min_rows;

		table_init(&ga->t, a->ncols);
		if (g->get(g->arg, 0, g->b->id, a->name, &body, &len) != 0) {
			missing++;
			continue;
		}
		ga->present = 1;
		ga->keep = g_named_by_check(cat, a);
		ga->sum = xcalloc(a->ncols ? a->ncols : 1, sizeof *ga->sum);
		ga->vcol = xcalloc(a->ncols ? a->ncols : 1, sizeof *ga->vcol);
		g_values_begin(g, a, ga->vcol);
		if (guard_rows(body, len, a->ncols, g_cand_cb, ga) != 0) {
			g_fail(g, "readable", a->name, "the candidate's record does not decode");
			continue;
		}
		ga->have = 1;
		if (g->get(g->arg, 1, g->b->id, a->name, &body, &len) == 0) {
			/* of the live record only its rows and totals count, as it is read */
			ga->live_sum = xcalloc(a->ncols ? a->ncols : 1, sizeof *ga->live_sum);
			ga->have_live = guard_rows(body, len, a->ncols, g_sum_cb, ga) == 0;
		}
		if ((long)ga->rows < min)
			g_fail(g, "min_rows", a->name, "%zu rows, fewer than %ld", ga->rows, min);
		g_changes(g, a, ga);
		g_values_end(g, a, ga->vcol);
	}
	if (missing == cat->naggs)
		g_fail(g, "brand_present", NULL, "brand %s has no aggregate in the candidate",
		    g->b->id);
	else
		for (size_t i = 0; i < cat->naggs; i++)
			if (!g->aggs[i].present)
				g_fail(g, "brand_present", cat->aggs[i].name,
				    "missing from the candidate");
	for (size_t i = 0; i < cat->nchecks; i++)
		g_cross(g, &cat->checks[i]);
	for (size_t i = 0; i < npulls; i++)
		if (pulls[i].brand == g->b && pulls[i].wanted && pulls[i].source_failed)
			g_fail(g, "source_state", pulls[i].agg->name, "%s", pulls[i].error ?
			    pulls[i].error : "the upstream stopped refreshing");
}

/*
 * Evaluates every guard of every configured brand on the candidate that get reads
 * (live 0; the live snapshot with live 1), and appends each failure to out. pulls are
 * this cycle's, for what the source reported of its upstream.
 */
void
guard_run(const struct config *cf, const struct catalog *cat, const struct pull *pulls,
    size_t npulls, guard_get_fn get, void *arg, struct manifest *out)
{
	struct g_run g = { cf, cat, get, arg, out, NULL, NULL, pulls, npulls };

	g.aggs = xcalloc(cat->naggs, sizeof *g.aggs);
	for (size_t b = 0; b < cf->nbrands; b++) {
		g.b = &cf->brands[b];
		memset(g.aggs, 0, cat->naggs * sizeof *g.aggs);
		g_brand(&g, pulls, npulls);
		for (size_t i = 0; i < cat->naggs; i++) {
			table_free(&g.aggs[i].t);
			free(g.aggs[i].sum);
			free(g.aggs[i].vcol);
			free(g.aggs[i].live_sum);
		}
	}
	free(g.aggs);
}

void
guard_failure_free(struct guard_failure *f)
{
	if (f == NULL)
		return;
	free(f->check);
	free(f->brand);
	free(f->aggregate);
	free(f->message);
}
