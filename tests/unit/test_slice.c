/*
 * test_slice.c — slices of a record: a window covering every row is the whole record
 * byte for byte (so every cell kind survives the msgpack round trip: integers of every
 * width and sign, doubles, NaN, NULL, long and non-ASCII text); windows and filters keep
 * exactly the rows an independent filter over the table keeps; filter values parse by
 * column type; the ETag follows the whole body's and the canonical query; the cache of
 * built slices evicts by bytes in LRU order and never frees what a reply still holds.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static struct column cols[] = {
	{ "month", COL_STRING, "dimension", "none", "Month", "월" },
	{ "hour", COL_INT64, "dimension", "none", "Hour", "시" },
	{ "n", COL_INT64, "measure", "count", "N", "수" },
	{ "rate", COL_DOUBLE, "measure", "%", "Rate", "비율" },
	{ "day", COL_DATE, "dimension", "none", "Day", "일" },
};
static struct aggregate agg = { .name = "t", .cols = cols, .ncols = 5 };
static struct brand brand = { .id = "a", .name = "Brand A", .schema = "brand_a" };

static const int64_t ints[] = {
	0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -32768, -32769,
	INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MAX,
	INT64_MIN,
};
#define NROWS	200

/* Row r: month by r % 3, hour r % 24, n from ints[], doubles and texts of every kind. */
static void
fill(struct table *t)
{
	static char longtext[70000];

	memset(longtext, 'x', sizeof longtext - 1);
	table_init(t, 5);
	for (int r = 0; r < NROWS; r++) {
		struct cell *c = table_add_row(t);
		char m[16];
		snprintf(m, sizeof m, "2025-%02d", 1 + r % 3);
		table_set_text(t, &c[0], m, strlen(m));
		c[1].kind = CELL_INT;
		c[1].v.i = r % 24;
		c[2].kind = CELL_INT;
		c[2].v.i = ints[r % (sizeof ints / sizeof ints[0])];
		if (r % 7 == 3)
			c[2].kind = CELL_NULL;
		c[3].kind = CELL_DOUBLE;
		c[3].v.d = r % 11 == 5 ? NAN : r / 3.0 - 20;
		if (r % 13 == 0)
			table_set_text(t, &c[4], "서울 \"q\",\n", strlen("서울 \"q\",\n"));
		else if (r == 41)
			table_set_text(t, &c[4], longtext, sizeof longtext - 1);	/* str32 */
		else if (r % 5 != 0)
			table_set_text(t, &c[4], "2025-01-31", 10);
	}
}

static void
whole_and_slice(const struct slice_query *q, struct buf *whole, struct buf *sl,
    uint64_t *total)
{
	struct table t;
	char *cause = NULL;

	fill(&t);
	buf_init(whole);
	buf_init(sl);
	assert_int_equal(encode_record(&brand, &agg, &t, 7, 1700000000, whole, &cause), 0);
	table_free(&t);
	assert_int_equal(slice_build(&brand, &agg, whole->data, whole->len, q, sl, total,
	    &cause), 0);
}

static void
test_everything_is_the_whole(void **state)
{
	struct slice_query q = { .offset = 0, .limit = NROWS };
	struct buf whole, sl;
	uint64_t total;

	(void)state;
	whole_and_slice(&q, &whole, &sl, &total);
	assert_int_equal(total, NROWS);
	assert_int_equal(sl.len, whole.len);
	assert_memory_equal(sl.data, whole.data, whole.len);
	buf_free(&whole);
	buf_free(&sl);
}

/* The slice's rows equal the whole table's rows that pass, re-encoded independently. */
static void
expect_rows(const struct slice_query *q, int (*pass)(int r), int some)
{
	struct buf whole, sl, ref;
	struct table t, kept;
	uint64_t total, seen = 0;
	char *cause = NULL;

	whole_and_slice(q, &whole, &sl, &total);
	fill(&t);
	table_init(&kept, 5);
	for (int r = 0; r < NROWS; r++) {
		if (!pass(r))
			continue;
		if (seen >= q->offset && kept.nrows < q->limit) {
			struct cell *c = table_add_row(&kept);
			for (int i = 0; i < 5; i++) {
				const struct cell *s = table_cell(&t, (size_t)r, (size_t)i);
				if (s->kind == CELL_TEXT)
					table_set_text(&kept, &c[i], table_text(&t, s), s->v.t.len);
				else
					c[i] = *s;
			}
		}
		seen++;
	}
	assert_int_equal(total, seen);
	assert_true(some ? seen > 0 : seen == 0);
	buf_init(&ref);
	assert_int_equal(encode_record(&brand, &agg, &kept, 7, 1700000000, &ref, &cause), 0);
	assert_int_equal(sl.len, ref.len);
	assert_memory_equal(sl.data, ref.data, ref.len);
	table_free(&t);
	table_free(&kept);
	buf_free(&whole);
	buf_free(&sl);
	buf_free(&ref);
}

static int all(int r) { (void)r; return 1; }
static int feb_hour4(int r) { return r % 3 == 1 && r % 24 == 4; }
static int feb(int r) { return r % 3 == 1; }
static int day_jan31(int r) { return r % 13 != 0 && r != 41 && r % 5 != 0; }
static int none(int r) { (void)r; return 0; }

static struct slice_filter
filter(size_t col, const char *v)
{
	struct slice_filter f;
	char *cause = NULL;

	assert_int_equal(slice_filter_parse(&agg, col, v, &f, &cause), 0);
	return f;
}

static void
test_windows_and_filters(void **state)
{
	struct slice_filter f[2];
	struct slice_query q;

	(void)state;
	q = (struct slice_query){ .offset = 10, .limit = 25 };
	expect_rows(&q, all, 1);
	q = (struct slice_query){ .offset = NROWS - 3, .limit = 25 };
	expect_rows(&q, all, 1);
	q = (struct slice_query){ .offset = NROWS, .limit = 25 };
	expect_rows(&q, all, 1);
	q = (struct slice_query){ .offset = 0, .limit = 0 };
	expect_rows(&q, all, 1);
	f[0] = filter(0, "2025-02");
	f[1] = filter(1, "4");
	q = (struct slice_query){ .offset = 0, .limit = 100, .filters = f, .nfilters = 2 };
	expect_rows(&q, feb_hour4, 1);
	q = (struct slice_query){ .offset = 5, .limit = 7, .filters = f, .nfilters = 1 };
	expect_rows(&q, feb, 1);
	f[0] = filter(4, "2025-01-31");
	q = (struct slice_query){ .offset = 0, .limit = 1000, .filters = f, .nfilters = 1 };
	expect_rows(&q, day_jan31, 1);
	f[0] = filter(0, "2025-04");
	q = (struct slice_query){ .offset = 0, .limit = 10, .filters = f, .nfilters = 1 };
	expect_rows(&q, none, 0);
}

static void
test_filter_values(void **state)
{
	struct slice_filter f;
	char *cause = NULL;

	(void)state;
	f = filter(1, "-12");
	assert_int_equal(f.kind, CELL_INT);
	assert_int_equal(f.i, -12);
	f = filter(1, "9223372036854775807");
	assert_true(f.i == INT64_MAX);
	f = filter(0, "Seoul 서울");
	assert_int_equal(f.kind, CELL_TEXT);
	assert_int_equal(f.n, strlen("Seoul 서울"));
	const char *bad[] = { "", "1.5", "12x", " 1", "+", "99999999999999999999", "0x10" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(slice_filter_parse(&agg, 1, bad[i], &f, &cause), -1);
		assert_non_null(strstr(cause, "hour"));
		free(cause);
		cause = NULL;
	}
	assert_int_equal(slice_filter_parse(&agg, 3, "nan", &f, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(slice_filter_parse(&agg, 3, "2.5", &f, &cause), 0);
	assert_true(f.d == 2.5);
}

static void
test_etag(void **state)
{
	struct slice_filter f[2];
	struct slice_query a = { .offset = 0, .limit = 10 }, b = a;
	char e1[ETAG_LEN + 1], e2[ETAG_LEN + 1];

	(void)state;
	slice_etag("\"00\"", &a, e1);
	slice_etag("\"00\"", &b, e2);
	assert_string_equal(e1, e2);
	assert_int_equal(strlen(e1), ETAG_LEN);
	assert_true(e1[0] == '"' && e1[ETAG_LEN - 1] == '"');
	slice_etag("\"01\"", &b, e2);
	assert_string_not_equal(e1, e2);
	b.offset = 1;
	slice_etag("\"00\"", &b, e2);
	assert_string_not_equal(e1, e2);
	/* one filter "ab" on a column is not two filters, nor "a" on the next one */
	f[0] = filter(0, "2025-0");
	f[1] = filter(4, "1");
	b = (struct slice_query){ .offset = 0, .limit = 10, .filters = f, .nfilters = 2 };
	slice_etag("\"00\"", &b, e1);
	f[0] = filter(0, "2025-01");
	b.nfilters = 1;
	slice_etag("\"00\"", &b, e2);
	assert_string_not_equal(e1, e2);
}

static void
test_damaged_record(void **state)
{
	struct slice_query q = { .offset = 0, .limit = 10 };
	struct buf whole, sl;
	uint64_t total;
	char *cause = NULL;
	const char *b, *etag;
	size_t blen;

	(void)state;
	whole_and_slice(&q, &whole, &sl, &total);
	assert_int_equal(slice_build(&brand, &agg, whole.data, 10, &q, &sl, &total, &cause), -1);
	free(cause);
	cause = NULL;
	/* a msgpack body cut short reads as damaged, never past its end */
	assert_int_equal(record_body(whole.data, whole.len, BODY_MSGPACK, &b, &blen, &etag), 0);
	memset((char *)b + blen / 2, 0xc1, blen - blen / 2);	/* 0xc1: never used */
	q.limit = NROWS;	/* read to the end */
	assert_int_equal(slice_build(&brand, &agg, whole.data, whole.len, &q, &sl, &total,
	    &cause), -1);
	free(cause);
	buf_free(&whole);
	buf_free(&sl);
}

/* Each slice built at publish is the slice a filter on its value computes, byte for byte. */
static void
expect_partitions(size_t col, size_t want_groups)
{
	struct aggregate ka = agg;
	struct slice_part *parts;
	struct slice_filter f;
	struct record_meta meta;
	const char *mp, *etag;
	size_t mplen;
	struct buf whole, sl;
	struct table t;
	size_t n, rows = 0;
	uint64_t total;
	char *cause = NULL, num[32];

	ka.slice_key = cols[col].name;
	ka.slice_col = col;
	fill(&t);
	buf_init(&whole);
	assert_int_equal(encode_record(&brand, &ka, &t, 7, 1700000000, &whole, &cause), 0);
	table_free(&t);
	assert_int_equal(record_parse(whole.data, whole.len, &meta), 0);
	assert_int_equal(record_body(whole.data, whole.len, BODY_MSGPACK, &mp, &mplen,
	    &etag), 0);
	assert_int_equal(slice_partitions(&brand, &ka, &meta, mp, mplen, &parts, &n,
	    &cause), 0);
	assert_int_equal(n, want_groups);
	for (size_t i = 0; i < n; i++) {
		struct slice_query q = { .offset = 0, .limit = NROWS, .filters = &f,
		    .nfilters = 1 };
		struct record_meta m;
		const char *v;
		size_t vn, which;
		char *name;

		f = filter(col, parts[i].value);
		v = slice_part_value(&ka, &q, num, &vn, &which);
		assert_non_null(v);
		assert_int_equal(vn, parts[i].n);
		assert_memory_equal(v, parts[i].value, vn);
		name = slice_part_name(ka.name, v, vn);
		assert_int_equal(strncmp(name, "t#", 2), 0);
		free(name);
		buf_init(&sl);
		assert_int_equal(slice_build(&brand, &ka, whole.data, whole.len, &q, &sl, &total,
		    &cause), 0);
		assert_int_equal(parts[i].rec.len, sl.len);
		assert_memory_equal(parts[i].rec.data, sl.data, sl.len);
		assert_int_equal(record_parse(parts[i].rec.data, parts[i].rec.len, &m), 0);
		assert_int_equal(m.rows, total);
		rows += total;
		buf_free(&sl);
	}
	assert_int_equal(rows, NROWS);		/* neither key column holds a NULL */
	/* an unchanged record's slices are found again by their names */
	char **names;
	size_t nnames;
	assert_int_equal(slice_part_names(&ka, mp, mplen, &names, &nnames, &cause), 0);
	assert_int_equal(nnames, n);
	for (size_t i = 0; i < n; i++) {
		char *name = slice_part_name(ka.name, parts[i].value, parts[i].n);
		assert_string_equal(names[i], name);
		free(name);
		free(names[i]);
	}
	free(names);
	slice_parts_free(parts, n);
	buf_free(&whole);
}

static void
test_partitions(void **state)
{
	struct slice_filter f[2];
	struct slice_query q = { .limit = 10, .filters = f, .nfilters = 2 };
	struct aggregate ka = agg;
	char num[32];
	size_t n, which;

	(void)state;
	expect_partitions(0, 3);	/* month: text */
	expect_partitions(1, 24);	/* hour: int64, "05" and "5" are one value */
	/* a query with a filter on the slice key names its partition, wherever it is */
	ka.slice_key = "hour";
	ka.slice_col = 1;
	f[0] = filter(0, "2025-01");
	f[1] = filter(1, "03");
	assert_string_equal(slice_part_value(&ka, &q, num, &n, &which), "3");
	assert_int_equal(which, 1);
	q.nfilters = 1;
	assert_null(slice_part_value(&ka, &q, num, &n, &which));
	ka.slice_key = "month";
	ka.slice_col = 0;
	assert_string_equal(slice_part_value(&ka, &q, num, &n, &which), "2025-01");
	assert_int_equal(which, 0);
	ka.slice_key = NULL;
	assert_null(slice_part_value(&ka, &q, num, &n, &which));
	assert_null(slice_part_name("t", "a\0b", 3));
}

/* The catalogue's slice_key: a dimension of text or integers, or the load fails. */
static void
test_slice_key_declaration(void **state)
{
	static const char *const keys[] = { "month", "hour", "n", "rate", "nope" };
	static const int ok[] = { 1, 1, 0, 0, 0 };
	struct catalog *cat;
	char *cause = NULL, *text;

	(void)state;
	fixture_write("q.sql", "SELECT 1", 0644);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		text = xasprintf("aggregates:\n"
		    "  - name: t\n    relation: T\n    title_en: T\n    title_ko: T\n"
		    "    description: T\n    sqlite: q.sql\n    slice_key: %s\n    columns:\n"
		    "      - {name: month, type: string, role: dimension, unit: none}\n"
		    "      - {name: hour, type: int64, role: dimension, unit: none}\n"
		    "      - {name: n, type: int64, role: measure, unit: count}\n"
		    "      - {name: rate, type: double, role: dimension, unit: none}\n",
		    keys[i]);
		cat = catalog_load(fixture_write("aggregates.yaml", text, 0644), &cause);
		free(text);
		if (ok[i]) {
			assert_non_null(cat);
			assert_string_equal(cat->aggs[0].slice_key, keys[i]);
			assert_int_equal(cat->aggs[0].slice_col, i);
			catalog_free(cat);
		} else {
			assert_null(cat);
			assert_non_null(strstr(cause, "slice_key"));
			free(cause);
			cause = NULL;
		}
	}
}

static struct slice_entry *
put(struct slice_cache *c, const char *key, size_t len, uint64_t total)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < len; i++)
		buf_addc(&b, (char)('a' + i % 26));
	return slice_cache_put(c, key, &b, total);
}

/* The cache: hits, eviction in LRU order by bytes, entries outliving their eviction. */
static void
test_cache(void **state)
{
	struct slice_cache *c = slice_cache_new(1000);
	struct slice_entry *e, *held;
	const struct buf *rec;
	uint64_t hits, misses, total;
	size_t bytes;

	(void)state;
	assert_null(slice_cache_get(c, "\"k1\""));
	slice_cache_release(put(c, "\"k1\"", 400, 11));
	held = put(c, "\"k2\"", 400, 22);		/* a reply still sending it */
	e = slice_cache_get(c, "\"k1\"");		/* k1 now the most recent */
	assert_non_null(e);
	rec = slice_cache_record(e, &total);
	assert_int_equal(total, 11);
	assert_int_equal(rec->len, 400);
	slice_cache_release(e);
	slice_cache_release(put(c, "\"k3\"", 400, 33));	/* over 1000: k2 goes */
	assert_null(slice_cache_get(c, "\"k2\""));
	assert_non_null(e = slice_cache_get(c, "\"k1\""));
	slice_cache_release(e);
	assert_non_null(e = slice_cache_get(c, "\"k3\""));
	slice_cache_release(e);
	/* the evicted k2 is still whole for the reply holding it (ASan checks) */
	rec = slice_cache_record(held, &total);
	assert_int_equal(total, 22);
	assert_int_equal(rec->data[399], 'a' + 399 % 26);
	slice_cache_release(held);
	/* a slice over the whole budget is served but not kept */
	e = put(c, "\"big\"", 5000, 1);
	slice_cache_release(e);
	assert_null(slice_cache_get(c, "\"big\""));
	slice_cache_stats(c, &hits, &misses, &bytes);
	assert_int_equal(hits, 3);
	assert_int_equal(misses, 3);
	assert_int_equal(bytes, 800);
	held = slice_cache_get(c, "\"k3\"");
	slice_cache_free(c);		/* held outlives the cache */
	assert_int_equal(slice_cache_record(held, &total)->len, 400);
	slice_cache_release(held);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everything_is_the_whole),
		cmocka_unit_test(test_windows_and_filters),
		cmocka_unit_test(test_filter_values),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_damaged_record),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test_setup_teardown(test_slice_key_declaration, fixture_setup,
		    fixture_teardown),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
