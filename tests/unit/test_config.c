/*
 * test_config.c — every class of configuration error is refused with "FILE:LINE: message"
 * pointing at the offending line; a good file loads with its values and defaults. Each
 * value type of config_table.c has its messages and range edges tested here; auth's
 * principals are tested in test_auth.c. The cases share one directory (fixture.h) and
 * each writes the files it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static const char *
write_tmp(const char *name, const char *text)
{
	return fixture_write(name, text, 0600);
}

/* The cases' directory, holding the (empty) catalog every config names. */
static int
setup(void **state)
{
	if (fixture_setup(state) != 0)
		return -1;
	write_tmp("catalog.yaml", "aggregates: []\n");
	chmod(write_tmp("tok", "token\n"), 0600);
	chmod(write_tmp("key.pem", "not really a key\n"), 0600);
	chmod(write_tmp("open.pem", "readable by all\n"), 0644);
	chmod(write_tmp("users.yaml", "users: []\n"), 0600);
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

/* Loads text, which must be good; the caller frees. */
static struct config *
load_good(const char *text)
{
	const char *path = write_tmp("t.yaml", text);
	char *cause = NULL;
	struct config *cf = config_load(path, &cause);

	if (cf == NULL)
		fail_msg("%s", cause);
	return cf;
}

/* Every default of the table, on a file with only the required keys. */
static void
test_defaults(void **state)
{
	struct config *cf;
	char *want;

	(void)state;
	cf = load_good("state_dir: st\n" GOOD_TAIL);
	assert_string_equal(cf->listen_addr, "127.0.0.1");
	assert_int_equal(cf->listen_port, 8080);
	assert_int_equal(cf->threads, 0);
	assert_int_equal(cf->map_size_mb, 1024);
	assert_int_equal(cf->max_readers, 4096);
	assert_int_equal(cf->source, SOURCE_SQLITE);
	assert_int_equal(cf->refresh_interval, 1800);
	assert_int_equal(cf->refresh_lease_ttl, 60);
	assert_int_equal(cf->shutdown_timeout, 10);
	assert_null(cf->log_file);
	assert_int_equal(cf->log_max_size_mb, 100);
	assert_int_equal(cf->log_keep, 5);
	assert_int_equal(cf->log_level, LOG_INFO);
	assert_int_equal(cf->http_timeout, 30);
	assert_int_equal(cf->http_header_timeout, 10);
	assert_int_equal(cf->http_body_timeout, 30);
	assert_int_equal(cf->http_max_header, 8192);
	assert_int_equal(cf->http_max_body, 65536);
	assert_int_equal(cf->http_max_connections, 10000);
	assert_null(cf->auth.users_file);
	assert_int_equal(cf->auth.session_lifetime, 86400);
	assert_int_equal(cf->auth.max_sessions, 16);
	assert_int_equal(cf->auth.cookie_secure, 0);
	assert_int_equal((int)cf->auth.ntrusted_proxies, 0);
	assert_int_equal((int)(cf->auth.nusers + cf->auth.ntokens), 0);
	want = xasprintf("%s/st/audit.log", fixture_dir());	/* follows state_dir */
	assert_string_equal(cf->audit.file, want);
	free(want);
	assert_int_equal(cf->audit.max_size_mb, 100);
	assert_int_equal(cf->audit.keep, 10);
	assert_int_equal(cf->sf.statement_timeout, 600);
	assert_int_equal(cf->sf.request_timeout, 60);
	assert_int_equal(cf->sf.deadline, 900);
	assert_int_equal(cf->sf.max_statements, 4);
	assert_int_equal(cf->sf.max_partitions, 4);
	assert_int_equal(cf->sf.retry_max, 7);
	assert_int_equal(cf->sf.retry_base_ms, 1000);
	assert_int_equal(cf->sf.retry_cap_ms, 16000);
	assert_int_equal(cf->sf.poll_max_ms, 5000);
	config_free(cf);
}

/* Each type stores what the file says: int, size, bool, string, path, enum, list. */
static void
test_values(void **state)
{
	struct config *cf;

	(void)state;
	cf = load_good("state_dir: /abs/st\nlisten:\n  address: \"::1\"\n  threads: 256\n"
	    "store:\n  map_size_mb: 1048576\nlog_level: DEBUG\nlog_file: log/t.log\n"
	    "http:\n  max_header_size: 1024\n  max_body_size: 0\n"
	    "auth:\n  cookie_secure: true\n  trusted_proxies: [127.0.0.1, \"::1\"]\n"
	    "audit:\n  file: /var/a.log\n" GOOD_TAIL);
	assert_string_equal(cf->listen_addr, "::1");
	assert_int_equal(cf->threads, 256);
	assert_int_equal(cf->map_size_mb, 1048576);
	assert_int_equal(cf->log_level, LOG_DEBUG);		/* any case */
	assert_string_equal(cf->state_dir, "/abs/st");		/* absolute: as is */
	char *want = xasprintf("%s/log/t.log", fixture_dir());
	assert_string_equal(cf->log_file, want);
	free(want);
	assert_int_equal(cf->http_max_header, 1024);
	assert_int_equal(cf->http_max_body, 0);
	assert_int_equal(cf->auth.cookie_secure, 1);
	assert_int_equal((int)cf->auth.ntrusted_proxies, 2);
	assert_string_equal(cf->auth.trusted_proxies[1], "::1");
	assert_string_equal(cf->audit.file, "/var/a.log");	/* given: no default */
	config_free(cf);
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_error("state_dir: st\nlisten:\n  prot: 80\n" GOOD_TAIL, 3,
	    "unknown key 'prot' in listen; did you mean 'port'?");
	expect_error("state_dir: st\nlisten:\n  adress: ::1\n" GOOD_TAIL, 3,
	    "unknown key 'adress' in listen; did you mean 'address'?");
	expect_error("state_dir: st\nbogus: 1\n" GOOD_TAIL, 2,
	    "unknown key 'bogus' in the configuration");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "    mode: ro\n", 6, "unknown key 'mode' in sqlite");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - id: a\n    name: x\n    schema: a\n"
	    "    color: red\n", 11, "unknown key 'color' in brand");
	expect_error("state_dir: st\naudit:\n  path: x\n" GOOD_TAIL, 3,
	    "unknown key 'path' in audit");
	expect_error("state_dir: st\n1: 2\n" GOOD_TAIL, 2, "unknown key '1' in the "
	    "configuration");
}

/* A host name is not an address (the bind would refuse it later, without a line). */
static void
test_listen_address(void **state)
{
	(void)state;
	expect_error("state_dir: st\nlisten:\n  address: localhost\n" GOOD_TAIL, 3,
	    "'address': 'localhost' is not an IPv4 or IPv6 address (a host name is not "
	    "resolved: write 127.0.0.1 or ::1 for localhost)");
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
	expect_error("state_dir: st\nlisten:\n  port: [80]\n" GOOD_TAIL, 3,
	    "'port' must be an integer");
	expect_error("state_dir: st\nlisten:\n  port: \"\"\n" GOOD_TAIL, 3,
	    "'port' must be an integer");
	expect_error("state_dir: st\nstore:\n  map_size_mb: 1.5\n" GOOD_TAIL, 3,
	    "'map_size_mb' must be an integer, not '1.5'");
	expect_error("state_dir: st\nbrands: a\n", 2, "'brands' must be a list");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands:\n  - a\n", 8, "brand must be a mapping");
	expect_error("- a\n", 1, "the configuration must be a mapping");
	expect_error("state_dir: st\nauth:\n  cookie_secure: {a: 1}\n" GOOD_TAIL, 3,
	    "'cookie_secure' must be a string");
}

/* The messages of each value type that is not an integer. */
static void
test_types(void **state)
{
	(void)state;
	/* bool */
	expect_error("state_dir: st\nauth:\n  cookie_secure: TRUE\n" GOOD_TAIL, 3,
	    "'cookie_secure' must be true or false, not 'TRUE'");
	/* string, path: not empty */
	expect_error("state_dir: st\nlisten:\n  address: \"\"\n" GOOD_TAIL, 3,
	    "'address' must not be empty");
	expect_error("state_dir: \"\"\n" GOOD_TAIL, 1, "'state_dir' must not be empty");
	expect_error("state_dir: st\nlog_file:\n" GOOD_TAIL, 2,
	    "'log_file' must not be empty");
	/* enum, keyword */
	expect_error("state_dir: st\nlog_level: Loud\n" GOOD_TAIL, 2,
	    "'log_level' must be error, warning, notice, info or debug, not 'Loud'");
	expect_error("state_dir: st\nsource:\n  type: SQLite\n" GOOD_TAIL, 3,
	    "'type' must be sqlite or snowflake, not 'SQLite'");
	expect_error("state_dir: st\nsource:\n  type: snowflake\n  snowflake:\n"
	    "    account: a\n    user: u\n    warehouse: w\n    database: d\n"
	    "    auth: basic\n", 9, "'auth' must be keypair, oauth or pat, not 'basic'");
	/* list of strings */
	expect_error("state_dir: st\nauth:\n  trusted_proxies:\n    - [127.0.0.1]\n"
	    GOOD_TAIL, 4, "'trusted_proxies' must list IPv4 or IPv6 addresses");
	expect_error("state_dir: st\nauth:\n  trusted_proxies: [300.1.1.1]\n" GOOD_TAIL, 3,
	    "'trusted_proxies' must list IPv4 or IPv6 addresses, not 300.1.1.1");
	expect_error("state_dir: st\nauth:\n  tokens:\n    - name: t\n      brands: [{a: 1}]\n"
	    GOOD_TAIL, 5, "'brands' must list brand ids");
	/* list of mappings: at least one */
	expect_error("state_dir: st\nsource:\n  type: sqlite\n  sqlite:\n    dir: src\n"
	    "catalog: catalog.yaml\nbrands: []\n", 7, "'brands' must list at least one brand");
	/* custom (sha256) */
	expect_error("state_dir: st\nauth:\n  tokens:\n    - name: t\n      sha256: "
	    "ab\n" GOOD_TAIL, 5, "'sha256' must be 64 hex digits (the SHA-256 of the token)");
	/* section */
	expect_error("state_dir: st\nhttp: []\n" GOOD_TAIL, 2, "'http' must be a mapping");
}

/* Both ends of a range are accepted, one past either end is refused. */
static void
expect_range(const char *section, const char *key, long min, long max)
{
	char *text, *msg;
	const char *ind = section ? "  " : "";
	int line = section ? 3 : 2;
	long ok[2] = { min, max }, bad[2] = { min - 1, max + 1 };

	for (int i = 0; i < 2; i++) {
		text = xasprintf("state_dir: st\n%s%s%s%s: %ld\n" GOOD_TAIL, section ? section :
		    "", section ? ":\n" : "", ind, key, ok[i]);
		config_free(load_good(text));
		free(text);
		text = xasprintf("state_dir: st\n%s%s%s%s: %ld\n" GOOD_TAIL, section ? section :
		    "", section ? ":\n" : "", ind, key, bad[i]);
		msg = xasprintf("'%s' must be between %ld and %ld, not %ld", key, min, max,
		    bad[i]);
		expect_error(text, line, msg);
		free(text);
		free(msg);
	}
}

static void
test_ranges(void **state)
{
	(void)state;
	expect_range("listen", "port", 0, 65535);
	expect_range("listen", "threads", 0, 256);
	expect_range("store", "map_size_mb", 1, 1048576);
	expect_range("store", "max_readers", 16, 1048576);
	expect_range(NULL, "refresh_interval", 1, 604800);
	expect_range(NULL, "refresh_lease_ttl", 3, 86400);
	expect_range(NULL, "shutdown_timeout", 0, 3600);
	expect_range(NULL, "log_max_size_mb", 1, 1048576);
	expect_range(NULL, "log_keep", 0, 1000);
	expect_range("http", "timeout", 1, 3600);
	expect_range("http", "header_timeout", 1, 3600);
	expect_range("http", "body_timeout", 1, 3600);
	expect_range("http", "max_header_size", 1024, 1048576);
	expect_range("http", "max_body_size", 0, 16777216);
	expect_range("http", "max_connections", 1, 1048576);
	expect_range("auth", "session_lifetime", 1, 31622400);
	expect_range("auth", "max_sessions", 1, 4096);
	expect_range("audit", "max_size_mb", 1, 1048576);
	expect_range("audit", "keep", 1, 1000);
}

#define SF_HEAD \
	"state_dir: st\ncatalog: catalog.yaml\n" \
	"brands:\n  - id: a\n    name: A\n    schema: a\n" \
	"source:\n  type: snowflake\n  snowflake:\n" \
	"    account: acct\n    user: u\n    warehouse: w\n    database: d\n"
/* SF_HEAD is 13 lines; the snowflake mapping starts on line 10 */

static void
test_snowflake(void **state)
{
	struct config *cf;
	char *msg;

	(void)state;
	cf = load_good(SF_HEAD "    private_key: key.pem\n    retry_max: 0\n"
	    "    poll_max_ms: 600000\n");
	assert_string_equal(cf->sf.auth, "keypair");		/* default */
	assert_string_equal(cf->sf.url, "https://acct.snowflakecomputing.com");
	assert_int_equal(cf->source, SOURCE_SNOWFLAKE);
	assert_int_equal(cf->sf.retry_max, 0);
	assert_int_equal(cf->sf.poll_max_ms, 600000);
	config_free(cf);
	cf = load_good(SF_HEAD "    auth: pat\n    token_file: tok\n    url: http://x:1\n");
	assert_string_equal(cf->sf.auth, "pat");
	assert_string_equal(cf->sf.url, "http://x:1");
	config_free(cf);
	expect_error(SF_HEAD, 10, "auth keypair needs 'private_key'");
	expect_error(SF_HEAD "    auth: oauth\n", 10, "auth oauth needs 'token_file'");
	expect_error("state_dir: st\nsource:\n  type: snowflake\n  snowflake:\n"
	    "    user: u\n", 5, "missing required key 'account' in snowflake");
	expect_error("state_dir: st\nsource:\n  type: snowflake\n", 3,
	    "source type snowflake needs 'snowflake: {account: ..., ...}'");
	expect_error("state_dir: st\nsource:\n  type: sqlite\n", 3,
	    "source type sqlite needs 'sqlite: {dir: ...}'");
	expect_error(SF_HEAD "    user: v\n", 14, "duplicate key 'user' in snowflake");
	expect_error(SF_HEAD "    max_statements: 65\n", 14,
	    "'max_statements' must be between 1 and 64, not 65");
	msg = xasprintf("'private_key': %s/open.pem: permissions 644 let group/others read "
	    "a secret; chmod 600 it", fixture_dir());
	expect_error(SF_HEAD "    private_key: open.pem\n", 14, msg);
	free(msg);
	msg = xasprintf("'token_file': %s/none: No such file or directory", fixture_dir());
	expect_error(SF_HEAD "    token_file: none\n", 14, msg);
	free(msg);
}

/* A users file that does not exist yet is no error: nobody can log in. */
static void
test_users_file(void **state)
{
	struct config *cf;

	(void)state;
	cf = load_good("state_dir: st\nauth:\n  users_file: nobody.yaml\n" GOOD_TAIL);
	assert_int_equal(cf->auth.users_file_missing, 1);
	config_free(cf);
	cf = load_good("state_dir: st\nauth:\n  users_file: users.yaml\n" GOOD_TAIL);
	assert_int_equal(cf->auth.users_file_missing, 0);
	config_free(cf);
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
	want = xasprintf("%s: cannot open: No such file or directory", path);
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
	/* libyaml's own words, but always behind FILE:LINE: where the problem starts */
	char *prefix = xasprintf("%s:2: ", path);
	assert_memory_equal(cause, prefix, strlen(prefix));
	free(prefix);
	free(cause);
	/* an unclosed quote: its line, not the end of the file's */
	path = write_tmp("t.yaml", "state_dir: st\nlisten:\n  address: \"127.0.0.1\n"
	    "  port: 1\nlog_level: info\n");
	assert_null(config_load(path, &cause));
	prefix = xasprintf("%s:3: scanning a quoted scalar that starts here: found unexpected "
	    "end of stream at line 6", path);
	assert_string_equal(cause, prefix);
	free(prefix);
	free(cause);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_listen_address),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_snowflake),
		cmocka_unit_test(test_users_file),
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
