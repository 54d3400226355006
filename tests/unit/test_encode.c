/*
 * test_encode.c — the pre-encoded bodies: JSON parses (with jansson, an independent
 * parser) to exactly the table; gzip inflates to the JSON bytes; msgpack unpacks to the
 * same values; CSV quotes what needs quoting; ETags and the content hash change exactly
 * when the content does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <msgpack.h>
#include <zlib.h>

#include "tpcd.h"
#include "fixture.h"

static struct column cols[] = {
	{ "month", COL_STRING, "dimension", "none", "Month", "월" },
	{ "n", COL_INT64, "measure", "count", "N", "수" },
	{ "rate", COL_DOUBLE, "measure", "%", "Rate", "비율" },
	{ "day", COL_DATE, "dimension", "none", "Day", "일" },
};
static struct aggregate agg = { .name = "t", .cols = cols, .ncols = 4 };
static struct brand brand = { .id = "a", .name = "Brand A", .schema = "brand_a" };

static void
fill(struct table *t, int64_t n)
{
	struct cell *r;

	table_init(t, 4);
	r = table_add_row(t);
	table_set_text(t, &r[0], "2026-01", 7);
	r[1].kind = CELL_INT; r[1].v.i = n;
	r[2].kind = CELL_DOUBLE; r[2].v.d = 0.1;
	table_set_text(t, &r[3], "2026-01-31", 10);
	r = table_add_row(t);
	table_set_text(t, &r[0], "say \"hi\",\n\x01", 11);
	r[1].kind = CELL_INT; r[1].v.i = INT64_MIN;
	r[2].kind = CELL_DOUBLE; r[2].v.d = 1.0 / 3.0;
	/* r[3] stays NULL */
}

static const char *
body(const struct buf *rec, enum body_variant v, size_t *len, const char **etag)
{
	const char *b;

	assert_int_equal(record_body(rec->data, rec->len, v, &b, len, etag), 0);
	return b;
}

static void
test_json(void **state)
{
	struct table t;
	struct buf rec;
	char *cause = NULL;
	const char *etag, *b;
	size_t len;
	json_error_t err;
	json_t *j, *rows;

	(void)state;
	fill(&t, 42);
	buf_init(&rec);
	assert_int_equal(encode_record(&brand, &agg, &t, 7, 1767225600, &rec, &cause), 0);
	b = body(&rec, BODY_JSON, &len, &etag);
	j = json_loadb(b, len, 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "brand")), "a");
	assert_int_equal(json_integer_value(json_object_get(j, "generation")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "refreshed_at")),
	    "2026-01-01T00:00:00Z");
	rows = json_object_get(j, "rows");
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(rows, 0), 1)), 42);
	assert_true(json_real_value(json_array_get(json_array_get(rows, 0), 2)) == 0.1);
	assert_true(json_real_value(json_array_get(json_array_get(rows, 1), 2)) == 1.0 / 3.0);
	assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 1), 0)),
	    "say \"hi\",\n\x01");
	assert_int_equal(json_integer_value(json_array_get(json_array_get(rows, 1), 1)),
	    INT64_MIN);
	assert_true(json_is_null(json_array_get(json_array_get(rows, 1), 3)));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "columns"), 2), "type")), "double");
	json_decref(j);
	buf_free(&rec);
	table_free(&t);
}

static void
test_gzip(void **state)
{
	struct table t;
	struct buf rec;
	char *cause = NULL, out[4096];
	const char *etag, *etag_gz, *plain, *gz;
	size_t len, gzlen;
	z_stream zs;

	(void)state;
	fill(&t, 1);
	buf_init(&rec);
	assert_int_equal(encode_record(&brand, &agg, &t, 1, 0, &rec, &cause), 0);
	plain = body(&rec, BODY_JSON, &len, &etag);
	gz = body(&rec, BODY_JSON_GZ, &gzlen, &etag_gz);
	assert_string_not_equal(etag, etag_gz);
	memset(&zs, 0, sizeof zs);
	assert_int_equal(inflateInit2(&zs, 31), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)gz;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = (Bytef *)out;
	zs.avail_out = sizeof out;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, len);
	assert_memory_equal(out, plain, len);
	inflateEnd(&zs);
	buf_free(&rec);
	table_free(&t);
}

static void
test_msgpack(void **state)
{
	struct table t;
	struct buf rec;
	char *cause = NULL;
	const char *etag, *b;
	size_t len, off = 0;
	msgpack_unpacked u;

	(void)state;
	fill(&t, 5);
	buf_init(&rec);
	assert_int_equal(encode_record(&brand, &agg, &t, 3, 0, &rec, &cause), 0);
	b = body(&rec, BODY_MSGPACK, &len, &etag);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, b, len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, len);
	msgpack_object_map m = u.data.via.map;
	assert_int_equal(m.size, 6);
	msgpack_object rows = m.ptr[5].val;
	assert_int_equal(rows.via.array.size, 2);
	msgpack_object r0 = rows.via.array.ptr[0];
	assert_int_equal(r0.via.array.ptr[1].via.u64, 5);
	assert_true(r0.via.array.ptr[2].via.f64 == 0.1);
	assert_int_equal(rows.via.array.ptr[1].via.array.ptr[3].type, MSGPACK_OBJECT_NIL);
	assert_int_equal(rows.via.array.ptr[1].via.array.ptr[1].via.i64, INT64_MIN);
	msgpack_unpacked_destroy(&u);
	buf_free(&rec);
	table_free(&t);
}

static void
test_csv(void **state)
{
	struct table t;
	struct buf rec;
	char *cause = NULL;
	const char *etag, *b;
	size_t len;
	/* 1/3 needs 17 digits to round-trip */
	const char *want17 = "month,n,rate,day\r\n"
	    "2026-01,9,0.1,2026-01-31\r\n"
	    "\"say \"\"hi\"\",\n\x01\",-9223372036854775808,0.33333333333333331,\r\n";

	(void)state;
	fill(&t, 9);
	buf_init(&rec);
	assert_int_equal(encode_record(&brand, &agg, &t, 3, 0, &rec, &cause), 0);
	b = body(&rec, BODY_CSV, &len, &etag);
	assert_int_equal(len, strlen(want17));
	assert_memory_equal(b, want17, len);
	buf_free(&rec);
	table_free(&t);
}

static void
test_etag_tracks_content(void **state)
{
	struct table t1, t2, t3;
	struct buf r1, r2, r3;
	struct record_meta m1, m2, m3;
	char *cause = NULL;
	const char *e1, *e2, *e3, *b;
	size_t len;

	(void)state;
	fill(&t1, 1);
	fill(&t2, 1);
	fill(&t3, 2);
	buf_init(&r1); buf_init(&r2); buf_init(&r3);
	assert_int_equal(encode_record(&brand, &agg, &t1, 1, 100, &r1, &cause), 0);
	assert_int_equal(encode_record(&brand, &agg, &t2, 1, 100, &r2, &cause), 0);
	assert_int_equal(encode_record(&brand, &agg, &t3, 2, 200, &r3, &cause), 0);
	b = body(&r1, BODY_JSON, &len, &e1);
	b = body(&r2, BODY_JSON, &len, &e2);
	b = body(&r3, BODY_JSON, &len, &e3);
	(void)b;
	assert_int_equal(strlen(e1), ETAG_LEN);
	assert_string_equal(e1, e2);		/* same bytes, same tag */
	assert_string_not_equal(e1, e3);
	assert_int_equal(record_parse(r1.data, r1.len, &m1), 0);
	assert_int_equal(record_parse(r2.data, r2.len, &m2), 0);
	assert_int_equal(record_parse(r3.data, r3.len, &m3), 0);
	assert_memory_equal(m1.content_hash, m2.content_hash, 32);
	assert_memory_not_equal(m1.content_hash, m3.content_hash, 32);
	/* the content hash ignores generation and time: only columns and rows count */
	buf_reset(&r2);
	assert_int_equal(encode_record(&brand, &agg, &t1, 9, 999, &r2, &cause), 0);
	assert_int_equal(record_parse(r2.data, r2.len, &m2), 0);
	assert_memory_equal(m1.content_hash, m2.content_hash, 32);
	assert_int_equal(m2.generation, 9);
	assert_int_equal(m1.rows, 2);
	/* a damaged record is refused */
	assert_int_equal(record_parse(r1.data, 10, &m1), -1);
	buf_free(&r1); buf_free(&r2); buf_free(&r3);
	table_free(&t1); table_free(&t2); table_free(&t3);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_msgpack),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_etag_tracks_content),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
