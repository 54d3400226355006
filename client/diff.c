/*
 * diff.c — the diff verb: every aggregate as the older colour holds it against the newer,
 * rows matched by their dimension columns and counted added, removed, changed, unchanged.
 * Reads both snapshots through the API; changes nothing on the server.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

/* The exit status of diff(1) and kubectl diff, not that of the other verbs. */
enum diff_status { DIFF_SAME = 0, DIFF_DIFFERENT = 1, DIFF_TROUBLE = 2 };

struct side {
	const char	*colour;
	json_int_t	 generation;
	bool		 present;	/* the colour holds the aggregate */
	struct resp	 r;
	struct agg	 a;
};

/* A row with its key: the packed dimension cells (or the row number). */
struct krow {
	char		*key;
	size_t		 len;
	uint32_t	 idx;
};

struct diff_count {
	size_t	added, removed, changed, unchanged;
};

static int
diff_krow_cmp(const void *x, const void *y)
{
	const struct krow *a = x, *b = y;
	int d = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	if (d != 0)
		return d;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The rows of a sorted by key; without key columns a row's key is its position. */
static struct krow *
diff_key_rows(const struct agg *a, const int *kidx, size_t nk)
{
	uint32_t n = a->rows->via.array.size, i;
	struct krow *k = xcalloc(n, sizeof *k);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	for (i = 0; i < n; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (nk == 0)
			msgpack_pack_uint32(&pk, i);
		for (size_t j = 0; j < nk; j++)
			msgpack_pack_object(&pk, row->via.array.ptr[kidx[j]]);
		if (sb.data == NULL)
			fatal("out of memory");
		k[i].len = sb.size;
		k[i].key = msgpack_sbuffer_release(&sb);
		k[i].idx = i;
	}
	qsort(k, n, sizeof *k, diff_krow_cmp);
	return k;
}

static void
diff_krows_free(struct krow *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

/*
 * Rows of from and to matched by the dimension columns dims (names from the catalogue);
 * a matched pair is changed when any column both sides have differs. Column additions
 * and removals go to cols_added/cols_removed.
 */
static void
diff_rows(const struct agg *from, const struct agg *to, const json_t *dims,
    struct diff_count *n, json_t *cols_added, json_t *cols_removed)
{
	uint32_t nf = from->rows->via.array.size, nt = to->rows->via.array.size, i, j;
	uint32_t ncf = from->cols->via.array.size, nct = to->cols->via.array.size;
	int *fk = xcalloc(json_array_size(dims) + 1, sizeof *fk);
	int *tk = xcalloc(json_array_size(dims) + 1, sizeof *tk);
	int *pf = xcalloc(nct, sizeof *pf), *pt = xcalloc(nct, sizeof *pt);
	size_t nk = 0, np = 0, d;
	struct krow *kf, *kt;
	const json_t *v;

	json_array_foreach(dims, d, v) {
		int a = agg_col_index(from, json_string_value(v)), b = agg_col_index(to,
		    json_string_value(v));

		if (a >= 0 && b >= 0) {
			fk[nk] = a;
			tk[nk++] = b;
		}
	}
	for (j = 0; j < nct; j++) {
		char *name = agg_col_name(to, j);
		int a = agg_col_index(from, name);

		if (a >= 0) {
			pf[np] = a;
			pt[np++] = (int)j;
		} else
			json_array_append_new(cols_added, json_string(name));
		free(name);
	}
	for (j = 0; j < ncf; j++) {
		char *name = agg_col_name(from, j);

		if (agg_col_index(to, name) < 0)
			json_array_append_new(cols_removed, json_string(name));
		free(name);
	}
	kf = diff_key_rows(from, fk, nk);
	kt = diff_key_rows(to, tk, nk);
	for (i = 0, j = 0; i < nf || j < nt; ) {
		int cmp = i == nf ? 1 : j == nt ? -1 : diff_krow_cmp(&(struct krow){ kf[i].key,
		    kf[i].len, 0 }, &(struct krow){ kt[j].key, kt[j].len, 0 });

		if (cmp < 0) {
			n->removed++;
			i++;
		} else if (cmp > 0) {
			n->added++;
			j++;
		} else {
			const msgpack_object *rf = &from->rows->via.array.ptr[kf[i].idx];
			const msgpack_object *rt = &to->rows->via.array.ptr[kt[j].idx];
			bool same = true;

			for (size_t p = 0; p < np && same; p++)
				same = msgpack_object_equal(rf->via.array.ptr[pf[p]],
				    rt->via.array.ptr[pt[p]]);
			if (same)
				n->unchanged++;
			else
				n->changed++;
			i++;
			j++;
		}
	}
	diff_krows_free(kf, nf);
	diff_krows_free(kt, nt);
	free(fk);
	free(tk);
	free(pf);
	free(pt);
}

/* The aggregate as one colour holds it; a 404 is "not there", not an error. */
static int
diff_fetch_side(struct ctx *c, const char *bpath, const char *apath, struct side *s,
    struct err *e)
{
	char *path = xasprintf("/v1/brands/%s/aggregates/%s?colour=%s&format=msgpack", bpath,
	    apath, s->colour);
	int rc;

	s->present = false;
	msgpack_unpacked_init(&s->a.up);
	rc = api_request(c, "GET", path, "application/msgpack", NULL, 0, &s->r, e);
	free(path);
	if (rc == -1)
		return -1;
	if (s->r.status == 404)
		return 0;
	if (s->r.status < 200 || s->r.status > 299)
		return api_error(&s->r, e);
	msgpack_unpacked_destroy(&s->a.up);
	if (agg_decode(&s->r, &s->a, e) == -1)
		return -1;
	s->present = true;
	return 0;
}

static void
diff_side_free(struct side *s)
{
	msgpack_unpacked_destroy(&s->a.up);
	api_resp_free(&s->r);
}

static char *
diff_join_names(const json_t *arr, const char *sign)
{
	struct buf b = { 0 };
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		buf_adds(&b, b.len ? " " : "");
		buf_adds(&b, sign);
		buf_adds(&b, json_string_value(v));
	}
	return buf_steal(&b, NULL);
}

static int
diff_aggregate(struct ctx *c, const char *brand, const json_t *meta, struct side *from,
    struct side *to, json_t *out, struct grid *g, bool *differs, struct err *e)
{
	const char *name = json_string_value(json_object_get(meta, "name"));
	char *bpath = api_escape(c, brand), *apath = api_escape(c, name), *note = NULL;
	json_t *dims = json_array(), *cadd = json_array(), *crem = json_array(), *o;
	struct diff_count n = { 0 };
	const json_t *col;
	size_t i, nf = 0, nt = 0;
	int rc = -1;

	json_array_foreach(json_object_get(meta, "columns"), i, col) {
		const char *role = json_string_value(json_object_get(col, "role"));

		if (role != NULL && strcmp(role, "dimension") == 0 &&
		    json_is_string(json_object_get(col, "name")))
			json_array_append(dims, json_object_get(col, "name"));
	}
	if (diff_fetch_side(c, bpath, apath, from, e) == -1 ||
	    diff_fetch_side(c, bpath, apath, to, e) == -1)
		goto out;
	if (from->present)
		nf = from->a.rows->via.array.size;
	if (to->present)
		nt = to->a.rows->via.array.size;
	if (from->present && to->present) {
		diff_rows(&from->a, &to->a, dims, &n, cadd, crem);
		if (json_array_size(cadd) + json_array_size(crem) > 0) {
			char *a = diff_join_names(cadd, "+"), *r = diff_join_names(crem, "-");

			note = xasprintf("columns %s%s%s", a, *a && *r ? " " : "", r);
			free(a);
			free(r);
		}
	} else if (from->present) {
		n.removed = nf;
		note = xasprintf("only in %s", from->colour);
	} else if (to->present) {
		n.added = nt;
		note = xasprintf("only in %s", to->colour);
	} else
		note = xstrdup("in neither colour");
	o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "brand", brand,
	    "aggregate", name, "in_from", from->present, "in_to", to->present,
	    "from_rows", (json_int_t)nf, "to_rows", (json_int_t)nt,
	    "added", (json_int_t)n.added, "removed", (json_int_t)n.removed,
	    "changed", (json_int_t)n.changed, "unchanged", (json_int_t)n.unchanged);
	json_object_set(o, "columns_added", cadd);
	json_object_set(o, "columns_removed", crem);
	json_array_append_new(out, o);
	if (n.added + n.removed + n.changed > 0 || json_array_size(cadd) + json_array_size(crem) >
	    0 || from->present != to->present)
		*differs = true;
	grid_add(g, xstrdup(brand), false);
	grid_add(g, xstrdup(name), false);
	grid_add(g, xasprintf("%zu", n.added), true);
	grid_add(g, xasprintf("%zu", n.removed), true);
	grid_add(g, xasprintf("%zu", n.changed), true);
	grid_add(g, xasprintf("%zu", n.unchanged), true);
	grid_add(g, note, false);
	note = NULL;
	rc = 0;
out:
	diff_side_free(from);
	diff_side_free(to);
	free(note);
	free(bpath);
	free(apath);
	json_decref(dims);
	json_decref(cadd);
	json_decref(crem);
	return rc;
}

/* The two colours that hold a snapshot, older first; -1 unless both do. */
static int
diff_pick_colours(struct ctx *c, struct side *from, struct side *to, json_t **root, struct err *e)
{
	const json_t *s, *blue = NULL, *green = NULL;
	size_t i;

	if (api_get_json(c, "/v1/snapshots", root, e) == -1)
		return -1;
	json_array_foreach(json_object_get(*root, "snapshots"), i, s) {
		const char *col = json_string_value(json_object_get(s, "colour"));

		if (col != NULL && strcmp(col, "blue") == 0)
			blue = s;
		else if (col != NULL && strcmp(col, "green") == 0)
			green = s;
	}
	if (blue == NULL || green == NULL)
		return fail(e, EXIT_SERVER, "diff needs a snapshot in both colours; %s",
		    blue ? "only blue holds one" : green ? "only green holds one" :
		    "there is none");
	from->colour = "blue";
	from->generation = json_integer_value(json_object_get(blue, "generation"));
	to->colour = "green";
	to->generation = json_integer_value(json_object_get(green, "generation"));
	/* older to newer; on a tie, from the inactive to the active one */
	if (from->generation > to->generation || (from->generation == to->generation &&
	    json_is_true(json_object_get(blue, "active")))) {
		struct side t = *from;

		*from = *to;
		*to = t;
	}
	return 0;
}

/*
 * The diff verb: the table (or JSON) of every aggregate compared, then the exit status of
 * diff(1): 0 when the colours hold the same rows, 1 when anything differs (rows, columns,
 * an aggregate only one colour holds), 2 when the comparison could not be made.
 */
int
diff_run(struct ctx *c, char **args, struct err *e)
{
	struct side from = { 0 }, to = { 0 };
	json_t *snaps = NULL, *brands = NULL, *list = NULL, *out = json_array(), *res;
	const char *only = args[0] != NULL ? args[1] : NULL;	/* args ends at the NULL */
	const json_t *b, *m;
	struct grid g;
	size_t i, k, found;
	bool differs = false;
	int rc = -1;

	grid_init(&g, 7);
	for (k = 0; k < 7; k++)
		grid_add(&g, xstrdup((const char *[]){ "brand", "aggregate", "added", "removed",
		    "changed", "unchanged", "note" }[k]), false);
	if (diff_pick_colours(c, &from, &to, &snaps, e) == -1)
		goto out;
	if (args[0] != NULL) {
		json_t *one = json_string(args[0]);

		if (one == NULL) {
			fail(e, EXIT_USAGE, "diff: the brand must be UTF-8");
			goto out;
		}
		brands = json_pack("[{s:o}]", "id", one);
	} else {
		if (api_get_json(c, "/v1/brands", &list, e) == -1)
			goto out;
		brands = json_incref(json_object_get(list, "brands"));
		json_decref(list);
		list = NULL;
	}
	json_array_foreach(brands, i, b) {
		const char *id = json_string_value(json_object_get(b, "id"));
		char *bp, *path;

		if (id == NULL) {
			fail(e, EXIT_USAGE, "diff: the brand must be UTF-8");
			goto out;
		}
		bp = api_escape(c, id);
		path = xasprintf("/v1/brands/%s/aggregates", bp);
		free(bp);
		rc = api_get_json(c, path, &list, e);
		free(path);
		if (rc == -1)
			goto out;
		rc = -1;
		found = 0;
		json_array_foreach(json_object_get(list, "aggregates"), k, m) {
			const char *name = json_string_value(json_object_get(m, "name"));

			if (name == NULL || (only != NULL && strcmp(only, name) != 0))
				continue;
			found++;
			if (diff_aggregate(c, id, m, &from, &to, out, &g, &differs, e) == -1)
				goto out;
		}
		if (only != NULL && found == 0) {
			fail(e, EXIT_SERVER, "brand %s has no aggregate '%s'", id, only);
			goto out;
		}
		json_decref(list);
		list = NULL;
	}
	if (c->fmt == OUT_JSON) {
		res = json_pack("{s:{s:s, s:I}, s:{s:s, s:I}, s:O}", "from", "colour",
		    from.colour, "generation", from.generation, "to", "colour", to.colour,
		    "generation", to.generation, "aggregates", out);
		render_json(res);
		json_decref(res);
	} else {
		if (c->fmt == OUT_TABLE)
			printf("%s (generation %" JSON_INTEGER_FORMAT ") -> %s (generation %"
			    JSON_INTEGER_FORMAT ")\n\n", from.colour, from.generation, to.colour,
			    to.generation);
		render_grid(c, &g);
	}
	/* -2: nothing more to print, the exit status says it */
	rc = differs ? -2 : 0;
	e->code = differs ? DIFF_DIFFERENT : DIFF_SAME;
out:
	if (rc == -1)
		e->code = DIFF_TROUBLE;
	grid_free(&g);
	json_decref(snaps);
	json_decref(brands);
	json_decref(list);
	json_decref(out);
	return rc;
}
