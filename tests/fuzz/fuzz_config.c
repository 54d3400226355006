/*
 * fuzz_config.c — tpcd.yaml as config_load reads it: any bytes must give a config or a
 * "FILE:LINE: message", never a crash, a leak or undefined behaviour. config_load takes a
 * path and checks the files named in it, so the input is written to etc/tpcd.yaml of a
 * private directory laid out like this checkout: schema/ (a link to the real one), a users
 * file in var/users.yaml (mode 0600) and a secret file etc/token (mode 0600), so that the
 * shipped configurations load completely.
 */
#include <sys/stat.h>

#include "fuzz.h"
#include "tpcd.h"

#ifndef FUZZ_SRCDIR
#error "FUZZ_SRCDIR: the source tree (the Makefile defines it)"
#endif

static const char users_yaml[] =
	"users:\n"
	"  - {name: admin, role: admin, password_hash: "
	"'$y$j9T$mZ8WpBAN3P9dh.YgNgbDK/$jj5L6V4EcQF3w78G2Ir33A1hONqQFRUtzI7JWB32kg/'}\n"
	"  - {name: brand_a_user, brands: [a], password_hash: "
	"'$y$j9T$mZ8WpBAN3P9dh.YgNgbDK/$jj5L6V4EcQF3w78G2Ir33A1hONqQFRUtzI7JWB32kg/'}\n"
	"tokens:\n"
	"  - {name: dashboard_a, brands: [a], "
	"sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[512];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof path, "%s/etc", fuzz_dir());
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/var", fuzz_dir());
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/schema", fuzz_dir());
	if (symlink(FUZZ_SRCDIR "/schema", path) != 0)
		perror(path);
	fuzz_write("var/users.yaml", users_yaml, sizeof users_yaml - 1);
	fuzz_write("etc/token", "secret\n", 7);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("etc/tpcd.yaml", data, size);
	char *cause = NULL;
	struct config *cf;

	if ((cf = config_load(path, &cause)) != NULL) {
		for (size_t i = 0; i < cf->nbrands; i++)
			if (config_find_brand(cf, cf->brands[i].id) == NULL)
				abort();	/* every brand loaded can be found by its id */
		config_free(cf);
	} else if (cause == NULL)
		abort();		/* a refusal always says why */
	fuzz_note("config", cause);
	free(cause);
	return 0;
}
