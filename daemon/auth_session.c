/*
 * auth_session.c — the records of the store's "sessions" db: login sessions, kept under
 * the SHA-256 of their token, and API token revocations next to them. This file owns
 * their format and lifecycle (create, look up, end, purge, list, revoke); who may log
 * in and which tokens exist is auth.c's. A session's secret is never stored or logged.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "tpcd.h"

#define KEY_SESSION	'S'	/* sessions db: 'S' + SHA-256(session token) → session_rec */
#define KEY_REVOKED	'R'	/* sessions db: 'R' + SHA-256(API token) → JSON note */
#define SESSION_VERSION	1

/*
 * A session as stored: fixed size, so the hot path copies it without allocating. The
 * layout is on disk: sessions survive restarts, so it changes only with SESSION_VERSION.
 */
struct session_rec {
	uint32_t	 version;
	int64_t		 created;
	int64_t		 expires;
	char		 id[SESSION_ID_LEN + 1];
	char		 user[AUTH_NAME_MAX + 1];
	char		 addr[48];
};

static void	revlog_note(const char *, const unsigned char[32]);

/*
 * Bumped after every session ended and token revoked (once the store has it): a serving
 * thread that remembers a connection's credential (http_auth.c) checks it afresh when
 * this moved since. Read before the check's view begins, so a change racing the check
 * is seen at the next request.
 */
static _Atomic uint64_t revocations;

static void
revoked_now(void)
{
	atomic_fetch_add_explicit(&revocations, 1, memory_order_release);
}

/* How many ends and revocations so far: equal values mean none came between. */
uint64_t
auth_session_revocations(void)
{
	return atomic_load_explicit(&revocations, memory_order_acquire);
}

static void
session_key(unsigned char k[33], char kind, const unsigned char h[32])
{
	k[0] = (unsigned char)kind;
	memcpy(k + 1, h, 32);
}

/* The public view of a record (the strings terminated, whatever the bytes said). */
static void
session_copy_out(const struct session_rec *r, struct auth_session *s)
{
	memset(s, 0, sizeof *s);
	memcpy(s->id, r->id, SESSION_ID_LEN);
	memcpy(s->user, r->user, AUTH_NAME_MAX);
	memcpy(s->addr, r->addr, sizeof s->addr - 1);
	s->created = r->created;
	s->expires = r->expires;
}

/*
 * Stores a new session for s->user (s->addr, s->created, s->expires as given) under a
 * fresh token; fills s->id, *token (the secret: caller bzero's and frees) and key (its
 * SHA-256). 0, or -1 with *cause and no token.
 */
int
auth_session_create(struct store *st, struct auth_session *s, char **token,
    unsigned char key[32], char **cause)
{
	struct session_rec rec;
	unsigned char k[33];
	char *id;

	memset(&rec, 0, sizeof rec);
	rec.version = SESSION_VERSION;
	rec.created = s->created;
	rec.expires = s->expires;
	id = auth_password_random("", SESSION_ID_LEN / 2);
	snprintf(rec.id, sizeof rec.id, "%s", id);
	free(id);
	snprintf(rec.user, sizeof rec.user, "%s", s->user);
	snprintf(rec.addr, sizeof rec.addr, "%s", s->addr);
	*token = auth_password_random("tpcds_", 32);
	SHA256((const unsigned char *)*token, strlen(*token), key);
	session_key(k, KEY_SESSION, key);
	if (store_session_put(st, k, sizeof k, &rec, sizeof rec, cause) != 0) {
		explicit_bzero(*token, strlen(*token));
		free(*token);
		*token = NULL;
		return -1;
	}
	session_copy_out(&rec, s);
	return 0;
}

/* The session behind key (SHA-256 of its token), copied out of view v; 0 or -1. */
int
auth_session_get(struct store_view *v, const unsigned char key[32], struct auth_session *out)
{
	struct session_rec rec;
	unsigned char k[33];
	const void *val;
	size_t len;

	session_key(k, KEY_SESSION, key);
	if (store_view_session(v, k, sizeof k, &val, &len) != 0 || len != sizeof rec)
		return -1;
	memcpy(&rec, val, sizeof rec);
	if (rec.version != SESSION_VERSION)
		return -1;
	session_copy_out(&rec, out);
	return 0;
}

/* Ends the session behind key; 0, or -1 when there is none (or the store fails). */
int
auth_session_delete(struct store *st, const unsigned char key[32])
{
	unsigned char k[33];

	session_key(k, KEY_SESSION, key);
	if (store_session_del(st, k, sizeof k) != 0)
		return -1;
	revoked_now();
	revlog_note("session", key);
	return 0;
}

static const struct session_rec *
scan_session(const void *key, size_t klen, const void *val, size_t vlen,
    struct session_rec *tmp)
{
	if (klen != 33 || ((const unsigned char *)key)[0] != KEY_SESSION ||
	    vlen != sizeof *tmp)
		return NULL;
	memcpy(tmp, val, sizeof *tmp);
	tmp->id[SESSION_ID_LEN] = '\0';
	tmp->user[AUTH_NAME_MAX] = '\0';
	tmp->addr[sizeof tmp->addr - 1] = '\0';
	return tmp;
}

struct purge_arg {
	int64_t		 now;
	json_t		*gone;	/* [{user, session}] for the audit log, after the txn */
};

static enum store_session_act
purge_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct purge_arg *pa = arg;
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);

	if (r == NULL || r->expires > pa->now)
		return STORE_SESSION_KEEP;
	json_array_append_new(pa->gone, json_pack("{s:s, s:s}", "user", r->user, "session",
	    r->id));
	return STORE_SESSION_DELETE;
}

/* Deletes every expired session (at each login and listing), auditing each. */
void
auth_session_purge(struct store *st, int64_t now)
{
	struct purge_arg pa = { now, json_array() };
	char *cause = NULL;
	size_t i;
	json_t *e;

	if (store_session_scan(st, 1, purge_cb, &pa, &cause) != 0) {
		log_warn("purging sessions: %s", cause);
		free(cause);
	}
	if (json_array_size(pa.gone) > 0)
		revoked_now();
	json_array_foreach(pa.gone, i, e)
		audit_write(json_pack("{s:s, s:O, s:O, s:s}", "event", "session_expired", "user",
		    json_object_get(e, "user"), "session", json_object_get(e, "session"),
		    "how", "purged"));
	json_decref(pa.gone);
}

static enum store_session_act
list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);
	char c[32], x[32];

	if (r == NULL)
		return STORE_SESSION_KEEP;
	clock_iso8601(r->created, c);
	clock_iso8601(r->expires, x);
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->id,
	    "user", r->user, "created_at", c, "expires_at", x, "address", r->addr));
	return STORE_SESSION_KEEP;
}

/* The live sessions, without their secrets: [{id, user, created_at, expires_at, address}]. */
json_t *
auth_session_list(struct store *st, int64_t now)
{
	json_t *list = json_array();
	char *cause = NULL;

	auth_session_purge(st, now);
	if (store_session_scan(st, 0, list_cb, list, &cause) != 0) {
		log_warn("listing sessions: %s", cause);
		free(cause);
	}
	return list;
}

/* One live session of a user, as the cap sees it. */
struct user_session {
	unsigned char	 key[33];
	int64_t		 created;
	char		 id[SESSION_ID_LEN + 1];
};

struct user_sessions {
	const char		*user;
	struct user_session	*v;
	size_t			 n, cap;
};

static enum store_session_act
user_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct user_sessions *us = arg;
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);

	if (r == NULL || strcmp(r->user, us->user) != 0)
		return STORE_SESSION_KEEP;
	if (us->n == us->cap) {
		us->cap = us->cap ? us->cap * 2 : 16;
		us->v = xreallocarray(us->v, us->cap, sizeof *us->v);
	}
	memcpy(us->v[us->n].key, key, sizeof us->v[us->n].key);
	us->v[us->n].created = r->created;
	memcpy(us->v[us->n].id, r->id, sizeof us->v[us->n].id);
	us->n++;
	return STORE_SESSION_KEEP;
}

static int
created_cmp(const void *a, const void *b)
{
	const struct user_session *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

/*
 * Makes room for one more session of user under the cap of max live sessions: ends the
 * oldest ones beyond max - 1, auditing each (session_evicted). Writer thread.
 */
void
auth_session_cap(struct store *st, const char *user, int max)
{
	struct user_sessions us = { .user = user };
	char *cause = NULL;

	if (store_session_scan(st, 0, user_cb, &us, &cause) != 0) {
		log_warn("session cap: %s", cause);
		free(cause);
		return;
	}
	if (us.n > 1)
		qsort(us.v, us.n, sizeof *us.v, created_cmp);
	for (size_t i = 0; i < us.n && us.n - i >= (size_t)max; i++) {
		if (store_session_del(st, us.v[i].key, sizeof us.v[i].key) != 0)
			continue;
		revoked_now();
		audit_write(json_pack("{s:s, s:s, s:s, s:i}", "event", "session_evicted",
		    "user", user, "session", us.v[i].id, "max_sessions", max));
	}
	free(us.v);
}

struct revoke_arg {
	const char	*prefix;
	size_t		 n;
	int		 matches;
	char		 user[AUTH_NAME_MAX + 1];
	unsigned char	 key[32];	/* of the match, for the revocation log */
};

static enum store_session_act
revoke_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct revoke_arg *ra = arg;
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);

	if (r == NULL || strncmp(r->id, ra->prefix, ra->n) != 0)
		return STORE_SESSION_KEEP;
	ra->matches++;
	snprintf(ra->user, sizeof ra->user, "%s", r->user);
	memcpy(ra->key, (const unsigned char *)key + 1, 32);
	return STORE_SESSION_DELETE;
}

/*
 * Ends the one session whose id starts with id_prefix (at least 6 hex digits); user_out
 * (AUTH_NAME_MAX + 1 bytes) gets its user. Several matching: nothing is deleted. A bad
 * prefix or a store error: AUTH_SESSION_REVOKE_ERROR and *cause.
 */
enum auth_session_revoke
auth_session_revoke(struct store *st, const char *id_prefix, char *user_out, char **cause)
{
	struct revoke_arg ra = { id_prefix, strlen(id_prefix), 0, "", { 0 } };

	if (ra.n < 6 || ra.n > SESSION_ID_LEN ||
	    strspn(id_prefix, "0123456789abcdef") != ra.n) {
		*cause = xstrdup("a session id is 6 to 16 lowercase hex digits");
		return AUTH_SESSION_REVOKE_ERROR;
	}
	if (store_session_scan(st, 0, revoke_cb, &ra, cause) != 0)
		return AUTH_SESSION_REVOKE_ERROR;
	if (ra.matches != 1)
		return ra.matches == 0 ? AUTH_SESSION_REVOKE_NONE : AUTH_SESSION_REVOKE_AMBIGUOUS;
	ra.matches = 0;
	if (store_session_scan(st, 1, revoke_cb, &ra, cause) != 0)
		return AUTH_SESSION_REVOKE_ERROR;
	snprintf(user_out, AUTH_NAME_MAX + 1, "%s", ra.user);
	if (ra.matches == 1) {
		revoked_now();
		revlog_note("session", ra.key);
	}
	return ra.matches == 1 ? AUTH_SESSION_REVOKE_OK : AUTH_SESSION_REVOKE_NONE;
}

/* Has the API token with this SHA-256 been revoked through the API? */
int
auth_session_token_revoked(struct store_view *v, const unsigned char sha256[32])
{
	unsigned char k[33];
	const void *val;
	size_t len;

	session_key(k, KEY_REVOKED, sha256);
	return store_view_session(v, k, sizeof k, &val, &len) == 0;
}

/* Records the revocation of the API token name (sha256) by by, durably. 0 or -1. */
int
auth_session_token_revoke(struct store *st, const unsigned char sha256[32],
    const char *name, const char *by, int64_t now, char **cause)
{
	unsigned char k[33];
	char ts[32], *note;
	int rc;

	session_key(k, KEY_REVOKED, sha256);
	clock_iso8601(now, ts);
	note = xasprintf("{\"name\":\"%s\",\"revoked_at\":\"%s\",\"by\":\"%s\"}", name, ts, by);
	rc = store_session_put(st, k, sizeof k, note, strlen(note), cause);
	free(note);
	if (rc == 0)
		revoked_now();
	if (rc == 0 && revlog_append("token", sha256, cause) != 0)
		return -1;
	return rc;
}

/*
 * A session's end in the revocation log. The session is gone from the store already,
 * which is what counts while this store lives; a failed append is logged, not fatal.
 */
static void
revlog_note(const char *kind, const unsigned char key[32])
{
	char *cause = NULL;

	if (revlog_append(kind, key, &cause) != 0) {
		log_warn("revocation log: %s", cause);
		free(cause);
	}
}

static int
replay_cb(const char *kind, const unsigned char h[32], void *arg)
{
	static const char note[] = "{\"by\":\"revocation log\"}";
	struct store *st = arg;
	struct store_reader *rd;
	struct store_view *v;
	unsigned char k[33];
	char *cause = NULL;
	int present;

	if (strcmp(kind, "session") == 0) {
		session_key(k, KEY_SESSION, h);
		if (store_session_del(st, k, sizeof k) == 0)	/* absent: nothing to undo */
			revoked_now();
		return 0;
	}
	if (strcmp(kind, "token") != 0)
		return -1;
	rd = store_reader_new(st);
	v = store_view_begin(rd);
	present = v != NULL && auth_session_token_revoked(v, h);
	store_view_release(v);
	store_reader_free(rd);
	if (present)
		return 0;	/* the store knows (and keeps its own note) */
	session_key(k, KEY_REVOKED, h);
	if (store_session_put(st, k, sizeof k, note, sizeof note - 1, &cause) != 0) {
		log_err("revocation log: %s", cause);
		free(cause);
		return -1;
	}
	revoked_now();
	return 0;
}

/*
 * Re-applies the revocation log to the store at start-up: a store restored from an older
 * backup refuses every credential revoked since. Returns the lines applied, or -1.
 */
int
auth_session_replay(struct store *st, char **cause)
{
	return revlog_each(replay_cb, st, cause);
}
