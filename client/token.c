/*
 * token.c — the bearer token tpcctl sends: from --token-file, $TPCD_TOKEN or the file
 * login keeps ($XDG_CONFIG_HOME/tpcd/token, else ~/.config/tpcd/token; mode 0600).
 * Checks that a token can go in a header; never prints it.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpcctl.h"

#define TOKEN_DIR	"tpcd"		/* under $XDG_CONFIG_HOME or ~/.config */
#define MAX_TOKEN	8192

static char *
token_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return NULL;
}

/*
 * The directory login keeps its token in: $XDG_CONFIG_HOME/tpcd, or ~/.config/tpcd when
 * XDG_CONFIG_HOME is unset, empty or relative (the XDG base directory rules: a relative
 * one is invalid); NULL without a home directory.
 */
static char *
token_dir(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *home, *dir;

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/" TOKEN_DIR, xdg);
	if ((home = token_home_dir()) == NULL)
		return NULL;
	dir = xasprintf("%s/.config/" TOKEN_DIR, home);
	free(home);
	return dir;
}

char *
token_default_path(void)
{
	char *dir = token_dir(), *p;

	if (dir == NULL)
		return NULL;
	p = xasprintf("%s/token", dir);
	free(dir);
	return p;
}

/* Trimmed in place; a header value must be visible ASCII only, or it could smuggle headers. */
int
token_check(char **tok, const char *where, struct err *e)
{
	char *s = *tok, *end;
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	    end[-1] == '\r' || end[-1] == '\v' || end[-1] == '\f'))
		end--;
	n = (size_t)(end - s);
	memmove(*tok, s, n);
	(*tok)[n] = '\0';
	if (n == 0)
		return fail(e, EXIT_USAGE, "empty token in %s", where);
	for (s = *tok; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return fail(e, EXIT_USAGE, "token in %s has characters a token cannot have",
			    where);
	}
	return 0;
}

/* *tok stays NULL when the file does not exist and need not. */
static int
token_read(const char *path, bool must_exist, char **tok, struct err *e)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	*tok = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(e, EXIT_USAGE, "token file %s: %s", path, strerror(errno));
	}
	buf = xmalloc(MAX_TOKEN + 1);
	while (len <= MAX_TOKEN && (n = read(fd, buf + len, MAX_TOKEN + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fail(e, EXIT_USAGE, "token file %s: %s", path, strerror(errno));
			goto bad;
		}
		len += (size_t)n;
	}
	if (len > MAX_TOKEN) {
		fail(e, EXIT_USAGE, "token file %s: larger than %d bytes", path, MAX_TOKEN);
		goto bad;
	}
	buf[len] = '\0';
	close(fd);
	if (token_check(&buf, path, e) == -1) {
		explicit_bzero(buf, MAX_TOKEN + 1);
		free(buf);
		return -1;
	}
	*tok = buf;
	return 0;
bad:
	explicit_bzero(buf, MAX_TOKEN + 1);
	free(buf);
	close(fd);
	return -1;
}

/* --token-file, else $TPCD_TOKEN, else the token login kept; none at all is fine. */
int
token_load(struct ctx *c, struct err *e)
{
	const char *env = getenv("TPCD_TOKEN");
	char *path;
	int rc;

	if (c->token_file != NULL) {
		c->token_src = TOKEN_OPTION;
		return token_read(c->token_file, true, &c->token, e);
	}
	if (env != NULL && *env != '\0') {
		c->token_src = TOKEN_ENV;
		c->token = xstrdup(env);
		return token_check(&c->token, "$TPCD_TOKEN", e);
	}
	if ((path = token_default_path()) == NULL)
		return 0;
	rc = token_read(path, false, &c->token, e);
	free(path);
	if (rc == 0 && c->token != NULL)
		c->token_src = TOKEN_DEFAULT;
	return rc;
}

/* The token an earlier login kept, or NULL (no file, or not a usable token); caller frees. */
char *
token_stored(void)
{
	struct err e;
	char *path = token_default_path(), *tok = NULL;

	if (path == NULL)
		return NULL;
	if (token_read(path, false, &tok, &e) == -1)
		tok = NULL;
	free(path);
	return tok;
}

int
token_store(const char *tok, struct err *e)
{
	char *dir = token_dir(), *path, *cause;
	size_t off = 0, len = strlen(tok);
	ssize_t n;
	int fd, rc = -1;

	if (dir == NULL)
		return fail(e, EXIT_SERVER, "no home directory to keep the token in");
	path = xasprintf("%s/token", dir);
	if (util_mkdir_p(dir, 0700, &cause) == -1) {
		fail(e, EXIT_SERVER, "%s", cause);
		free(cause);
		goto out;
	}
	/* O_NOFOLLOW: a symlink planted there must not redirect the token */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		fail(e, EXIT_SERVER, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* the mode of open() applies only when it creates the file */
	if (fchmod(fd, 0600) == -1) {
		fail(e, EXIT_SERVER, "chmod %s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	while (off < len + 1) {
		const char *src = off < len ? tok + off : "\n";
		size_t want = off < len ? len - off : 1;

		if ((n = write(fd, src, want)) == -1) {
			if (errno == EINTR)
				continue;
			fail(e, EXIT_SERVER, "write %s: %s", path, strerror(errno));
			close(fd);
			goto out;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		fail(e, EXIT_SERVER, "write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	free(path);
	return rc;
}
