/*
 * ddl.c — renders the Snowflake DDL of one brand: a CREATE OR REPLACE DYNAMIC TABLE per
 * catalogue aggregate, its SELECT taken from the aggregate's template with {{source_schema}}
 * and the catalogue's {{param}} placeholders filled in, with the catalogue's REFRESH_MODE
 * (tpcd --print-ddl).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"

#define PLACEHOLDER_MAX 64	/* longer names are not ours: a param name is <= 64 */

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
placeholder_value(const struct catalog *cat, const char *name, const char *source_schema)
{
	if (strcmp(name, "source_schema") == 0)
		return source_schema;
	for (size_t i = 0; i < cat->nparams; i++)
		if (strcmp(cat->params[i].name, name) == 0)
			return cat->params[i].value;
	return NULL;
}

/*
 * Appends template tpl to out with every {{name}} (spaces around name allowed) replaced.
 * Returns 0, or -1 and *cause on an unknown or unterminated placeholder.
 */
static int
render_template(struct buf *out, const struct catalog *cat, const struct aggregate *a,
    const char *source_schema, char **cause)
{
	const char *p = a->snowflake_sql, *open;

	while ((open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}"), *s, *e, *value;
		char name[PLACEHOLDER_MAX + 1];

		buf_add(out, p, (size_t)(open - p));
		if (close == NULL) {
			*cause = xasprintf("%s: snowflake template: unterminated '{{'", a->name);
			return -1;
		}
		for (s = open + 2; s < close && isspace((unsigned char)*s); s++)
			;
		for (e = close; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if ((size_t)(e - s) > PLACEHOLDER_MAX) {
			*cause = xasprintf("%s: snowflake template: placeholder '%.*s' too long",
			    a->name, (int)(close + 2 - open), open);
			return -1;
		}
		memcpy(name, s, (size_t)(e - s));
		name[e - s] = '\0';
		if ((value = placeholder_value(cat, name, source_schema)) == NULL) {
			*cause = xasprintf("%s: snowflake template: unknown placeholder '{{%s}}'",
			    a->name, name);
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
    const char *id, const char *source_schema, const char *warehouse, char **cause)
{
	size_t start;

	if (a->snowflake_sql == NULL) {
		*cause = xasprintf("%s: the catalogue gives no snowflake template", a->name);
		return -1;
	}
	buf_printf(out, "CREATE OR REPLACE DYNAMIC TABLE ANALYSIS_BRAND_%s.DT_BRAND_%s_%s "
	    "TARGET_LAG = '%s' WAREHOUSE = %s REFRESH_MODE = %s AS\n", id, id, a->relation,
	    a->target_lag, warehouse, a->refresh_mode);
	start = out->len;
	if (render_template(out, cat, a, source_schema, cause) != 0)
		return -1;
	terminate_statement(out, start);
	return 0;
}

/*
 * Prints brand b's DDL, one statement per catalogue aggregate separated by blank lines.
 * Nothing is printed unless every template renders. Returns 0, or -1 and *cause (caller
 * frees).
 */
int
ddl_render(FILE *out, const struct config *cf, const struct catalog *cat,
    const struct brand *b, const char *warehouse, char **cause)
{
	char *id = upper(b->id), *source_schema = upper(b->schema);
	struct buf sql;
	int rc = 0;

	(void)cf;	/* the brand carries all the config this needs, for now */
	buf_init(&sql);
	for (size_t i = 0; i < cat->naggs && rc == 0; i++) {
		if (i > 0)
			buf_addc(&sql, '\n');
		rc = render_aggregate(&sql, cat, &cat->aggs[i], id, source_schema, warehouse,
		    cause);
	}
	if (rc == 0 && (fwrite(sql.data, 1, sql.len, out) != sql.len || fflush(out) != 0)) {
		*cause = xasprintf("writing the DDL failed");
		rc = -1;
	}
	buf_free(&sql);
	free(id);
	free(source_schema);
	return rc;
}
