/*
 * test_record.c — the record format on its own, without the encoder: what record_seal
 * writes, record_parse and record_body read back (each body's bytes, its ETag as the
 * quoted first half of its SHA-256, the content hash over the range given); a record with
 * a wrong magic, a short header or a body past its end is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "tpcd.h"

static const char *const bodies[BODY_NVARIANTS] = {
	"{\"json\":1}\n", "", "\x82\xa1" "a\x01", "a,b\r\n1,2\r\n", "gz-csv"
};

/* A record of the five bodies above; the content hash covers body 2 (as msgpack's). */
static void
build(struct buf *rec, uint64_t gen, int64_t at, uint64_t rows)
{
	size_t start[BODY_NVARIANTS], end[BODY_NVARIANTS];

	record_begin(rec);
	for (int i = 0; i < BODY_NVARIANTS; i++) {
		start[i] = rec->len;
		buf_adds(rec, bodies[i]);
		end[i] = rec->len;
	}
	assert_int_equal(record_seal(rec, gen, at, rows, start, end, start[2], end[2]), 0);
}

static void
sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	assert_true(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL));
}

static void
test_seal_then_read(void **state)
{
	struct buf rec;
	struct record_meta m;
	unsigned char h[32];
	char want[ETAG_LEN + 1];

	(void)state;
	buf_init(&rec);
	buf_adds(&rec, "left over from an earlier record");
	build(&rec, 42, 1767225600, 7);
	assert_int_equal(record_parse(rec.data, rec.len, &m), 0);
	assert_int_equal(m.generation, 42);
	assert_int_equal(m.refreshed_at, 1767225600);
	assert_int_equal(m.rows, 7);
	sha256(bodies[2], strlen(bodies[2]), h);
	assert_memory_equal(m.content_hash, h, 32);
	for (int v = 0; v < BODY_NVARIANTS; v++) {
		const char *b, *etag;
		size_t n;

		assert_int_equal(record_body(rec.data, rec.len, v, &b, &n, &etag), 0);
		assert_int_equal(n, strlen(bodies[v]));
		assert_memory_equal(b, bodies[v], n);
		sha256(bodies[v], n, h);
		want[0] = '"';
		for (int i = 0; i < 16; i++)
			snprintf(want + 1 + 2 * i, 3, "%02x", h[i]);
		want[ETAG_LEN - 1] = '"';
		want[ETAG_LEN] = '\0';
		assert_string_equal(etag, want);
	}
	buf_free(&rec);
}

static void
test_damaged_refused(void **state)
{
	struct buf rec;
	struct record_meta m;
	const char *b, *etag;
	size_t n, full;

	(void)state;
	buf_init(&rec);
	build(&rec, 1, 100, 1);
	full = rec.len;
	/* a short header, and no header at all */
	assert_int_equal(record_parse(rec.data, 8, &m), -1);
	assert_int_equal(record_body(rec.data, 8, BODY_JSON, &b, &n, &etag), -1);
	/* no such variant */
	assert_int_equal(record_body(rec.data, full, BODY_NVARIANTS, &b, &n, &etag), -1);
	/* the last body runs past a truncated end: the record is refused, and that body */
	assert_int_equal(record_parse(rec.data, full - 1, &m), -1);
	assert_int_equal(record_body(rec.data, full - 1, BODY_CSV_GZ, &b, &n, &etag), -1);
	assert_int_equal(record_body(rec.data, full - 1, BODY_JSON, &b, &n, &etag), 0);
	/* not a record */
	rec.data[0] ^= 0x20;
	assert_int_equal(record_parse(rec.data, full, &m), -1);
	buf_free(&rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_then_read),
		cmocka_unit_test(test_damaged_refused),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
