/*
 * store.c — the LMDB store's environment: open (the format check), close, the
 * compacting backup, remapping a map a peer grew, the transaction bookkeeping that
 * every store*.c file begins and ends its transactions through, the counters, and the
 * meta helpers they share (store_priv.h). It writes no snapshot, view or session itself:
 * store_pub.c publishes, store_view.c reads, store_session.c keeps sessions and lease.
 *
 * The store: two complete snapshots ("blue" and "green") of every aggregate record,
 * plus "meta" (which colour is active, each colour's manifest and generation). A
 * publish writes the inactive colour and its manifest in one write transaction, checks
 * it, then flips "active" in a second, tiny one; a reader takes one read transaction
 * and so sees one whole snapshot. A third db, "sessions", holds auth.c's login sessions
 * and token revocations, as opaque bytes.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "tpcd.h"
#include "store_priv.h"

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
int
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
int
store_txn_enter(struct store *st)
{
	int n = atomic_load(&st->open);

	do {
		if (n < 0 || atomic_load(&st->resizing))
			return -1;
	} while (!atomic_compare_exchange_weak(&st->open, &n, n + 1));
	return 0;
}

void
store_txn_leave(struct store *st)
{
	atomic_fetch_sub(&st->open, 1);
}

/*
 * Every transaction begins here. A write from a serving thread is counted, and aborts
 * in checking builds (-DTPCD_THREAD_CHECKS): the serving loops never wait on LMDB's
 * writer lock. MDB_MAP_RESIZED: remap and retry (background threads wait for the
 * remap; a serving thread never waits and gets MDB_MAP_RESIZED back: 503, retry).
 */
int
store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
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
		if (store_txn_enter(st) != 0) {
			if (store_remap(st, wait) != 0)
				return MDB_MAP_RESIZED;
			continue;
		}
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED || tries > 2)
			break;
		store_txn_leave(st);
		if (store_remap(st, wait) != 0)
			return rc;
	}
	if (rc != 0)
		store_txn_leave(st);
	return rc;
}

int
store_txn_commit(struct store *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	store_txn_leave(st);
	return rc;
}

void
store_txn_abort(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	store_txn_leave(st);
}

/*
 * Ends a write transaction after its last write, whose result is rc: commits it when
 * rc is 0, aborts it otherwise. Returns rc, or the commit's error.
 */
int
store_txn_finish(struct store *st, MDB_txn *txn, int rc)
{
	if (rc != 0) {
		store_txn_abort(st, txn);
		return rc;
	}
	return store_txn_commit(st, txn);
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

const char *const store_colour_names[2] = { "blue", "green" };

/*
 * The on-disk format (meta "format"): what the store*.c files and auth_session.c lay
 * out. A store of another format is refused at open, not misread; a store without the
 * key (made before it existed) is format 1.
 */
#define STORE_FORMAT	1

/* The colour a meta value names: 0 blue, 1 green, -1 neither. */
int
store_colour_index(const MDB_val *v)
{
	for (int i = 0; i < 2; i++)
		if (v->mv_size == strlen(store_colour_names[i]) &&
		    memcmp(v->mv_data, store_colour_names[i], v->mv_size) == 0)
			return i;
	return -1;
}

int
store_meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *val)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };

	return mdb_get(txn, dbi, &k, val);
}

int
store_meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *p, size_t n)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v = { n, (void *)(uintptr_t)p };

	return mdb_put(txn, dbi, &k, &v, 0);
}

int
store_meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val v;
	char tmp[32];

	*out = 0;
	if (store_meta_get(txn, dbi, key, &v) != 0 || v.mv_size >= sizeof tmp)
		return -1;
	memcpy(tmp, v.mv_data, v.mv_size);
	tmp[v.mv_size] = '\0';
	*out = strtoull(tmp, NULL, 10);
	return 0;
}

/* The active colour in txn: 0, 1, or -1 when nothing was published yet. */
int
store_active_colour(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (store_meta_get(txn, st->meta, "active", &v) != 0)
		return -1;
	return store_colour_index(&v);
}

/* Refuses a store of another format; stamps a new (or pre-format) one. In txn (rw). */
static int
store_check_format(struct store *st, MDB_txn *txn, const char *dir, char **cause)
{
	char want[16];
	MDB_val v;
	int rc;

	snprintf(want, sizeof want, "%d", STORE_FORMAT);
	if ((rc = store_meta_get(txn, st->meta, "format", &v)) == MDB_NOTFOUND)
		rc = store_meta_put(txn, st->meta, "format", want, strlen(want));
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
	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "blue", MDB_CREATE, &st->colour[0])) != 0 ||
	    (rc = mdb_dbi_open(txn, "green", MDB_CREATE, &st->colour[1])) != 0 ||
	    (rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, &st->sessions)) != 0)
		goto fail;
	if (store_check_format(st, txn, dir, cause) != 0) {
		store_txn_abort(st, txn);
		mdb_env_close(st->env);
		free(st);
		return -1;
	}
	if ((rc = store_txn_commit(st, txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	*cause = xasprintf("LMDB store %s: %s", dir, mdb_strerror(rc));
	if (txn != NULL)
		store_txn_abort(st, txn);
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
	if (store_txn_enter(st) != 0) {
		*cause = xstrdup("store backup: the store is being remapped; retry");
		return -1;
	}
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	store_txn_leave(st);
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

/* brand/agg's record key into *k; returns the string k points into (caller frees). */
char *
store_record_key(const char *brand, const char *agg, MDB_val *k)
{
	char *s = xasprintf("%s/%s", brand, agg);

	k->mv_data = s;
	k->mv_size = strlen(s);
	return s;
}
