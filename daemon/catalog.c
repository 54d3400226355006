/*
 * catalog.c — reads schema/aggregates.yaml: the aggregates tpcd serves, their columns
 * (type, role, unit, titles), the query text for each source and the shared params.
 * Query files are read here, once, so a refresh never touches the file system for them.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "yamldoc.h"

struct catalog_ctx {
	struct catalog	*cat;
	char		*dir;
	struct aggregate *agg;		/* being parsed */
	struct column	*col;		/* being parsed */
};

static const char *const col_type_names[] = {
	[COL_INT64] = "int64", [COL_DOUBLE] = "double", [COL_STRING] = "string",
	[COL_DATE] = "date",
};

const char *
col_type_name(enum col_type t)
{
	return col_type_names[t];
}

static int
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* Reads a whole text file; returns it (caller frees) or NULL with errno set. */
static char *
read_file(const char *path)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_steal(&b, NULL);
}

#define CTX(p) ((struct catalog_ctx *)(p))

static int
col_str(char **dst, yaml_node_t *v)
{
	free(*dst);
	*dst = xstrdup(ydoc_scalar(v));
	return 0;
}

static int
key_col_name(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (!name_ok(ydoc_scalar(v)))
		return ydoc_error(d, v, cause, "column '%s' must be lowercase [a-z0-9_], not "
		    "'%s'", k, ydoc_scalar(v));
	return col_str(&CTX(ctx)->col->name, v);
}

static int
key_col_type(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	for (size_t i = 0; i < sizeof col_type_names / sizeof col_type_names[0]; i++) {
		if (strcmp(col_type_names[i], ydoc_scalar(v)) == 0) {
			CTX(ctx)->col->type = (enum col_type)i;
			return 0;
		}
	}
	return ydoc_error(d, v, cause, "column '%s' must be int64, double, string or date, "
	    "not '%s'", k, ydoc_scalar(v));
}

static int
key_col_role(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "dimension") != 0 && strcmp(s, "measure") != 0)
		return ydoc_error(d, v, cause, "column '%s' must be dimension or measure, not "
		    "'%s'", k, s);
	return col_str(&CTX(ctx)->col->role, v);
}

static int
key_col_unit(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	return col_str(&CTX(ctx)->col->unit, v);
}

static int
key_col_title_en(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	return col_str(&CTX(ctx)->col->title_en, v);
}

static int
key_col_title_ko(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	return col_str(&CTX(ctx)->col->title_ko, v);
}

static const struct ykey column_keys[] = {
	{ "name", YKEY_STRING, 1, key_col_name },
	{ "type", YKEY_STRING, 1, key_col_type },
	{ "role", YKEY_STRING, 1, key_col_role },
	{ "unit", YKEY_STRING, 0, key_col_unit },
	{ "title_en", YKEY_STRING, 0, key_col_title_en },
	{ "title_ko", YKEY_STRING, 0, key_col_title_ko },
};

static int
key_columns(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct aggregate *a = CTX(ctx)->agg;

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		a->cols = xreallocarray(a->cols, a->ncols + 1, sizeof *a->cols);
		CTX(ctx)->col = &a->cols[a->ncols++];
		memset(CTX(ctx)->col, 0, sizeof *CTX(ctx)->col);
		if (ydoc_map(d, ydoc_node(d, *it), "column", column_keys,
		    sizeof column_keys / sizeof column_keys[0], ctx, cause) != 0)
			return -1;
		for (size_t i = 0; i + 1 < a->ncols; i++)
			if (strcmp(a->cols[i].name, CTX(ctx)->col->name) == 0)
				return ydoc_error(d, ydoc_node(d, *it), cause,
				    "duplicate column '%s'", a->cols[i].name);
	}
	if (a->ncols == 0)
		return ydoc_error(d, v, cause, "'%s' must list at least one column", k);
	return 0;
}

#define AGG_STR(fn, field)						\
static int								\
fn(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause) \
{									\
	(void)d; (void)k; (void)cause;					\
	return col_str(&CTX(ctx)->agg->field, v);			\
}
AGG_STR(key_agg_relation, relation)
AGG_STR(key_agg_title_en, title_en)
AGG_STR(key_agg_title_ko, title_ko)
AGG_STR(key_agg_description, description)
AGG_STR(key_agg_target_lag, target_lag)
AGG_STR(key_agg_slice_key, slice_key)

/*
 * The dynamic table's REFRESH_MODE, stated per aggregate: AUTO is refused because
 * Snowflake resolves it once, at creation, and the DDL would no longer say which mode
 * runs.
 */
static int
key_agg_refresh_mode(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *m = ydoc_scalar(v);

	if (strcmp(m, "FULL") != 0 && strcmp(m, "INCREMENTAL") != 0)
		return ydoc_error(d, v, cause, "'%s' must be FULL or INCREMENTAL, not '%s'", k,
		    m);
	return col_str(&CTX(ctx)->agg->refresh_mode, v);
}

static int
key_agg_name(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (!name_ok(ydoc_scalar(v)))
		return ydoc_error(d, v, cause, "aggregate '%s' must be lowercase [a-z0-9_], not "
		    "'%s'", k, ydoc_scalar(v));
	return col_str(&CTX(ctx)->agg->name, v);
}

static int
key_agg_refresh(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	long n;

	if (ydoc_int(d, v, k, 1, 7 * 86400, &n, cause) != 0)
		return -1;
	CTX(ctx)->agg->refresh = (int)n;
	return 0;
}

static int
key_agg_file(struct ydoc *d, yaml_node_t *v, const char *k, char **dst, void *ctx,
    char **cause)
{
	const char *rel = ydoc_scalar(v);
	char *path = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", CTX(ctx)->dir, rel);

	free(*dst);
	*dst = read_file(path);
	if (*dst == NULL) {
		int rc = ydoc_error(d, v, cause, "'%s': cannot read %s: %s", k, path,
		    strerror(errno));
		free(path);
		return rc;
	}
	free(path);
	return 0;
}

static int
key_agg_sqlite(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_agg_file(d, v, k, &CTX(ctx)->agg->sqlite_sql, ctx, cause);
}

static int
key_agg_snowflake(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_agg_file(d, v, k, &CTX(ctx)->agg->snowflake_sql, ctx, cause);
}

/* Seconds, with an optional unit: 90, 90s, 30m, 2h, 1d; 0 is no limit. */
static int
key_staleness(struct ydoc *d, yaml_node_t *v, const char *k, int64_t *out, char **cause)
{
	const char *s = ydoc_scalar(v);
	char *end;
	long n;

	errno = 0;
	n = s != NULL ? strtol(s, &end, 10) : -1;
	if (s == NULL || end == s || errno != 0 || n < 0 || n > 366L * 86400)
		goto bad;
	if (*end == 'm')
		n *= 60;
	else if (*end == 'h')
		n *= 3600;
	else if (*end == 'd')
		n *= 86400;
	else if (*end != 's' && *end != '\0')
		goto bad;
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	*out = n;
	return 0;
bad:
	return ydoc_error(d, v, cause, "'%s' must be seconds (or N s, m, h, d), not '%s'", k,
	    s ? s : "");
}

static int
key_agg_staleness(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_staleness(d, v, k, &CTX(ctx)->agg->max_staleness, cause);
}

static int
key_agg_guards(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)k;
	return catalog_guards_parse(d, v, CTX(ctx)->cat, &CTX(ctx)->agg->guards, 0, cause);
}

static const struct ykey aggregate_keys[] = {
	{ "name", YKEY_STRING, 1, key_agg_name },
	{ "relation", YKEY_STRING, 1, key_agg_relation },
	{ "title_en", YKEY_STRING, 1, key_agg_title_en },
	{ "title_ko", YKEY_STRING, 1, key_agg_title_ko },
	{ "description", YKEY_STRING, 1, key_agg_description },
	{ "refresh", YKEY_INT, 0, key_agg_refresh },
	{ "target_lag", YKEY_STRING, 0, key_agg_target_lag },
	{ "refresh_mode", YKEY_STRING, 0, key_agg_refresh_mode },
	{ "sqlite", YKEY_STRING, 1, key_agg_sqlite },
	{ "snowflake", YKEY_STRING, 0, key_agg_snowflake },
	{ "columns", YKEY_SEQ, 1, key_columns },
	{ "max_staleness", YKEY_STRING, 0, key_agg_staleness },
	{ "guards", YKEY_MAP, 0, key_agg_guards },
	{ "slice_key", YKEY_STRING, 0, key_agg_slice_key },
};

/*
 * The slice key names a dimension column whose values are text or integers (a filter on
 * it is then served from the slices built at publish: slice.c, refresh). Columns are
 * known only once the whole aggregate has been read.
 */
static int
agg_slice_key(struct ydoc *d, yaml_node_t *v, struct aggregate *a, char **cause)
{
	if (a->slice_key == NULL)
		return 0;
	for (size_t i = 0; i < a->ncols; i++) {
		const struct column *c = &a->cols[i];
		if (strcmp(c->name, a->slice_key) != 0)
			continue;
		if (strcmp(c->role, "dimension") != 0 || c->type == COL_DOUBLE)
			break;
		a->slice_col = i;
		return 0;
	}
	return ydoc_error(d, v, cause, "aggregate '%s': slice_key '%s' must name a dimension "
	    "column of type string, date or int64", a->name, a->slice_key);
}

static int
key_aggregates(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct catalog *cat = CTX(ctx)->cat;

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		struct aggregate *a;

		cat->aggs = xreallocarray(cat->aggs, cat->naggs + 1, sizeof *cat->aggs);
		a = CTX(ctx)->agg = &cat->aggs[cat->naggs++];
		memset(a, 0, sizeof *a);
		a->refresh = 1800;
		a->max_staleness = -1;
		catalog_guards_init(&a->guards);
		if (ydoc_map(d, ydoc_node(d, *it), "aggregate", aggregate_keys,
		    sizeof aggregate_keys / sizeof aggregate_keys[0], ctx, cause) != 0)
			return -1;
		if (a->target_lag == NULL)
			a->target_lag = xstrdup("30 minutes");
		if (a->refresh_mode == NULL)
			a->refresh_mode = xstrdup("FULL");
		if (agg_slice_key(d, ydoc_node(d, *it), a, cause) != 0)
			return -1;
		for (size_t i = 0; i + 1 < cat->naggs; i++)
			if (strcmp(cat->aggs[i].name, a->name) == 0)
				return ydoc_error(d, ydoc_node(d, *it), cause,
				    "duplicate aggregate '%s'", a->name);
	}
	if (cat->naggs == 0)
		return ydoc_error(d, v, cause, "'%s' must list at least one aggregate", k);
	return 0;
}

static int
key_params(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct catalog *cat = CTX(ctx)->cat;

	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	    p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = ydoc_node(d, p->key), *vn = ydoc_node(d, p->value);
		const char *name = ydoc_scalar(kn), *val = ydoc_scalar(vn);

		if (name == NULL || !name_ok(name))
			return ydoc_error(d, kn, cause, "%s: names must be lowercase [a-z0-9_]", k);
		if (val == NULL)
			return ydoc_error(d, vn, cause, "param '%s' must be a scalar", name);
		cat->params = xreallocarray(cat->params, cat->nparams + 1,
		    sizeof *cat->params);
		cat->params[cat->nparams].name = xstrdup(name);
		cat->params[cat->nparams++].value = xstrdup(val);
	}
	return 0;
}

static int
key_max_staleness(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_staleness(d, v, k, &CTX(ctx)->cat->max_staleness, cause);
}

static int
key_guards(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)k;
	return catalog_guards_parse(d, v, CTX(ctx)->cat, &CTX(ctx)->cat->guards, 1, cause);
}

static const struct ykey catalog_keys[] = {
	{ "params", YKEY_MAP, 0, key_params },
	{ "max_staleness", YKEY_STRING, 0, key_max_staleness },
	{ "guards", YKEY_MAP, 0, key_guards },
	{ "aggregates", YKEY_SEQ, 1, key_aggregates },
};

/* Returns a new catalogue (caller frees with catalog_free), or NULL and *cause. */
struct catalog *
catalog_load(const char *path, char **cause)
{
	struct catalog_ctx c = { 0 };
	struct ydoc d;
	char *tmp;
	int rc;

	if (ydoc_load(&d, path, cause) != 0)
		return NULL;
	c.cat = xcalloc(1, sizeof *c.cat);
	c.cat->path = xstrdup(path);
	catalog_guards_init(&c.cat->guards);
	tmp = xstrdup(path);
	c.dir = xstrdup(dirname(tmp));
	free(tmp);
	rc = ydoc_map(&d, ydoc_root(&d), "the catalogue", catalog_keys,
	    sizeof catalog_keys / sizeof catalog_keys[0], &c, cause);
	free(c.dir);
	ydoc_free(&d);
	if (rc == 0 && catalog_guards_resolve(c.cat, cause) != 0) {
		char *why = *cause;
		*cause = xasprintf("%s: %s", path, why);
		free(why);
		rc = -1;
	}
	if (rc != 0) {
		catalog_free(c.cat);
		return NULL;
	}
	return c.cat;
}

static void
aggregate_free(struct aggregate *a)
{
	for (size_t i = 0; i < a->ncols; i++) {
		free(a->cols[i].name);
		free(a->cols[i].role);
		free(a->cols[i].unit);
		free(a->cols[i].title_en);
		free(a->cols[i].title_ko);
	}
	free(a->cols);
	free(a->name);
	free(a->relation);
	free(a->slice_key);
	free(a->title_en);
	free(a->title_ko);
	free(a->description);
	free(a->target_lag);
	free(a->refresh_mode);
	free(a->sqlite_sql);
	free(a->snowflake_sql);
	catalog_guards_free(&a->guards);
}

void
catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->naggs; i++)
		aggregate_free(&cat->aggs[i]);
	for (size_t i = 0; i < cat->nparams; i++) {
		free(cat->params[i].name);
		free(cat->params[i].value);
	}
	free(cat->aggs);
	free(cat->params);
	catalog_guards_free(&cat->guards);
	for (size_t i = 0; i < cat->nnon_negative_units; i++)
		free(cat->non_negative_units[i]);
	for (size_t i = 0; i < cat->npercent_units; i++)
		free(cat->percent_units[i]);
	free(cat->non_negative_units);
	free(cat->percent_units);
	for (size_t i = 0; i < cat->nchecks; i++) {
		free(cat->checks[i].name);
		free(cat->checks[i].text);
		for (int j = 0; j < 2; j++) {
			free(cat->checks[i].side[j].column);
			free(cat->checks[i].side[j].key);
			free(cat->checks[i].side[j].aggregate);
		}
	}
	free(cat->checks);
	free(cat->path);
	free(cat);
}

/* An aggregate's staleness limit in seconds (its own, else the catalogue's); 0: none. */
int64_t
catalog_max_staleness(const struct catalog *cat, const struct aggregate *a)
{
	return a->max_staleness >= 0 ? a->max_staleness : cat->max_staleness;
}

const struct aggregate *
catalog_find(const struct catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->naggs; i++)
		if (strcmp(cat->aggs[i].name, name) == 0)
			return &cat->aggs[i];
	return NULL;
}
