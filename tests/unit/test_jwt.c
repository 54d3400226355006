/*
 * test_jwt.c — Snowflake key-pair JWTs: the token verifies with OpenSSL against the
 * public key; its claims are what Snowflake checks; the fingerprint matches one computed
 * independently by the openssl command line; keys readable by group/others are refused;
 * an encrypted key opens with its passphrase file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tpcd.h"
#include "fixture.h"

static char *keypath, *encpath, *passpath;	/* in the group's directory */

static int
run(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc;
}

/* One RSA key for the whole group: generating it is the slow part. */
static int
setup(void **state)
{
	if (fixture_setup(state) != 0)
		return -1;
	keypath = fixture_path("rsa_key.p8");
	encpath = fixture_path("rsa_key_enc.p8");
	passpath = fixture_path("pass");
	assert_int_equal(run("umask 077; openssl genpkey -algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:2048 -out %s 2>/dev/null", keypath), 0);
	assert_int_equal(run("umask 077; printf 'sesame\\n' > %s; openssl pkcs8 -topk8 "
	    "-v2 aes-256-cbc -in %s -out %s -passout pass:sesame", passpath, keypath,
	    encpath), 0);
	return 0;
}

static int
teardown(void **state)
{
	free(keypath);
	free(encpath);
	free(passpath);
	return fixture_teardown(state);
}

/* base64url → bytes (caller frees), through OpenSSL's standard-base64 decoder. */
static unsigned char *
unb64url(const char *s, size_t n, size_t *outlen)
{
	size_t padded = (n + 3) / 4 * 4;
	char *tmp = xcalloc(1, padded + 1);
	unsigned char *out = xmalloc(padded);

	for (size_t i = 0; i < padded; i++)
		tmp[i] = i < n ? (s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]) : '=';
	int len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded);
	assert_true(len >= 0);
	*outlen = (size_t)len - (padded - n);	/* EVP_DecodeBlock counts the padding */
	free(tmp);
	return out;
}

static void
test_fingerprint_matches_openssl_cli(void **state)
{
	char *cause = NULL, line[256];
	struct jwt_key *k;
	FILE *p;

	(void)state;
	k = jwt_key_load(keypath, NULL, &cause);
	assert_non_null(k);
	char *cmd = xasprintf("openssl pkey -in %s -pubout -outform DER 2>/dev/null | "
	    "openssl dgst -sha256 -binary | openssl base64 -A", keypath);
	p = popen(cmd, "r");
	free(cmd);
	assert_non_null(fgets(line, sizeof line, p));
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	char *want = xasprintf("SHA256:%s", line);
	assert_string_equal(jwt_key_fingerprint(k), want);
	free(want);
	jwt_key_free(k);
}

static void
test_token_verifies_and_claims(void **state)
{
	char *cause = NULL, *tok;
	struct jwt_key *k;
	size_t hl, pl, sl;

	(void)state;
	k = jwt_key_load(keypath, NULL, &cause);
	assert_non_null(k);
	tok = jwt_make(k, "myorg-acct.ap-northeast-2.aws", "tpcd_svc", 1767225600, 3540,
	    &cause);
	assert_non_null(tok);
	char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	assert_true(d1 != NULL && d2 != d1);
	unsigned char *hdr = unb64url(tok, (size_t)(d1 - tok), &hl);
	unsigned char *pay = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &pl);
	unsigned char *sig = unb64url(d2 + 1, strlen(d2 + 1), &sl);
	json_t *h = json_loadb((char *)hdr, hl, 0, NULL), *c = json_loadb((char *)pay, pl, 0,
	    NULL);
	assert_non_null(h);
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
	char *iss = xasprintf("MYORG-ACCT.TPCD_SVC.%s", jwt_key_fingerprint(k));
	assert_string_equal(json_string_value(json_object_get(c, "iss")), iss);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "MYORG-ACCT.TPCD_SVC");
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1767225600);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1767225600 + 3540);
	/* the signature verifies with the public key (OpenSSL, not our code) */
	FILE *f = fopen(keypath, "r");
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sl, (unsigned char *)tok,
	    (size_t)(d2 - tok)), 1);
	/* and fails on a tampered payload */
	tok[(d1 - tok) + 3] ^= 1;
	EVP_MD_CTX_reset(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, sig, sl, (unsigned char *)tok,
	    (size_t)(d2 - tok)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	json_decref(h);
	json_decref(c);
	free(hdr); free(pay); free(sig); free(iss); free(tok);
	jwt_key_free(k);
}

static void
test_permissions_refused(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(chmod(keypath, 0640), 0);
	assert_null(jwt_key_load(keypath, NULL, &cause));
	assert_non_null(strstr(cause, "permissions 640"));
	free(cause);
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(chmod(passpath, 0644), 0);
	cause = NULL;
	assert_null(secret_file_read(passpath, &cause));
	assert_non_null(strstr(cause, "chmod 600"));
	free(cause);
	assert_int_equal(chmod(passpath, 0600), 0);
}

static void
test_encrypted_key(void **state)
{
	char *cause = NULL;
	struct jwt_key *k, *plain;

	(void)state;
	assert_null(jwt_key_load(encpath, NULL, &cause));	/* no passphrase */
	assert_non_null(strstr(cause, "passphrase"));
	free(cause);
	k = jwt_key_load(encpath, passpath, &cause);
	assert_non_null(k);
	plain = jwt_key_load(keypath, NULL, &cause);
	assert_string_equal(jwt_key_fingerprint(k), jwt_key_fingerprint(plain));
	jwt_key_free(k);
	jwt_key_free(plain);
}

static void
test_account_id(void **state)
{
	char *s;

	(void)state;
	s = sf_account_id("xy12345.ap-northeast-2.aws");
	assert_string_equal(s, "XY12345");
	free(s);
	s = sf_account_id("myorg-acct");
	assert_string_equal(s, "MYORG-ACCT");
	free(s);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint_matches_openssl_cli),
		cmocka_unit_test(test_token_verifies_and_claims),
		cmocka_unit_test(test_permissions_refused),
		cmocka_unit_test(test_encrypted_key),
		cmocka_unit_test(test_account_id),
	};

	log_init(LOG_ERR);
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
