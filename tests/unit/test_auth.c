/*
 * test_auth.c — access control in isolation: every new class of configuration error
 * (auth:, users files, audit:) as "FILE:LINE: message"; password hashing and login with
 * sessions in a real store; API token lookup and revocation; the audit log's
 * lines and rotation. The login throttle is test_throttle.c's.
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

#include <jansson.h>

#include "tpcd.h"
#include "fixture.h"

#define CRYPT_HASH_MAX	256

/* SHA-256 of "tok-a" */
#define TOK_A		"tok-a"
#define TOK_A_SHA	"4f66a4283f8bc9768c3cb97fd06d267b79315aee941c9c1727b9354509242ffe"

/* Each case: a fresh directory holding the (empty) catalog every config names. */
static int
setup(void **state)
{
	if (fixture_setup(state) != 0)
		return -1;
	fixture_write("catalog.yaml", "aggregates: []\n", 0644);
	return 0;
}

#define HEAD \
	"state_dir: st\n" \
	"source:\n  type: sqlite\n  sqlite:\n    dir: src\n" \
	"catalog: catalog.yaml\n" \
	"brands:\n  - id: a\n    name: Brand A\n    schema: brand_a\n" \
	"  - id: b\n    name: Brand B\n    schema: brand_b\n"
/* HEAD is 13 lines; "auth:" is line 14 */

static void
expect_error_in(const char *file, const char *text, int line, const char *msg)
{
	const char *path = fixture_write("t.yaml", text, 0600);
	char *cause = NULL, *want, *where;
	struct config *cf = config_load(path, &cause);

	assert_null(cf);
	assert_non_null(cause);
	where = file ? fixture_path(file) : xstrdup(path);
	want = xasprintf("%s:%d: %s", where, line, msg);
	assert_string_equal(cause, want);
	free(where);
	free(want);
	free(cause);
}

#define expect_error(text, line, msg) expect_error_in(NULL, text, line, msg)

/* A fresh hash of pw; two may be used in one expression. */
static const char *
hash_of(const char *pw)
{
	static char ring[2][CRYPT_HASH_MAX];
	static int next;
	char *cause = NULL, *h = auth_password_hash(pw, &cause);

	assert_non_null(h);
	next = !next;
	snprintf(ring[next], sizeof ring[next], "%s", h);
	free(h);
	return ring[next];
}

static void
test_config_errors(void **state)
{
	(void)state;
	expect_error(HEAD "auth:\n  users:\n    - name: x\n      password_hash: \"$y$j9T$abc\"\n"
	    "      role: root\n", 18, "'role' must be user, admin or monitor, not 'root'");
	expect_error(HEAD "auth:\n  users:\n    - name: x\n      password_hash: plain\n", 17,
	    "'password_hash' is not a crypt(3) hash of a supported method (make one with "
	    "tpcd --hash-password)");
	expect_error(HEAD "auth:\n  users:\n    - name: x\n      password_hash: \"$1$ab$cd\"\n",
	    17, "'password_hash' is not a crypt(3) hash of a supported method (make one with "
	    "tpcd --hash-password)");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: abc\n      brands: [a]\n",
	    17, "'sha256' must be 64 hex digits (the SHA-256 of the token)");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: " TOK_A_SHA "\n", 16,
	    "token 't' has role user and no 'brands'; list the brands it may read (or give it "
	    "role admin)");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: " TOK_A_SHA "\n"
	    "      brands: [a, zz]\n", 18, "token 't': no brand 'zz' in brands");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: " TOK_A_SHA "\n"
	    "      role: admin\n    - name: t\n      sha256: " TOK_A_SHA "\n      role: admin\n",
	    19, "duplicate token name 't'");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: " TOK_A_SHA "\n"
	    "      role: admin\n    - name: u\n      sha256: " TOK_A_SHA "\n      role: admin\n",
	    19, "tokens 't' and 'u' have the same sha256");
	expect_error(HEAD "auth:\n  tokens:\n    - name: \"a b\"\n", 16,
	    "'name' must be 1-64 characters of A-Z, a-z, 0-9 and _.@-");
	expect_error(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: " TOK_A_SHA "\n"
	    "      role: admin\n      revoked: maybe\n", 19,
	    "'revoked' must be true or false, not 'maybe'");
	expect_error(HEAD "auth:\n  trusted_proxies: [127.0.0.1, proxy.local]\n", 15,
	    "'trusted_proxies' must list IPv4 or IPv6 addresses, not proxy.local");
	expect_error(HEAD "auth:\n  session_lifetime: 0\n", 15,
	    "'session_lifetime' must be between 1 and 31622400, not 0");
	expect_error(HEAD "auth:\n  cookie_secure: yes\n", 15,
	    "'cookie_secure' must be true or false, not 'yes'");
	expect_error(HEAD "auth:\n  passwords: x\n", 15, "unknown key 'passwords' in auth");
	expect_error(HEAD "audit:\n  keep: 0\n", 15, "'keep' must be between 1 and 1000, not 0");
	expect_error(HEAD "audit:\n  max_size_mb: big\n", 15,
	    "'max_size_mb' must be an integer, not 'big'");
}

static void
test_users_file_errors(void **state)
{
	char *text, *msg;

	(void)state;
	/* errors inside the users file point into the users file */
	text = xasprintf("users:\n  - name: alice\n    password_hash: \"%s\"\n    brands: [a]\n"
	    "  - name: alice\n    password_hash: \"%s\"\n    brands: [b]\n", hash_of("x"),
	    hash_of("y"));
	fixture_write("users.yaml", text, 0600);
	free(text);
	expect_error_in("users.yaml", HEAD "auth:\n  users_file: users.yaml\n", 5,
	    "duplicate user name 'alice'");
	text = xasprintf("users:\n  - name: alice\n    password_hash: \"%s\"\n"
	    "    brands: [c]\n", hash_of("x"));
	fixture_write("users.yaml", text, 0600);
	free(text);
	expect_error_in("users.yaml", HEAD "auth:\n  users_file: users.yaml\n", 4,
	    "user 'alice': no brand 'c' in brands");
	fixture_write("users.yaml", "users:\n  - name: bob\n    secret: 1\n", 0600);
	expect_error_in("users.yaml", HEAD "auth:\n  users_file: users.yaml\n", 3,
	    "unknown key 'secret' in user");
	/* others may not read password hashes */
	fixture_write("users.yaml", "users: []\n", 0644);
	msg = xasprintf("'users_file': %s/users.yaml: permissions 644 let others read password "
	    "hashes or others/group change them; chmod 600 it", fixture_dir());
	expect_error(HEAD "auth:\n  users_file: users.yaml\n", 15, msg);
	free(msg);
}

/*
 * Inline users and tokens make the configuration as private as a users file; a users
 * file or store owned by another user, or a store others may write, is refused.
 */
static void
test_file_hygiene(void **state)
{
	const char *cfg;
	char *cause = NULL, *want, *st;
	char *text = xasprintf(HEAD "auth:\n  tokens:\n    - name: t\n      sha256: %s\n"
	    "      role: admin\n", TOK_A_SHA);

	(void)state;
	cfg = fixture_write("t.yaml", text, 0644);
	assert_null(config_load(cfg, &cause));
	want = xasprintf("%s:16: inline tokens: %s: permissions 644 let others read password "
	    "hashes or others/group change them; chmod 600 it", cfg, cfg);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	cause = NULL;
	assert_int_equal(chmod(cfg, 0640), 0);		/* the group may read, as for a file */
	config_free(config_load(cfg, &cause));
	assert_null(cause);
	free(text);
	/* a users file owned by someone else (as root: chown to nobody) */
	if (geteuid() == 0) {
		const char *uf = fixture_write("users.yaml", "users: []\n", 0600);
		assert_int_equal(chown(uf, 65534, 65534), 0);
		want = xasprintf("'users_file': %s is owned by uid 65534, neither root nor the "
		    "daemon's user (uid 0): its owner could let anyone in; chown it", uf);
		expect_error(HEAD "auth:\n  users_file: users.yaml\n", 15, want);
		free(want);
	}
	/* a store others may write */
	st = fixture_path("st");
	assert_int_equal(mkdir(st, 0700), 0);
	assert_int_equal(chmod(st, 0777), 0);
	free(st);
	want = xasprintf("'state_dir': %s/st: permissions 777 let others change the store "
	    "(sessions, the pin, what is served); chmod 700 it", fixture_dir());
	expect_error(HEAD, 1, want);
	free(want);
}

static struct config *
load_good(const char *auth_block, int lifetime)
{
	char *text, *cause = NULL;
	struct config *cf;

	text = xasprintf(HEAD "auth:\n  session_lifetime: %d\n  users_file: users.yaml\n"
	    "  trusted_proxies: [127.0.0.1, \"::1\"]\n%s", lifetime, auth_block);
	cf = config_load(fixture_write("good.yaml", text, 0600), &cause);
	free(text);
	if (cf == NULL)
		fail_msg("%s", cause);
	return cf;
}

static void
write_users(void)
{
	char *text = xasprintf("users:\n  - name: alice\n    password_hash: \"%s\"\n"
	    "    brands: [b]\n  - name: root\n    password_hash: \"%s\"\n    role: admin\n",
	    hash_of("alice-pw"), hash_of("root-pw"));

	fixture_write("users.yaml", text, 0600);
	free(text);
}

static void
test_login_sessions_tokens(void **state)
{
	struct config *cf;
	struct store *st;
	struct store_reader *rd;
	struct store_view *v;
	struct auth *a;
	struct principal p;
	struct auth_login_result res;
	char *cause = NULL, *sdir;

	(void)state;
	write_users();
	cf = load_good("  tokens:\n    - name: dash\n      sha256: " TOK_A_SHA "\n"
	    "      brands: [a]\n", 60);
	assert_int_equal((int)cf->auth.nusers, 2);
	assert_int_equal(cf->auth.users[1].role, ROLE_ADMIN);
	sdir = fixture_path("store");
	assert_int_equal(store_open(&st, sdir, 16, 64, &cause), 0);
	a = auth_new(cf, st, NULL, &cause);
	assert_non_null(a);
	rd = store_reader_new(st);
	assert_true(auth_proxy_trusted(a, "127.0.0.1"));
	assert_true(auth_proxy_trusted(a, "::1"));
	assert_false(auth_proxy_trusted(a, "10.0.0.1"));

	/* wrong password, unknown user: refused, with the reason for the audit log */
	assert_int_equal(auth_login(a, "alice", "nope", "1.2.3.4", 1000, &p, &res),
	    AUTH_LOGIN_REFUSED);
	assert_string_equal(res.reason, "bad_password");
	assert_int_equal(auth_login(a, "mallory", "nope", "1.2.3.4", 1000, &p, &res),
	    AUTH_LOGIN_REFUSED);
	assert_string_equal(res.reason, "unknown_user");

	/* a session: its token checks out until it expires */
	assert_int_equal(auth_login(a, "alice", "alice-pw", "1.2.3.4", 1000, &p, &res),
	    AUTH_LOGIN_OK);
	assert_true(strlen(res.token) >= 64);
	assert_int_equal(res.expires, 1060);
	v = store_view_begin(rd);
	assert_int_equal(auth_check(a, v, res.token, strlen(res.token), 1059, &p), AUTH_OK);
	assert_int_equal(p.kind, PRINCIPAL_SESSION);
	assert_string_equal(p.name, "alice");
	assert_false(principal_may_read(&p, 0));
	assert_true(principal_may_read(&p, 1));
	assert_int_equal(auth_check(a, v, res.token, strlen(res.token), 1060, &p), AUTH_EXPIRED);
	assert_int_equal(auth_check(a, v, "x", 1, 1000, &p), AUTH_INVALID);
	assert_int_equal(auth_check(a, v, NULL, 0, 1000, &p), AUTH_NONE);
	store_view_release(v);

	/* logout ends it */
	v = store_view_begin(rd);
	auth_check(a, v, res.token, strlen(res.token), 1001, &p);
	store_view_release(v);
	assert_int_equal(auth_logout(a, &p), 0);
	v = store_view_begin(rd);
	assert_int_equal(auth_check(a, v, res.token, strlen(res.token), 1001, &p), AUTH_INVALID);
	free(res.token);

	/* an API token: scoped to its brands, revocable through the store */
	assert_int_equal(auth_check(a, v, TOK_A, strlen(TOK_A), 1001, &p), AUTH_OK);
	assert_int_equal(p.kind, PRINCIPAL_TOKEN);
	assert_true(principal_may_read(&p, 0));
	assert_false(principal_may_read(&p, 1));
	store_view_release(v);
	assert_int_equal(auth_token_revoke(a, "nope", "root", 1001, &cause),
	    AUTH_TOKEN_REVOKE_NONE);
	assert_int_equal(auth_token_revoke(a, "dash", "root", 1001, &cause),
	    AUTH_TOKEN_REVOKE_OK);
	v = store_view_begin(rd);
	assert_int_equal(auth_check(a, v, TOK_A, strlen(TOK_A), 1001, &p), AUTH_REVOKED);
	store_view_release(v);

	store_reader_free(rd);
	auth_free(a);
	store_close(st);
	config_free(cf);
	free(sdir);
}

/* Audit fields are cut on a UTF-8 character, and bytes that are not UTF-8 become '?'. */
static void
test_audit_cut(void **state)
{
	char out[8], big[65], name[70];
	json_t *js;

	(void)state;
	/* "abcde" then U+00E9 (2 bytes) then U+20AC (3 bytes): 7 bytes fit, the euro does not */
	assert_string_equal(audit_cut(out, sizeof out, "abcde\xc3\xa9\xe2\x82\xac"),
	    "abcde\xc3\xa9");
	assert_string_equal(audit_cut(out, sizeof out, "abcdef\xc3\xa9"), "abcdef");
	assert_string_equal(audit_cut(out, sizeof out, "a\xff\xc3.b"), "a??.b");
	assert_string_equal(audit_cut(out, sizeof out, "\xed\xa0\x80"), "???");
	assert_string_equal(audit_cut(out, sizeof out, NULL), "");
	/* the login case: 63 ASCII bytes and a 2-byte letter across byte 64 */
	memset(name, 'a', 63);
	memcpy(name + 63, "\xc3\xa9", 3);
	audit_cut(big, sizeof big, name);
	assert_int_equal((int)strlen(big), 63);
	js = json_string(big);		/* jansson takes only well-formed UTF-8 */
	assert_non_null(js);
	json_decref(js);
}

static void
test_audit_rotation(void **state)
{
	char *path = fixture_path("audit.log"), *cause = NULL, line[512];
	int files = 0, lines = 0;

	(void)state;
	assert_int_equal(audit_open(path, 1000, 2, &cause), 0);
	for (int i = 0; i < 100; i++)
		audit_write(json_pack("{s:s, s:i, s:s}", "event", "access", "n", i, "path",
		    "/v1/brands/a/aggregates/mau_users"));
	audit_config_reload("/etc/tpcd/tpcd.yaml", 0, "bad: thing");
	audit_close();
	for (int i = 0; i <= 3; i++) {
		char *p = i == 0 ? xstrdup(path) : xasprintf("%s.%d", path, i);
		FILE *f = fopen(p, "r");
		struct stat sb;
		if (f != NULL) {
			files++;
			assert_int_equal(fstat(fileno(f), &sb), 0);
			assert_true(sb.st_size <= 1000);
			while (fgets(line, sizeof line, f) != NULL) {
				json_t *o = json_loads(line, 0, NULL);
				assert_non_null(o);
				assert_non_null(json_object_get(o, "ts"));
				assert_non_null(json_object_get(o, "event"));
				json_decref(o);
				lines++;
			}
			fclose(f);
		}
		free(p);
	}
	assert_int_equal(files, 3);	/* the live file and keep = 2 */
	assert_true(lines > 10 && lines < 101);
	free(path);
}

#define with_dir(f)	cmocka_unit_test_setup_teardown(f, setup, fixture_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		with_dir(test_config_errors),
		with_dir(test_users_file_errors),
		with_dir(test_file_hygiene),
		with_dir(test_login_sessions_tokens),
		cmocka_unit_test(test_audit_cut),
		with_dir(test_audit_rotation),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
