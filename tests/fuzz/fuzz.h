/*
 * fuzz.h — what the fuzz targets (tests/fuzz/fuzz_*.c) share: libFuzzer's entry points and
 * a per-process scratch directory for the parsers that take a path. The same targets link
 * with libFuzzer (make fuzz) or with replay.c (make test), so nothing here needs clang.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static char fuzz_scratch[256];

static inline void
fuzz_scratch_rm(void)
{
	char cmd[300];

	/* our own mkdtemp directory, named by us: nothing in it is the user's */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_scratch);
	if (fuzz_scratch[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_scratch);
}

/* A private directory for this process (under $TMPDIR), removed at exit. */
static inline const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_scratch[0] != '\0')
		return fuzz_scratch;
	snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/tpcd-fuzz.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(fuzz_scratch) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_scratch_rm);
	return fuzz_scratch;
}

/* Writes data to dir/name (mode 0600, replacing it); returns the path (static). */
static inline const char *
fuzz_write(const char *name, const void *data, size_t size)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(path);
		abort();
	}
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, (const char *)data + off, size - off);
		if (n <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

/* $FUZZ_VERBOSE: say why an input was refused, to check that seeds get as far as meant. */
static inline void
fuzz_note(const char *what, const char *cause)
{
	const char *v = getenv("FUZZ_VERBOSE");

	if (v != NULL && *v != '\0')
		fprintf(stderr, "%s: %s\n", what, cause != NULL ? cause : "ok");
}

#endif
