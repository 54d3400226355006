/*
 * jwt.c — Snowflake key-pair authentication: loads the RSA private key (refusing a file
 * that group or others can read), computes the public key fingerprint Snowflake expects
 * (SHA256 of the DER SubjectPublicKeyInfo, standard base64) and signs RS256 JWTs.
 * Also reads OAuth / programmatic access token files under the same permission rule.
 * Knows nothing about HTTP.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tpcd.h"

struct jwt_key {
	EVP_PKEY	*pkey;
	char		*fingerprint;	/* "SHA256:<base64>" */
};

/* Secrets must be private to their owner: refuse any group/other permission bit. */
int
secret_file_check(const char *path, char **cause)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		*cause = xasprintf("%s: not a regular file", path);
		return -1;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		*cause = xasprintf("%s: permissions %03o let group/others read a secret; "
		    "chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
		return -1;
	}
	return 0;
}

/* Reads a small secret file, trimmed of surrounding white space; caller frees. */
char *
secret_file_read(const char *path, char **cause)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if (secret_file_check(path, cause) != 0)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < (1 << 20))
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	buf_addc(&b, '\0');
	char *s = buf_steal(&b, NULL), *start = s, *end;
	while (isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		*--end = '\0';
	memmove(s, start, strlen(start) + 1);
	if (*s == '\0') {
		*cause = xasprintf("%s: empty", path);
		free(s);
		return NULL;
	}
	return s;
}

static char *
base64(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* base64url without padding (RFC 7515), from OpenSSL's standard base64. */
static char *
base64url(const unsigned char *p, size_t n)
{
	char *s = base64(p, n), *q;

	for (q = s; *q; q++) {
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=') {
			*q = '\0';
			break;
		}
	}
	return s;
}

static int
passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	int n;

	(void)rwflag;
	if (pass == NULL)
		return -1;
	n = (int)strlen(pass);
	if (n > size)
		n = size;
	memcpy(buf, pass, (size_t)n);
	return n;
}

/* Loads a PEM private key (PKCS#8, encrypted or not); the caller frees with jwt_key_free. */
struct jwt_key *
jwt_key_load(const char *path, const char *passphrase_file, char **cause)
{
	struct jwt_key *k;
	char *pass = NULL;
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = sizeof md;
	EVP_PKEY *pkey;
	FILE *f;
	int len;

	if (secret_file_check(path, cause) != 0)
		return NULL;
	if (passphrase_file != NULL && (pass = secret_file_read(passphrase_file, cause)) == NULL)
		return NULL;
	if ((f = fopen(path, "r")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		free(pass);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, passphrase_cb, pass);
	fclose(f);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	if (pkey == NULL) {
		*cause = xasprintf("%s: not a readable PEM private key%s", path,
		    passphrase_file ? " (or wrong passphrase)" : " (encrypted? set "
		    "private_key_passphrase_file)");
		return NULL;
	}
	if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
		*cause = xasprintf("%s: Snowflake key-pair authentication needs an RSA key",
		    path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((len = i2d_PUBKEY(pkey, &der)) <= 0 ||
	    !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL))
		fatal("jwt: cannot fingerprint the public key");
	OPENSSL_free(der);
	k = xcalloc(1, sizeof *k);
	k->pkey = pkey;
	char *b64 = base64(md, mdlen);
	k->fingerprint = xasprintf("SHA256:%s", b64);
	free(b64);
	return k;
}

void
jwt_key_free(struct jwt_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->fingerprint);
	free(k);
}

const char *
jwt_key_fingerprint(const struct jwt_key *k)
{
	return k->fingerprint;
}

/* Snowflake's account identifier in JWT claims: uppercased, cut at the first '.'. */
char *
sf_account_id(const char *account)
{
	char *s = xstrndup(account, strcspn(account, "."));

	for (char *p = s; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

/*
 * A signed JWT for account/user valid from now for lifetime seconds (Snowflake allows at
 * most one hour). Returns the token (caller frees) or NULL and *cause.
 */
char *
jwt_make(const struct jwt_key *k, const char *account, const char *user, int64_t now,
    int lifetime, char **cause)
{
	char *acct = sf_account_id(account), *usr = xstrdup(user), *sub, *iss, *payload;
	char *h64, *p64, *input, *sig64, *token = NULL;
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	EVP_MD_CTX *ctx;
	json_t *claims;

	for (char *p = usr; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	sub = xasprintf("%s.%s", acct, usr);
	iss = xasprintf("%s.%s", sub, k->fingerprint);
	claims = json_pack("{s:s, s:s, s:I, s:I}", "iss", iss, "sub", sub, "iat",
	    (json_int_t)now, "exp", (json_int_t)(now + lifetime));
	payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(claims);
	h64 = base64url((const unsigned char *)"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", 27);
	p64 = base64url((const unsigned char *)payload, strlen(payload));
	input = xasprintf("%s.%s", h64, p64);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input,
	    strlen(input)) != 1) {
		char err[256];
		ERR_error_string_n(ERR_get_error(), err, sizeof err);
		*cause = xasprintf("jwt: RS256 signing failed: %s", err);
	} else {
		sig64 = base64url(sig, siglen);
		token = xasprintf("%s.%s", input, sig64);
		free(sig64);
	}
	EVP_MD_CTX_free(ctx);
	free(acct); free(usr); free(sub); free(iss); free(payload);
	free(h64); free(p64); free(input);
	return token;
}
