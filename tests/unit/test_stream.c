/*
 * test_stream.c — the streamed publish against the whole-table encoder it replaced: every
 * aggregate of the golden dataset, pulled by the SQLite source with its rows streaming
 * into the encoder, must equal byte for byte (header, ETags and all five bodies) the
 * record the old encoder built (tests/golden/reference, written at f5ee66d). Also: a
 * body past the 1 MiB gzip threshold (libdeflate) still inflates to its identity body.
 * Run from the source tree's root (or set TPCD_ROOT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <zlib.h>

#include "tpcd.h"
#include "fixture.h"

/* The reference's generation and time: a data timestamp of 2025-11-24T16:00:00Z. */
#define REF_GENERATION	1764000000000ULL
#define REF_AT		1764000000LL

/* An absolute path into the source tree: the configuration's paths are relative to it. */
static char *
root_path(const char *rel)
{
	const char *root = getenv("TPCD_ROOT");
	char *abs = realpath(root ? root : ".", NULL), *p;

	assert_non_null(abs);
	p = xasprintf("%s/%s", abs, rel);
	free(abs);
	return p;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_steal(&b, len);
}

/* golden.db in the fixture directory: the source schema, then the hand-made rows. */
static void
golden_db(void)
{
	const char *scripts[] = { "schema/source_sqlite.sql", "tests/golden/dataset.sql" };
	char *path = fixture_path("golden.db");
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 2; i++) {
		char *p = root_path(scripts[i]), *sql = slurp(p, NULL), *err = NULL;
		assert_non_null(sql);
		if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
			fail_msg("%s: %s", p, err);
		free(sql);
		free(p);
	}
	sqlite3_close(db);
	free(path);
}

static void
done_cb(void *arg)
{
	*(int *)arg = 1;
}

static void
test_sqlite_streamed_equals_the_old_encoder(void **state)
{
	char *catpath = root_path("schema/aggregates.yaml"), *cause = NULL, *yaml;
	struct config *cf;
	struct catalog *cat;
	struct source *src;
	struct pull *p;
	size_t n, compared = 0;
	int fin = 0;

	(void)state;
	golden_db();
	yaml = xasprintf("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: %s\n"
	    "catalog: %s\nbrands:\n  - id: g\n    name: Golden\n    schema: golden\n",
	    fixture_dir(), catpath);
	if ((cf = config_load(fixture_write("tpcd.yaml", yaml, 0644), &cause)) == NULL)
		fail_msg("%s", cause);
	cat = catalog_load(cf->catalog_path, &cause);
	if (cat == NULL)
		fail_msg("%s", cause);
	src = source_sqlite_new(cf, cat);
	n = cat->naggs;
	p = xcalloc(n, sizeof *p);
	for (size_t i = 0; i < n; i++) {
		p[i].brand = &cf->brands[0];
		p[i].agg = &cat->aggs[i];
		p[i].wanted = 1;
		p[i].snap_generation = REF_GENERATION;
		p[i].snap_at = REF_AT;
	}
	src->pull(src, p, n, done_cb, &fin);
	assert_true(fin);
	for (size_t i = 0; i < n; i++) {
		char *rel = xasprintf("tests/golden/reference/%s.tpr", p[i].agg->name);
		char *ref_path = root_path(rel), *ref;
		size_t ref_len;
		struct buf rec;

		if (p[i].state != PULL_DONE)
			fail_msg("%s: %s", p[i].agg->name, p[i].error);
		buf_init(&rec);
		assert_int_equal(encode_finish(p[i].enc, &rec, &cause), 0);
		if ((ref = slurp(ref_path, &ref_len)) == NULL)
			fail_msg("%s: no reference", ref_path);
		if (rec.len != ref_len || memcmp(rec.data, ref, ref_len) != 0)
			fail_msg("%s: %zu bytes streamed, %zu in the reference, not the same",
			    p[i].agg->name, rec.len, ref_len);
		compared++;
		free(ref);
		free(ref_path);
		free(rel);
		buf_free(&rec);
		encode_free(p[i].enc);
		free(p[i].error);
	}
	assert_int_equal(compared, 13);
	free(p);
	src->free(src);
	catalog_free(cat);
	config_free(cf);
	free(yaml);
	free(catpath);
}

static struct column big_cols[] = {
	{ "day", COL_DATE, "dimension", "none", "Day", "일" },
	{ "n", COL_INT64, "measure", "count", "N", "수" },
	{ "revenue", COL_DOUBLE, "measure", "KRW", "Revenue", "매출" },
};
static struct aggregate big_agg = { .name = "big", .cols = big_cols, .ncols = 3 };
static struct brand big_brand = { .id = "a", .name = "Brand A", .schema = "brand_a" };

/* Inflates a gzip body; the caller frees. */
static char *
gunzip(const char *p, size_t n, size_t *out_len)
{
	struct buf out;
	z_stream zs;
	char chunk[65536];
	int rc;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(inflateInit2(&zs, 31), Z_OK);
	buf_init(&out);
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = (Bytef *)chunk;
		zs.avail_out = sizeof chunk;
		rc = inflate(&zs, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		buf_add(&out, chunk, sizeof chunk - zs.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&zs);
	return buf_steal(&out, out_len);
}

/* Bodies past 1 MiB go through libdeflate: still gzip, still the identity body's bytes. */
static void
test_large_bodies_inflate_to_their_identity(void **state)
{
	struct encoder *e = encode_begin(&big_brand, &big_agg, 5, 1767225600);
	struct table batch;
	struct buf rec;
	char *cause = NULL, day[16];
	const enum body_variant pairs[2][2] = { { BODY_JSON, BODY_JSON_GZ },
	    { BODY_CSV, BODY_CSV_GZ } };

	(void)state;
	table_init(&batch, 3);
	for (int r = 0; r < 60000; r++) {
		struct cell *c = table_add_row(&batch);
		snprintf(day, sizeof day, "2025-%02d-%02d", 1 + r % 12, 1 + r % 28);
		table_set_text(&batch, &c[0], day, strlen(day));
		c[1].kind = CELL_INT;
		c[1].v.i = (int64_t)r * 7919 - 100000;
		c[2].kind = CELL_DOUBLE;
		c[2].v.d = r * 1.37 / 3.0;
		if (batch.nrows == ENCODE_BATCH_ROWS) {
			encode_table(e, &batch);
			table_clear(&batch);
		}
	}
	encode_table(e, &batch);
	table_free(&batch);
	assert_int_equal(encode_rows(e), 60000);
	buf_init(&rec);
	assert_int_equal(encode_finish(e, &rec, &cause), 0);
	encode_free(e);
	for (int i = 0; i < 2; i++) {
		const char *plain, *gz, *etag;
		size_t plen, gzlen, ilen;
		char *inflated;

		assert_int_equal(record_body(rec.data, rec.len, pairs[i][0], &plain, &plen,
		    &etag), 0);
		assert_int_equal(record_body(rec.data, rec.len, pairs[i][1], &gz, &gzlen,
		    &etag), 0);
		assert_true(plen > (1u << 20));
		assert_true(gzlen < plen / 2);
		inflated = gunzip(gz, gzlen, &ilen);
		assert_int_equal(ilen, plen);
		assert_memory_equal(inflated, plain, plen);
		free(inflated);
	}
	buf_free(&rec);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sqlite_streamed_equals_the_old_encoder,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test(test_large_bodies_inflate_to_their_identity),
	};

	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
