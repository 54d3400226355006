/*
 * data.c — the verbs that read the served data: brands, a brand's aggregates, and get
 * (one aggregate's rows, or a slice of them, fetched as msgpack and shown as a table,
 * JSON or CSV).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

/* GET a list and show it as JSON or as a grid of some keys of its objects. */
static int
data_list(struct ctx *c, const char *path, const char *member, const char *const *keys,
    const char *const *heads, size_t n, struct err *e)
{
	json_t *root;
	struct grid g;
	int rc = 0;

	if (api_get_json(c, path, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		render_json(root);
	else if ((rc = grid_from_objects(&g, json_object_get(root, member), keys, heads, n,
	    e)) == 0) {
		render_grid(c, &g);
		grid_free(&g);
	}
	json_decref(root);
	return rc;
}

int
data_brands(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "id", "name" };

	(void)args;
	return data_list(c, "/v1/brands", "brands", keys, keys, 2, e);
}

int
data_aggregates(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "name", "rows", "title_en" };
	static const char *const heads[] = { "name", "rows", "title" };
	char *brand = api_escape(c, args[0]), *path;
	int rc;

	path = xasprintf("/v1/brands/%s/aggregates", brand);
	free(brand);
	rc = data_list(c, path, "aggregates", keys, heads, 3, e);
	free(path);
	return rc;
}

/* The aggregate's path with the slice --limit, --offset and --where ask for (escaped). */
static char *
data_slice_path(struct ctx *c, const char *brand, const char *name)
{
	struct buf b;
	char *v;

	buf_init(&b);
	buf_printf(&b, "/v1/brands/%s/aggregates/%s?format=msgpack", brand, name);
	if (c->limit != NULL)
		buf_printf(&b, "&limit=%s", c->limit);
	if (c->offset != NULL)
		buf_printf(&b, "&offset=%s", c->offset);
	for (size_t i = 0; i < c->nwhere; i++) {
		const char *eq = strchr(c->where[i], '=');
		char *col = xstrndup(c->where[i], (size_t)(eq - c->where[i]));
		char *k = api_escape(c, col);
		v = api_escape(c, eq + 1);
		buf_printf(&b, "&%s=%s", k, v);
		free(col);
		free(k);
		free(v);
	}
	return buf_steal(&b, NULL);
}

int
data_get(struct ctx *c, char **args, struct err *e)
{
	char *brand = api_escape(c, args[0]), *name = api_escape(c, args[1]), *path;
	struct resp r;
	struct agg a;
	struct grid g;
	json_t *j;
	int rc;

	path = data_slice_path(c, brand, name);
	free(brand);
	free(name);
	rc = api_get(c, path, "application/msgpack", &r, e);
	free(path);
	if (rc == -1)
		return -1;
	if ((rc = agg_decode(&r, &a, e)) == 0) {
		if (c->fmt == OUT_JSON) {
			if ((rc = body_mp_to_json(a.root, &j, e)) == 0) {
				render_json(j);
				json_decref(j);
			}
		} else if ((rc = agg_grid(&a, &g, e)) == 0) {
			render_grid(c, &g);
			if (c->fmt == OUT_TABLE)
				agg_footer(&a, grid_rows(&g), r.total);
			grid_free(&g);
		}
	}
	msgpack_unpacked_destroy(&a.up);
	api_resp_free(&r);
	return rc;
}
