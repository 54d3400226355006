/*
 * store.c — the LMDB store: two complete snapshots ("blue" and "green") of every
 * aggregate record, plus "meta" (which colour is active, each colour's manifest and
 * generation). A publish writes the inactive colour and its manifest in one write
 * transaction, checks it, then flips "active" in a second, tiny one; a reader takes one
 * read transaction and so sees one whole snapshot. This file knows records only as bytes
 * and manifests only through manifest.c.
 * A third db, "sessions", holds auth.c's login sessions and token revocations, also
 * as opaque bytes.
 *
 * Threads: serving threads only read (store_thread_serving marks them; a write
 * transaction begun there is counted and, in checking builds, aborts the daemon). Writes
 * come from the refresh thread and the writer pool (worker.c); one at a time (LMDB's
 * writer lock enforces it even across processes). Read views belong to the thread that
 * made them (MDB_NOTLS lets a thread hold several, which zero-copy responses need).
 * Every transaction is counted in `open`, so that a map grown by another process
 * (MDB_MAP_RESIZED) is remapped only when no transaction of ours points into it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "tpcd.h"

struct store {
	MDB_env		*env;		/* set at open; any thread */
	MDB_dbi		 meta;		/* the dbi handles: set at open, read-only after */
	MDB_dbi		 colour[2];	/* 0 blue, 1 green */
	MDB_dbi		 sessions;
	atomic_int	 open;		/* transactions of ours now open (any thread) */
	atomic_int	 resizing;	/* a peer grew the map: no new txn until remapped */
	_Atomic uint64_t write_txns[2];	/* write txns begun: [0] background, [1] serving */
	_Atomic uint64_t readers_full;	/* views refused: reader table full */
	_Atomic uint64_t resized;	/* remaps after a peer grew the map */
	_Atomic uint64_t map_full;	/* publishes refused: the map is full */
};

/* Set on each serving thread at its start: the thread contract's one store rule. */
static _Thread_local int store_serving;

void
store_thread_serving(void)
{
	store_serving = 1;
}

/*
 * A peer grew the map: remap it (mdb_env_set_mapsize(env, 0) adopts the size in the
 * file) once no transaction of ours is open; returns 0 when done. Until then every new
 * transaction is refused, so the open ones drain. As knot-resolver's LMDB backend does,
 * then retry.
 */
static int
store_remap(struct store *st, int wait)
{
	struct timespec ms = { 0, 1000000 };
	int expect = 0, rc;

	atomic_store(&st->resizing, 1);
	for (int i = 0; atomic_load(&st->open) != 0; i++) {
		if (!wait || i > 10000)
			return -1;
		nanosleep(&ms, NULL);
	}
	/* the one that brings open from 0 to -1 remaps; others wait for it */
	if (!atomic_compare_exchange_strong(&st->open, &expect, -1))
		return -1;
	rc = mdb_env_set_mapsize(st->env, 0);
	atomic_store(&st->open, 0);
	if (rc != 0) {
		log_err("store: remapping a grown map: %s", mdb_strerror(rc));
		return -1;
	}
	atomic_store(&st->resizing, 0);
	atomic_fetch_add(&st->resized, 1);
	log_info("store: another process grew the map; remapped");
	return 0;
}

/* Counts one more open transaction, unless a remap is pending or running. */
static int
txn_enter(struct store *st)
{
	int n = atomic_load(&st->open);

	do {
		if (n < 0 || atomic_load(&st->resizing))
			return -1;
	} while (!atomic_compare_exchange_weak(&st->open, &n, n + 1));
	return 0;
}

static void
txn_leave(struct store *st)
{
	atomic_fetch_sub(&st->open, 1);
}

/*
 * Every transaction begins here. A write from a serving thread is counted, and aborts
 * in checking builds (-DTPCD_THREAD_CHECKS): the serving loops never wait on LMDB's
 * writer lock. MDB_MAP_RESIZED: remap and retry (background threads wait for the
 * remap; a serving thread never waits and gets MDB_MAP_RESIZED back: 503, retry).
 */
static int
txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	int rc, wait = !store_serving;

	if (!(flags & MDB_RDONLY)) {
		atomic_fetch_add(&st->write_txns[store_serving], 1);
#ifdef TPCD_THREAD_CHECKS
		if (store_serving) {
			fprintf(stderr, "tpcd: BUG: an LMDB write transaction on a serving "
			    "thread\n");
			abort();
		}
#endif
	}
	for (int tries = 0;; tries++) {
		if (txn_enter(st) != 0) {
			if (store_remap(st, wait) != 0)
				return MDB_MAP_RESIZED;
			continue;
		}
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED || tries > 2)
			break;
		txn_leave(st);
		if (store_remap(st, wait) != 0)
			return rc;
	}
	if (rc != 0)
		txn_leave(st);
	return rc;
}

static int
txn_commit(struct store *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	txn_leave(st);
	return rc;
}

static void
txn_abort(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	txn_leave(st);
}

/* Counters for /metrics: write txns begun on serving threads must stay 0. */
void
store_counters(struct store *st, struct store_counters *c)
{
	c->write_txns_background = atomic_load(&st->write_txns[0]);
	c->write_txns_serving = atomic_load(&st->write_txns[1]);
	c->readers_full = atomic_load(&st->readers_full);
	c->resized = atomic_load(&st->resized);
	c->map_full = atomic_load(&st->map_full);
}

static const char *const colour_names[2] = { "blue", "green" };

/*
 * The on-disk format (meta "format"): what this file and auth_session.c lay out. A store
 * of another format is refused at open, not misread; a store without the key (made
 * before it existed) is format 1.
 */
#define STORE_FORMAT	1

struct store_pub {
	struct store	*st;
	MDB_txn		*txn;
	int		 target;	/* the colour being written */
	int		 active;	/* -1: none yet */
	uint64_t	 generation;
	size_t		 nputs;
};

struct store_view {
	struct store_reader *rd;
	MDB_txn		*txn;
	int		 colour;	/* -1: no snapshot */
	uint64_t	 generation;
	struct store_view *next;	/* free list */
};

struct store_reader {
	struct store	*st;
	struct store_view *free;
};

static int
colour_index(const MDB_val *v)
{
	for (int i = 0; i < 2; i++)
		if (v->mv_size == strlen(colour_names[i]) &&
		    memcmp(v->mv_data, colour_names[i], v->mv_size) == 0)
			return i;
	return -1;
}

static int
meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *val)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };

	return mdb_get(txn, dbi, &k, val);
}

static int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *p, size_t n)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v = { n, (void *)(uintptr_t)p };

	return mdb_put(txn, dbi, &k, &v, 0);
}

static int
meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val v;
	char tmp[32];

	*out = 0;
	if (meta_get(txn, dbi, key, &v) != 0 || v.mv_size >= sizeof tmp)
		return -1;
	memcpy(tmp, v.mv_data, v.mv_size);
	tmp[v.mv_size] = '\0';
	*out = strtoull(tmp, NULL, 10);
	return 0;
}

static int
active_colour(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (meta_get(txn, st->meta, "active", &v) != 0)
		return -1;
	return colour_index(&v);
}

/* Refuses a store of another format; stamps a new (or pre-format) one. In txn (rw). */
static int
store_check_format(struct store *st, MDB_txn *txn, const char *dir, char **cause)
{
	char want[16];
	MDB_val v;
	int rc;

	snprintf(want, sizeof want, "%d", STORE_FORMAT);
	if ((rc = meta_get(txn, st->meta, "format", &v)) == MDB_NOTFOUND)
		rc = meta_put(txn, st->meta, "format", want, strlen(want));
	else if (rc == 0 && (v.mv_size != strlen(want) || memcmp(v.mv_data, want,
	    v.mv_size) != 0)) {
		*cause = xasprintf("LMDB store %s has format %.*s; this tpcd %s reads format %s "
		    "only: run the tpcd that wrote it, or restore a backup of format %s",
		    dir, (int)(v.mv_size < 16 ? v.mv_size : 16), (const char *)v.mv_data,
		    TPCD_VERSION, want, want);
		return -1;
	}
	if (rc != 0) {
		*cause = xasprintf("LMDB store %s: format: %s", dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_open(struct store **out, const char *dir, size_t map_size_mb, int max_readers,
    char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	MDB_txn *txn = NULL;
	int rc;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		free(st);
		return -1;
	}
	if ((rc = mdb_env_create(&st->env)) != 0) {
		st->env = NULL;
		goto fail;
	}
	if ((rc = mdb_env_set_maxdbs(st->env, 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, (unsigned)max_readers)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, map_size_mb << 20)) != 0)
		goto fail;
	/* NOTLS: a serving thread holds one read txn per in-flight zero-copy body. */
	if ((rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0640)) != 0)
		goto fail;
	/* A reader that died (another process, kill -9) must not pin old pages forever. */
	mdb_reader_check(st->env, NULL);
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "blue", MDB_CREATE, &st->colour[0])) != 0 ||
	    (rc = mdb_dbi_open(txn, "green", MDB_CREATE, &st->colour[1])) != 0 ||
	    (rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, &st->sessions)) != 0)
		goto fail;
	if (store_check_format(st, txn, dir, cause) != 0) {
		txn_abort(st, txn);
		mdb_env_close(st->env);
		free(st);
		return -1;
	}
	if ((rc = txn_commit(st, txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	*cause = xasprintf("LMDB store %s: %s", dir, mdb_strerror(rc));
	if (txn != NULL)
		txn_abort(st, txn);
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return -1;
}

/*
 * Writes a consistent, compacted copy of the whole store (both colours, meta, sessions
 * and revocations) to fd, from one read transaction: serving and publishing go on.
 */
int
store_backup(struct store *st, int fd, char **cause)
{
	int rc;

	/* counted as an open transaction: a remap after a peer grew the map waits for it */
	if (txn_enter(st) != 0) {
		*cause = xstrdup("store backup: the store is being remapped; retry");
		return -1;
	}
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	txn_leave(st);
	if (rc != 0) {
		*cause = xasprintf("store backup: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* The store's directory (LMDB's copy of the path given to store_open). */
const char *
store_dir(struct store *st)
{
	const char *p = NULL;

	mdb_env_get_path(st->env, &p);
	return p;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	free(st);
}

static char *
record_key(const char *brand, const char *agg, MDB_val *k)
{
	char *s = xasprintf("%s/%s", brand, agg);

	k->mv_data = s;
	k->mv_size = strlen(s);
	return s;
}

/* Starts a publish into the inactive colour (emptied first). Caller commits or aborts. */
int
store_pub_begin(struct store *st, struct store_pub **out, char **cause)
{
	struct store_pub *p = xcalloc(1, sizeof *p);
	uint64_t gen;
	int rc;

	p->st = st;
	if ((rc = txn_begin(st, 0, &p->txn)) != 0)
		goto fail;
	p->active = active_colour(st, p->txn);
	p->target = p->active == 0 ? 1 : 0;
	meta_get_u64(p->txn, st->meta, "generation", &gen);
	p->generation = gen + 1;
	if ((rc = mdb_drop(p->txn, st->colour[p->target], 0)) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	*cause = xasprintf("store: begin publish: %s", mdb_strerror(rc));
	if (p->txn != NULL)
		txn_abort(p->st, p->txn);
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
	return colour_names[p->target];
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
	key = record_key(brand, agg, &k);
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
	char *key = record_key(brand, agg, &k);
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
	if (txn_begin(st, MDB_RDONLY, &txn) != 0) {
		*cause = xstrdup("store: validate: cannot begin read txn");
		return -1;
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", colour_names[colour]);
	if (meta_get(txn, st->meta, mkey, &v) != 0 ||
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
		key = record_key(e->brand, e->aggregate, &k);
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
	txn_abort(st, txn);
	return rc;
}

/* One small write transaction: meta key = value, or key deleted when value is NULL. */
static int
meta_write(struct store *st, const char *key, const char *value)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	rc = value != NULL ? meta_put(txn, st->meta, key, value, strlen(value)) :
	    mdb_del(txn, st->meta, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		txn_abort(st, txn);
		return rc;
	}
	return txn_commit(st, txn);
}

static int
store_set_active(struct store *st, int colour, char **cause)
{
	int rc = meta_write(st, "active", colour_names[colour]);

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

	snprintf(mkey, sizeof mkey, "manifest.%s", colour_names[colour]);
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

	snprintf(mkey, sizeof mkey, "manifest.%s", colour_names[target]);
	snprintf(gkey, sizeof gkey, "generation.%s", colour_names[target]);
	snprintf(gval, sizeof gval, "%" PRIu64, gen);
	if ((rc = meta_put(p->txn, st->meta, mkey, manifest_json, strlen(manifest_json))) ||
	    (rc = meta_put(p->txn, st->meta, gkey, gval, strlen(gval))) ||
	    (rc = meta_put(p->txn, st->meta, "generation", gval, strlen(gval))) ||
	    (rc = hold ? meta_put(p->txn, st->meta, "held", colour_names[target],
	    strlen(colour_names[target])) : mdb_del(p->txn, st->meta, &hk, NULL)) != 0) {
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
	rc = txn_commit(p->st, p->txn);
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
	txn_abort(p->st, p->txn);
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

	if (txn_begin(st, MDB_RDONLY, &txn) != 0) {
		*cause = xstrdup("store: cannot begin read txn");
		return -1;
	}
	active = active_colour(st, txn);
	other = active == 0 ? 1 : 0;
	snprintf(mkey, sizeof mkey, "manifest.%s", colour_names[other]);
	int have = active >= 0 && meta_get(txn, st->meta, mkey, &v) == 0;
	int held = meta_get(txn, st->meta, "held", &v) == 0 && colour_index(&v) == other;
	txn_abort(st, txn);
	if (!have) {
		*cause = xstrdup("no other snapshot to swap to");
		return -1;
	}
	if (held) {
		*cause = xasprintf("the %s colour holds a candidate held by the publish guards; "
		    "publish it with force, or discard it", colour_names[other]);
		return -1;
	}
	return store_set_active(st, other, cause);
}

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

	if (txn_enter(st) != 0) {
		/* a peer grew the map: remap now if nothing of ours is open, else refuse */
		if (store_remap(st, 0) != 0 || txn_enter(st) != 0)
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
		txn_leave(st);
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
	v->colour = active_colour(st, v->txn);
	v->generation = 0;
	if (v->colour >= 0) {
		snprintf(gkey, sizeof gkey, "generation.%s", colour_names[v->colour]);
		if (meta_get(v->txn, st->meta, gkey, &val) == 0 && val.mv_size < 31) {
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
	txn_leave(v->rd->st);
	v->next = v->rd->free;
	v->rd->free = v;
}

/* The generation the next publish will have (the store's counter + 1). */
uint64_t
store_view_next_generation(struct store_view *v)
{
	uint64_t gen;

	meta_get_u64(v->txn, v->rd->st->meta, "generation", &gen);
	return gen + 1;
}

/*
 * Copies the active snapshot's record for brand/agg into out (0), or -1 when there is
 * none: the refresh compares against it before it opens a write transaction.
 */
int
store_view_prev(struct store_view *v, const char *brand, const char *agg, struct buf *out)
{
	const void *rec;
	size_t len;

	if (store_view_get(v, brand, agg, &rec, &len) != 0)
		return -1;
	buf_reset(out);
	buf_add(out, rec, len);
	return 0;
}

const char *
store_view_colour(const struct store_view *v)
{
	return v->colour >= 0 ? colour_names[v->colour] : NULL;
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
	key = record_key(brand, agg, &k);
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
	if (meta_get(v->txn, v->rd->st->meta, mkey, &val) != 0)
		return -1;
	if (manifest_read(m, val.mv_data, val.mv_size, &cause) != 0) {
		free(cause);
		manifest_free(m);
		return -1;
	}
	return 0;
}

/* ---- sessions: a few small records, written in tiny transactions ---- */

int
store_session_put(struct store *st, const void *key, size_t klen, const void *val,
    size_t vlen, char **cause)
{
	MDB_val k = { klen, (void *)(uintptr_t)key }, v = { vlen, (void *)(uintptr_t)val };
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_put(txn, st->sessions, &k, &v, 0)) != 0) {
		txn_abort(st, txn);
		goto fail;
	}
	if ((rc = txn_commit(st, txn)) != 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("store: writing a session: %s", mdb_strerror(rc));
	return -1;
}

/* Returns 0 when the record was there and is gone, -1 otherwise. */
int
store_session_del(struct store *st, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	MDB_txn *txn;
	int rc;

	if (txn_begin(st, 0, &txn) != 0)
		return -1;
	if ((rc = mdb_del(txn, st->sessions, &k, NULL)) != 0) {
		txn_abort(st, txn);
		return -1;
	}
	return txn_commit(st, txn) == 0 ? 0 : -1;
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

/*
 * Calls cb for every record, in a read transaction, or in a write transaction when
 * writable (then cb returning 1 deletes the record). Returns 0, or -1 and *cause.
 */
int
store_session_scan(struct store *st, int writable, store_session_cb cb, void *arg,
    char **cause)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r;

	if ((rc = txn_begin(st, writable ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->sessions, &cur)) != 0) {
		txn_abort(st, txn);
		goto fail;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((r = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg)) < 0)
			break;
		if (r == 1 && writable && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		txn_abort(st, txn);
		goto fail;
	}
	if (!writable) {
		txn_abort(st, txn);
		return 0;
	}
	if ((rc = txn_commit(st, txn)) != 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("store: sessions: %s", mdb_strerror(rc));
	return -1;
}

/*
 * The refresh lease: one process at a time refreshes a shared store (two instances,
 * blue and green, serve it). meta "lease" holds "<owner> <expiry unix seconds>"; owner
 * is "<pid>@<host>". A holder renews it each cycle; another process takes it over once
 * it has expired, or at once when the holder is a dead process on this host.
 */
static int
lease_holder_alive(const char *owner)
{
	char host[256];
	const char *at = strchr(owner, '@');
	long pid = strtol(owner, NULL, 10);

	if (at == NULL || pid <= 0 || gethostname(host, sizeof host) != 0)
		return 1;
	host[sizeof host - 1] = '\0';
	if (strcmp(at + 1, host) != 0)
		return 1;		/* another host: only expiry tells */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/*
 * Takes or renews the lease for owner for ttl seconds. Returns 1 when owner holds it,
 * 0 when another live process does (*holder, caller frees), -1 on a store error.
 */
int
store_lease(struct store *st, const char *owner, int ttl, char **holder)
{
	MDB_txn *txn;
	MDB_val v;
	char cur[300], val[320];
	int64_t now = time(NULL), exp = 0;
	int rc;

	*holder = NULL;
	/* Held by owner for more than half its ttl still: renewing can wait (no write). */
	if (txn_begin(st, MDB_RDONLY, &txn) != 0)
		return -1;
	if (meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size < sizeof cur) {
		memcpy(cur, v.mv_data, v.mv_size);
		cur[v.mv_size] = '\0';
		char *sp = strrchr(cur, ' ');
		if (sp != NULL && (size_t)(sp - cur) == strlen(owner) &&
		    memcmp(cur, owner, strlen(owner)) == 0 &&
		    strtoll(sp + 1, NULL, 10) - now > ttl / 2) {
			txn_abort(st, txn);
			return 1;
		}
	}
	txn_abort(st, txn);
	if (txn_begin(st, 0, &txn) != 0)
		return -1;
	if (meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size < sizeof cur) {
		memcpy(cur, v.mv_data, v.mv_size);
		cur[v.mv_size] = '\0';
		char *sp = strrchr(cur, ' ');
		if (sp != NULL) {
			*sp = '\0';
			exp = strtoll(sp + 1, NULL, 10);
			if (strcmp(cur, owner) != 0 && exp > now && lease_holder_alive(cur)) {
				txn_abort(st, txn);
				*holder = xstrdup(cur);
				return 0;
			}
		}
	}
	snprintf(val, sizeof val, "%s %lld", owner, (long long)(now + ttl));
	rc = meta_put(txn, st->meta, "lease", val, strlen(val));
	if (rc != 0 || txn_commit(st, txn) != 0) {
		if (rc != 0)
			txn_abort(st, txn);
		return -1;
	}
	return 1;
}

/* Gives the lease up (at shutdown) so the other instance need not wait for expiry. */
void
store_lease_release(struct store *st, const char *owner)
{
	MDB_txn *txn;
	MDB_val v, k = { 5, (void *)(uintptr_t)"lease" };

	if (txn_begin(st, 0, &txn) != 0)
		return;
	if (meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size > strlen(owner) &&
	    memcmp(v.mv_data, owner, strlen(owner)) == 0 &&
	    ((char *)v.mv_data)[strlen(owner)] == ' ')
		mdb_del(txn, st->meta, &k, NULL);
	txn_commit(st, txn);
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

int
store_view_pinned(struct store_view *v)
{
	MDB_val val;

	return meta_get(v->txn, v->rd->st->meta, "pinned", &val) == 0;
}

/* The colour holding a candidate the guards held back, or NULL. */
const char *
store_view_held(struct store_view *v)
{
	MDB_val val;
	int c;

	if (meta_get(v->txn, v->rd->st->meta, "held", &val) != 0 ||
	    (c = colour_index(&val)) < 0 || c == v->colour)
		return NULL;
	return colour_names[c];
}

/*
 * Ends the hold, in one write transaction: publish makes the held colour active, lifts
 * the pin (a forced publish overrides a rollback's) and records in its manifest that it
 * went live by force; otherwise its manifest goes, so nothing can make it active.
 * 0, 1 when no candidate is held, or -1; *cause either way but 0.
 */
int
store_held_release(struct store *st, int publish, char **cause)
{
	MDB_val v, hk = { 4, (void *)(uintptr_t)"held" };
	MDB_val pk = { 6, (void *)(uintptr_t)"pinned" };
	MDB_txn *txn;
	struct manifest m;
	char mkey[32], *text = NULL, *why = NULL;
	int c, rc;

	memset(&m, 0, sizeof m);
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if (meta_get(txn, st->meta, "held", &v) != 0 || (c = colour_index(&v)) < 0 ||
	    c == active_colour(st, txn)) {
		txn_abort(st, txn);
		*cause = xstrdup("no candidate is held");
		return 1;
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", colour_names[c]);
	MDB_val mk = { strlen(mkey), mkey };
	if (publish && meta_get(txn, st->meta, mkey, &v) == 0 &&
	    manifest_read(&m, v.mv_data, v.mv_size, &why) == 0) {
		free(m.guards);
		m.guards = xstrdup("forced");
		text = manifest_encode(&m);
	}
	free(why);
	manifest_free(&m);
	if ((rc = mdb_del(txn, st->meta, &hk, NULL)) != 0 ||
	    (rc = publish ? meta_put(txn, st->meta, "active", colour_names[c],
	    strlen(colour_names[c])) : mdb_del(txn, st->meta, &mk, NULL)) != 0 ||
	    (text != NULL && (rc = meta_put(txn, st->meta, mkey, text, strlen(text))) != 0) ||
	    (publish && (rc = mdb_del(txn, st->meta, &pk, NULL)) != 0 && rc != MDB_NOTFOUND)) {
		txn_abort(st, txn);
		goto fail;
	}
	if ((rc = txn_commit(st, txn)) != 0)
		goto fail;
	free(text);
	return 0;
fail:
	free(text);
	*cause = xasprintf("store: %s: %s", publish ? "publish" : "discard", mdb_strerror(rc));
	return -1;
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

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	active = active_colour(st, txn);
	snprintf(gkey, sizeof gkey, "generation.%s", m->colour);
	if (active < 0 || strcmp(colour_names[active], m->colour) != 0 ||
	    meta_get_u64(txn, st->meta, gkey, &gen) != 0 || gen != m->generation) {
		txn_abort(st, txn);
		return 0;	/* another publish or a swap came first: nothing to update */
	}
	snprintf(mkey, sizeof mkey, "manifest.%s", m->colour);
	text = manifest_encode(m);
	rc = meta_put(txn, st->meta, mkey, text, strlen(text));
	free(text);
	if (rc != 0) {
		txn_abort(st, txn);
		goto fail;
	}
	if ((rc = txn_commit(st, txn)) != 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("store: updating the manifest: %s", mdb_strerror(rc));
	return -1;
}
