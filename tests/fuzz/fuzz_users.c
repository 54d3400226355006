/*
 * fuzz_users.c — the users file (auth.users_file: users and API tokens with their hashes),
 * read by config_load through a fixed tpcd.yaml that names it, then turned into the
 * authenticator's tables by auth_new. The input is the users file.
 */
#include "fuzz.h"
#include "tpcd.h"

#ifndef FUZZ_SRCDIR
#error "FUZZ_SRCDIR: the source tree (the Makefile defines it)"
#endif

static const char config_yaml[] =
	"state_dir: store\n"
	"source: {type: sqlite, sqlite: {dir: source}}\n"
	"catalog: " FUZZ_SRCDIR "/schema/aggregates.yaml\n"
	"brands:\n"
	"  - {id: a, name: Brand A, schema: brand_a}\n"
	"  - {id: b, name: Brand B, schema: brand_b}\n"
	"auth:\n"
	"  users_file: users.yaml\n"
	"  trusted_proxies: [127.0.0.1, '::1']\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_write("tpcd.yaml", config_yaml, sizeof config_yaml - 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], *cause = NULL;
	struct config *cf;
	struct auth *a;

	fuzz_write("users.yaml", data, size);
	snprintf(path, sizeof path, "%s/tpcd.yaml", fuzz_dir());
	if ((cf = config_load(path, &cause)) == NULL) {
		if (cause == NULL)
			abort();	/* a refusal always says why */
		fuzz_note("users", cause);
		free(cause);
		return 0;
	}
	fuzz_note("users", NULL);
	if ((a = auth_new(cf, NULL, NULL, &cause)) == NULL)
		abort();		/* nothing in auth_new can fail on a loaded config */
	auth_free(a);
	config_free(cf);
	return 0;
}
