/*
 * catalog_guards.c — the catalogue's publish guards and staleness limits: the guards:
 * mappings (the catalogue's defaults and each aggregate's overrides) and the per-brand
 * cross-aggregate checks, read, their check language parsed, and checked against the
 * aggregates' columns at load. It only fills struct catalog; guard.c evaluates what is
 * declared here.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "yamldoc.h"

struct cg_ctx {
	struct catalog		*cat;
	struct agg_guards	*g;
	int			 top;	/* the catalogue's guards: (checks, units allowed) */
};

static int
cg_percent(struct ydoc *d, yaml_node_t *v, const char *k, double *out, char **cause)
{
	const char *s = ydoc_scalar(v);
	char *end;
	double x;

	if (s == NULL || *s == '\0')
		return ydoc_error(d, v, cause, "'%s' must be a percentage", k);
	errno = 0;
	x = strtod(s, &end);
	if (*end == '%')
		end++;
	if (errno != 0 || *end != '\0' || !isfinite(x) || x < 0)
		return ydoc_error(d, v, cause, "'%s' must be a percentage >= 0, not '%s'", k, s);
	*out = x;
	return 0;
}

/* A sequence of scalars into a new list of strings (appended to *list). */
static int
cg_strings(struct ydoc *d, yaml_node_t *v, const char *k, char ***list, size_t *n,
    char **cause)
{
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		const char *s = ydoc_scalar(ydoc_node(d, *it));

		if (s == NULL || *s == '\0')
			return ydoc_error(d, ydoc_node(d, *it), cause, "'%s' lists names", k);
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup(s);
	}
	return 0;
}

#define CG(p) ((struct cg_ctx *)(p))

static int
cg_min_rows(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_int(d, v, k, 0, 1L << 40, &CG(ctx)->g->min_rows, cause);
}

static int
cg_max_row_change(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return cg_percent(d, v, k, &CG(ctx)->g->max_row_change, cause);
}

static int
cg_max_total_change(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct agg_guards *g = CG(ctx)->g;

	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	    p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = ydoc_node(d, p->key), *vn = ydoc_node(d, p->value);
		const char *col = ydoc_scalar(kn);
		double pct;

		if (col == NULL || cg_percent(d, vn, k, &pct, cause) != 0)
			return col == NULL ? ydoc_error(d, kn, cause, "'%s': column names", k) : -1;
		g->totals = xreallocarray(g->totals, g->ntotals + 1, sizeof *g->totals);
		g->totals[g->ntotals].column = xstrdup(col);
		g->totals[g->ntotals++].max_change = pct;
	}
	return 0;
}

static int
cg_non_negative(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return cg_strings(d, v, k, &CG(ctx)->g->non_negative, &CG(ctx)->g->nnon_negative,
	    cause);
}

static int
cg_nullable(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return cg_strings(d, v, k, &CG(ctx)->g->nullable, &CG(ctx)->g->nnullable, cause);
}

static int
cg_units(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct catalog *cat = CG(ctx)->cat;

	if (!CG(ctx)->top)
		return ydoc_error(d, v, cause, "'%s' belongs in the catalogue's guards", k);
	if (strcmp(k, "percent_units") == 0)
		return cg_strings(d, v, k, &cat->percent_units, &cat->npercent_units, cause);
	return cg_strings(d, v, k, &cat->non_negative_units, &cat->nnon_negative_units,
	    cause);
}

struct cg_check_ctx {
	struct guard_check	*c;
};

static int
cg_check_name(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	((struct cg_check_ctx *)ctx)->c->name = xstrdup(ydoc_scalar(v));
	return 0;
}

static int
cg_check_text(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	((struct cg_check_ctx *)ctx)->c->text = xstrdup(ydoc_scalar(v));
	return 0;
}

static int
cg_check_keys(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "common") != 0 && strcmp(s, "all") != 0)
		return ydoc_error(d, v, cause, "'%s' must be all or common, not '%s'", k, s);
	((struct cg_check_ctx *)ctx)->c->common_keys = strcmp(s, "common") == 0;
	return 0;
}

static const struct ykey check_keys[] = {
	{ "name", YKEY_STRING, 1, cg_check_name },
	{ "check", YKEY_STRING, 1, cg_check_text },
	{ "keys", YKEY_STRING, 0, cg_check_keys },
};

static int
cg_checks(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct catalog *cat = CG(ctx)->cat;

	if (!CG(ctx)->top)
		return ydoc_error(d, v, cause, "'%s' belongs in the catalogue's guards", k);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		struct cg_check_ctx cc;

		cat->checks = xreallocarray(cat->checks, cat->nchecks + 1, sizeof *cat->checks);
		cc.c = &cat->checks[cat->nchecks++];
		memset(cc.c, 0, sizeof *cc.c);
		if (ydoc_map(d, ydoc_node(d, *it), "check", check_keys,
		    sizeof check_keys / sizeof check_keys[0], &cc, cause) != 0)
			return -1;
	}
	return 0;
}

static const struct ykey guard_keys[] = {
	{ "min_rows", YKEY_STRING, 0, cg_min_rows },
	{ "max_row_change", YKEY_STRING, 0, cg_max_row_change },
	{ "max_total_change", YKEY_MAP, 0, cg_max_total_change },
	{ "non_negative", YKEY_SEQ, 0, cg_non_negative },
	{ "nullable", YKEY_SEQ, 0, cg_nullable },
	{ "non_negative_units", YKEY_SEQ, 0, cg_units },
	{ "percent_units", YKEY_SEQ, 0, cg_units },
	{ "checks", YKEY_SEQ, 0, cg_checks },
};

/* Unset values: inherit (an aggregate) or the built-in defaults (the catalogue). */
void
catalog_guards_init(struct agg_guards *g)
{
	memset(g, 0, sizeof *g);
	g->min_rows = -1;
	g->max_row_change = -1;
}

/* A guards: mapping into g: the catalogue's (top) or one aggregate's. */
int
catalog_guards_parse(struct ydoc *d, struct yaml_node_s *v, struct catalog *cat,
    struct agg_guards *g, int top, char **cause)
{
	struct cg_ctx c = { cat, g, top };

	return ydoc_map(d, v, "guards", guard_keys, sizeof guard_keys / sizeof guard_keys[0],
	    &c, cause);
}

static const struct column *
cg_column(const struct aggregate *a, const char *name)
{
	for (size_t i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, name) == 0)
			return &a->cols[i];
	return NULL;
}

/* ---- the check language: fn(column) [by key | by month(key)] in aggregate == ... ---- */

static char *
cg_word(const char **p)
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
cg_expect(const char **p, char c)
{
	while (isspace((unsigned char)**p))
		(*p)++;
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* One side: "fn(col) [by key | by month(key)] in agg"; *p moves past it. */
static int
cg_parse_side(const struct catalog *cat, const char **p, struct guard_side *s, char **cause)
{
	char *fn = cg_word(p), *w = NULL;
	const struct aggregate *a;
	const struct column *c;
	int rc = -1;

	if (fn == NULL || (strcmp(fn, "sum") != 0 && strcmp(fn, "count") != 0 &&
	    strcmp(fn, "last") != 0)) {
		*cause = xstrdup("expected sum(, count( or last(");
		goto out;
	}
	s->fn = fn[0] == 's' ? GUARD_SUM : fn[0] == 'c' ? GUARD_COUNT : GUARD_LAST;
	if (cg_expect(p, '(') != 0 || (s->column = cg_word(p)) == NULL || cg_expect(p, ')') != 0) {
		*cause = xasprintf("expected %s(column)", fn);
		goto out;
	}
	w = cg_word(p);
	if (w != NULL && strcmp(w, "by") == 0) {
		free(w);
		if ((s->key = cg_word(p)) == NULL) {
			*cause = xstrdup("expected a key after 'by'");
			goto out;
		}
		if (strcmp(s->key, "month") == 0 && cg_expect(p, '(') == 0) {
			free(s->key);
			if ((s->key = cg_word(p)) == NULL || cg_expect(p, ')') != 0) {
				*cause = xstrdup("expected month(column)");
				goto out;
			}
			s->key_month = 1;
		}
		w = cg_word(p);
	}
	if (w == NULL || strcmp(w, "in") != 0 || (s->aggregate = cg_word(p)) == NULL) {
		*cause = xstrdup("expected 'in aggregate'");
		goto out;
	}
	if ((a = catalog_find(cat, s->aggregate)) == NULL) {
		*cause = xasprintf("no aggregate '%s'", s->aggregate);
		goto out;
	}
	if (strcmp(s->column, "*") == 0 ? s->fn != GUARD_COUNT :
	    ((c = cg_column(a, s->column)) == NULL ||
	    (s->fn != GUARD_COUNT && c->type != COL_INT64 && c->type != COL_DOUBLE))) {
		*cause = xasprintf("%s has no numeric column '%s'", s->aggregate, s->column);
		goto out;
	}
	if (s->key != NULL && cg_column(a, s->key) == NULL) {
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
static int
cg_parse_check(const struct catalog *cat, struct guard_check *c, const char *text,
    char **cause)
{
	const char *p = text;

	c->text = xstrdup(text);
	if (cg_parse_side(cat, &p, &c->side[0], cause) != 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "==", 2) != 0) {
		*cause = xstrdup("expected '=='");
		return -1;
	}
	p += 2;
	if (cg_parse_side(cat, &p, &c->side[1], cause) != 0)
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

/* Every column a guard names exists (nullable ones are dimensions, totals numbers). */
static int
cg_resolve_agg(const struct aggregate *a, const struct agg_guards *g, char **cause)
{
	const struct column *c;

	for (size_t i = 0; i < g->ntotals; i++)
		if ((c = cg_column(a, g->totals[i].column)) == NULL ||
		    (c->type != COL_INT64 && c->type != COL_DOUBLE)) {
			*cause = xasprintf("aggregate %s: guards: max_total_change: '%s' is not "
			    "a numeric column", a->name, g->totals[i].column);
			return -1;
		}
	for (size_t i = 0; i < g->nnon_negative; i++)
		if (cg_column(a, g->non_negative[i]) == NULL) {
			*cause = xasprintf("aggregate %s: guards: non_negative: no column '%s'",
			    a->name, g->non_negative[i]);
			return -1;
		}
	for (size_t i = 0; i < g->nnullable; i++)
		if ((c = cg_column(a, g->nullable[i])) == NULL ||
		    strcmp(c->role, "dimension") != 0) {
			*cause = xasprintf("aggregate %s: guards: nullable: '%s' is not a "
			    "dimension column", a->name, g->nullable[i]);
			return -1;
		}
	return 0;
}

/*
 * After the whole catalogue is read: fills the built-in defaults, checks the columns
 * the guards name and parses the cross-aggregate checks. Returns 0, or -1 and *cause.
 */
int
catalog_guards_resolve(struct catalog *cat, char **cause)
{
	static const char *const nonneg[] = { "count", "KRW", "days" };

	if (cat->guards.min_rows < 0)
		cat->guards.min_rows = 0;
	if (cat->guards.max_row_change < 0)
		cat->guards.max_row_change = 0;
	if (cat->non_negative_units == NULL)
		for (size_t i = 0; i < 3; i++) {
			cat->non_negative_units = xreallocarray(cat->non_negative_units,
			    i + 1, sizeof *cat->non_negative_units);
			cat->non_negative_units[cat->nnon_negative_units++] = xstrdup(nonneg[i]);
		}
	if (cat->percent_units == NULL) {
		cat->percent_units = xcalloc(1, sizeof *cat->percent_units);
		cat->percent_units[cat->npercent_units++] = xstrdup("%");
	}
	for (size_t i = 0; i < cat->naggs; i++)
		if (cg_resolve_agg(&cat->aggs[i], &cat->aggs[i].guards, cause) != 0)
			return -1;
	for (size_t i = 0; i < cat->nchecks; i++) {
		struct guard_check *c = &cat->checks[i];
		char *text = c->text, *why = NULL;

		c->text = NULL;
		if (cg_parse_check(cat, c, text, &why) != 0) {
			*cause = xasprintf("guards: check %s: %s", c->name, why);
			free(why);
			free(text);
			return -1;
		}
		free(text);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cat->checks[j].name, c->name) == 0) {
				*cause = xasprintf("guards: duplicate check '%s'", c->name);
				return -1;
			}
	}
	return 0;
}

void
catalog_guards_free(struct agg_guards *g)
{
	for (size_t i = 0; i < g->ntotals; i++)
		free(g->totals[i].column);
	for (size_t i = 0; i < g->nnon_negative; i++)
		free(g->non_negative[i]);
	for (size_t i = 0; i < g->nnullable; i++)
		free(g->nullable[i]);
	free(g->totals);
	free(g->non_negative);
	free(g->nullable);
	memset(g, 0, sizeof *g);
}
