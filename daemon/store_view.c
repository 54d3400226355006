/*
 * store_view.c — the read side of the store: per-thread readers with their pooled read
 * transactions (store_reader_*) and the views they open on the active snapshot
 * (store_view_*): records, manifests, sessions, the pin and the held colour, pointing
 * into the map until released. Read transactions only: serving threads call this file,
 * so nothing here writes or waits (a pending remap refuses the view instead).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "tpcd.h"
#include "store_priv.h"

struct store_reader *
store_reader_new(struct store *st)
{
	struct store_reader *rd = xcalloc(1, sizeof *rd);

	rd->st = st;
	return rd;
}

/* Frees the reader and its pooled transactions; every view must have been released. */
void
store_reader_free(struct store_reader *rd)
{
	struct store_view *v, *next;

	if (rd == NULL)
		return;
	for (v = rd->free; v != NULL; v = next) {
		next = v->next;
		mdb_txn_abort(v->txn);
		free(v);
	}
	free(rd);
}

/*
 * Opens a read view on the active snapshot, reusing a pooled transaction when there is
 * one (mdb_txn_renew: no allocation, no lock). Returns NULL when LMDB refuses (reader
 * table full, a map being remapped): the caller answers 503 with Retry-After. Release it
 * with store_view_release on the same thread.
 */
struct store_view *
store_view_begin(struct store_reader *rd)
{
	struct store *st = rd->st;
	struct store_view *v = rd->free;
	char gkey[32];
	MDB_val val;
	int rc;

	if (store_txn_enter(st) != 0) {
		/* a peer grew the map: remap now if nothing of ours is open, else refuse */
		if (store_remap(st, 0) != 0 || store_txn_enter(st) != 0)
			return NULL;
	}
	if (v != NULL) {
		rd->free = v->next;
		rc = mdb_txn_renew(v->txn);
	} else {
		v = xcalloc(1, sizeof *v);
		v->rd = rd;
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &v->txn);
		if (rc == MDB_READERS_FULL && mdb_reader_check(st->env, NULL) == 0)
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &v->txn);
	}
	if (rc != 0) {
		store_txn_leave(st);
		if (rc == MDB_READERS_FULL)
			atomic_fetch_add(&st->readers_full, 1);
		else if (rc == MDB_MAP_RESIZED)
			store_remap(st, 0);
		log_err("store: read transaction: %s", mdb_strerror(rc));
		if (v->txn != NULL)
			mdb_txn_abort(v->txn);
		free(v);
		return NULL;
	}
	v->next = NULL;
	v->colour = store_active_colour(st, v->txn);
	v->generation = 0;
	if (v->colour >= 0) {
		snprintf(gkey, sizeof gkey, "generation.%s", store_colour_names[v->colour]);
		if (store_meta_get(v->txn, st->meta, gkey, &val) == 0 && val.mv_size < 31) {
			memcpy(gkey, val.mv_data, val.mv_size);
			gkey[val.mv_size] = '\0';
			v->generation = strtoull(gkey, NULL, 10);
		}
	}
	return v;
}

/* Ends the view; every pointer it handed out dies here. */
void
store_view_release(struct store_view *v)
{
	if (v == NULL)
		return;
	mdb_txn_reset(v->txn);
	store_txn_leave(v->rd->st);
	v->next = v->rd->free;
	v->rd->free = v;
}

/* The generation the next publish will have (the store's counter + 1). */
uint64_t
store_view_next_generation(struct store_view *v)
{
	uint64_t gen;

	store_meta_get_u64(v->txn, v->rd->st->meta, "generation", &gen);
	return gen + 1;
}

const char *
store_view_colour(const struct store_view *v)
{
	return v->colour >= 0 ? store_colour_names[v->colour] : NULL;
}

uint64_t
store_view_generation(const struct store_view *v)
{
	return v->generation;
}

static int
view_get(struct store_view *v, int colour, const char *brand, const char *agg,
    const void **rec, size_t *len)
{
	MDB_val k, val;
	char *key;
	int rc;

	if (colour < 0)
		return -1;
	key = store_record_key(brand, agg, &k);
	rc = mdb_get(v->txn, v->rd->st->colour[colour], &k, &val);
	free(key);
	if (rc != 0)
		return -1;
	*rec = val.mv_data;
	*len = val.mv_size;
	return 0;
}

/* Points *rec into the map (valid until the view is released); 0, or -1 if absent. */
int
store_view_get(struct store_view *v, const char *brand, const char *agg, const void **rec,
    size_t *len)
{
	return view_get(v, v->colour, brand, agg, rec, len);
}

/* Like store_view_get, from the named colour whether or not it is active (diff). */
int
store_view_get_colour(struct store_view *v, const char *colour, const char *brand,
    const char *agg, const void **rec, size_t *len)
{
	int c = strcmp(colour, "blue") == 0 ? 0 : strcmp(colour, "green") == 0 ? 1 : -1;

	return view_get(v, c, brand, agg, rec, len);
}

/*
 * The manifest of a colour ("blue"/"green") into *m: 0, or -1 when the colour holds none
 * or one that does not read (m is then empty). The caller manifest_free's m either way.
 */
int
store_view_manifest(struct store_view *v, const char *colour, struct manifest *m)
{
	MDB_val val;
	char mkey[32], *cause = NULL;

	memset(m, 0, sizeof *m);
	snprintf(mkey, sizeof mkey, "manifest.%s", colour);
	if (store_meta_get(v->txn, v->rd->st->meta, mkey, &val) != 0)
		return -1;
	if (manifest_read(m, val.mv_data, val.mv_size, &cause) != 0) {
		free(cause);
		manifest_free(m);
		return -1;
	}
	return 0;
}

/* Points *val into the map (valid until the view is released); 0, or -1 if absent. */
int
store_view_session(struct store_view *v, const void *key, size_t klen, const void **val,
    size_t *vlen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key }, d;

	if (mdb_get(v->txn, v->rd->st->sessions, &k, &d) != 0)
		return -1;
	*val = d.mv_data;
	*vlen = d.mv_size;
	return 0;
}

int
store_view_pinned(struct store_view *v)
{
	MDB_val val;

	return store_meta_get(v->txn, v->rd->st->meta, "pinned", &val) == 0;
}

/* The colour holding a candidate the guards held back, or NULL. */
const char *
store_view_held(struct store_view *v)
{
	MDB_val val;
	int c;

	if (store_meta_get(v->txn, v->rd->st->meta, "held", &val) != 0 ||
	    (c = store_colour_index(&val)) < 0 || c == v->colour)
		return NULL;
	return store_colour_names[c];
}
