/* Rewrites Snowflake statement text into SQLite over the fake's database layout:
 * SCHEMA.TABLE (and DB.SCHEMA.TABLE) become the table SCHEMA__TABLE, a table followed by
 * AT(TIMESTAMP => t) the version of it committed at t (timetravel.c), and
 * TABLE(INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(...)) becomes a subquery
 * over FAKESNOW_REFRESH_HISTORY. Works on tokens so literals and comments stay intact.
 */
#include "fakesnow.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

enum tok_type { TK_IDENT, TK_QIDENT, TK_STRING, TK_NUMBER, TK_PUNCT };

struct tok {
	enum tok_type	type;
	size_t		start, len;
};

struct toks {
	struct tok	*v;
	size_t		n, cap;
};

#define REFRESH_DEFAULT_LIMIT	100	/* Snowflake's RESULT_LIMIT default */

static int
push(struct toks *t, enum tok_type type, size_t start, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tok *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = (struct tok){ type, start, len };
	return 0;
}

/* Snowflake lexical rules: '' and backslash escapes in strings, "" in identifiers,
 * $$...$$ strings, -- // and block comments. */
static int
tokenize(const char *s, struct toks *t)
{
	size_t i = 0, n = strlen(s), st;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		st = i;
		if (isspace(c)) {
			i++;
		} else if ((c == '-' && s[i + 1] == '-') || (c == '/' && s[i + 1] == '/')) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '/' && s[i + 1] == '*') {
			const char *e = strstr(s + i + 2, "*/");
			i = e ? (size_t)(e - s) + 2 : n;
		} else if (c == '\'') {
			for (i++; i < n; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				else if (s[i] == '\'' && s[i + 1] == '\'')
					i++;
				else if (s[i] == '\'')
					break;
			}
			i = i < n ? i + 1 : n;
			if (push(t, TK_STRING, st, i - st))
				return -1;
		} else if (c == '$' && s[i + 1] == '$') {
			const char *e = strstr(s + i + 2, "$$");
			i = e ? (size_t)(e - s) + 2 : n;
			if (push(t, TK_STRING, st, i - st))
				return -1;
		} else if (c == '"') {
			for (i++; i < n; i++) {
				if (s[i] == '"' && s[i + 1] == '"')
					i++;
				else if (s[i] == '"')
					break;
			}
			i = i < n ? i + 1 : n;
			if (push(t, TK_QIDENT, st, i - st))
				return -1;
		} else if (isalpha(c) || c == '_') {
			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$'))
				i++;
			if (push(t, TK_IDENT, st, i - st))
				return -1;
		} else if (isdigit(c)) {
			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.'))
				i++;
			if (push(t, TK_NUMBER, st, i - st))
				return -1;
		} else {
			i += (c == '=' && s[i + 1] == '>') ? 2 : 1;
			if (push(t, TK_PUNCT, st, i - st))
				return -1;
		}
	}
	return 0;
}

static int
is_word(const char *s, const struct toks *t, size_t i, const char *w)
{
	return i < t->n && t->v[i].type == TK_IDENT && strlen(w) == t->v[i].len &&
	    strncasecmp(s + t->v[i].start, w, t->v[i].len) == 0;
}

static int
is_punct(const char *s, const struct toks *t, size_t i, const char *p)
{
	return i < t->n && t->v[i].type == TK_PUNCT && strlen(p) == t->v[i].len &&
	    strncmp(s + t->v[i].start, p, t->v[i].len) == 0;
}

static int
is_name(const struct toks *t, size_t i)
{
	return i < t->n && (t->v[i].type == TK_IDENT || t->v[i].type == TK_QIDENT);
}

/* The identifier's text without quotes; quoted identifiers keep their case. */
static void
name_text(const char *s, const struct tok *k, char *out, size_t outlen)
{
	size_t off = k->type == TK_QIDENT ? 1 : 0;
	size_t len = k->type == TK_QIDENT && k->len >= 2 ? k->len - 2 : k->len;

	snprintf(out, outlen, "%.*s", (int)len, s + k->start + off);
}

/* Returns the stored spelling of table/view `name` (case-insensitive), malloc'd. */
static char *
find_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	char *found = NULL;

	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type IN "
	    "('table','view') AND name = ?1 COLLATE NOCASE", -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW)
		found = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return found;
}

static void
emit_src(struct evbuffer *out, const char *s, size_t *pos, size_t upto)
{
	if (upto > *pos)
		evbuffer_add(out, s + *pos, upto - *pos);
	*pos = upto;
}

/* TABLE( [db.]INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY( args ) ) at token i.
 * On a match, writes the replacement subquery and returns the index of the final ')'. */
static long
refresh_history(const char *s, const struct toks *t, size_t i, struct evbuffer *out)
{
	size_t j = i + 2, k, val;
	int depth;
	const struct tok *prefix = NULL, *name = NULL, *limit = NULL;
	int error_only = 0;

	if (!is_word(s, t, i, "TABLE") || !is_punct(s, t, i + 1, "("))
		return -1;
	while (is_name(t, j) && is_punct(s, t, j + 1, "."))
		j += 2;
	if (!is_word(s, t, j, "DYNAMIC_TABLE_REFRESH_HISTORY") || j < i + 4 ||
	    !is_word(s, t, j - 2, "INFORMATION_SCHEMA") || !is_punct(s, t, j + 1, "("))
		return -1;
	/* named arguments: NAME => value, ... */
	k = j + 2;
	while (k < t->n && !is_punct(s, t, k, ")")) {
		if (!is_name(t, k) || !is_punct(s, t, k + 1, "=>"))
			return -1;
		val = k + 2;
		if (is_word(s, t, k, "NAME_PREFIX") && val < t->n && t->v[val].type == TK_STRING)
			prefix = &t->v[val];
		else if (is_word(s, t, k, "NAME") && val < t->n && t->v[val].type == TK_STRING)
			name = &t->v[val];
		else if (is_word(s, t, k, "RESULT_LIMIT") && val < t->n && t->v[val].type == TK_NUMBER)
			limit = &t->v[val];
		else if (is_word(s, t, k, "ERROR_ONLY"))
			error_only = is_word(s, t, val, "TRUE");
		/* skip the value (it may be a call such as DATEADD(...)) */
		for (depth = 0, k = val; k < t->n; k++) {
			if (is_punct(s, t, k, "("))
				depth++;
			else if (is_punct(s, t, k, ")")) {
				if (depth == 0)
					break;
				depth--;
			} else if (depth == 0 && is_punct(s, t, k, ","))
				break;
		}
		if (is_punct(s, t, k, ","))
			k++;
	}
	if (!is_punct(s, t, k, ")") || !is_punct(s, t, k + 1, ")"))
		return -1;
	evbuffer_add_printf(out, "(SELECT * FROM FAKESNOW_REFRESH_HISTORY WHERE 1=1");
	if (prefix)
		evbuffer_add_printf(out, " AND substr(QUALIFIED_NAME, 1, length(%.*s)) = %.*s",
		    (int)prefix->len, s + prefix->start, (int)prefix->len, s + prefix->start);
	if (name)
		evbuffer_add_printf(out, " AND (QUALIFIED_NAME = %.*s OR NAME = %.*s)",
		    (int)name->len, s + name->start, (int)name->len, s + name->start);
	if (error_only)
		evbuffer_add_printf(out, " AND STATE IN ('FAILED', 'UPSTREAM_FAILED')");
	evbuffer_add_printf(out, " ORDER BY DATA_TIMESTAMP DESC LIMIT ");
	if (limit)
		evbuffer_add(out, s + limit->start, limit->len);
	else
		evbuffer_add_printf(out, "%d", REFRESH_DEFAULT_LIMIT);
	evbuffer_add_printf(out, ")");
	return (long)(k + 1);
}


/* "YYYY-MM-DD[ T]HH:MM:SS[.f][ ][Z|+HH:MM|+HHMM]" as epoch seconds (no zone: UTC, the
 * fake's session time zone); -1 when it does not read. */
static int
parse_time(const char *s, size_t len, double *out)
{
	char buf[64], *p;
	struct tm tm;
	double frac = 0;
	int n = 0, off = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&tm, 0, sizeof(tm));
	if (sscanf(buf, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	p = buf + n;
	if (*p == '.')
		frac = strtod(p, &p);
	while (*p == ' ')
		p++;
	if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 && sscanf(p + 1, "%2d%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (double)timegm(&tm) + frac - off;
	return 0;
}

/*
 * AT(TIMESTAMP => '<time>'[::TIMESTAMP_LTZ|_TZ|_NTZ|TIMESTAMP] | TO_TIMESTAMP_LTZ(n[, scale]))
 * at token i. Returns the index of its closing ')' with *at set, -1 when there is no AT,
 * -2 for an AT the fake does not read (err set).
 */
static long
at_clause(const char *s, const struct toks *t, size_t i, double *at, struct sql_error *err)
{
	size_t k = i + 4;

	if (!is_word(s, t, i, "AT") && !is_word(s, t, i, "BEFORE"))
		return -1;
	if (!is_punct(s, t, i + 1, "("))
		return -1;
	if (is_word(s, t, i, "AT") && is_word(s, t, i + 2, "TIMESTAMP") &&
	    is_punct(s, t, i + 3, "=>")) {
		if (k < t->n && t->v[k].type == TK_STRING &&
		    parse_time(s + t->v[k].start + 1, t->v[k].len - 2, at) == 0) {
			k++;
			if (is_punct(s, t, k, ":") && is_punct(s, t, k + 1, ":") &&
			    (is_word(s, t, k + 2, "TIMESTAMP_LTZ") ||
			    is_word(s, t, k + 2, "TIMESTAMP_TZ") ||
			    is_word(s, t, k + 2, "TIMESTAMP_NTZ") || is_word(s, t, k + 2, "TIMESTAMP")))
				k += 3;
			if (is_punct(s, t, k, ")"))
				return (long)k;
		} else if ((is_word(s, t, k, "TO_TIMESTAMP_LTZ") || is_word(s, t, k, "TO_TIMESTAMP")) &&
		    is_punct(s, t, k + 1, "(") && k + 2 < t->n && t->v[k + 2].type == TK_NUMBER) {
			double n = strtod(s + t->v[k + 2].start, NULL);
			int scale = -1;
			k += 3;
			if (is_punct(s, t, k, ",") && k + 1 < t->n && t->v[k + 1].type == TK_NUMBER) {
				scale = atoi(s + t->v[k + 1].start);
				k += 2;
			}
			if (scale < 0)	/* Snowflake's rule: seconds, ms, us or ns by magnitude */
				scale = n < 31536000000.0 ? 0 : n < 31536000000000.0 ? 3 :
				    n < 31536000000000000.0 ? 6 : 9;
			*at = n / pow(10, scale);
			if (is_punct(s, t, k, ")") && is_punct(s, t, k + 1, ")"))
				return (long)(k + 1);
		}
	}
	err->code = "001003";
	err->sql_state = "42000";
	snprintf(err->message, sizeof(err->message), "SQL compilation error: fakesnow reads "
	    "AT(TIMESTAMP => '<time>'[::TIMESTAMP_LTZ] | TO_TIMESTAMP_LTZ(<n>[, <scale>])) only "
	    "(fake code)");
	return -2;
}

static int
prev_word_in(const char *s, const struct toks *t, size_t i, const char *const *words)
{
	if (i == 0)
		return 0;
	for (; *words; words++)
		if (is_word(s, t, i - 1, *words))
			return 1;
	return 0;
}

char *
sql_rewrite(sqlite3 *db, const char *sql, const char *default_schema, struct sql_error *err)
{
	static const char *const creating[] = { "TABLE", "INTO", "VIEW", "EXISTS", NULL };
	static const char *const from_like[] = { "FROM", "JOIN", "INTO", "UPDATE", "TABLE", NULL };
	struct toks t = { 0 };
	struct evbuffer *out = evbuffer_new();
	size_t pos = 0, i, len;
	char *res = NULL, a[256], b[256], c[256], want[800];

	if (out == NULL || tokenize(sql, &t) != 0)
		goto done;
	for (i = 0; i < t.n; i++) {
		size_t last = i, parts = 1;
		char *actual = NULL;
		long end;

		if (is_word(sql, &t, i, "TABLE")) {
			/* flushing the text before TABLE is harmless whether or not it matches */
			emit_src(out, sql, &pos, t.v[i].start);
			end = refresh_history(sql, &t, i, out);
		} else
			end = -1;
		if (end >= 0) {
			pos = t.v[end].start + t.v[end].len;
			i = (size_t)end;
			continue;
		}
		if (!is_name(&t, i) || (i > 0 && is_punct(sql, &t, i - 1, ".")))
			continue;
		while (parts < 4 && is_punct(sql, &t, last + 1, ".") && is_name(&t, last + 2)) {
			last += 2;
			parts++;
		}
		if (parts == 3) {
			name_text(sql, &t.v[i + 2], b, sizeof(b));
			name_text(sql, &t.v[i + 4], c, sizeof(c));
			snprintf(want, sizeof(want), "%s__%s", b, c);
		} else if (parts == 2) {
			name_text(sql, &t.v[i], a, sizeof(a));
			name_text(sql, &t.v[i + 2], b, sizeof(b));
			snprintf(want, sizeof(want), "%s__%s", a, b);
		} else if (parts == 1 && default_schema && *default_schema &&
		    prev_word_in(sql, &t, i, from_like) && !is_punct(sql, &t, i + 1, "(")) {
			name_text(sql, &t.v[i], a, sizeof(a));
			if ((actual = find_table(db, a)) != NULL) {	/* already a real table */
				free(actual);
				continue;
			}
			snprintf(want, sizeof(want), "%s__%s", default_schema, a);
		} else {
			i = last;
			continue;
		}
		actual = find_table(db, want);
		if (actual == NULL && parts >= 2 && prev_word_in(sql, &t, i, creating))
			actual = strdup(want);	/* CREATE TABLE S.T / INSERT INTO S.T of a new table */
		if (actual != NULL) {
			double at;
			long close = at_clause(sql, &t, last + 1, &at, err);

			if (close == -2) {
				free(actual);
				goto fail;
			}
			if (close >= 0) {	/* the version of the table committed at `at` */
				char *version = tt_resolve(actual, at, err);
				free(actual);
				if ((actual = version) == NULL)
					goto fail;
				last = (size_t)close;
			}
			emit_src(out, sql, &pos, t.v[i].start);
			evbuffer_add(out, actual, strlen(actual));
			pos = t.v[last].start + t.v[last].len;
			free(actual);
		}
		i = last;
	}
	emit_src(out, sql, &pos, strlen(sql));
	len = evbuffer_get_length(out);
	res = malloc(len + 1);
	if (res != NULL) {
		evbuffer_remove(out, res, len);
		res[len] = '\0';
	}
fail:
done:
	free(t.v);
	if (out)
		evbuffer_free(out);
	return res;
}
