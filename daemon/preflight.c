/*
 * preflight.c — tpcd -t beyond parsing: what start-up (and the first refresh) would trip
 * over in the paths the configuration names — directories that are missing or not
 * writable, source files, credentials files, the users file — each reported as
 * "FILE:LINE: message" at the key that set it, all of them, not only the first. It reads
 * the filesystem and changes nothing (no directory made, no store opened).
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tpcd.h"

struct preflight {
	const struct config	*cf;
	FILE			*out;
	int			 problems;
};

static void preflight_say(struct preflight *, const struct config_where *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
preflight_say(struct preflight *pf, const struct config_where *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(pf->out, "%s:%zu: '%s': ", w->file, w->line, w->key);
	va_start(ap, fmt);
	vfprintf(pf->out, fmt, ap);
	va_end(ap);
	fputc('\n', pf->out);
	pf->problems++;
}

/* The nearest existing ancestor of path (itself included); caller frees. */
static char *
existing_ancestor(const char *path)
{
	char *p = xstrdup(path), *d;
	struct stat sb;

	while (stat(p, &sb) != 0 && strcmp(p, "/") != 0 && strcmp(p, ".") != 0) {
		d = xstrdup(dirname(p));
		free(p);
		p = d;
	}
	return p;
}

/* A directory tpcd writes into, made at start-up when missing (state_dir). */
static void
check_dir_writable(struct preflight *pf, const struct config_where *w)
{
	char *a = existing_ancestor(w->value);
	struct stat sb;

	if (stat(a, &sb) != 0 || !S_ISDIR(sb.st_mode))
		preflight_say(pf, w, "%s: %s is not a directory", w->value, a);
	else if (access(a, W_OK | X_OK) != 0)
		preflight_say(pf, w, "%s: %s is not writable by uid %u%s", w->value, a,
		    (unsigned)getuid(), strcmp(a, w->value) == 0 ? "" : " (to create it in)");
	free(a);
}

/* A file tpcd appends to (log_file, audit.file): it, or its directory, is writable. */
static void
check_file_writable(struct preflight *pf, const struct config_where *w)
{
	struct stat sb;
	char *tmp, *dir;

	if (stat(w->value, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			preflight_say(pf, w, "%s is not a regular file", w->value);
		else if (access(w->value, W_OK) != 0)
			preflight_say(pf, w, "%s is not writable by uid %u", w->value,
			    (unsigned)getuid());
		return;
	}
	tmp = xstrdup(w->value);
	dir = dirname(tmp);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		preflight_say(pf, w, "%s: directory %s does not exist", w->value, dir);
	else if (access(dir, W_OK | X_OK) != 0)
		preflight_say(pf, w, "%s: directory %s is not writable by uid %u", w->value, dir,
		    (unsigned)getuid());
	free(tmp);
}

static void
check_file_readable(struct preflight *pf, const struct config_where *w)
{
	struct stat sb;

	if (stat(w->value, &sb) != 0)
		preflight_say(pf, w, "%s: %s", w->value, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		preflight_say(pf, w, "%s is not a regular file", w->value);
	else if (access(w->value, R_OK) != 0)
		preflight_say(pf, w, "%s is not readable by uid %u", w->value, (unsigned)getuid());
}

/* The embedded source: the directory, and each brand's database in it. */
static void
check_sqlite_dir(struct preflight *pf, const struct config_where *w)
{
	const struct config *cf = pf->cf;
	struct stat sb;

	if (stat(w->value, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		preflight_say(pf, w, "%s: %s (tpcd --demo, or the loader, creates it)", w->value,
		    stat(w->value, &sb) != 0 ? strerror(errno) : "not a directory");
		return;
	}
	for (size_t i = 0; i < cf->nbrands; i++) {
		char *db = xasprintf("%s/%s.db", w->value, cf->brands[i].schema);
		if (access(db, R_OK) != 0)
			preflight_say(pf, w, "brand %s: %s: %s", cf->brands[i].id, db,
			    strerror(errno));
		free(db);
	}
}

/*
 * Checks every path key the configuration set; prints each problem on out. Returns the
 * number of problems (0: start-up will find its files).
 */
int
preflight_run(const struct config *cf, FILE *out)
{
	struct preflight pf = { cf, out, 0 };

	for (size_t i = 0; i < cf->nwhere; i++) {
		const struct config_where *w = &cf->where[i];

		if (strcmp(w->key, "state_dir") == 0)
			check_dir_writable(&pf, w);
		else if (strcmp(w->key, "log_file") == 0 || strcmp(w->key, "file") == 0)
			check_file_writable(&pf, w);
		else if (strcmp(w->key, "dir") == 0 && cf->source == SOURCE_SQLITE)
			check_sqlite_dir(&pf, w);
		else if (strcmp(w->key, "users_file") == 0 && cf->auth.users_file_missing)
			preflight_say(&pf, w, "%s does not exist: nobody could log in; create it "
			    "with tpcd --init-users %s", w->value, w->value);
		else if (cf->source == SOURCE_SNOWFLAKE && (strcmp(w->key, "private_key") == 0 ||
		    strcmp(w->key, "private_key_passphrase_file") == 0 ||
		    strcmp(w->key, "token_file") == 0))
			check_file_readable(&pf, w);
	}
	return pf.problems;
}
