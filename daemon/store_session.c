/*
 * store_session.c — the store's small records outside the snapshots: the "sessions" db
 * (auth's login sessions and token revocations, opaque bytes, written in tiny
 * transactions) and the refresh lease in meta. It never touches a colour or a manifest;
 * reading a session through a view is store_view_session's (store_view.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "tpcd.h"
#include "store_priv.h"

int
store_session_put(struct store *st, const void *key, size_t klen, const void *val,
    size_t vlen, char **cause)
{
	MDB_val k = { klen, (void *)(uintptr_t)key }, v = { vlen, (void *)(uintptr_t)val };
	MDB_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		goto fail;
	rc = mdb_put(txn, st->sessions, &k, &v, 0);
	if ((rc = store_txn_finish(st, txn, rc)) != 0)
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

	if (store_txn_begin(st, 0, &txn) != 0)
		return -1;
	rc = mdb_del(txn, st->sessions, &k, NULL);
	return store_txn_finish(st, txn, rc) == 0 ? 0 : -1;
}

/*
 * Calls cb for every record, in a read transaction, or in a write transaction when
 * writable (then cb returning STORE_SESSION_DELETE deletes the record). Returns 0, or -1
 * and *cause.
 */
int
store_session_scan(struct store *st, int writable, store_session_cb cb, void *arg,
    char **cause)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	enum store_session_act act;
	int rc;

	if ((rc = store_txn_begin(st, writable ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->sessions, &cur)) != 0) {
		store_txn_abort(st, txn);
		goto fail;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((act = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg)) ==
		    STORE_SESSION_STOP)
			break;
		if (act == STORE_SESSION_DELETE && writable && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_txn_abort(st, txn);
		goto fail;
	}
	if (!writable) {
		store_txn_abort(st, txn);
		return 0;
	}
	if ((rc = store_txn_commit(st, txn)) != 0)
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
 * Takes or renews the lease for owner for ttl seconds. Returns STORE_LEASE_MINE when owner
 * holds it, STORE_LEASE_HELD when another live process does (*holder, caller frees),
 * STORE_LEASE_ERROR on a store error.
 */
enum store_lease
store_lease(struct store *st, const char *owner, int ttl, char **holder)
{
	MDB_txn *txn;
	MDB_val v;
	char cur[300], val[320];
	int64_t now = time(NULL), exp = 0;
	int rc;

	*holder = NULL;
	/* Held by owner for more than half its ttl still: renewing can wait (no write). */
	if (store_txn_begin(st, MDB_RDONLY, &txn) != 0)
		return STORE_LEASE_ERROR;
	if (store_meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size < sizeof cur) {
		memcpy(cur, v.mv_data, v.mv_size);
		cur[v.mv_size] = '\0';
		char *sp = strrchr(cur, ' ');
		if (sp != NULL && (size_t)(sp - cur) == strlen(owner) &&
		    memcmp(cur, owner, strlen(owner)) == 0 &&
		    strtoll(sp + 1, NULL, 10) - now > ttl / 2) {
			store_txn_abort(st, txn);
			return STORE_LEASE_MINE;
		}
	}
	store_txn_abort(st, txn);
	if (store_txn_begin(st, 0, &txn) != 0)
		return STORE_LEASE_ERROR;
	if (store_meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size < sizeof cur) {
		memcpy(cur, v.mv_data, v.mv_size);
		cur[v.mv_size] = '\0';
		char *sp = strrchr(cur, ' ');
		if (sp != NULL) {
			*sp = '\0';
			exp = strtoll(sp + 1, NULL, 10);
			if (strcmp(cur, owner) != 0 && exp > now && lease_holder_alive(cur)) {
				store_txn_abort(st, txn);
				*holder = xstrdup(cur);
				return STORE_LEASE_HELD;
			}
		}
	}
	snprintf(val, sizeof val, "%s %lld", owner, (long long)(now + ttl));
	rc = store_meta_put(txn, st->meta, "lease", val, strlen(val));
	if (rc != 0 || store_txn_commit(st, txn) != 0) {
		if (rc != 0)
			store_txn_abort(st, txn);
		return STORE_LEASE_ERROR;
	}
	return STORE_LEASE_MINE;
}

/* Gives the lease up (at shutdown) so the other instance need not wait for expiry. */
void
store_lease_release(struct store *st, const char *owner)
{
	MDB_txn *txn;
	MDB_val v, k = { 5, (void *)(uintptr_t)"lease" };

	if (store_txn_begin(st, 0, &txn) != 0)
		return;
	if (store_meta_get(txn, st->meta, "lease", &v) == 0 && v.mv_size > strlen(owner) &&
	    memcmp(v.mv_data, owner, strlen(owner)) == 0 &&
	    ((char *)v.mv_data)[strlen(owner)] == ' ')
		mdb_del(txn, st->meta, &k, NULL);
	store_txn_commit(st, txn);
}
