/*
 * demo_accounts.c — the demo's accounts (tpcd --demo), next to its data: a users file
 * with one user per brand, an admin and a dashboard token, with fresh random secrets
 * shown once. Only hashes are written; an existing users file is never touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "tpcd.h"

struct demo_account {
	char	*name;
	char	*secret;	/* password or token, shown once */
	char	*hash;		/* yescrypt, or SHA-256 hex for the token */
	const char *brand;	/* NULL: admin */
};

static void
demo_account_free(struct demo_account *d)
{
	if (d->secret != NULL)
		explicit_bzero(d->secret, strlen(d->secret));
	free(d->name);
	free(d->secret);
	free(d->hash);
}

/* The SHA-256 of s in lowercase hex, as a users file's sha256: wants it; caller frees. */
static char *
sha256_hex(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char h[32];
	char out[65];

	SHA256((const unsigned char *)s, strlen(s), h);
	for (size_t i = 0; i < sizeof h; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
	return xstrdup(out);
}

static int
demo_accounts_save(const char *path, struct demo_account *acc, size_t n,
    struct demo_account *tok, char **cause)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# tpcd users, written by tpcd --demo: password hashes (yescrypt) and the\n"
	    "# SHA-256 of API tokens only. Make a hash with tpcd --hash-password.\nusers:\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  - name: %s\n    password_hash: \"%s\"\n    role: %s\n", acc[i].name,
		    acc[i].hash, acc[i].brand ? "user" : "admin");
		if (acc[i].brand != NULL)
			fprintf(f, "    brands: [%s]\n", acc[i].brand);
	}
	fprintf(f, "tokens:\n  - name: %s\n    sha256: %s\n    brands: [%s]\n", tok->name,
	    tok->hash, tok->brand);
	if (fclose(f) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * tpcd --demo: when auth.users_file names a file that does not exist, writes one with a
 * user per brand (brand_<id>_user), an admin and a dashboard token for the first brand,
 * all with fresh random secrets, and prints the secrets once on out.
 */
int
demo_accounts_write(const struct config *cf, FILE *out, int port, char **cause)
{
	struct demo_account *acc, tok = { 0 };
	size_t n = cf->nbrands + 1;
	int rc = -1;

	if (cf->auth.users_file == NULL)
		return 0;
	if (access(cf->auth.users_file, F_OK) == 0) {
		fprintf(out, "demo accounts: %s exists; kept (delete it for new passwords)\n",
		    cf->auth.users_file);
		return 0;
	}
	acc = xcalloc(n, sizeof *acc);
	for (size_t i = 0; i < n; i++) {
		acc[i].brand = i < cf->nbrands ? cf->brands[i].id : NULL;
		acc[i].name = acc[i].brand ? xasprintf("brand_%s_user", acc[i].brand) :
		    xstrdup("admin");
		acc[i].secret = auth_password_random("", 32);
		acc[i].secret[24] = '\0';	/* 96 bits: plenty for a demo password */
		if ((acc[i].hash = auth_password_hash(acc[i].secret, cause)) == NULL)
			goto out;
	}
	tok.brand = cf->brands[0].id;
	tok.name = xasprintf("dashboard_%s", tok.brand);
	tok.secret = auth_password_random("tpcdt_", 32);
	tok.hash = sha256_hex(tok.secret);
	if (demo_accounts_save(cf->auth.users_file, acc, n, &tok, cause) != 0)
		goto out;
	fprintf(out, "demo accounts (in %s; the secrets are shown only now):\n",
	    cf->auth.users_file);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-16s password %s  (%s%s)\n", acc[i].name, acc[i].secret,
		    acc[i].brand ? "brand " : "admin", acc[i].brand ? acc[i].brand : "");
	fprintf(out, "  %-16s token    %s  (brand %s)\n", tok.name, tok.secret, tok.brand);
	fprintf(out, "try:\n  curl -s -H 'Authorization: Bearer %s' "
	    "http://127.0.0.1:%d/v1/brands/%s/aggregates/mau_users\n", tok.secret, port,
	    tok.brand);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		demo_account_free(&acc[i]);
	free(acc);
	demo_account_free(&tok);
	return rc;
}
