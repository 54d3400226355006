/*
 * test_sfdecode.c — every Snowflake result type decoded into every catalogue type it
 * can become, and refused where it cannot: 38-digit decimals kept exact, scaled FIXED,
 * dates, times, the three timestamps (negative epochs and zone offsets included),
 * booleans in both spellings, semi-structured text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static struct table t;

static int
setup(void **state)
{
	(void)state;
	table_init(&t, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	table_free(&t);
	return 0;
}

/* Decodes s as type/scale into want; returns the cell (asserting success). */
static struct cell
ok(const char *type, int scale, const char *s, enum col_type want)
{
	struct sf_col c = { sf_type_parse(type), scale };
	struct cell cell = { .kind = CELL_NULL };
	char *cause = NULL;
	int rc = sf_decode(&c, s, strlen(s), want, &t, &cell, &cause);

	if (rc != 0)
		fail_msg("decoding %s '%s': %s", type, s, cause);
	return cell;
}

static void
text_is(const char *type, int scale, const char *s, enum col_type want, const char *expect)
{
	struct cell c = ok(type, scale, s, want);

	assert_int_equal(c.kind, CELL_TEXT);
	assert_string_equal(table_text(&t, &c), expect);
}

static void
refused(const char *type, int scale, const char *s, enum col_type want)
{
	struct sf_col c = { sf_type_parse(type), scale };
	struct cell cell = { .kind = CELL_NULL };
	char *cause = NULL;

	assert_int_equal(sf_decode(&c, s, strlen(s), want, &t, &cell, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_int_equal(sf_type_parse("fixed"), SF_FIXED);
	assert_int_equal(sf_type_parse("FIXED"), SF_FIXED);
	assert_int_equal(sf_type_parse("Timestamp_Tz"), SF_TIMESTAMP_TZ);
	assert_int_equal(sf_type_parse("geography"), SF_UNKNOWN);
}

static void
test_fixed(void **state)
{
	(void)state;
	assert_int_equal(ok("fixed", 0, "42", COL_INT64).v.i, 42);
	assert_int_equal(ok("fixed", 0, "-9223372036854775808", COL_INT64).v.i, INT64_MIN);
	refused("fixed", 0, "9223372036854775808", COL_INT64);	/* does not fit */
	/* money in a scaled NUMBER: exact integers decode, fractions are refused */
	assert_int_equal(ok("fixed", 2, "1500.00", COL_INT64).v.i, 1500);
	assert_int_equal(ok("fixed", 4, "-98765.0000", COL_INT64).v.i, -98765);
	assert_int_equal(ok("fixed", 2, "0.00", COL_INT64).v.i, 0);
	refused("fixed", 2, "1.50", COL_INT64);			/* not a whole number */
	refused("fixed", 2, ".00", COL_INT64);
	refused("fixed", 2, "9223372036854775808.00", COL_INT64);	/* does not fit */
	/* 38 digits stay exact as text, never through a double */
	text_is("fixed", 0, "12345678901234567890123456789012345678", COL_STRING,
	    "12345678901234567890123456789012345678");
	text_is("fixed", 10, "-1234567890123456789012345678.0123456789", COL_STRING,
	    "-1234567890123456789012345678.0123456789");
	assert_true(ok("fixed", 2, "1.25", COL_DOUBLE).v.d == 1.25);
	refused("fixed", 0, "12a", COL_STRING);
	refused("fixed", 0, "", COL_INT64);
}

static void
test_real(void **state)
{
	(void)state;
	assert_true(ok("real", 0, "0.1", COL_DOUBLE).v.d == 0.1);
	assert_true(ok("real", 0, "-1.5e300", COL_DOUBLE).v.d == -1.5e300);
	assert_true(ok("real", 0, "0.33333333333333331", COL_DOUBLE).v.d == 1.0 / 3.0);
	struct cell c = ok("real", 0, "NaN", COL_DOUBLE);
	assert_true(c.v.d != c.v.d);
	refused("real", 0, "1.2.3", COL_DOUBLE);
	refused("real", 0, "1.5", COL_INT64);
}

static void
test_text_and_semistructured(void **state)
{
	(void)state;
	text_is("text", 0, "서울 Seoul, \"quoted\"", COL_STRING, "서울 Seoul, \"quoted\"");
	text_is("variant", 0, "{\n  \"a\": 1\n}", COL_STRING, "{\n  \"a\": 1\n}");
	text_is("array", 0, "[1,2]", COL_STRING, "[1,2]");
	text_is("object", 0, "{}", COL_STRING, "{}");
	assert_int_equal(ok("text", 0, "17", COL_INT64).v.i, 17);
	text_is("text", 0, "2026-01-31", COL_DATE, "2026-01-31");
}

static void
test_boolean(void **state)
{
	(void)state;
	text_is("boolean", 0, "true", COL_STRING, "true");
	text_is("boolean", 0, "false", COL_STRING, "false");
	text_is("boolean", 0, "1", COL_STRING, "true");
	text_is("boolean", 0, "0", COL_STRING, "false");
	assert_int_equal(ok("boolean", 0, "1", COL_INT64).v.i, 1);
	refused("boolean", 0, "yes", COL_STRING);
}

static void
test_date_time(void **state)
{
	(void)state;
	text_is("date", 0, "0", COL_DATE, "1970-01-01");
	text_is("date", 0, "20483", COL_DATE, "2026-01-30");
	text_is("date", 0, "-1", COL_DATE, "1969-12-31");
	text_is("date", 0, "20483", COL_STRING, "2026-01-30");
	refused("date", 0, "x", COL_DATE);
	refused("date", 0, "20483", COL_INT64);
	text_is("time", 9, "3723.500000000", COL_STRING, "01:02:03.500000000");
	text_is("time", 9, "0", COL_STRING, "00:00:00.000000000");
	refused("time", 9, "86400", COL_STRING);
	/* the years 1-9999 only (found by tests/fuzz: day * 86400 overflowed int64) */
	text_is("date", 0, "2932896", COL_DATE, "9999-12-31");
	refused("date", 0, "-719163", COL_DATE);
	refused("date", 0, "2932897", COL_DATE);
	refused("date", 0, "999999999999999", COL_STRING);
	refused("date", 0, "-999999999999999", COL_DATE);
}

static void
test_timestamps(void **state)
{
	(void)state;
	text_is("timestamp_ntz", 9, "1767225600.000000000", COL_STRING,
	    "2026-01-01T00:00:00.000000000");
	text_is("timestamp_ltz", 9, "1767225600.123000000", COL_STRING,
	    "2026-01-01T00:00:00.123000000Z");
	/* negative epochs floor: -1.5 s is 23:59:58.5 on the day before */
	text_is("timestamp_ntz", 9, "-1.500000000", COL_STRING,
	    "1969-12-31T23:59:58.500000000");
	/* TIMESTAMP_TZ: "<epoch> <offset minutes + 1440>"; the wall time is local */
	text_is("timestamp_tz", 9, "1767225600.000000000 1980", COL_STRING,
	    "2026-01-01T09:00:00.000000000+09:00");
	text_is("timestamp_tz", 9, "1767225600.000000000 1140", COL_STRING,
	    "2025-12-31T19:00:00.000000000-05:00");
	text_is("timestamp_tz", 9, "1767225600.000000000 1440", COL_STRING,
	    "2026-01-01T00:00:00.000000000Z");
	text_is("timestamp_tz", 9, "0 1410", COL_STRING, "1969-12-31T23:30:00.000000000-00:30");
	refused("timestamp_tz", 9, "1767225600.0", COL_STRING);	/* no offset */
	refused("timestamp_tz", 9, "1767225600.0 9999", COL_STRING);
	/* the years 1-9999 only (found by tests/fuzz: flooring and the offset overflowed) */
	text_is("timestamp_ntz", 9, "253402300799.999999999", COL_STRING,
	    "9999-12-31T23:59:59.999999999");
	refused("timestamp_ntz", 9, "253402300800", COL_STRING);
	refused("timestamp_ntz", 9, "-9223372036854775808.5", COL_STRING);
	refused("timestamp_tz", 9, "9223372036854775807 2880", COL_STRING);
	refused("time", 9, "-9223372036854775808.5", COL_STRING);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_text_and_semistructured),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_date_time),
		cmocka_unit_test(test_timestamps),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
