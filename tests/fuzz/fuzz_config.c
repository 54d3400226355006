/*
 * fuzz_config.c — tpcd.yaml as config_load reads it: any bytes must give a config or a
 * "FILE:LINE: message", never a crash, a leak or undefined behaviour. The input is written
 * to a file in a private directory, because config_load takes a path (and resolves the
 * relative paths in it against that file's directory).
 */
#include "fuzz.h"
#include "tpcd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("tpcd.yaml", data, size);
	char *cause = NULL;
	struct config *cf;

	if ((cf = config_load(path, &cause)) != NULL) {
		for (size_t i = 0; i < cf->nbrands; i++)
			if (config_find_brand(cf, cf->brands[i].id) == NULL)
				abort();	/* every brand loaded can be found by its id */
		config_free(cf);
	} else if (cause == NULL)
		abort();		/* a refusal always says why */
	free(cause);
	return 0;
}
