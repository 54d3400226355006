/*
 * ddl.c — renders the Snowflake DDL of one brand: the views the queries share
 * (schema/snowflake/views.sql, compiled in), then a CREATE OR REPLACE DYNAMIC TABLE per
 * catalogue aggregate, its SELECT taken from the aggregate's template; {{source_schema}},
 * {{analysis_schema}} and the catalogue's {{param}} placeholders filled in, with the
 * catalogue's REFRESH_MODE (tpcd --print-ddl).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"

#define PLACEHOLDER_MAX 64	/* longer names are not ours: a param name is <= 64 */

extern const char snowflake_views[];	/* generated from schema/snowflake/views.sql */

/* The brand's two schemas, as the templates name them. */
struct ddl_schemas {
	const char	*source;	/* {{source_schema}}: the raw tables */
	const char	*analysis;	/* {{analysis_schema}}: the views and dynamic tables */
};

static char *
upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* The value of placeholder name, or NULL when neither built in nor a catalogue param. */
static const char *
placeholder_value(const struct catalog *cat, const char *name, const struct ddl_schemas *sc)
{
	if (strcmp(name, "source_schema") == 0)
		return sc->source;
	if (strcmp(name, "analysis_schema") == 0)
		return sc->analysis;
	for (size_t i = 0; i < cat->nparams; i++)
		if (strcmp(cat->params[i].name, name) == 0)
			return cat->params[i].value;
	return NULL;
}

/*
 * Appends template tpl (what names it in errors) to out with every {{name}} (spaces
 * around name allowed) replaced. Returns 0, or -1 and *cause on an unknown or
 * unterminated placeholder.
 */
static int
render_template(struct buf *out, const struct catalog *cat, const char *tpl,
    const char *what, const struct ddl_schemas *sc, char **cause)
{
	const char *p = tpl, *open;

	while ((open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}"), *s, *e, *value;
		char name[PLACEHOLDER_MAX + 1];

		buf_add(out, p, (size_t)(open - p));
		if (close == NULL) {
			*cause = xasprintf("%s: snowflake template: unterminated '{{'", what);
			return -1;
		}
		for (s = open + 2; s < close && isspace((unsigned char)*s); s++)
			;
		for (e = close; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if ((size_t)(e - s) > PLACEHOLDER_MAX) {
			*cause = xasprintf("%s: snowflake template: placeholder '%.*s' too long",
			    what, (int)(close + 2 - open), open);
			return -1;
		}
		memcpy(name, s, (size_t)(e - s));
		name[e - s] = '\0';
		if ((value = placeholder_value(cat, name, sc)) == NULL) {
			*cause = xasprintf("%s: snowflake template: unknown placeholder '{{%s}}'",
			    what, name);
			return -1;
		}
		buf_adds(out, value);
		p = close + 2;
	}
	buf_adds(out, p);
	return 0;
}

/*
 * Ends the statement: trailing blanks and semicolons go, and the ';' gets a line of its
 * own when the last line holds a '--' comment, which would otherwise swallow it.
 */
static void
terminate_statement(struct buf *out, size_t start)
{
	const char *line;

	while (out->len > start && (isspace((unsigned char)out->data[out->len - 1]) ||
	    out->data[out->len - 1] == ';'))
		out->len--;
	buf_addc(out, '\0');		/* to search the last line as a string */
	out->len--;
	line = memrchr(out->data + start, '\n', out->len - start);
	line = line ? line + 1 : out->data + start;
	buf_adds(out, strstr(line, "--") ? "\n;\n" : ";\n");
}

static int
render_aggregate(struct buf *out, const struct catalog *cat, const struct aggregate *a,
    const char *id, const struct ddl_schemas *sc, const char *warehouse, char **cause)
{
	size_t start;

	if (a->snowflake_sql == NULL) {
		*cause = xasprintf("%s: the catalogue gives no snowflake template", a->name);
		return -1;
	}
	buf_printf(out, "CREATE OR REPLACE DYNAMIC TABLE %s.DT_BRAND_%s_%s "
	    "TARGET_LAG = '%s' WAREHOUSE = %s REFRESH_MODE = %s AS\n", sc->analysis, id,
	    a->relation, a->target_lag, warehouse, a->refresh_mode);
	start = out->len;
	if (render_template(out, cat, a->snowflake_sql, a->name, sc, cause) != 0)
		return -1;
	terminate_statement(out, start);
	return 0;
}

/*
 * Prints brand b's DDL: the shared views, then one statement per catalogue aggregate,
 * separated by blank lines. Nothing is printed unless every template renders. Returns 0,
 * or -1 and *cause (caller frees).
 */
int
ddl_render(FILE *out, const struct config *cf, const struct catalog *cat,
    const struct brand *b, const char *warehouse, char **cause)
{
	char *id = upper(b->id), *source_schema = upper(b->schema);
	char *analysis_schema = xasprintf("ANALYSIS_BRAND_%s", id);
	struct ddl_schemas sc = { source_schema, analysis_schema };
	struct buf sql;
	int rc;

	(void)cf;	/* the brand carries all the config this needs, for now */
	buf_init(&sql);
	rc = render_template(&sql, cat, snowflake_views, "views.sql", &sc, cause);
	if (rc == 0)
		terminate_statement(&sql, 0);
	for (size_t i = 0; i < cat->naggs && rc == 0; i++) {
		buf_addc(&sql, '\n');
		rc = render_aggregate(&sql, cat, &cat->aggs[i], id, &sc, warehouse, cause);
	}
	if (rc == 0 && (fwrite(sql.data, 1, sql.len, out) != sql.len || fflush(out) != 0)) {
		*cause = xasprintf("writing the DDL failed");
		rc = -1;
	}
	buf_free(&sql);
	free(id);
	free(source_schema);
	free(analysis_schema);
	return rc;
}
