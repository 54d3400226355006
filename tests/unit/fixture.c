/*
 * fixture.c — the unit tests' temporary directories (see fixture.h). Removal walks the
 * tree itself (nftw, no shell), never following a symlink out of the directory.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static char dir[PATH_MAX];

int
fixture_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	int n;

	(void)state;
	if (base == NULL || *base == '\0')
		base = P_tmpdir;
	n = snprintf(dir, sizeof dir, "%s/tpcd-%s-XXXXXX", base, program_invocation_short_name);
	if (n < 0 || (size_t)n >= sizeof dir || mkdtemp(dir) == NULL) {
		fprintf(stderr, "fixture: cannot make a directory under %s: %s\n", base,
		    strerror(errno));
		dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int
remove_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
fixture_teardown(void **state)
{
	int rc;

	(void)state;
	if (dir[0] == '\0')
		return 0;
	rc = nftw(dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0)
		fprintf(stderr, "fixture: cannot remove %s: %s\n", dir, strerror(errno));
	dir[0] = '\0';
	return rc;
}

const char *
fixture_dir(void)
{
	assert_true(dir[0] != '\0');
	return dir;
}

char *
fixture_path(const char *name)
{
	return xasprintf("%s/%s", fixture_dir(), name);
}

const char *
fixture_write(const char *name, const char *text, mode_t mode)
{
	static char *path;	/* the last one written, freed by the next call */
	FILE *f;

	free(path);
	path = fixture_path(name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

void
fixture_args(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
}
