/*
 * encode.c — turns one aggregate's table into every response body tpcd will ever send
 * for it (JSON, gzip'd JSON, msgpack, CSV, gzip'd CSV), built straight into a record whose
 * header and ETags record.c writes. Runs once per aggregate at publish; a GET only slices
 * the record (record_body). Knows nothing about LMDB, HTTP or the record's layout.
 *
 * JSON is written by a streaming writer rather than through jansson: jansson builds a
 * tree first, which for a million-row pull costs a node per cell. The writer is checked
 * against jansson's parser in tests/unit/test_encode.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zlib.h>

#include "tpcd.h"

/*
 * Appends the gzip of out's bytes [from, from + n) to out itself: room is reserved first,
 * so the input does not move while it is read. Bodies over 1 MiB get level 1 — their
 * deflate dominated publish time at level 6 for a few percent of size.
 */
static int
gzip_append(struct buf *out, size_t from, size_t n)
{
	z_stream zs;
	size_t bound;
	int rc;

	memset(&zs, 0, sizeof zs);
	/* windowBits 15 + 16: a gzip wrapper, which is what Content-Encoding: gzip means. */
	if (deflateInit2(&zs, n > (1u << 20) ? 1 : 6, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, n);
	buf_grow(out, bound);
	zs.next_in = (Bytef *)(out->data + from);
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)(out->data + out->len);
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	out->len += zs.total_out;
	out->data[out->len] = '\0';
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* Shortest of %.15g / %.17g that reads back as the same double. */
static void
format_double(double d, char out[32])
{
	snprintf(out, 32, "%.15g", d);
	if (strtod(out, NULL) != d)
		snprintf(out, 32, "%.17g", d);
}

static void
json_cell(struct buf *b, const struct table *t, const struct cell *c)
{
	char num[32];

	switch (c->kind) {
	case CELL_NULL:
		buf_adds(b, "null");
		break;
	case CELL_INT:
		buf_printf(b, "%lld", (long long)c->v.i);
		break;
	case CELL_DOUBLE:
		if (!isfinite(c->v.d)) {
			buf_adds(b, "null");
			break;
		}
		format_double(c->v.d, num);
		buf_adds(b, num);
		break;
	case CELL_TEXT:
		buf_json_escape(b, table_text(t, c), c->v.t.len);
		break;
	}
}

static void
encode_json(struct buf *b, const struct brand *br, const struct aggregate *a,
    const struct table *t, uint64_t gen, int64_t at)
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
	for (size_t r = 0; r < t->nrows; r++) {
		buf_adds(b, r ? ",[" : "[");
		for (size_t i = 0; i < t->ncols; i++) {
			if (i)
				buf_addc(b, ',');
			json_cell(b, t, table_cell(t, r, i));
		}
		buf_addc(b, ']');
	}
	buf_adds(b, "]}\n");
}

/* RFC 4180: a header of column names, CRLF line ends, NULL as an empty field. */
static void
encode_csv(struct buf *b, const struct aggregate *a, const struct table *t)
{
	char num[32];

	for (size_t i = 0; i < a->ncols; i++) {
		if (i)
			buf_addc(b, ',');
		util_csv_field(b, a->cols[i].name, strlen(a->cols[i].name));
	}
	buf_adds(b, "\r\n");
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const struct cell *c = table_cell(t, r, i);
			if (i)
				buf_addc(b, ',');
			if (c->kind == CELL_INT)
				buf_printf(b, "%lld", (long long)c->v.i);
			else if (c->kind == CELL_DOUBLE && isfinite(c->v.d)) {
				format_double(c->v.d, num);
				buf_adds(b, num);
			} else if (c->kind == CELL_TEXT)
				util_csv_field(b, table_text(t, c), c->v.t.len);
		}
		buf_adds(b, "\r\n");
	}
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

/* The msgpack body; *content_off is where "columns" starts (the content hash covers it). */
static void
encode_msgpack(struct buf *b, const struct brand *br, const struct aggregate *a,
    const struct table *t, uint64_t gen, int64_t at, size_t *content_off)
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
	msgpack_pack_array(&pk, t->nrows);
	for (size_t r = 0; r < t->nrows; r++) {
		msgpack_pack_array(&pk, t->ncols);
		for (size_t i = 0; i < t->ncols; i++) {
			const struct cell *c = table_cell(t, r, i);
			switch (c->kind) {
			case CELL_NULL: msgpack_pack_nil(&pk); break;
			case CELL_INT: msgpack_pack_int64(&pk, c->v.i); break;
			case CELL_DOUBLE: msgpack_pack_double(&pk, c->v.d); break;
			case CELL_TEXT:
				msgpack_pack_str(&pk, c->v.t.len);
				msgpack_pack_str_body(&pk, table_text(t, c), c->v.t.len);
				break;
			}
		}
	}
}

/*
 * Builds the record for table t into out (which the caller owns and frees).
 * Returns 0, or -1 and *cause when a body cannot be built.
 */
int
encode_record(const struct brand *br, const struct aggregate *a, const struct table *t,
    uint64_t generation, int64_t refreshed_at, struct buf *out, char **cause)
{
	size_t start[BODY_NVARIANTS], end[BODY_NVARIANTS], content_off;

	/*
	 * Every body goes straight into the record, after room for the header: a million-row
	 * aggregate is built once, not once in its own buffer and again in the record.
	 */
	record_begin(out);
	start[BODY_JSON] = out->len;
	encode_json(out, br, a, t, generation, refreshed_at);
	end[BODY_JSON] = start[BODY_JSON_GZ] = out->len;
	if (gzip_append(out, start[BODY_JSON], end[BODY_JSON] - start[BODY_JSON]) != 0)
		goto gzfail;
	end[BODY_JSON_GZ] = start[BODY_MSGPACK] = out->len;
	encode_msgpack(out, br, a, t, generation, refreshed_at, &content_off);
	end[BODY_MSGPACK] = start[BODY_CSV] = out->len;
	encode_csv(out, a, t);
	end[BODY_CSV] = start[BODY_CSV_GZ] = out->len;
	if (gzip_append(out, start[BODY_CSV], end[BODY_CSV] - start[BODY_CSV]) != 0)
		goto gzfail;
	end[BODY_CSV_GZ] = out->len;
	/* The content hash covers msgpack's columns and rows: it changes with the data only. */
	if (record_seal(out, generation, refreshed_at, t->nrows, start, end, content_off,
	    end[BODY_MSGPACK]) != 0) {
		*cause = xasprintf("aggregate %s is too large (%zu bytes)", a->name, out->len);
		return -1;
	}
	return 0;
gzfail:
	*cause = xstrdup("gzip failed");
	return -1;
}
