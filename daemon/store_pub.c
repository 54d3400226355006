/*
 * store_pub.c — the publish side of the store: a new snapshot written into the inactive
 * colour (store_pub_*), read back and validated against its manifest, then made active
 * or held; swap/rollback, ending a hold, the pin, and rewriting the live manifest. Every
 * function here writes (or checks what it wrote), so none runs on a serving thread. It
 * parses records only to validate them (record_parse) and copies a record_out into the
 * room it reserves; it keeps no reader state (store_view.c) and no sessions.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "tpcd.h"
#include "store_priv.h"

struct store_pub {
	struct store	*st;
	MDB_txn		*txn;
	int		 target;	/* the colour being written */
	int		 active;	/* -1: none yet */
	uint64_t	 generation;
	size_t		 nputs;
};

/* Starts a publish into the inactive colour (emptied first). Caller commits or aborts. */
int
store_pub_begin(struct store *st, struct store_pub **out, char **cause)
{
	struct store_pub *p = xcalloc(1, sizeof *p);
	uint64_t gen;
	int rc;

	p->st = st;
	if ((rc = store_txn_begin(st, 0, &p->txn)) != 0)
		goto fail;
	p->active = store_active_colour(st, p->txn);
	p->target = p->active == 0 ? 1 : 0;
	store_meta_get_u64(p->txn, st->meta, "generation", &gen);
	p->generation = gen + 1;
	if ((rc = mdb_drop(p->txn, st->colour[p->target], 0)) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	*cause = xasprintf("store: begin publish: %s", mdb_strerror(rc));
	if (p->txn != NULL)
		store_txn_abort(p->st, p->txn);
	free(p);
	return -1;
}

uint64_t
store_pub_generation(struct store_pub *p)
{
	return p->generation;
}

const char *
store_pub_colour(struct store_pub *p)
{
	return store_colour_names[p->target];
}

/*
 * Copies the active snapshot's record for brand/agg into out; returns 0, or -1 when
 * there is none. (A copy, because pointers from a write txn die at its next put.)
 */
int
store_pub_prev(struct store_pub *p, const char *brand, const char *agg, struct buf *out)
{
	MDB_val k, v;
	char *key;
	int rc;

	if (p->active < 0)
		return -1;
	key = store_record_key(brand, agg, &k);
	rc = mdb_get(p->txn, p->st->colour[p->active], &k, &v);
	free(key);
	if (rc != 0)
		return -1;
	buf_reset(out);
	buf_add(out, v.mv_data, v.mv_size);
	return 0;
}

int
store_pub_put(struct store_pub *p, const char *brand, const char *agg, const void *rec,
    size_t len, char **cause)
{
	MDB_val k, v = { len, (void *)(uintptr_t)rec };
	char *key = store_record_key(brand, agg, &k);
	int rc = mdb_put(p->txn, p->st->colour[p->target], &k, &v, 0);

	free(key);
	if (rc != 0) {
		if (rc == MDB_MAP_FULL)
			atomic_fetch_add(&p->st->map_full, 1);
		*cause = xasprintf("store: writing %s/%s: %s", brand, agg, mdb_strerror(rc));
		return -1;
	}
	p->nputs++;
	return 0;
}

/*
 * Writes a sealed record whose bodies are still apart straight into the room LMDB
 * reserves for it (MDB_RESERVE), body by body, each freed once copied: the record is
 * never whole in memory beside LMDB's own copy of it.
 */
int
store_pub_put_out(struct store_pub *p, const char *brand, const char *agg,
    struct record_out *o, char **cause)
{
	MDB_val k, v = { o->total, NULL };
	char *key = store_record_key(brand, agg, &k);
	int rc = mdb_put(p->txn, p->st->colour[p->target], &k, &v, MDB_RESERVE);

	free(key);
	if (rc != 0) {
		if (rc == MDB_MAP_FULL)
			atomic_fetch_add(&p->st->map_full, 1);
		*cause = xasprintf("store: writing %s/%s: %s", brand, agg, mdb_strerror(rc));
		return -1;
	}
	record_out_write(o, v.mv_data);
	p->nputs++;
	return 0;
}

/*
 * Reads the new colour back and checks the manifest against it: every record it lists
 * is there, parses, and has the row count the manifest says. Catches a torn or foreign
 * write before readers could see it.
 */
static int
store_validate(struct store *st, int colour, uint64_t gen, char **cause)
{
	MDB_txn *txn;
	MDB_val v;
	struct manifest m;
	char mkey[32], *why = NULL;
	int rc = -1;

	memset(&m, 0, sizeof m);
	if (store_txn_begin(st, MDB_RDONLY, &txn) != 0) {
		*cause = xstrdup("store: validate: cannot begin read txn");
		return -1;
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", store_colour_names[colour]);
	if (store_meta_get(txn, st->meta, mkey, &v) != 0 ||
	    manifest_read(&m, v.mv_data, v.mv_size, &why) != 0) {
		free(why);
		*cause = xstrdup("store: validate: manifest missing or unreadable");
		goto out;
	}
	if (m.generation != gen) {
		*cause = xstrdup("store: validate: manifest generation mismatch");
		goto out;
	}
	for (size_t i = 0; i < m.nentries; i++) {
		const struct manifest_entry *e = &m.entries[i];
		struct record_meta rm;
		MDB_val k;
		char *key;

		if (!e->ok)
			continue;
		key = store_record_key(e->brand, e->aggregate, &k);
		int grc = mdb_get(txn, st->colour[colour], &k, &v);
		free(key);
		if (grc != 0 || record_parse(v.mv_data, v.mv_size, &rm) != 0 ||
		    rm.rows != e->rows) {
			*cause = xasprintf("store: validate: record %s/%s missing or damaged",
			    e->brand, e->aggregate);
			goto out;
		}
	}
	rc = 0;
out:
	manifest_free(&m);
	store_txn_abort(st, txn);
	return rc;
}

/* One small write transaction: meta key = value, or key deleted when value is NULL. */
static int
meta_write(struct store *st, const char *key, const char *value)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	MDB_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		return rc;
	rc = value != NULL ? store_meta_put(txn, st->meta, key, value, strlen(value)) :
	    mdb_del(txn, st->meta, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_txn_abort(st, txn);
		return rc;
	}
	return store_txn_commit(st, txn);
}

static int
store_set_active(struct store *st, int colour, char **cause)
{
	int rc = meta_write(st, "active", store_colour_names[colour]);

	if (rc != 0) {
		*cause = xasprintf("store: flipping active colour: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* Drops a colour's manifest, so that nothing (swap, rollback) can make it active. */
static void
store_forget(struct store *st, int colour)
{
	char mkey[32];

	snprintf(mkey, sizeof mkey, "manifest.%s", store_colour_names[colour]);
	meta_write(st, mkey, NULL);
}

/*
 * Writes the manifest, commits the new colour and validates it; then makes it active, or
 * (hold) records it as the held candidate: complete and inspectable, not live. Frees p
 * whatever happens. On failure the active snapshot is untouched.
 */
static int
pub_finish(struct store_pub *p, const struct manifest *m, int hold, char **cause)
{
	struct store *st = p->st;
	int target = p->target, rc;
	uint64_t gen = p->generation;
	char mkey[32], gkey[32], gval[32], *manifest_json = manifest_encode(m);
	MDB_val hk = { 4, (void *)(uintptr_t)"held" };

	snprintf(mkey, sizeof mkey, "manifest.%s", store_colour_names[target]);
	snprintf(gkey, sizeof gkey, "generation.%s", store_colour_names[target]);
	snprintf(gval, sizeof gval, "%" PRIu64, gen);
	if ((rc = store_meta_put(p->txn, st->meta, mkey, manifest_json,
	    strlen(manifest_json))) ||
	    (rc = store_meta_put(p->txn, st->meta, gkey, gval, strlen(gval))) ||
	    (rc = store_meta_put(p->txn, st->meta, "generation", gval, strlen(gval))) ||
	    (rc = hold ? store_meta_put(p->txn, st->meta, "held", store_colour_names[target],
	    strlen(store_colour_names[target])) : mdb_del(p->txn, st->meta, &hk, NULL)) != 0) {
		if (rc != MDB_NOTFOUND) {
			if (rc == MDB_MAP_FULL)
				atomic_fetch_add(&st->map_full, 1);
			*cause = xasprintf("store: writing manifest: %s", mdb_strerror(rc));
			free(manifest_json);
			store_pub_abort(p);
			return -1;
		}
	}
	free(manifest_json);
	rc = store_txn_commit(p->st, p->txn);
	free(p);
	if (rc != 0) {
		if (rc == MDB_MAP_FULL)
			atomic_fetch_add(&st->map_full, 1);
		*cause = xasprintf("store: committing snapshot: %s", mdb_strerror(rc));
		return -1;
	}
	if (store_validate(st, target, gen, cause) != 0) {
		store_forget(st, target);
		if (hold)
			meta_write(st, "held", NULL);
		return -1;
	}
	return hold ? 0 : store_set_active(st, target, cause);
}

int
store_pub_commit(struct store_pub *p, const struct manifest *m, char **cause)
{
	return pub_finish(p, m, 0, cause);
}

/* Like store_pub_commit, but the new colour is held, not made active. */
int
store_pub_stage(struct store_pub *p, const struct manifest *m, char **cause)
{
	return pub_finish(p, m, 1, cause);
}

void
store_pub_abort(struct store_pub *p)
{
	if (p == NULL)
		return;
	store_txn_abort(p->st, p->txn);
	free(p);
}

/* Makes the other colour active, if it holds a complete snapshot (rollback / swap). */
int
store_swap(struct store *st, char **cause)
{
	MDB_txn *txn;
	MDB_val v;
	char mkey[32];
	int active, other;

	if (store_txn_begin(st, MDB_RDONLY, &txn) != 0) {
		*cause = xstrdup("store: cannot begin read txn");
		return -1;
	}
	active = store_active_colour(st, txn);
	other = active == 0 ? 1 : 0;
	snprintf(mkey, sizeof mkey, "manifest.%s", store_colour_names[other]);
	int have = active >= 0 && store_meta_get(txn, st->meta, mkey, &v) == 0;
	int held = store_meta_get(txn, st->meta, "held", &v) == 0 &&
	    store_colour_index(&v) == other;
	store_txn_abort(st, txn);
	if (!have) {
		*cause = xstrdup("no other snapshot to swap to");
		return -1;
	}
	if (held) {
		*cause = xasprintf("the %s colour holds a candidate held by the publish guards; "
		    "publish it with force, or discard it", store_colour_names[other]);
		return -1;
	}
	return store_set_active(st, other, cause);
}

/*
 * The pin: while set, no instance publishes. In the store (meta "pinned"), so the other
 * instance of a blue/green pair honours it too, and it survives a restart.
 */
int
store_set_pinned(struct store *st, int pinned, char **cause)
{
	int rc = meta_write(st, "pinned", pinned ? "1" : NULL);

	if (rc != 0) {
		*cause = xasprintf("store: pin: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Ends the hold, in one write transaction: publish makes the held colour active, lifts
 * the pin (a forced publish overrides a rollback's) and records in its manifest that it
 * went live by force; otherwise its manifest goes, so nothing can make it active.
 * STORE_HELD_RELEASED, STORE_HELD_NONE or STORE_HELD_ERROR; *cause either way but the
 * first.
 */
enum store_held
store_held_release(struct store *st, int publish, char **cause)
{
	MDB_val v, hk = { 4, (void *)(uintptr_t)"held" };
	MDB_val pk = { 6, (void *)(uintptr_t)"pinned" };
	MDB_txn *txn;
	struct manifest m;
	char mkey[32], *text = NULL, *why = NULL;
	int c, rc;

	memset(&m, 0, sizeof m);
	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if (store_meta_get(txn, st->meta, "held", &v) != 0 || (c = store_colour_index(&v)) < 0 ||
	    c == store_active_colour(st, txn)) {
		store_txn_abort(st, txn);
		*cause = xstrdup("no candidate is held");
		return STORE_HELD_NONE;
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", store_colour_names[c]);
	MDB_val mk = { strlen(mkey), mkey };
	if (publish && store_meta_get(txn, st->meta, mkey, &v) == 0 &&
	    manifest_read(&m, v.mv_data, v.mv_size, &why) == 0) {
		free(m.guards);
		m.guards = xstrdup("forced");
		text = manifest_encode(&m);
	}
	free(why);
	manifest_free(&m);
	if ((rc = mdb_del(txn, st->meta, &hk, NULL)) != 0 ||
	    (rc = publish ? store_meta_put(txn, st->meta, "active", store_colour_names[c],
	    strlen(store_colour_names[c])) : mdb_del(txn, st->meta, &mk, NULL)) != 0 ||
	    (text != NULL &&
	    (rc = store_meta_put(txn, st->meta, mkey, text, strlen(text))) != 0) ||
	    (publish && (rc = mdb_del(txn, st->meta, &pk, NULL)) != 0 && rc != MDB_NOTFOUND)) {
		store_txn_abort(st, txn);
		goto fail;
	}
	if ((rc = store_txn_commit(st, txn)) != 0)
		goto fail;
	free(text);
	return STORE_HELD_RELEASED;
fail:
	free(text);
	*cause = xasprintf("store: %s: %s", publish ? "publish" : "discard", mdb_strerror(rc));
	return STORE_HELD_ERROR;
}

/*
 * Rewrites the live colour's manifest (a refresh that found the data unchanged but
 * newer: its data times move on). Only while m's colour and generation are still the
 * active ones; 0, or -1 and *cause.
 */
int
store_manifest_update(struct store *st, const struct manifest *m, char **cause)
{
	MDB_txn *txn;
	uint64_t gen;
	char mkey[32], gkey[32], *text;
	int rc, active;

	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		goto fail;
	active = store_active_colour(st, txn);
	snprintf(gkey, sizeof gkey, "generation.%s", m->colour);
	if (active < 0 || strcmp(store_colour_names[active], m->colour) != 0 ||
	    store_meta_get_u64(txn, st->meta, gkey, &gen) != 0 || gen != m->generation) {
		store_txn_abort(st, txn);
		return 0;	/* another publish or a swap came first: nothing to update */
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", m->colour);
	text = manifest_encode(m);
	rc = store_meta_put(txn, st->meta, mkey, text, strlen(text));
	free(text);
	if ((rc = store_txn_finish(st, txn, rc)) != 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("store: updating the manifest: %s", mdb_strerror(rc));
	return -1;
}
