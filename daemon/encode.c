/*
 * encode.c — turns one aggregate's rows, as the source delivers them, into every response
 * body tpcd will ever send for it (JSON, gzip'd JSON, msgpack, CSV, gzip'd CSV), sealed
 * into a record whose header and ETags record.c writes. Runs once per aggregate at
 * publish, on the refresh thread; a GET only slices the record (record_body). Knows
 * nothing about LMDB, HTTP, the record's layout or where the rows come from.
 *
 * Streaming: a source hands rows over in small batches (a struct table it empties
 * again), each formatted once and appended to the bodies, so no whole result is held
 * as cells. Each body grows in its own buffer (msgpack's rows after room for its head
 * and the array length, known only at the end); encode_finish_out hands the buffers to a
 * record_out, which the store copies into place. The bytes are those of the whole-table
 * encoder before it (tests/golden/reference, tests/unit/test_stream.c).
 *
 * JSON is written by a streaming writer rather than through jansson: jansson builds a
 * tree first, which for a million-row pull costs a node per cell. The writer is checked
 * against jansson's parser in tests/unit/test_encode.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <msgpack.h>
#include <zlib.h>

#include "tpcd.h"

/* Bodies up to this size get zlib at level 6, larger ones libdeflate at level 1. */
#define ENCODE_GZ_SMALL	(1u << 20)

struct encoder {
	const struct brand	*br;
	const struct aggregate	*a;
	uint64_t		 generation;
	int64_t			 refreshed_at;
	uint64_t		 rows;
	struct buf		 json;
	/*
	 * msgpack: room for its head and the rows array's header, then the rows; the head
	 * goes in at the end, right before the header, once the row count sizes it
	 */
	struct buf		 mp_head;
	size_t			 content_off;	/* in mp_head: where "columns" starts */
	struct buf		 mp;
	msgpack_packer		 pk;		/* appends the rows to mp */
	struct buf		 csv;
};

/*
 * The gzip of in's n bytes into out (emptied first). Measured on the refresh's bodies
 * (profile-ingest notes): libdeflate at level 1 deflates 2x faster than zlib at level 1
 * and 8 % smaller; zlib's level 6 stays for bodies up to 1 MiB, where it costs little and
 * keeps the bytes (and ETags) every earlier release built.
 */
static int
gzip_body(struct buf *out, const char *in, size_t n)
{
	struct libdeflate_compressor *c;
	z_stream zs;
	size_t bound, got;
	int rc;

	buf_reset(out);
	if (n > ENCODE_GZ_SMALL) {
		if ((c = libdeflate_alloc_compressor(1)) == NULL)
			return -1;
		bound = libdeflate_gzip_compress_bound(c, n);
		buf_grow(out, bound);
		got = libdeflate_gzip_compress(c, in, n, out->data, bound);
		libdeflate_free_compressor(c);
		if (got == 0)
			return -1;
		out->len = got;
		out->data[out->len] = '\0';
		return 0;
	}
	memset(&zs, 0, sizeof zs);
	/* windowBits 15 + 16: a gzip wrapper, which is what Content-Encoding: gzip means. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, n);
	buf_grow(out, bound);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)out->data;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	out->len = zs.total_out;
	out->data[out->len] = '\0';
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* Shortest of %.15g / %.17g that reads back as the same double. */
static size_t
format_double(double d, char out[32])
{
	int n = snprintf(out, 32, "%.15g", d);

	if (strtod(out, NULL) != d)
		n = snprintf(out, 32, "%.17g", d);
	return (size_t)n;
}

/* "%lld" without printf: the bodies format millions of integers. */
static size_t
format_int(int64_t v, char out[32])
{
	char tmp[24];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[k++] = '-';
	while (n > 0)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}

static int
msgpack_buf_write(void *data, const char *p, size_t n)
{
	buf_add(data, p, n);
	return 0;
}

static void
mp_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* The JSON body up to its rows. */
static void
encode_json_head(struct buf *b, const struct brand *br, const struct aggregate *a,
    uint64_t gen, int64_t at)
{
	char ts[32];

	clock_iso8601(at, ts);
	buf_adds(b, "{\"brand\":");
	buf_json_escape(b, br->id, strlen(br->id));
	buf_adds(b, ",\"aggregate\":");
	buf_json_escape(b, a->name, strlen(a->name));
	buf_printf(b, ",\"generation\":%llu,\"refreshed_at\":\"%s\",\"columns\":[",
	    (unsigned long long)gen, ts);
	for (size_t i = 0; i < a->ncols; i++) {
		buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		buf_json_escape(b, a->cols[i].name, strlen(a->cols[i].name));
		buf_printf(b, ",\"type\":\"%s\"}", col_type_name(a->cols[i].type));
	}
	buf_adds(b, "],\"rows\":[");
}

/* The msgpack body up to the rows array; *content_off is where "columns" starts. */
static void
encode_msgpack_head(struct buf *b, const struct brand *br, const struct aggregate *a,
    uint64_t gen, int64_t at, size_t *content_off)
{
	msgpack_packer pk;
	char ts[32];

	msgpack_packer_init(&pk, b, msgpack_buf_write);
	clock_iso8601(at, ts);
	msgpack_pack_map(&pk, 6);
	mp_str(&pk, "brand"); mp_str(&pk, br->id);
	mp_str(&pk, "aggregate"); mp_str(&pk, a->name);
	mp_str(&pk, "generation"); msgpack_pack_uint64(&pk, gen);
	mp_str(&pk, "refreshed_at"); mp_str(&pk, ts);
	*content_off = b->len;
	mp_str(&pk, "columns");
	msgpack_pack_array(&pk, a->ncols);
	for (size_t i = 0; i < a->ncols; i++) {
		msgpack_pack_map(&pk, 2);
		mp_str(&pk, "name"); mp_str(&pk, a->cols[i].name);
		mp_str(&pk, "type"); mp_str(&pk, col_type_name(a->cols[i].type));
	}
	mp_str(&pk, "rows");
}

/* RFC 4180: a header of column names, CRLF line ends, NULL as an empty field. */
static void
encode_csv_head(struct buf *b, const struct aggregate *a)
{
	for (size_t i = 0; i < a->ncols; i++) {
		if (i)
			buf_addc(b, ',');
		util_csv_field(b, a->cols[i].name, strlen(a->cols[i].name));
	}
	buf_adds(b, "\r\n");
}

/*
 * Starts the bodies of aggregate a of brand br; rows follow (encode_table), then
 * encode_finish. The caller frees the encoder with encode_free.
 */
struct encoder *
encode_begin(const struct brand *br, const struct aggregate *a, uint64_t generation,
    int64_t refreshed_at)
{
	struct encoder *e = xcalloc(1, sizeof *e);

	e->br = br;
	e->a = a;
	e->generation = generation;
	e->refreshed_at = refreshed_at;
	buf_init(&e->json);
	buf_init(&e->mp_head);
	buf_init(&e->mp);
	buf_init(&e->csv);
	encode_json_head(&e->json, br, a, generation, refreshed_at);
	encode_msgpack_head(&e->mp_head, br, a, generation, refreshed_at, &e->content_off);
	buf_grow(&e->mp, e->mp_head.len + 5);
	memset(e->mp.data, 0, e->mp_head.len + 5);
	e->mp.len = e->mp_head.len + 5;
	encode_csv_head(&e->csv, a);
	msgpack_packer_init(&e->pk, &e->mp, msgpack_buf_write);
	return e;
}

/* The most a cell can take in the JSON (escaped) and CSV (quoted) bodies. */
static size_t
cell_room(const struct cell *cl)
{
	return cl->kind == CELL_TEXT ? 6 * cl->v.t.len + 2 : 32;
}

/* As buf_json_escape, at p (room reserved by the caller); returns the new end. */
static char *
json_text(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*p++ = (char)ch;
			continue;
		}
		*p++ = '\\';
		switch (ch) {
		case '"':  *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		default:
			memcpy(p, "u00", 3);
			p[3] = hex[ch >> 4];
			p[4] = hex[ch & 15];
			p += 5;
		}
	}
	*p++ = '"';
	return p;
}

/* As util_csv_field, at p (room reserved by the caller); returns the new end. */
static char *
csv_text(char *p, const char *s, size_t n)
{
	if (strcspn(s, ",\"\r\n") >= n) {
		memcpy(p, s, n);
		return p + n;
	}
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	return p;
}

/*
 * One row into the three bodies; each number is formatted once for JSON and CSV. Room
 * for the row's widest form is made once, then the JSON and CSV are written in place:
 * a million rows are millions of cells, each too small for a call that checks room.
 */
static void
encode_row(struct encoder *e, const struct table *t, size_t r)
{
	const struct cell *row = table_cell(t, r, 0);
	struct buf *j = &e->json, *c = &e->csv;
	size_t room = 4 + t->ncols;
	char num[32], *jp, *cp;
	size_t n;

	for (size_t i = 0; i < t->ncols; i++)
		room += cell_room(&row[i]);
	buf_grow(j, room);
	buf_grow(c, room);
	jp = j->data + j->len;
	cp = c->data + c->len;
	if (e->rows)
		*jp++ = ',';
	*jp++ = '[';
	msgpack_pack_array(&e->pk, t->ncols);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct cell *cl = &row[i];

		if (i) {
			*jp++ = ',';
			*cp++ = ',';
		}
		switch (cl->kind) {
		case CELL_NULL:
			memcpy(jp, "null", 4);
			jp += 4;
			msgpack_pack_nil(&e->pk);
			break;
		case CELL_INT:
			n = format_int(cl->v.i, num);
			memcpy(jp, num, n);
			memcpy(cp, num, n);
			jp += n;
			cp += n;
			msgpack_pack_int64(&e->pk, cl->v.i);
			break;
		case CELL_DOUBLE:
			if (isfinite(cl->v.d)) {
				n = format_double(cl->v.d, num);
				memcpy(jp, num, n);
				memcpy(cp, num, n);
				jp += n;
				cp += n;
			} else {
				memcpy(jp, "null", 4);
				jp += 4;
			}
			msgpack_pack_double(&e->pk, cl->v.d);
			break;
		case CELL_TEXT:
			jp = json_text(jp, table_text(t, cl), cl->v.t.len);
			cp = csv_text(cp, table_text(t, cl), cl->v.t.len);
			msgpack_pack_str(&e->pk, cl->v.t.len);
			msgpack_pack_str_body(&e->pk, table_text(t, cl), cl->v.t.len);
			break;
		}
	}
	*jp++ = ']';
	*cp++ = '\r';
	*cp++ = '\n';
	j->len = (size_t)(jp - j->data);
	c->len = (size_t)(cp - c->data);
	j->data[j->len] = '\0';
	c->data[c->len] = '\0';
	e->rows++;
}

/* Appends every row of t, in order (the caller may then empty t for the next batch). */
void
encode_table(struct encoder *e, const struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		encode_row(e, t, r);
}

uint64_t
encode_rows(const struct encoder *e)
{
	return e->rows;
}

/*
 * Ends the bodies and seals them into a record_out (the caller frees it), the bodies
 * moved into it, not copied: the store copies them into place one by one. Returns it,
 * or NULL and *cause.
 */
struct record_out *
encode_finish_out(struct encoder *e, char **cause)
{
	struct record_out *o = record_out_new();
	msgpack_packer pk;
	struct buf arr;
	size_t lead;

	buf_add(&e->json, "]}\n", 3);
	/* the rows array's header, right before the rows; the head right before it */
	buf_init(&arr);
	msgpack_packer_init(&pk, &arr, msgpack_buf_write);
	msgpack_pack_array(&pk, e->rows);
	lead = 5 - arr.len;
	memcpy(e->mp.data + lead, e->mp_head.data, e->mp_head.len);
	memcpy(e->mp.data + lead + e->mp_head.len, arr.data, arr.len);
	buf_free(&arr);
	o->body[BODY_JSON] = e->json;
	o->body[BODY_MSGPACK] = e->mp;
	o->off[BODY_MSGPACK] = lead;
	o->body[BODY_CSV] = e->csv;
	buf_init(&e->json);
	buf_init(&e->mp);
	buf_init(&e->csv);
	for (int v = 0; v < BODY_NVARIANTS; v++)
		o->len[v] = o->body[v].len - o->off[v];
	if (gzip_body(&o->body[BODY_JSON_GZ], o->body[BODY_JSON].data,
	    o->len[BODY_JSON]) != 0 || gzip_body(&o->body[BODY_CSV_GZ],
	    o->body[BODY_CSV].data, o->len[BODY_CSV]) != 0) {
		*cause = xstrdup("gzip failed");
		record_out_free(o);
		return NULL;
	}
	o->len[BODY_JSON_GZ] = o->body[BODY_JSON_GZ].len;
	o->len[BODY_CSV_GZ] = o->body[BODY_CSV_GZ].len;
	/* The content hash covers msgpack's columns and rows: it changes with the data only. */
	if (record_out_seal(o, e->generation, e->refreshed_at, e->rows, e->content_off) != 0) {
		*cause = xasprintf("aggregate %s is too large", e->a->name);
		record_out_free(o);
		return NULL;
	}
	return o;
}

/*
 * Ends the bodies and writes the whole record into out (emptied first; the caller owns
 * and frees it). Returns 0, or -1 and *cause.
 */
int
encode_finish(struct encoder *e, struct buf *out, char **cause)
{
	struct record_out *o = encode_finish_out(e, cause);

	if (o == NULL)
		return -1;
	buf_reset(out);
	buf_grow(out, o->total);
	record_out_write(o, out->data);
	out->len = o->total;
	out->data[out->len] = '\0';
	record_out_free(o);
	return 0;
}

void
encode_free(struct encoder *e)
{
	if (e == NULL)
		return;
	buf_free(&e->json);
	buf_free(&e->mp_head);
	buf_free(&e->mp);
	buf_free(&e->csv);
	free(e);
}

/*
 * Builds the record for a whole table t into out (which the caller owns and frees).
 * Returns 0, or -1 and *cause when a body cannot be built.
 */
int
encode_record(const struct brand *br, const struct aggregate *a, const struct table *t,
    uint64_t generation, int64_t refreshed_at, struct buf *out, char **cause)
{
	struct encoder *e = encode_begin(br, a, generation, refreshed_at);
	int rc;

	encode_table(e, t);
	rc = encode_finish(e, out, cause);
	encode_free(e);
	return rc;
}

/*
 * (Re)starts pull p's encoder, before its first row. Content-addressed: with the
 * source's data timestamp, the record's generation and time are that timestamp's
 * (milliseconds, seconds), so every instance that pulls the same data builds the same
 * bytes and ETags, and a newer generation always means newer data. Without one, the
 * candidate snapshot's, which refresh set before the pull.
 */
void
encode_pull_begin(struct pull *p)
{
	uint64_t gen = p->snap_generation;
	int64_t at = p->snap_at, dms;

	if (clock_parse_iso8601_ms(p->data_ts, &dms) == 0 && dms > 0) {
		gen = (uint64_t)dms;
		at = dms / 1000;
	}
	encode_free(p->enc);
	p->enc = encode_begin(p->brand, p->agg, gen, at);
}

/* Encodes the batch t into p's bodies and empties it for the next rows. */
void
encode_pull_rows(struct pull *p, struct table *t)
{
	encode_table(p->enc, t);
	table_clear(t);
}
