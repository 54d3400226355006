/*
 * store_priv.h — private to the store's files: struct store and the read view, and the
 * transaction and meta helpers store.c offers the others. store.c owns the environment,
 * store_pub.c publishing, store_view.c reading, store_session.c sessions and the lease.
 * Only those four include it; elsewhere a store is the opaque struct of tpcd.h.
 */
#ifndef STORE_PRIV_H
#define STORE_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include <lmdb.h>

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

/* store.c: the names of colours 0 and 1, as meta and the API spell them */
extern const char *const store_colour_names[2];

/* store.c: transactions (every one of ours is begun and ended through these) */
int	 store_remap(struct store *, int);
int	 store_txn_enter(struct store *);
void	 store_txn_leave(struct store *);
int	 store_txn_begin(struct store *, unsigned, MDB_txn **);
int	 store_txn_commit(struct store *, MDB_txn *);
void	 store_txn_abort(struct store *, MDB_txn *);
int	 store_txn_finish(struct store *, MDB_txn *, int);

/* store.c: meta and record keys */
int	 store_colour_index(const MDB_val *);
int	 store_meta_get(MDB_txn *, MDB_dbi, const char *, MDB_val *);
int	 store_meta_put(MDB_txn *, MDB_dbi, const char *, const void *, size_t);
int	 store_meta_get_u64(MDB_txn *, MDB_dbi, const char *, uint64_t *);
int	 store_active_colour(struct store *, MDB_txn *);
char	*store_record_key(const char *, const char *, MDB_val *);

#endif
