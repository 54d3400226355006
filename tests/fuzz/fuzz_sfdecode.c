/*
 * fuzz_sfdecode.c — one Snowflake SQL API cell through sf_decode: the first byte picks the
 * column's Snowflake type, the second its scale, the third the catalogue type wanted; the
 * rest is the cell's string. Also sf_type_parse on the same bytes as a type name.
 */
#include "fuzz.h"
#include "tpcd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_col col;
	struct table t;
	struct cell *cell;
	enum col_type want;
	char *cause = NULL, *name;

	if (size < 3)
		return 0;
	col.type = (enum sf_type)(data[0] % (SF_UNKNOWN + 1));
	col.scale = data[1] % 40;
	want = (enum col_type)(data[2] % (COL_DATE + 1));
	data += 3;
	size -= 3;

	table_init(&t, 1);
	cell = table_add_row(&t);
	if (sf_decode(&col, (const char *)data, size, want, &t, cell, &cause) == 0) {
		if (cell->kind == CELL_TEXT)
			(void)table_text(&t, cell);
	} else if (cause == NULL)
		abort();	/* a refusal always says why */
	free(cause);
	table_free(&t);

	name = xstrndup((const char *)data, size);
	(void)sf_type_parse(name);
	free(name);
	return 0;
}
