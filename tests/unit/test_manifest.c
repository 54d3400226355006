/*
 * test_manifest.c — the manifest module: a manifest built entry by entry survives
 * encode -> read unchanged (optional fields left NULL stay null, the brand's point in
 * time to the millisecond; an entry without one, as manifests written before it were,
 * reads as none), lookups find entries by brand and aggregate, and text that is not a
 * whole manifest is refused with a cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpcd.h"

static void
build(struct manifest *m)
{
	struct manifest_entry a = {
		.brand = "a", .aggregate = "mau_users", .ok = 1, .rows = 12,
		.generation = 7, .duration_ms = 31, .data_ts = "2026-11-01T00:00:00Z",
		.handle = "01b2-c3", .point_ms = 1764374400123LL,
	};
	struct manifest_entry b = {
		.brand = "b", .aggregate = "churn", .ok = 0, .rows = 3, .generation = 5,
		.duration_ms = 4, .error = "upstream said no",
	};

	manifest_init(m, 7, "green", 1764374400, "sqlite");
	manifest_add(m, &a);
	manifest_add(m, &b);
	m->duration_ms = 250;
}

static void
test_round_trip(void **state)
{
	struct manifest m, back;
	const struct manifest_entry *e;
	char *text, *again, *cause = NULL;

	(void)state;
	build(&m);
	text = manifest_encode(&m);
	assert_int_equal(manifest_read(&back, text, strlen(text), &cause), 0);
	assert_null(cause);
	assert_int_equal(back.generation, 7);
	assert_string_equal(back.colour, "green");
	assert_int_equal(back.created_at, 1764374400);
	assert_string_equal(back.source, "sqlite");
	assert_int_equal(back.duration_ms, 250);
	assert_int_equal(back.nentries, 2);

	e = manifest_find(&back, "a", "mau_users");
	assert_non_null(e);
	assert_true(e->ok);
	assert_int_equal(e->rows, 12);
	assert_int_equal(e->generation, 7);
	assert_int_equal(e->duration_ms, 31);
	assert_null(e->error);
	assert_string_equal(e->data_ts, "2026-11-01T00:00:00Z");
	assert_string_equal(e->handle, "01b2-c3");
	assert_int_equal(e->point_ms, 1764374400123LL);

	e = manifest_find(&back, "b", "churn");
	assert_non_null(e);
	assert_false(e->ok);
	assert_string_equal(e->error, "upstream said no");
	assert_null(e->data_ts);
	assert_null(e->handle);
	assert_int_equal(e->point_ms, 0);	/* none recorded: no field written */
	assert_null(manifest_find(&back, "a", "churn"));

	/* what was read encodes to the same bytes: nothing lost, nothing invented */
	again = manifest_encode(&back);
	assert_string_equal(again, text);
	assert_non_null(strstr(text, "\"created_at\":\"2025-11-29T00:00:00Z\""));
	assert_non_null(strstr(text, "\"point_in_time\":\"2025-11-29T00:00:00.123Z\","
	    "\"point_in_time_unix_ms\":1764374400123"));
	free(again);
	free(text);
	manifest_free(&back);
	manifest_free(&m);
	manifest_free(NULL);
}

static void
refused(const char *text)
{
	struct manifest m;
	char *cause = NULL;

	assert_int_equal(manifest_read(&m, text, strlen(text), &cause), -1);
	assert_non_null(cause);
	free(cause);
	manifest_free(&m);
}

static void
test_malformed_refused(void **state)
{
	struct manifest m;
	char *text, *cut;

	(void)state;
	refused("");
	refused("not json");
	refused("[]");
	/* the whole header, but a generation that is a string */
	refused("{\"generation\":\"7\",\"colour\":\"blue\",\"created_at\":\"x\","
	    "\"created_at_unix\":1,\"source\":\"s\",\"duration_ms\":1,\"aggregates\":[]}");
	/* aggregates not a list */
	refused("{\"generation\":7,\"colour\":\"blue\",\"created_at\":\"x\","
	    "\"created_at_unix\":1,\"source\":\"s\",\"duration_ms\":1,\"aggregates\":{}}");
	/* an entry without its row count */
	refused("{\"generation\":7,\"colour\":\"blue\",\"created_at\":\"x\","
	    "\"created_at_unix\":1,\"source\":\"s\",\"duration_ms\":1,\"aggregates\":"
	    "[{\"brand\":\"a\",\"aggregate\":\"x\",\"ok\":true,\"generation\":1,"
	    "\"duration_ms\":1}]}");
	/* a negative row count */
	refused("{\"generation\":7,\"colour\":\"blue\",\"created_at\":\"x\","
	    "\"created_at_unix\":1,\"source\":\"s\",\"duration_ms\":1,\"aggregates\":"
	    "[{\"brand\":\"a\",\"aggregate\":\"x\",\"ok\":true,\"rows\":-1,"
	    "\"generation\":1,\"duration_ms\":1}]}");
	/* an error that is not a string */
	refused("{\"generation\":7,\"colour\":\"blue\",\"created_at\":\"x\","
	    "\"created_at_unix\":1,\"source\":\"s\",\"duration_ms\":1,\"aggregates\":"
	    "[{\"brand\":\"a\",\"aggregate\":\"x\",\"ok\":false,\"rows\":1,"
	    "\"generation\":1,\"duration_ms\":1,\"error\":5}]}");
	/* a good manifest cut short */
	build(&m);
	text = manifest_encode(&m);
	cut = xstrndup(text, strlen(text) / 2);
	refused(cut);
	free(cut);
	free(text);
	manifest_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed_refused),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
