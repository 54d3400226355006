/*
 * users_init.c — tpcd --init-users FILE: the first users file of an installation, with
 * an admin (a fresh random password) and a monitoring token (role monitor), their
 * secrets printed once. Only hashes are written. The file is created, never replaced:
 * mode 0600, owned by the tpcd user when it exists and we may give it away (root), so
 * the service (User=tpcd) reads it and nobody else does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "tpcd.h"

#define USERS_OWNER	"tpcd"

static void
hex32(const unsigned char h[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

/* Gives fd to the tpcd user when it exists and we are root; the owner it ended with. */
static const char *
users_init_owner(int fd, char **cause)
{
	struct passwd *pw = getpwnam(USERS_OWNER);

	if (pw == NULL || geteuid() != 0)
		return NULL;
	if (fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
		*cause = xasprintf("chown %s: %s", USERS_OWNER, strerror(errno));
		return NULL;
	}
	return USERS_OWNER;
}

/*
 * Creates path with user "admin" and token "monitor"; prints their secrets on out.
 * 0, or -1 and *cause (an existing file is an error: it is never overwritten).
 */
int
users_init(const char *path, FILE *out, char **cause)
{
	char *pw = NULL, *hash = NULL, *tok = NULL, sha[65];
	const char *owner;
	unsigned char h[32];
	int fd, rc = -1;
	FILE *f = NULL;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		*cause = xasprintf("%s: %s%s", path, strerror(errno), errno == EEXIST ?
		    " (kept; add users with tpcd --hash-password)" : "");
		return -1;
	}
	pw = auth_password_random("", 32);
	pw[24] = '\0';
	tok = auth_password_random("tpcdt_", 32);
	SHA256((const unsigned char *)tok, strlen(tok), h);
	hex32(h, sha);
	if ((hash = auth_password_hash(pw, cause)) == NULL)
		goto out;
	owner = users_init_owner(fd, cause);
	if (*cause != NULL)
		goto out;
	if ((f = fdopen(fd, "w")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	fprintf(f, "# tpcd users (auth.users_file), written by tpcd --init-users: password\n"
	    "# hashes (yescrypt) and the SHA-256 of API tokens only. Add a user with a hash\n"
	    "# from tpcd --hash-password; then systemctl reload tpcd. See tpcd.yaml(5).\n"
	    "users:\n  - name: admin\n    password_hash: \"%s\"\n    role: admin\n"
	    "tokens:\n  - name: monitor\n    sha256: %s\n    role: monitor\n", hash, sha);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(out, "%s: created (mode 0600%s%s); the secrets are shown only now:\n"
	    "  admin    password %s   (tpcctl login admin)\n"
	    "  monitor  token    %s   (role monitor: tpcctl health, Prometheus)\n",
	    path, owner ? ", owner " : "", owner ? owner : "", pw, tok);
	rc = 0;
out:
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(path);
	explicit_bzero(pw, strlen(pw));
	explicit_bzero(tok, strlen(tok));
	free(pw);
	free(tok);
	free(hash);
	return rc;
}
