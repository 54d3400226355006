/*
 * slice.c — a window of one aggregate's rows: the rows of a published record that match
 * equality filters on dimension columns, from an offset, at most a limit of them, encoded
 * again by encode.c into a record of their own (so a slice's bodies are byte for byte what
 * the whole aggregate's encoder writes for those rows). Reads the record's msgpack body in
 * place and holds only the rows it keeps. Also the slices built at publish: a record's
 * rows grouped by the catalogue's slice key, one record per value. Runs on a pool thread
 * or the refresh thread, never on a serving loop; knows nothing of HTTP or LMDB.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tpcd.h"

/* A cursor over msgpack bytes: only the kinds encode.c writes are understood. */
struct mp {
	const unsigned char	*p;
	const unsigned char	*end;
};

/* One decoded cell; a text cell points into the body. */
struct mp_cell {
	enum cell_kind		 kind;
	int64_t			 i;
	double			 d;
	const char		*s;
	size_t			 n;
};

static int
mp_take(struct mp *m, size_t n, uint64_t *v)
{
	if ((size_t)(m->end - m->p) < n)
		return -1;
	*v = 0;
	for (size_t k = 0; k < n; k++)
		*v = *v << 8 | m->p[k];
	m->p += n;
	return 0;
}

/* A container's header: fix (low..low+15), 16- and 32-bit forms. */
static int
mp_container(struct mp *m, unsigned char fix, unsigned char c16, uint32_t *n)
{
	uint64_t v;
	unsigned char b;

	if (m->p >= m->end)
		return -1;
	b = *m->p++;
	if ((b & 0xf0) == fix) {
		*n = b & 0x0f;
		return 0;
	}
	if (b == c16 && mp_take(m, 2, &v) == 0) {
		*n = (uint32_t)v;
		return 0;
	}
	if (b == c16 + 1 && mp_take(m, 4, &v) == 0) {
		*n = (uint32_t)v;
		return 0;
	}
	return -1;
}

static int
mp_array(struct mp *m, uint32_t *n)
{
	return mp_container(m, 0x90, 0xdc, n);
}

static int
mp_map(struct mp *m, uint32_t *n)
{
	return mp_container(m, 0x80, 0xde, n);
}

/* Any scalar encode.c writes (nil, integers, doubles, strings) into c. */
static int
mp_cell(struct mp *m, struct mp_cell *c)
{
	static const unsigned char isz[] = { 1, 2, 4, 8 };
	unsigned char b;
	uint64_t v;
	size_t n;

	if (m->p >= m->end)
		return -1;
	b = *m->p++;
	c->kind = CELL_INT;
	if (b <= 0x7f) {
		c->i = b;
		return 0;
	}
	if (b >= 0xe0) {
		c->i = (int8_t)b;
		return 0;
	}
	if (b == 0xc0) {
		c->kind = CELL_NULL;
		return 0;
	}
	if (b >= 0xcc && b <= 0xcf) {		/* uint 8..64 */
		if (mp_take(m, isz[b - 0xcc], &v) != 0 || v > INT64_MAX)
			return -1;
		c->i = (int64_t)v;
		return 0;
	}
	if (b >= 0xd0 && b <= 0xd3) {		/* int 8..64, sign-extended */
		n = isz[b - 0xd0];
		if (mp_take(m, n, &v) != 0)
			return -1;
		if (n < 8 && (v >> (8 * n - 1)) != 0)
			v |= ~(uint64_t)0 << (8 * n);
		c->i = (int64_t)v;
		return 0;
	}
	if (b == 0xca || b == 0xcb) {
		c->kind = CELL_DOUBLE;
		if (mp_take(m, b == 0xca ? 4 : 8, &v) != 0)
			return -1;
		if (b == 0xca) {
			float f;
			uint32_t u = (uint32_t)v;
			memcpy(&f, &u, sizeof f);
			c->d = f;
		} else
			memcpy(&c->d, &v, sizeof c->d);
		return 0;
	}
	if ((b & 0xe0) == 0xa0)
		v = b & 0x1f;
	else if (b >= 0xd9 && b <= 0xdb) {
		if (mp_take(m, isz[b - 0xd9], &v) != 0)
			return -1;
	} else
		return -1;
	if (v > (uint64_t)(m->end - m->p))
		return -1;
	c->kind = CELL_TEXT;
	c->s = (const char *)m->p;
	c->n = (size_t)v;
	m->p += v;
	return 0;
}

/* Skips one value of any shape encode.c writes (maps and arrays of scalars, nested). */
static int
mp_skip(struct mp *m, int depth)
{
	struct mp_cell c;
	uint32_t n;
	unsigned char b;

	if (m->p >= m->end || depth > 8)
		return -1;
	b = *m->p;
	if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
		if (mp_map(m, &n) != 0)
			return -1;
		n *= 2;
	} else if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
		if (mp_array(m, &n) != 0)
			return -1;
	} else
		return mp_cell(m, &c);
	while (n-- > 0)
		if (mp_skip(m, depth + 1) != 0)
			return -1;
	return 0;
}

/* Moves m to the element count of the body's "rows" array. */
static int
mp_find_rows(struct mp *m, uint32_t *nrows)
{
	struct mp_cell key;
	uint32_t n;

	if (mp_map(m, &n) != 0)
		return -1;
	while (n-- > 0) {
		if (mp_cell(m, &key) != 0 || key.kind != CELL_TEXT)
			return -1;
		if (key.n == 4 && memcmp(key.s, "rows", 4) == 0)
			return mp_array(m, nrows);
		if (mp_skip(m, 0) != 0)
			return -1;
	}
	return -1;
}

static int
filter_match(const struct slice_filter *f, const struct mp_cell *c)
{
	switch (c->kind) {
	case CELL_TEXT:
		return f->kind == CELL_TEXT && f->n == c->n && memcmp(f->s, c->s, c->n) == 0;
	case CELL_INT:
		return (f->kind == CELL_INT && f->i == c->i) ||
		    (f->kind == CELL_DOUBLE && f->d == (double)c->i);
	case CELL_DOUBLE:
		return f->kind == CELL_DOUBLE && f->d == c->d;
	case CELL_NULL:
		break;
	}
	return 0;
}

static void
keep_cell(struct table *t, struct cell *dst, const struct mp_cell *c)
{
	dst->kind = c->kind;
	if (c->kind == CELL_INT)
		dst->v.i = c->i;
	else if (c->kind == CELL_DOUBLE)
		dst->v.d = c->d;
	else if (c->kind == CELL_TEXT)
		table_set_text(t, dst, c->s, c->n);
}

/*
 * The rows of the msgpack body at m that pass q, into t (those in the window) and
 * *total (all that pass). Filters are in column order, one per column at most.
 */
static int
slice_rows(struct mp *m, size_t ncols, const struct slice_query *q, struct table *t,
    uint64_t *total)
{
	struct mp_cell *row = xcalloc(ncols ? ncols : 1, sizeof *row);
	uint32_t nrows, all, n;
	int rc = -1;

	*total = 0;
	if (mp_find_rows(m, &nrows) != 0)
		goto out;
	all = nrows;
	/* unfiltered, every row counts: stop once the window is full (a first page is cheap) */
	if (q->nfilters == 0)
		nrows = (uint32_t)(q->offset + q->limit < nrows ? q->offset + q->limit : nrows);
	for (uint32_t r = 0; r < nrows; r++) {
		size_t k = 0;
		int pass = 1;
		if (mp_array(m, &n) != 0 || n != ncols)
			goto out;
		for (size_t i = 0; i < ncols; i++) {
			if (mp_cell(m, &row[i]) != 0)
				goto out;
			if (k < q->nfilters && q->filters[k].col == i)
				pass &= filter_match(&q->filters[k++], &row[i]);
		}
		if (!pass)
			continue;
		if (*total >= q->offset && t->nrows < q->limit) {
			struct cell *dst = table_add_row(t);
			for (size_t i = 0; i < ncols; i++)
				keep_cell(t, &dst[i], &row[i]);
		}
		(*total)++;
	}
	if (q->nfilters == 0)
		*total = all;
	rc = 0;
out:
	free(row);
	return rc;
}

/*
 * Builds the record of q's slice of rec (a record of aggregate a of brand br) into out,
 * which the caller owns: the same bodies, generation and refresh time as rec, with only
 * the rows in the window. *total is the number of rows that pass q's filters. Returns 0,
 * or -1 and *cause (which the caller frees).
 */
int
slice_build(const struct brand *br, const struct aggregate *a, const void *rec, size_t len,
    const struct slice_query *q, struct buf *out, uint64_t *total, char **cause)
{
	struct record_meta meta;
	const char *body, *etag;
	struct table t;
	struct mp m;
	size_t blen;
	int rc;

	if (record_parse(rec, len, &meta) != 0 ||
	    record_body(rec, len, BODY_MSGPACK, &body, &blen, &etag) != 0) {
		*cause = xstrdup("not a record");
		return -1;
	}
	m.p = (const unsigned char *)body;
	m.end = m.p + blen;
	table_init(&t, a->ncols);
	if (slice_rows(&m, a->ncols, q, &t, total) != 0) {
		table_free(&t);
		*cause = xasprintf("the record of %s does not read as its columns", a->name);
		return -1;
	}
	rc = encode_record(br, a, &t, meta.generation, meta.refreshed_at, out, cause);
	table_free(&t);
	return rc;
}

/* One value of the slice key, and its rows when they are kept. */
struct slice_group {
	char		*value;
	size_t		 n;
	struct table	 t;
};

/* A record's rows grouped by its slice key, in the order the values first appear. */
struct slice_groups {
	struct slice_group	*g;
	size_t			 n;
	size_t			*idx;	/* open addressing: 0 empty, else group + 1 */
	size_t			 cap;	/* a power of two */
};

static uint64_t
slice_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void
slice_groups_grow(struct slice_groups *gs)
{
	size_t ncap = gs->cap ? gs->cap * 2 : 64, i;
	size_t *nidx = xcalloc(ncap, sizeof *nidx);

	for (size_t g = 0; g < gs->n; g++) {
		i = slice_hash(gs->g[g].value, gs->g[g].n) & (ncap - 1);
		while (nidx[i] != 0)
			i = (i + 1) & (ncap - 1);
		nidx[i] = g + 1;
	}
	free(gs->idx);
	gs->idx = nidx;
	gs->cap = ncap;
}

/* The group of value v (n bytes), made (with a table of ncols) if it is new. */
static struct slice_group *
slice_group_of(struct slice_groups *gs, const char *v, size_t n, size_t ncols)
{
	struct slice_group *g;
	size_t i;

	if (gs->n * 2 >= gs->cap)
		slice_groups_grow(gs);
	for (i = slice_hash(v, n) & (gs->cap - 1); gs->idx[i] != 0; i = (i + 1) & (gs->cap - 1)) {
		g = &gs->g[gs->idx[i] - 1];
		if (g->n == n && memcmp(g->value, v, n) == 0)
			return g;
	}
	gs->g = xreallocarray(gs->g, gs->n + 1, sizeof *gs->g);
	gs->idx[i] = ++gs->n;
	g = &gs->g[gs->n - 1];
	g->value = xstrndup(v, n);
	g->n = n;
	table_init(&g->t, ncols);
	return g;
}

static void
slice_groups_free(struct slice_groups *gs)
{
	for (size_t g = 0; g < gs->n; g++) {
		free(gs->g[g].value);
		table_free(&gs->g[g].t);
	}
	free(gs->g);
	free(gs->idx);
}

/* A cell of the slice key as the text its slice is named by; -1 for NULL. */
static int
slice_key_text(const struct mp_cell *c, char num[32], const char **v, size_t *n)
{
	if (c->kind == CELL_TEXT) {
		*v = c->s;
		*n = c->n;
		return 0;
	}
	if (c->kind == CELL_INT) {
		*n = (size_t)snprintf(num, 32, "%lld", (long long)c->i);
		*v = num;
		return 0;
	}
	return -1;	/* NULL (no filter matches it) or a double (refused by the catalogue) */
}

/*
 * Groups the rows of a record's msgpack body (mp, mplen bytes) by a's slice key into gs
 * (the rows themselves too when keep_rows). A NULL key belongs to no group: no filter
 * matches it. Returns 0, or -1 and *cause.
 */
static int
slice_group_rows(const struct aggregate *a, const char *mp, size_t mplen, int keep_rows,
    struct slice_groups *gs, char **cause)
{
	struct mp_cell *row = xcalloc(a->ncols ? a->ncols : 1, sizeof *row);
	const char *v;
	uint32_t nrows, n;
	char num[32];
	size_t vn;
	struct mp m;
	int rc = -1;

	memset(gs, 0, sizeof *gs);
	m.p = (const unsigned char *)mp;
	m.end = m.p + mplen;
	if (mp_find_rows(&m, &nrows) != 0)
		goto out;
	for (uint32_t r = 0; r < nrows; r++) {
		if (mp_array(&m, &n) != 0 || n != a->ncols)
			goto out;
		for (size_t i = 0; i < a->ncols; i++)
			if (mp_cell(&m, &row[i]) != 0)
				goto out;
		if (slice_key_text(&row[a->slice_col], num, &v, &vn) != 0)
			continue;
		struct slice_group *g = slice_group_of(gs, v, vn, a->ncols);
		if (keep_rows) {
			struct cell *dst = table_add_row(&g->t);
			for (size_t i = 0; i < a->ncols; i++)
				keep_cell(&g->t, &dst[i], &row[i]);
		}
	}
	rc = 0;
out:
	free(row);
	if (rc != 0)
		*cause = xasprintf("the record of %s does not read as its columns", a->name);
	return rc;
}

void
slice_parts_free(struct slice_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i].value);
		buf_free(&parts[i].rec);
	}
	free(parts);
}

/*
 * The slices built at publish of a record (its meta, its msgpack body mp): its rows
 * grouped by the aggregate's slice key, each group encoded as a record of its own (byte
 * for byte the slice a filter on that value computes), in the order the values first
 * appear. *parts is the caller's (slice_parts_free). Returns 0, or -1 and *cause.
 */
int
slice_partitions(const struct brand *br, const struct aggregate *a,
    const struct record_meta *meta, const char *mp, size_t mplen,
    struct slice_part **parts, size_t *nparts, char **cause)
{
	struct slice_groups gs;
	int rc = -1;

	*parts = NULL;
	*nparts = 0;
	if (slice_group_rows(a, mp, mplen, 1, &gs, cause) != 0)
		goto out;
	*parts = xcalloc(gs.n ? gs.n : 1, sizeof **parts);
	for (size_t g = 0; g < gs.n; g++) {
		struct slice_part *p = &(*parts)[(*nparts)++];
		p->value = xstrndup(gs.g[g].value, gs.g[g].n);
		p->n = gs.g[g].n;
		buf_init(&p->rec);
		if (encode_record(br, a, &gs.g[g].t, meta->generation, meta->refreshed_at,
		    &p->rec, cause) != 0)
			goto out;
		table_free(&gs.g[g].t);		/* encoded: its memory can go */
	}
	rc = 0;
out:
	slice_groups_free(&gs);
	if (rc != 0) {
		slice_parts_free(*parts, *nparts);
		*parts = NULL;
		*nparts = 0;
	}
	return rc;
}

/*
 * The store names (slice_part_name) of the slices of a record whose msgpack body is mp,
 * each once, in the order their values first appear; a value that cannot be named is
 * left out (its slice is computed). What an unchanged aggregate's slices are carried into
 * a new snapshot by. *names is the caller's (each, then the array). 0, or -1 and *cause.
 */
int
slice_part_names(const struct aggregate *a, const char *mp, size_t mplen, char ***names,
    size_t *nnames, char **cause)
{
	struct slice_groups gs;

	*names = NULL;
	*nnames = 0;
	if (slice_group_rows(a, mp, mplen, 0, &gs, cause) != 0) {
		slice_groups_free(&gs);
		return -1;
	}
	*names = xcalloc(gs.n ? gs.n : 1, sizeof **names);
	for (size_t g = 0; g < gs.n; g++)
		if (((*names)[*nnames] = slice_part_name(a->name, gs.g[g].value,
		    gs.g[g].n)) != NULL)
			(*nnames)++;
	slice_groups_free(&gs);
	return 0;
}

/*
 * The store's name of the slice of aggregate agg whose slice key is value (n bytes):
 * "agg#value", which no aggregate name can be; NULL when it cannot be a key (too long for
 * LMDB, or holding a NUL): that value's slice is then computed on request.
 */
char *
slice_part_name(const char *agg, const char *value, size_t n)
{
	if (n > 256 || memchr(value, '\0', n) != NULL)
		return NULL;
	return xasprintf("%s#%.*s", agg, (int)n, value);
}

/*
 * The value of q's filter on the slice key (*which: its index in q->filters), which names
 * the slice built at publish that holds every row q can match; NULL when q has no filter
 * on the slice key. num holds an integer's text.
 */
const char *
slice_part_value(const struct aggregate *a, const struct slice_query *q, char num[32],
    size_t *n, size_t *which)
{
	const struct slice_filter *f = NULL;

	for (size_t i = 0; a->slice_key != NULL && i < q->nfilters && f == NULL; i++)
		if (q->filters[i].col == a->slice_col) {
			f = &q->filters[i];
			*which = i;
		}
	if (f == NULL)
		return NULL;
	if (f->kind == CELL_INT) {
		*n = (size_t)snprintf(num, 32, "%lld", (long long)f->i);
		return num;
	}
	*n = f->n;
	return f->s;
}

/*
 * A slice's ETag: the first 128 bits of SHA-256 over the whole body's ETag (which changes
 * with the snapshot's bytes and names the variant) and the canonical query, quoted. The
 * serving thread computes it before any slice is built, so a 304 costs no work.
 */
void
slice_etag(const char *whole_etag, const struct slice_query *q, char out[ETAG_LEN + 1])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char num[64];
	int n;

	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		fatal("EVP_DigestInit failed");
	EVP_DigestUpdate(ctx, whole_etag, strlen(whole_etag));
	n = snprintf(num, sizeof num, "\n%llu %llu %zu", (unsigned long long)q->offset,
	    (unsigned long long)q->limit, q->nfilters);
	EVP_DigestUpdate(ctx, num, (size_t)n);
	for (size_t i = 0; i < q->nfilters; i++) {
		/* column and length first: no two queries hash the same bytes */
		n = snprintf(num, sizeof num, "\n%zu %zu ", q->filters[i].col, q->filters[i].n);
		EVP_DigestUpdate(ctx, num, (size_t)n);
		EVP_DigestUpdate(ctx, q->filters[i].s, q->filters[i].n);
	}
	if (!EVP_DigestFinal_ex(ctx, h, &hlen))
		fatal("EVP_DigestFinal failed");
	EVP_MD_CTX_free(ctx);
	record_etag_hex(h, out);
}

/*
 * Reads value (n bytes, as given in the query) as a filter on column col of a, into f.
 * Text is kept as given (pointing at value, which must outlive f); numbers must read
 * whole. Returns 0, or -1 and *cause naming what is wrong.
 */
int
slice_filter_parse(const struct aggregate *a, size_t col, const char *value,
    struct slice_filter *f, char **cause)
{
	const struct column *c = &a->cols[col];
	size_t n = strlen(value);
	char *end;

	memset(f, 0, sizeof *f);
	f->col = col;
	f->s = value;
	f->n = n;
	if (n == 0) {
		*cause = xasprintf("filter '%s' needs a value", c->name);
		return -1;
	}
	switch (c->type) {
	case COL_STRING:
	case COL_DATE:
		f->kind = CELL_TEXT;
		return 0;
	case COL_INT64:
		f->kind = CELL_INT;
		errno = 0;
		f->i = strtoll(value, &end, 10);
		if (*end == '\0' && errno == 0 && (value[0] == '-' || (value[0] >= '0' &&
		    value[0] <= '9')))
			return 0;
		*cause = xasprintf("filter '%s' must be an integer", c->name);
		return -1;
	case COL_DOUBLE:
		f->kind = CELL_DOUBLE;
		f->d = strtod(value, &end);
		if (*end == '\0' && isfinite(f->d))
			return 0;
		*cause = xasprintf("filter '%s' must be a finite number", c->name);
		return -1;
	}
	*cause = xasprintf("column '%s' cannot be filtered", c->name);
	return -1;
}
