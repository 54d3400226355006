/*
 * test_config.c — every class of configuration error is refused with "FILE:LINE: message"
 * pointing at the offending line; a good file loads with its values and defaults. The
 * cases share one directory (fixture.h) and each writes the files it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static const char *
write_tmp(const char *name, const char *text)
{
	return fixture_write(name, text, 0644);
}

/* The cases' directory, holding the (empty) catalog every config names. */
static int
setup(void **state)
{
	if (fixture_setup(state) != 0)
		return -1;
	write_tmp("catalog.yaml", "aggregates: []\n");
	return 0;
}

#define GOOD_TAIL \
	"source:\n  type: sqlite\n  sqlite:\n    dir: src\n" \
	"catalog: catalog.yaml\n" \
	"brands:\n  - id: a\n    name: Brand A\n    schema: brand_a\n"

/* Loads text as a config and asserts it fails with exactly "PATH:line: msg". */
static void
expect_error(const char *text, int line, const char *msg)
{
	const char *path = write_tmp("t.yaml", text);
	char *cause = NULL, *want;
	struct config *cf = config_load(path, &cause);

	assert_null(cf);
	assert_non_null(cause);
	want = xasprintf("%s:%d: %s", path, line, msg);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

static void
test_good(void **state)
{
	const char *path;
	char *cause = NULL;
	struct config *cf;

	(void)state;
	path = write_tmp("good.yaml", "listen:\n  port: 9090\nstate_dir: st\n" GOOD_TAIL);
	cf = config_load(path, &cause);
	assert_non_null(cf);
	assert_int_equal(cf->listen_port, 9090);
	assert_string_equal(cf->listen_addr, "127.0.0.1");	/* default */
	assert_int_equal(cf->refresh_interval, 1800);		/* default */
	assert_int_equal((int)cf->nbrands, 1);
	assert_string_equal(cf->brands[0].schema, "brand_a");
	char *want = fixture_path("st");
	assert_string_equal(cf->state_dir, want);		/* relative to the file */
	free(want);
	config_free(cf);
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_error("state_dir: st\nlisten:\n  prot: 80\n" GOOD_TAIL, 3,
	    "unknown key 'prot' in listen");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	expect_error("state_dir: st\nlisten:\n  port: eighty\n" GOOD_TAIL, 3,
	    "'port' must be an integer, not 'eighty'");
	expect_error("state_dir: st\nlisten: 8080\n" GOOD_TAIL, 2,
	    "'listen' must be a mapping");
	expect_error("state_dir: [a, b]\n" GOOD_TAIL, 1, "'state_dir' must be a string");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	expect_error("state_dir: st\nlisten:\n  port: 70000\n" GOOD_TAIL, 3,
	    "'port' must be between 0 and 65535, not 70000");
}

static void
test_missing_key(void **state)
{
	(void)state;
	expect_error("source:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - id: a\n    name: A\n    schema: a\n", 1,
	    "missing required key 'state_dir' in the configuration");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - id: a\n    schema: a\n", 8,
	    "missing required key 'name' in brand");
}

static void
test_bad_value(void **state)
{
	(void)state;
	expect_error("state_dir: st\nsource:\n  type: oracle\n" GOOD_TAIL, 3,
	    "'type' must be sqlite or snowflake, not 'oracle'");
	expect_error("state_dir: st\nlog_level: loud\n" GOOD_TAIL, 2,
	    "'log_level' must be error, warning, notice, info or debug, not 'loud'");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - id: A/B\n    name: x\n    schema: a\n", 8,
	    "brand 'id' must be 1-32 characters of a-z, 0-9 and _, not 'A/B'");
}

static void
test_duplicate(void **state)
{
	(void)state;
	expect_error("state_dir: st\nstate_dir: st2\n" GOOD_TAIL, 2,
	    "duplicate key 'state_dir' in the configuration");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - id: a\n    name: x\n    schema: a\n"
	    "  - id: a\n    name: y\n    schema: b\n", 11, "duplicate brand id 'a'");
}

static void
test_unreadable(void **state)
{
	char *cause = NULL, *want, *path;

	(void)state;
	path = fixture_path("does-not-exist.yaml");
	assert_null(config_load(path, &cause));
	want = xasprintf("%s:0: cannot open: No such file or directory", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	free(path);
	want = xasprintf("'catalog': cannot read %s/nope.yaml", fixture_dir());
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: nope.yaml\nbrands:\n  - id: a\n    name: x\n    schema: a\n", 6, want);
	free(want);
}

static void
test_syntax(void **state)
{
	const char *path = write_tmp("t.yaml", "state_dir: st\nlisten: [1, 2\n");
	char *cause = NULL;

	(void)state;
	assert_null(config_load(path, &cause));
	assert_non_null(cause);
	/* libyaml's own words, but always behind FILE:LINE: */
	char *prefix = xasprintf("%s:3: ", path);
	assert_memory_equal(cause, prefix, strlen(prefix));
	free(prefix);
	free(cause);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_syntax),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, setup, fixture_teardown);
}
