/* Key-pair JWT verification, the way Snowflake checks it: RS256 over the public key
 * registered for the user, issuer carrying the key's SHA-256 fingerprint, and a
 * lifetime of at most one hour. Owns the loaded key and the expected iss/sub.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define CLOCK_SKEW_S	60
#define MAX_LIFETIME_S	3600

static EVP_PKEY	*pubkey;
static char	*expected_iss;
static char	*expected_sub;

static EVP_PKEY *
load_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	if (fp == NULL)
		return NULL;
	k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	if (k == NULL) {
		/* A private key file also carries the public half; accept it for convenience. */
		rewind(fp);
		k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	}
	fclose(fp);
	return k;
}

int
auth_init(const char *pem_path, const char *account, const char *user, char *err, size_t errlen)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char fp[128], acct[256], usr[256], *dot;
	int derlen;
	size_t n;

	pubkey = load_key(pem_path);
	if (pubkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM public key", pem_path);
		return -1;
	}
	if (EVP_PKEY_base_id(pubkey) != EVP_PKEY_RSA || EVP_PKEY_bits(pubkey) < 2048) {
		snprintf(err, errlen, "%s: Snowflake needs an RSA key of at least 2048 bits", pem_path);
		return -1;
	}
	/* RSA_PUBLIC_KEY_FP = SHA256 of the DER SubjectPublicKeyInfo, standard base64 */
	derlen = i2d_PUBKEY(pubkey, &der);
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		snprintf(err, errlen, "%s: cannot encode the public key", pem_path);
		return -1;
	}
	OPENSSL_free(der);
	EVP_EncodeBlock((unsigned char *)fp, md, (int)mdlen);

	/* The JWT names the account without region/cloud suffix and in upper case. */
	snprintf(acct, sizeof(acct), "%s", account);
	if ((dot = strchr(acct, '.')) != NULL)
		*dot = '\0';
	upcase(acct);
	snprintf(usr, sizeof(usr), "%s", user);
	upcase(usr);
	n = strlen(acct) + strlen(usr) + strlen(fp) + 16;
	expected_sub = malloc(n);
	expected_iss = malloc(n);
	if (expected_sub == NULL || expected_iss == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(expected_sub, n, "%s.%s", acct, usr);
	snprintf(expected_iss, n, "%s.%s.SHA256:%s", acct, usr, fp);
	return 0;
}

void
auth_cleanup(void)
{
	EVP_PKEY_free(pubkey);
	free(expected_iss);
	free(expected_sub);
	pubkey = NULL;
	expected_iss = expected_sub = NULL;
}

const char *
auth_expected_iss(void)
{
	return expected_iss;
}

static json_t *
decode_segment(const char *s, size_t len)
{
	size_t n;
	unsigned char *raw = b64url_decode(s, len, &n);
	json_t *j;

	if (raw == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, 0, NULL);
	free(raw);
	return j;
}

static int
verify_signature(const char *signed_part, size_t signed_len, const char *sig64, size_t sig64_len)
{
	size_t siglen;
	unsigned char *sig = b64url_decode(sig64, sig64_len, &siglen);
	EVP_MD_CTX *ctx;
	int ok = 0;

	if (sig == NULL)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pubkey) == 1)
		ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)signed_part,
		    signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	free(sig);
	return ok;
}

#define FAIL(...)	do { snprintf(reason, reasonlen, __VA_ARGS__); goto out; } while (0)

int
jwt_verify(const char *token, long long now_s, char *reason, size_t reasonlen)
{
	const char *d1, *d2;
	json_t *hdr = NULL, *claims = NULL, *j;
	json_int_t iat, exp;
	int rc = -1;

	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL)
		FAIL("token is not three base64url segments");
	hdr = decode_segment(token, (size_t)(d1 - token));
	claims = decode_segment(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!json_is_object(hdr))
		FAIL("header is not base64url JSON");
	if (!json_is_object(claims))
		FAIL("payload is not base64url JSON");
	j = json_object_get(hdr, "alg");
	if (!json_is_string(j) || strcmp(json_string_value(j), "RS256") != 0)
		FAIL("alg must be RS256");
	if (!verify_signature(token, (size_t)(d2 - token), d2 + 1, strlen(d2 + 1)))
		FAIL("signature does not verify against the registered public key");
	j = json_object_get(claims, "iss");
	if (!json_is_string(j))
		FAIL("missing iss");
	if (strcmp(json_string_value(j), expected_iss) != 0)
		FAIL("iss '%s' != '%s'", json_string_value(j), expected_iss);
	j = json_object_get(claims, "sub");
	if (!json_is_string(j))
		FAIL("missing sub");
	if (strcmp(json_string_value(j), expected_sub) != 0)
		FAIL("sub '%s' != '%s'", json_string_value(j), expected_sub);
	if (!json_is_integer(json_object_get(claims, "iat")) ||
	    !json_is_integer(json_object_get(claims, "exp")))
		FAIL("iat and exp must be integer NumericDates");
	iat = json_integer_value(json_object_get(claims, "iat"));
	exp = json_integer_value(json_object_get(claims, "exp"));
	if (iat < 0 || exp < 0)	/* also keeps exp - iat below from overflowing */
		FAIL("iat and exp must not be negative");
	if (exp <= now_s)
		FAIL("expired: exp %lld <= now %lld", (long long)exp, now_s);
	if (iat > now_s + CLOCK_SKEW_S)
		FAIL("iat %lld is in the future", (long long)iat);
	if (exp - iat > MAX_LIFETIME_S)
		FAIL("exp - iat = %lld exceeds 3600 seconds", (long long)(exp - iat));
	rc = 0;
out:
	json_decref(hdr);
	json_decref(claims);
	return rc;
}
