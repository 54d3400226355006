/*
 * test_store.c — blue/green publishing on a real LMDB file: an empty store has no
 * snapshot; each publish flips the colour and bumps the generation; a view opened before
 * a publish keeps seeing its own snapshot, byte for byte, until released; an aborted
 * publish leaves the active snapshot untouched; swap flips back; a write from a serving
 * thread is caught. Each case has a store of its own (fixture.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "tpcd.h"
#include "fixture.h"

static void
publish(struct store *st, const char *value, int commit)
{
	struct store_pub *p;
	char *cause = NULL;
	struct manifest m;
	struct manifest_entry e = { .brand = "a", .aggregate = "x", .ok = 1, .rows = 1 };

	assert_int_equal(store_pub_begin(st, &p, &cause), 0);
	/* records are opaque bytes to the store, but validation parses them: use real ones */
	struct column col = { "v", COL_STRING, "dimension", NULL, NULL, NULL };
	struct aggregate a = { .name = "x", .cols = &col, .ncols = 1 };
	struct brand b = { .id = "a" };
	struct table t;
	struct buf rec;
	table_init(&t, 1);
	table_set_text(&t, table_add_row(&t), value, strlen(value));
	buf_init(&rec);
	assert_int_equal(encode_record(&b, &a, &t, store_pub_generation(p), 0, &rec, &cause),
	    0);
	assert_int_equal(store_pub_put(p, "a", "x", rec.data, rec.len, &cause), 0);
	manifest_init(&m, store_pub_generation(p), store_pub_colour(p), 0, "test");
	manifest_add(&m, &e);
	if (commit)
		assert_int_equal(store_pub_commit(p, &m, &cause), 0);
	else
		store_pub_abort(p);
	manifest_free(&m);
	buf_free(&rec);
	table_free(&t);
}

/* The JSON body of a/x in view v must contain value. */
static void
expect_record_value(struct store_view *v, const char *value)
{
	const void *rec;
	const char *body, *etag;
	size_t len, blen;

	assert_int_equal(store_view_get(v, "a", "x", &rec, &len), 0);
	assert_int_equal(record_body(rec, len, BODY_JSON, &body, &blen, &etag), 0);
	char *s = xstrndup(body, blen);
	assert_non_null(strstr(s, value));
	free(s);
}

static void
test_blue_green(void **state)
{
	struct store *st;
	struct store_reader *rd;
	struct store_view *v, *old;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);
	rd = store_reader_new(st);
	v = store_view_begin(rd);
	assert_null(store_view_colour(v));		/* empty store: no snapshot */
	store_view_release(v);

	publish(st, "first", 1);
	old = store_view_begin(rd);
	assert_string_equal(store_view_colour(old), "blue");
	assert_int_equal(store_view_generation(old), 1);
	expect_record_value(old, "first");

	publish(st, "second", 1);			/* while old is still open */
	v = store_view_begin(rd);
	assert_string_equal(store_view_colour(v), "green");
	assert_int_equal(store_view_generation(v), 2);
	expect_record_value(v, "second");
	expect_record_value(old, "first");			/* the old view is unchanged */
	store_view_release(v);
	store_view_release(old);

	publish(st, "third", 0);			/* aborted: nothing changes */
	v = store_view_begin(rd);
	assert_int_equal(store_view_generation(v), 2);
	expect_record_value(v, "second");
	store_view_release(v);

	assert_int_equal(store_swap(st, &cause), 0);	/* rollback to generation 1 */
	v = store_view_begin(rd);
	assert_string_equal(store_view_colour(v), "blue");
	assert_int_equal(store_view_generation(v), 1);
	expect_record_value(v, "first");
	store_view_release(v);

	store_reader_free(rd);
	store_close(st);

	/* reopening the file finds the same active snapshot */
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);
	rd = store_reader_new(st);
	v = store_view_begin(rd);
	assert_int_equal(store_view_generation(v), 1);
	store_view_release(v);
	store_reader_free(rd);
	store_close(st);
}

static void
test_bad_manifest_refused(void **state)
{
	struct store *st;
	struct store_pub *p;
	struct store_reader *rd;
	struct store_view *v;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);
	publish(st, "first", 1);	/* a snapshot of its own to keep: no other case's */
	rd = store_reader_new(st);
	v = store_view_begin(rd);
	uint64_t before = store_view_generation(v);
	const char *colour = store_view_colour(v);
	char *was = xstrdup(colour);
	store_view_release(v);
	/* a manifest that lists a record the snapshot lacks must not become active */
	assert_int_equal(store_pub_begin(st, &p, &cause), 0);
	struct manifest m;
	struct manifest_entry e = { .brand = "a", .aggregate = "missing", .ok = 1, .rows = 1 };
	manifest_init(&m, store_pub_generation(p), store_pub_colour(p), 0, "test");
	manifest_add(&m, &e);
	assert_int_equal(store_pub_commit(p, &m, &cause), -1);
	assert_non_null(strstr(cause, "a/missing"));
	free(cause);
	manifest_free(&m);
	v = store_view_begin(rd);
	assert_int_equal(store_view_generation(v), before);
	assert_string_equal(store_view_colour(v), was);
	store_view_release(v);
	free(was);
	store_reader_free(rd);
	store_close(st);
}

/* Sets meta "format" of the store in dir to value, behind the store's back. */
static void
set_format(const char *dir, const char *value)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "format" }, v = { strlen(value), (void *)(uintptr_t)value };

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* A new store is stamped with its format; one of another format is refused, clearly. */
static void
test_format_version(void **state)
{
	struct store *st;
	char *cause = NULL, *want;

	(void)state;
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);
	store_close(st);
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);	/* again */
	store_close(st);
	set_format(fixture_dir(), "9");
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), -1);
	want = xasprintf("LMDB store %s has format 9; this tpcd %s reads format 1 only: run "
	    "the tpcd that wrote it, or restore a backup of format 1", fixture_dir(),
	    TPCD_VERSION);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

/*
 * The thread contract: a write transaction begun on a thread marked serving is counted,
 * and in checking builds (-DTPCD_THREAD_CHECKS: make asan, make tsan) aborts. Run in a
 * child, so that the abort is observed rather than suffered; read-only views are fine.
 */
static void
test_serving_thread_write_caught(void **state)
{
	struct store *st = NULL;
	char *cause = NULL;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(store_open(&st, fixture_dir(), 64, 126, &cause), 0);
	if ((pid = fork()) == 0) {
		struct store_counters c;
		struct store_reader *rd;

		store_thread_serving();
		rd = store_reader_new(st);
		store_view_release(store_view_begin(rd));	/* reading: allowed */
		store_reader_free(rd);
		store_counters(st, &c);
		if (c.write_txns_serving != 0)
			_exit(3);
		store_set_pinned(st, 1, &cause);		/* writing: the bug */
		store_counters(st, &c);
		_exit(c.write_txns_serving == 1 ? 0 : 4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef TPCD_THREAD_CHECKS
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#else
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
	store_close(st);
}

#define with_dir(f)	cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		with_dir(test_blue_green),
		with_dir(test_bad_manifest_refused),
		with_dir(test_format_version),
		with_dir(test_serving_thread_write_caught),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
