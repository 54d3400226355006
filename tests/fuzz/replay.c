/*
 * replay.c — a main() for the fuzz targets without libFuzzer: runs every file named on the
 * command line (a directory: every file in it, sorted) through LLVMFuzzerTestOneInput once.
 * Built with the sanitizers, this replays the corpora in make test; a sanitizer report
 * aborts, so a non-zero exit is a regression.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

const char *__asan_default_options(void);

/*
 * libFuzzer reports a single allocation over 2 GiB (its -malloc_limit_mb) as a finding;
 * so does the replay, or a regression input of that kind would pass here.
 */
const char *
__asan_default_options(void)
{
	return "max_allocation_size_mb=2048";
}

/* Optional in a target; libFuzzer calls it once before the first input, so do we. */
int LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int
replay_file(const char *path)
{
	struct stat sb;
	unsigned char *data;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* a copy of exactly the input's size, so ASan sees a read past its end */
	data = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
	n = fread(data, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (n != (size_t)sb.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (the order a failure is reported in). */
static int
replay_dir(const char *dir, size_t *count)
{
	char **names = NULL, path[4096];
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (replay_file(path) != 0)
			rc = -1;
		else
			(*count)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	struct stat sb;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			rc |= replay_dir(argv[i], &count);
		else if (replay_file(argv[i]) == 0)
			count++;
		else
			rc = -1;
	}
	/* stderr: a target may have pointed stdout elsewhere */
	fprintf(stderr, "replay %s: %zu inputs, %s\n", argv[0], count, rc == 0 ? "ok" : "FAILED");
	return rc == 0 ? 0 : 1;
}
