/*
 * auth_password.c — secrets as such: yescrypt hashes of passwords (made for tpcd
 * --hash-password and the demo, checked at login), reading a password from a terminal
 * or a pipe, and fresh random secrets (passwords, tokens, session ids). Nothing here
 * knows users, sessions or the store, and nothing here logs a secret.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tpcd.h"

#define RANDOM_MAX	64	/* bytes: the longest random secret asked for */

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * prefix + 2 * nbytes hex digits of fresh randomness (nbytes at most 64); caller frees.
 * Without randomness the daemon cannot hand out a safe secret: fatal.
 */
char *
auth_password_random(const char *prefix, size_t nbytes)
{
	unsigned char r[RANDOM_MAX];
	char h[2 * RANDOM_MAX + 1];

	if (nbytes > sizeof r)
		fatal("auth_password_random: %zu bytes asked, %zu at most", nbytes, sizeof r);
	if (random_bytes(r, nbytes) != 0)
		fatal("getrandom: %s", strerror(errno));
	hex(r, nbytes, h);
	explicit_bzero(r, sizeof r);
	return xasprintf("%s%s", prefix, h);
}

/* crypt(3) hash of pw, compared in constant time; always runs one crypt. 1 matches. */
int
auth_password_verify(const char *pw, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *out = crypt_rn(pw, hash, cd, sizeof *cd);
	size_t n = strlen(hash);
	int ok = out != NULL && out[0] == '$' && strlen(out) == n &&
	    CRYPTO_memcmp(out, hash, n) == 0;

	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

/* A fresh yescrypt hash of pw; caller frees. NULL and *cause on failure. */
char *
auth_password_hash(const char *pw, char **cause)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], *res = NULL;
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *out;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting) == NULL) {
		*cause = xasprintf("crypt_gensalt: %s", strerror(errno));
		goto out;
	}
	out = crypt_rn(pw, setting, cd, sizeof *cd);
	if (out == NULL || strncmp(out, "$y$", 3) != 0) {
		*cause = xasprintf("crypt: %s", strerror(errno));
		goto out;
	}
	res = xstrdup(out);
out:
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return res;
}
