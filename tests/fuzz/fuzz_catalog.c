/*
 * fuzz_catalog.c — the aggregate catalogue (schema/aggregates.yaml) as catalog_load reads
 * it. The input is written into a private directory in which sqlite/ and snowflake/ link
 * to the real query files, so inputs derived from the real catalogue load completely.
 */
#include "fuzz.h"
#include "tpcd.h"

#ifndef FUZZ_SRCDIR
#error "FUZZ_SRCDIR: the source tree (the Makefile defines it)"
#endif

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char link[512];

	(void)argc;
	(void)argv;
	snprintf(link, sizeof link, "%s/sqlite", fuzz_dir());
	if (symlink(FUZZ_SRCDIR "/schema/sqlite", link) != 0)
		perror(link);
	snprintf(link, sizeof link, "%s/snowflake", fuzz_dir());
	if (symlink(FUZZ_SRCDIR "/schema/snowflake", link) != 0)
		perror(link);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("aggregates.yaml", data, size);
	char *cause = NULL;
	struct catalog *cat;

	if ((cat = catalog_load(path, &cause)) != NULL) {
		for (size_t i = 0; i < cat->naggs; i++) {
			const struct aggregate *a = &cat->aggs[i];
			if (catalog_find(cat, a->name) == NULL)
				abort();	/* every aggregate loaded is found by name */
			for (size_t k = 0; k < a->ncols; k++)
				(void)col_type_name(a->cols[k].type);
		}
		catalog_free(cat);
	} else if (cause == NULL)
		abort();
	fuzz_note("catalog", cause);
	free(cause);
	return 0;
}
