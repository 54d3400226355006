/*
 * sf_rows.c — reads the rows of a result body (a statement's first answer or a partition)
 * without building a JSON tree: a check of the whole body first (the grammar and string rules jansson applies, so what it refused
 * is refused here and fetched again), then a second pass hands each row's strings, in
 * place where they hold no escape, to sfdecode.c. A tree costs a node and an allocation
 * per cell, which was a quarter of a million-row refresh. Knows nothing of partitions,
 * retries or where the rows go (the statement's callback, sf_result.c).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "snowflake.h"

#define SF_ROWS_MAX_DEPTH 2048		/* jansson's JSON_PARSER_MAX_DEPTH */

struct sfr {
	const unsigned char	*p;
	const unsigned char	*end;
};

static void
sfr_ws(struct sfr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' ||
	    *r->p == '\r'))
		r->p++;
}

static int
sfr_hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* One UTF-8 sequence at p (before end): its length, or 0 when it is not valid UTF-8. */
static size_t
sfr_utf8(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static void
sfr_put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		    u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
		    u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)),
		    n = 4;
	buf_add(b, u, n);
}

/*
 * A string at r->p (its opening quote). With out NULL it is only checked; otherwise its
 * value is appended to out. *escaped says whether it held a backslash. 0, or -1 when it
 * is not a string jansson would accept (control characters, bad escapes, lone
 * surrogates, \u0000, invalid UTF-8).
 */
static int
sfr_string(struct sfr *r, struct buf *out, int *escaped)
{
	const unsigned char *p = r->p + 1, *run = p;

	*escaped = 0;
	while (p < r->end && *p != '"') {
		unsigned cp, lo;
		size_t n;

		if (*p < 0x20)
			return -1;
		if (*p != '\\') {
			if ((n = sfr_utf8(p, r->end)) == 0)
				return -1;
			p += n;
			continue;
		}
		*escaped = 1;
		if (out != NULL)
			buf_add(out, run, (size_t)(p - run));
		if (r->end - p < 2)
			return -1;
		switch (p[1]) {
		case '"': case '\\': case '/':
			cp = p[1]; p += 2; break;
		case 'b': cp = '\b'; p += 2; break;
		case 'f': cp = '\f'; p += 2; break;
		case 'n': cp = '\n'; p += 2; break;
		case 'r': cp = '\r'; p += 2; break;
		case 't': cp = '\t'; p += 2; break;
		case 'u':
			if (r->end - p < 6 || sfr_hex4(p + 2, &cp) != 0)
				return -1;
			p += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    sfr_hex4(p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (out != NULL)
			sfr_put_utf8(out, cp);
		run = p;
	}
	if (p >= r->end)
		return -1;
	if (out != NULL)
		buf_add(out, run, (size_t)(p - run));
	r->p = p + 1;
	return 0;
}

/*
 * jansson reads one NUL byte right after a number or a literal as nothing (its lexer
 * puts the byte that ended the token back, and a NUL put back vanishes): so does this,
 * or a body jansson read would be refused here (found by the sfresult fuzz target).
 */
static void
sfr_token_end(struct sfr *r)
{
	if (r->p < r->end && *r->p == '\0')
		r->p++;
}

/*
 * jansson refuses an integer outside long long and a real that overflows a double: so
 * does this, by the same conversions.
 */
static int
sfr_number_fits(const unsigned char *s, size_t n, int real)
{
	char small[64], *tmp = n < sizeof small ? small : xmalloc(n + 1);
	int ok;

	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(tmp, NULL);
		ok = !(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL));
	} else {
		(void)strtoll(tmp, NULL, 10);
		ok = errno != ERANGE;
	}
	if (tmp != small)
		free(tmp);
	return ok;
}

static int
sfr_number(struct sfr *r)
{
	const unsigned char *p = r->p;
	int real = 0;

	if (p < r->end && *p == '-')
		p++;
	if (p < r->end && *p == '0')
		p++;
	else if (p < r->end && *p >= '1' && *p <= '9')
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (p < r->end && *p == '.') {
		real = 1;
		if (++p >= r->end || *p < '0' || *p > '9')
			return -1;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		real = 1;
		if (++p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return -1;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (!sfr_number_fits(r->p, (size_t)(p - r->p), real))
		return -1;
	r->p = p;
	sfr_token_end(r);
	return 0;
}

static int
sfr_literal(struct sfr *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return -1;
	r->p += n;
	sfr_token_end(r);
	return 0;
}

/*
 * Checks the value at r->p and moves past it. At the top (depth 0) the members of the
 * object are looked at: *data is where the last "data" member's value starts.
 */
static int
sfr_value(struct sfr *r, int depth, const unsigned char **data, struct buf *key)
{
	int escaped, first = 1;
	unsigned char close;

	sfr_ws(r);
	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '"':
		return sfr_string(r, NULL, &escaped);
	case 't':
		return sfr_literal(r, "true");
	case 'f':
		return sfr_literal(r, "false");
	case 'n':
		return sfr_literal(r, "null");
	case '[':
	case '{':
		break;
	default:
		return sfr_number(r);
	}
	if (depth >= SF_ROWS_MAX_DEPTH)
		return -1;
	close = *r->p == '[' ? ']' : '}';
	r->p++;
	for (;;) {
		sfr_ws(r);
		if (r->p < r->end && *r->p == close && first) {
			r->p++;
			return 0;
		}
		if (close == '}') {
			int is_data;

			if (r->p >= r->end || *r->p != '"')
				return -1;
			buf_reset(key);
			if (sfr_string(r, key, &escaped) != 0)
				return -1;
			is_data = depth == 0 && key->len == 4 && memcmp(key->data, "data", 4) == 0;
			sfr_ws(r);
			if (r->p >= r->end || *r->p != ':')
				return -1;
			r->p++;
			sfr_ws(r);
			if (is_data)
				*data = r->p;
		}
		if (sfr_value(r, depth + 1, data, key) != 0)
			return -1;
		first = 0;
		sfr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return -1;
	}
}

/*
 * Checks that body is one JSON object or array and nothing after it, as jansson's
 * json_loadb would; *data is the start of the object's "data" value (NULL: none).
 */
static int
sf_rows_check(const char *body, size_t len, const unsigned char **data)
{
	struct sfr r = { (const unsigned char *)body, (const unsigned char *)body + len };
	struct buf key;
	int rc;

	*data = NULL;
	buf_init(&key);
	sfr_ws(&r);
	rc = r.p < r.end && (*r.p == '{' || *r.p == '[') ? sfr_value(&r, 0, data, &key) : -1;
	buf_free(&key);
	if (rc != 0)
		return -1;
	sfr_ws(&r);
	return r.p == r.end ? 0 : -1;
}

/*
 * Parses a statement's answer into a tree without its rows: the "data" value is cut out
 * (replaced by []) before jansson sees it, and read in place later by sf_rows_scan, so a
 * first answer's partition of rows is never a tree. NULL when the body is not JSON
 * jansson would read.
 */
json_t *
sf_rows_load(const char *body, size_t len)
{
	const unsigned char *data;
	struct sfr r;
	struct buf key, cut;
	json_t *j;

	if (sf_rows_check(body, len, &data) != 0)
		return NULL;
	if (data == NULL)
		return json_loadb(body, len, 0, NULL);
	r.p = data;
	r.end = (const unsigned char *)body + len;
	buf_init(&key);
	sfr_value(&r, 1, NULL, &key);		/* checked already: finds the value's end */
	buf_free(&key);
	buf_init(&cut);
	buf_add(&cut, body, (size_t)(data - (const unsigned char *)body));
	buf_add(&cut, "[]", 2);
	buf_add(&cut, r.p, (size_t)(r.end - r.p));
	j = json_loadb(cut.data, cut.len, 0, NULL);
	buf_free(&cut);
	return j;
}

/* One cell of a row as the check left it: where its value starts and ends. */
struct sfr_cell {
	const unsigned char	*p;
	const unsigned char	*end;
};

/*
 * Decodes the rows of a partition body into t, as sf_result_rows does for a parsed one,
 * calling flush(st, t) after each row. Returns 0; -1 and *cause when a row does not
 * decode; SF_ROWS_MALFORMED when the body is not JSON jansson would read (nothing was
 * decoded then: the caller fetches it again).
 */
int
sf_rows_scan(struct sf_stmt *st, const char *body, size_t len, struct table *t,
    void (*flush)(struct sf_stmt *, struct table *), char **cause)
{
	const unsigned char *data;
	struct sfr r;
	struct sfr_cell *cells;
	struct buf key, val;
	size_t i = 0;
	int rc = -1;

	if (sf_rows_check(body, len, &data) != 0)
		return SF_ROWS_MALFORMED;
	if (data == NULL || *data != '[') {
		*cause = xstrdup("result has no data array");
		return -1;
	}
	r.p = data + 1;
	r.end = (const unsigned char *)body + len;
	cells = xcalloc(st->rcols + 1, sizeof *cells);
	buf_init(&key);
	buf_init(&val);
	sfr_ws(&r);
	if (*r.p == ']')
		goto done;
	for (;; i++) {
		size_t n = 0;
		struct cell *c;

		sfr_ws(&r);
		if (*r.p != '[') {
			*cause = xasprintf("row %zu has the wrong number of cells", i);
			goto out;
		}
		r.p++;
		sfr_ws(&r);
		while (*r.p != ']') {
			const unsigned char *start = r.p;

			sfr_value(&r, 1, NULL, &key);	/* checked already: cannot fail */
			if (n <= st->rcols)
				cells[n] = (struct sfr_cell){ start, r.p };
			n++;
			sfr_ws(&r);
			if (*r.p == ',') {
				r.p++;
				sfr_ws(&r);
			}
		}
		r.p++;
		if (n != st->rcols) {
			*cause = xasprintf("row %zu has the wrong number of cells", i);
			goto out;
		}
		c = table_add_row(t);
		for (size_t k = 0; k < st->ncols; k++) {
			struct sfr_cell *v = &cells[st->colmap ? st->colmap[k] : k];
			struct sfr s = { v->p, v->end };
			const char *sv;
			size_t slen;
			int escaped;

			if (*v->p == 'n')
				continue;	/* null */
			if (*v->p != '"') {
				*cause = xasprintf("row %zu cell %zu is not a string", i, k);
				goto out;
			}
			sv = (const char *)v->p + 1;
			slen = (size_t)(v->end - v->p) - 2;
			if (memchr(sv, '\\', slen) != NULL) {
				buf_reset(&val);
				sfr_string(&s, &val, &escaped);
				sv = val.data ? val.data : "";
				slen = val.len;
			}
			if (sf_decode(&st->cols[k], sv, slen, st->want[k].type, t, &c[k],
			    cause) != 0)
				goto out;
		}
		flush(st, t);
		sfr_ws(&r);
		if (*r.p == ',') {
			r.p++;
			continue;
		}
		break;		/* ']': checked already */
	}
done:
	rc = 0;
out:
	free(cells);
	buf_free(&key);
	buf_free(&val);
	return rc;
}
