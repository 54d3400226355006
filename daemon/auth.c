/*
 * auth.c — who is asking: the configured users (yescrypt password hashes) and API tokens
 * (SHA-256 of the token), login sessions kept hashed in the store's "sessions" db, token
 * revocations next to them, and the login throttle. Secrets are only ever hashed and
 * compared here; nothing in this file logs one. HTTP lives in http_auth.c.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "tpcd.h"

#define SECRET_MAX	1024	/* longer presented secrets are refused unhashed */
#define KEY_SESSION	'S'	/* sessions db: 'S' + SHA-256(session token) → session_rec */
#define KEY_REVOKED	'R'	/* sessions db: 'R' + SHA-256(API token) → JSON note */
#define SESSION_VERSION	1

/* A session as stored: fixed size, so the hot path copies it without allocating. */
struct session_rec {
	uint32_t	 version;
	int64_t		 created;
	int64_t		 expires;
	char		 id[SESSION_ID_LEN + 1];
	char		 user[AUTH_NAME_MAX + 1];
	char		 addr[48];
};

struct auth_entry {
	const struct auth_principal_conf *conf;
	unsigned char	*brands;		/* [config brand index] */
};

/* ---- login throttle (see auth_throttle_wait) ---- */
enum thr_kind { THR_PAIR, THR_ADDR, THR_USER, THR_NKINDS };
struct thr_rule {
	unsigned	 free;		/* failures before any delay */
	int64_t		 cap_ms;	/* the longest delay */
	int64_t		 decay_ms;	/* one failure forgotten per this much quiet */
};
static const struct thr_rule thr_rules[THR_NKINDS] = {
	[THR_PAIR] = { 3, 5 * 60 * 1000, 5 * 60 * 1000 },	/* one user from one address */
	[THR_ADDR] = { 10, 15 * 60 * 1000, 5 * 60 * 1000 },	/* any user from one address */
	/* one user from anywhere: short and fast-decaying, so it cannot lock anyone out */
	[THR_USER] = { 20, 60 * 1000, 60 * 1000 },
};
#define THR_SLOTS	4096
#define THR_PROBE	16
#define THR_KEY_MAX	(AUTH_NAME_MAX + 64)
struct thr_slot {
	uint64_t	 hash;		/* 0: never used */
	enum thr_kind	 kind;
	char		 key[THR_KEY_MAX];
	unsigned	 fails;
	int64_t		 last_ms;
	int64_t		 until_ms;
};

struct auth {
	const struct config	*cf;
	struct store		*st;
	struct auth_entry	*users;		/* sorted by name */
	size_t			 nusers;
	struct auth_entry	*tokens;	/* sorted by sha256 */
	size_t			 ntokens;
	char			*dummy_hash;	/* unknown users cost one crypt too */
	struct {
		int		 af;
		unsigned char	 a[16];
	}			*proxies;
	size_t			 nproxies;
	pthread_mutex_t		 thr_mu;
	struct thr_slot		*thr;
};

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* prefix + 64 hex digits of fresh randomness (256 bits); caller frees. */
static char *
random_secret(const char *prefix)
{
	unsigned char r[32];
	char h[65];

	if (random_bytes(r, sizeof r) != 0)
		fatal("getrandom: %s", strerror(errno));
	hex(r, sizeof r, h);
	explicit_bzero(r, sizeof r);
	return xasprintf("%s%s", prefix, h);
}

static int
entry_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct auth_entry *)a)->conf->name,
	    ((const struct auth_entry *)b)->conf->name);
}

static int
entry_hash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct auth_entry *)a)->conf->sha256,
	    ((const struct auth_entry *)b)->conf->sha256, 32);
}

static struct auth_entry *
entries_build(const struct config *cf, const struct auth_principal_conf *list, size_t n,
    int (*cmp)(const void *, const void *))
{
	struct auth_entry *e = xcalloc(n ? n : 1, sizeof *e);

	for (size_t i = 0; i < n; i++) {
		e[i].conf = &list[i];
		e[i].brands = xcalloc(cf->nbrands ? cf->nbrands : 1, 1);
		for (size_t j = 0; j < list[i].nbrands; j++) {
			const struct brand *b = config_find_brand(cf, list[i].brands[j]);
			if (b != NULL)
				e[i].brands[b - cf->brands] = 1;
		}
	}
	qsort(e, n, sizeof *e, cmp);
	return e;
}

static const struct auth_entry *
user_find(const struct auth *a, const char *name)
{
	struct auth_principal_conf pc = { .name = (char *)(uintptr_t)name };
	struct auth_entry key = { .conf = &pc };

	return bsearch(&key, a->users, a->nusers, sizeof *a->users, entry_name_cmp);
}

static const struct auth_entry *
token_find(const struct auth *a, const unsigned char h[32])
{
	struct auth_principal_conf pc;
	struct auth_entry key = { .conf = &pc };

	memcpy(pc.sha256, h, 32);
	return bsearch(&key, a->tokens, a->ntokens, sizeof *a->tokens, entry_hash_cmp);
}

/* Builds the in-memory tables from cf (which must outlive the result). */
struct auth *
auth_new(const struct config *cf, struct store *st, char **cause)
{
	struct auth *a = xcalloc(1, sizeof *a);

	(void)cause;		/* nothing here can fail today; callers keep the contract */
	a->cf = cf;
	a->st = st;
	a->users = entries_build(cf, cf->auth.users, cf->auth.nusers, entry_name_cmp);
	a->nusers = cf->auth.nusers;
	a->tokens = entries_build(cf, cf->auth.tokens, cf->auth.ntokens, entry_hash_cmp);
	a->ntokens = cf->auth.ntokens;
	a->proxies = xcalloc(cf->auth.ntrusted_proxies + 1, sizeof *a->proxies);
	for (size_t i = 0; i < cf->auth.ntrusted_proxies; i++) {
		const char *s = cf->auth.trusted_proxies[i];
		a->proxies[i].af = strchr(s, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(a->proxies[i].af, s, a->proxies[i].a) == 1)
			a->nproxies++;
	}
	pthread_mutex_init(&a->thr_mu, NULL);
	a->thr = xcalloc(THR_SLOTS, sizeof *a->thr);
	/*
	 * Unknown users cost one crypt too, against this hash of a random password nobody
	 * kept (same yescrypt cost as tpcd --hash-password). A constant, rather than a hash
	 * made here, keeps ~25 ms of yescrypt out of start-up.
	 */
	a->dummy_hash = xstrdup("$y$j9T$mZ8WpBAN3P9dh.YgNgbDK/$jj5L6V4EcQF3w78G2Ir33A1hONqQFRUtzI7JWB32kg/");
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nusers; i++)
		free(a->users[i].brands);
	for (size_t i = 0; i < a->ntokens; i++)
		free(a->tokens[i].brands);
	free(a->users);
	free(a->tokens);
	free(a->proxies);
	free(a->dummy_hash);
	free(a->thr);
	pthread_mutex_destroy(&a->thr_mu);
	free(a);
}

int
auth_cookie_secure(const struct auth *a)
{
	return a->cf->auth.cookie_secure;
}

int
auth_session_lifetime(const struct auth *a)
{
	return a->cf->auth.session_lifetime;
}

/* Is addr (a numeric peer address) one of auth.trusted_proxies? */
int
auth_proxy_trusted(const struct auth *a, const char *addr)
{
	unsigned char bin[16];
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	size_t len = af == AF_INET ? 4 : 16;

	if (inet_pton(af, addr, bin) != 1)
		return 0;
	for (size_t i = 0; i < a->nproxies; i++)
		if (a->proxies[i].af == af && memcmp(a->proxies[i].a, bin, len) == 0)
			return 1;
	return 0;
}

int
principal_may_read(const struct principal *p, size_t brand_index)
{
	return p->admin || (p->brands != NULL && p->brands[brand_index]);
}

static void
principal_set(struct principal *p, enum principal_kind kind, const char *name,
    const struct auth_entry *e)
{
	p->kind = kind;
	snprintf(p->name, sizeof p->name, "%s", name);
	p->admin = e ? e->conf->admin : 0;
	p->brands = e ? e->brands : NULL;
}

/* The session record behind key (SHA-256 of its token), copied out; 0 or -1. */
static int
session_get(struct store_view *v, const unsigned char h[32], struct session_rec *out)
{
	unsigned char k[33];
	const void *val;
	size_t len;

	k[0] = KEY_SESSION;
	memcpy(k + 1, h, 32);
	if (store_view_session(v, k, sizeof k, &val, &len) != 0 || len != sizeof *out)
		return -1;
	memcpy(out, val, sizeof *out);
	out->id[SESSION_ID_LEN] = '\0';
	out->user[AUTH_NAME_MAX] = '\0';
	out->addr[sizeof out->addr - 1] = '\0';
	return out->version == SESSION_VERSION ? 0 : -1;
}

static int
token_revoked(struct store_view *v, const unsigned char h[32])
{
	unsigned char k[33];
	const void *val;
	size_t len;

	k[0] = KEY_REVOKED;
	memcpy(k + 1, h, 32);
	return store_view_session(v, k, sizeof k, &val, &len) == 0;
}

/*
 * The hot path: who presents secret? One SHA-256, a binary search of the API tokens, and
 * one or two LMDB lookups in the caller's read view; no allocation. Fills p (its name
 * also on failure, when known, for the audit log).
 */
enum auth_result
auth_check(struct auth *a, struct store_view *v, const char *secret, size_t len,
    int64_t now, struct principal *p)
{
	const struct auth_entry *e;
	struct session_rec rec;

	memset(p, 0, sizeof *p);
	if (len == 0)
		return AUTH_NONE;
	if (len > SECRET_MAX || v == NULL)
		return AUTH_INVALID;
	SHA256((const unsigned char *)secret, len, p->key);
	if ((e = token_find(a, p->key)) != NULL) {
		principal_set(p, PRINCIPAL_TOKEN, e->conf->name, e);
		if (e->conf->revoked || token_revoked(v, p->key))
			return AUTH_REVOKED;
		return AUTH_OK;
	}
	if (session_get(v, p->key, &rec) != 0)
		return AUTH_INVALID;
	e = user_find(a, rec.user);
	principal_set(p, PRINCIPAL_SESSION, rec.user, e);
	memcpy(p->session_id, rec.id, sizeof p->session_id);
	p->expires = rec.expires;
	if (rec.expires <= now)
		return AUTH_EXPIRED;
	if (e == NULL)		/* the user was removed from the configuration */
		return AUTH_INVALID;
	return AUTH_OK;
}

/* crypt(3) hash of pw, compared in constant time; always runs one crypt. */
static int
password_ok(const char *pw, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *out = crypt_rn(pw, hash, cd, sizeof *cd);
	size_t n = strlen(hash);
	int ok = out != NULL && out[0] == '$' && strlen(out) == n &&
	    CRYPTO_memcmp(out, hash, n) == 0;

	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

/*
 * Checks user's password (a crypt even for an unknown user, so timing tells nothing);
 * on success makes a session in the store and fills p and res (res->token: the secret,
 * caller bzero's and frees). Returns 0; -1 refused (res->reason); -2 store error.
 */
int
auth_login(struct auth *a, const char *user, const char *password, const char *addr,
    int64_t now, struct principal *p, struct auth_login_result *res)
{
	const struct auth_entry *e = user_find(a, user);
	struct session_rec rec;
	unsigned char k[33], idr[SESSION_ID_LEN / 2];
	char *cause = NULL;
	int ok = password_ok(password, e ? e->conf->password_hash : a->dummy_hash);

	memset(res, 0, sizeof *res);
	memset(p, 0, sizeof *p);
	if (e == NULL || !ok) {
		res->reason = e == NULL ? "unknown_user" : "bad_password";
		return -1;
	}
	memset(&rec, 0, sizeof rec);
	rec.version = SESSION_VERSION;
	rec.created = now;
	rec.expires = now + a->cf->auth.session_lifetime;
	if (random_bytes(idr, sizeof idr) != 0)
		fatal("getrandom: %s", strerror(errno));
	hex(idr, sizeof idr, rec.id);
	snprintf(rec.user, sizeof rec.user, "%s", e->conf->name);
	snprintf(rec.addr, sizeof rec.addr, "%s", addr);
	res->token = random_secret("tpcds_");
	SHA256((const unsigned char *)res->token, strlen(res->token), p->key);
	k[0] = KEY_SESSION;
	memcpy(k + 1, p->key, 32);
	auth_sessions_purge(a, now);
	if (store_session_put(a->st, k, sizeof k, &rec, sizeof rec, &cause) != 0) {
		log_err("login: %s", cause);
		free(cause);
		explicit_bzero(res->token, strlen(res->token));
		free(res->token);
		res->token = NULL;
		return -2;
	}
	principal_set(p, PRINCIPAL_SESSION, rec.user, e);
	memcpy(p->session_id, rec.id, sizeof p->session_id);
	p->expires = res->expires = rec.expires;
	return 0;
}

static int
session_delete(struct auth *a, const struct principal *p)
{
	unsigned char k[33];

	k[0] = KEY_SESSION;
	memcpy(k + 1, p->key, 32);
	return store_session_del(a->st, k, sizeof k);
}

/* Ends p's session. 0, or -1 when p is not a live session. */
int
auth_logout(struct auth *a, const struct principal *p)
{
	if (p->kind != PRINCIPAL_SESSION)
		return -1;
	return session_delete(a, p);
}

/* An expired session was presented: it goes now rather than at the next purge. */
void
auth_session_expire(struct auth *a, const struct principal *p)
{
	if (p->kind == PRINCIPAL_SESSION)
		session_delete(a, p);
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

static int
purge_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct purge_arg *pa = arg;
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);

	if (r == NULL || r->expires > pa->now)
		return 0;
	json_array_append_new(pa->gone, json_pack("{s:s, s:s}", "user", r->user, "session",
	    r->id));
	return 1;
}

/* Deletes every expired session (at each login and listing), auditing each. */
void
auth_sessions_purge(struct auth *a, int64_t now)
{
	struct purge_arg pa = { now, json_array() };
	char *cause = NULL;
	size_t i;
	json_t *e;

	if (store_session_scan(a->st, 1, purge_cb, &pa, &cause) != 0) {
		log_warn("purging sessions: %s", cause);
		free(cause);
	}
	json_array_foreach(pa.gone, i, e)
		audit_write(json_pack("{s:s, s:O, s:O, s:s}", "event", "session_expired", "user",
		    json_object_get(e, "user"), "session", json_object_get(e, "session"),
		    "how", "purged"));
	json_decref(pa.gone);
}

static int
list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);
	char c[32], x[32];

	if (r == NULL)
		return 0;
	clock_iso8601(r->created, c);
	clock_iso8601(r->expires, x);
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->id,
	    "user", r->user, "created_at", c, "expires_at", x, "address", r->addr));
	return 0;
}

/* The live sessions, without their secrets: [{id, user, created_at, expires_at, address}]. */
json_t *
auth_sessions_list(struct auth *a, int64_t now)
{
	json_t *list = json_array();
	char *cause = NULL;

	auth_sessions_purge(a, now);
	if (store_session_scan(a->st, 0, list_cb, list, &cause) != 0) {
		log_warn("listing sessions: %s", cause);
		free(cause);
	}
	return list;
}

struct revoke_arg {
	const char	*prefix;
	size_t		 n;
	int		 matches;
	char		 user[AUTH_NAME_MAX + 1];
};

static int
revoke_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct revoke_arg *ra = arg;
	struct session_rec tmp;
	const struct session_rec *r = scan_session(key, klen, val, vlen, &tmp);

	if (r == NULL || strncmp(r->id, ra->prefix, ra->n) != 0)
		return 0;
	ra->matches++;
	snprintf(ra->user, sizeof ra->user, "%s", r->user);
	return 1;
}

/*
 * Ends the one session whose id starts with id_prefix (at least 6 hex digits). Returns
 * 0 (user_out: its user), 1 none matches, 2 several match (nothing deleted), -1 error.
 */
int
auth_session_revoke(struct auth *a, const char *id_prefix, char *user_out, char **cause)
{
	struct revoke_arg ra = { id_prefix, strlen(id_prefix), 0, "" };

	if (ra.n < 6 || ra.n > SESSION_ID_LEN ||
	    strspn(id_prefix, "0123456789abcdef") != ra.n) {
		*cause = xstrdup("a session id is 6 to 16 lowercase hex digits");
		return -1;
	}
	if (store_session_scan(a->st, 0, revoke_cb, &ra, cause) != 0)
		return -1;
	if (ra.matches != 1)
		return ra.matches == 0 ? 1 : 2;
	ra.matches = 0;
	if (store_session_scan(a->st, 1, revoke_cb, &ra, cause) != 0)
		return -1;
	snprintf(user_out, AUTH_NAME_MAX + 1, "%s", ra.user);
	return ra.matches == 1 ? 0 : 1;
}

static json_t *
brands_json(const struct auth_principal_conf *c)
{
	json_t *b = json_array();

	for (size_t i = 0; i < c->nbrands; i++)
		json_array_append_new(b, json_string(c->brands[i]));
	return b;
}

/* The configured API tokens (never their hashes), with their revocation state. */
json_t *
auth_tokens_list(struct auth *a, struct store_view *v)
{
	json_t *list = json_array();

	for (size_t i = 0; i < a->ntokens; i++) {
		const struct auth_principal_conf *c = a->tokens[i].conf;
		int api = v != NULL && token_revoked(v, c->sha256);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:b, s:s?}", "name",
		    c->name, "role", c->admin ? "admin" : "user", "brands", brands_json(c),
		    "revoked", c->revoked || api, "revoked_by", c->revoked ? "configuration" :
		    (api ? "api" : NULL)));
	}
	return list;
}

/* Revokes the API token called name, durably (in the store). 0, 1 no such token, -1. */
int
auth_token_revoke(struct auth *a, const char *name, const char *by, int64_t now,
    char **cause)
{
	unsigned char k[33];
	char ts[32], *note;
	int rc;

	for (size_t i = 0; i < a->ntokens; i++) {
		const struct auth_principal_conf *c = a->tokens[i].conf;
		if (strcmp(c->name, name) != 0)
			continue;
		k[0] = KEY_REVOKED;
		memcpy(k + 1, c->sha256, 32);
		clock_iso8601(now, ts);
		note = xasprintf("{\"name\":\"%s\",\"revoked_at\":\"%s\",\"by\":\"%s\"}", c->name,
		    ts, by);
		rc = store_session_put(a->st, k, sizeof k, note, strlen(note), cause);
		free(note);
		return rc;
	}
	return 1;
}

/* ---- login throttle ----
 * Failed logins are counted per (user, address), per address and per user. Past a
 * rule's free failures each failure closes the door for 1 s, 2 s, 4 s ... up to the
 * rule's cap, and one failure is forgotten per decay period of quiet. While closed,
 * login answers 429 with Retry-After without checking the password, so nothing sleeps.
 * The per-user rule has a short cap: an attacker elsewhere cannot lock the admin out.
 */


static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
thr_key(enum thr_kind kind, const char *user, const char *addr, char out[THR_KEY_MAX])
{
	static const char *const tags[THR_NKINDS] = { "p", "a", "u" };

	snprintf(out, THR_KEY_MAX, "%s|%s|%s", tags[kind], kind == THR_ADDR ? "" : user,
	    kind == THR_USER ? "" : addr);
}

/* Failures still remembered at now (the decay applied). */
static unsigned
thr_fails(const struct thr_slot *s, int64_t now)
{
	int64_t forgotten = (now - s->last_ms) / thr_rules[s->kind].decay_ms;

	return forgotten >= s->fails ? 0 : s->fails - (unsigned)forgotten;
}

static int
thr_idle(const struct thr_slot *s, int64_t now)
{
	return s->hash == 0 || (thr_fails(s, now) == 0 && s->until_ms <= now);
}

/* The slot of key; with create, an idle or else the stalest slot of its probe window. */
static struct thr_slot *
thr_slot(struct auth *a, enum thr_kind kind, const char *key, int64_t now, int create)
{
	uint64_t h = fnv1a(key);
	struct thr_slot *victim = NULL;

	for (unsigned i = 0; i < THR_PROBE; i++) {
		struct thr_slot *s = &a->thr[(h + i) & (THR_SLOTS - 1)];
		if (s->hash == h && s->kind == kind && strcmp(s->key, key) == 0)
			return s;
		if (victim == NULL || (!thr_idle(victim, now) && (thr_idle(s, now) ||
		    s->last_ms < victim->last_ms)))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->hash = h;
	victim->kind = kind;
	snprintf(victim->key, sizeof victim->key, "%s", key);
	return victim;
}

/* Milliseconds until user may try again from addr; 0: now. */
static int64_t
thr_wait_ms(struct auth *a, const char *user, const char *addr, int64_t now)
{
	int64_t wait = 0;
	char key[THR_KEY_MAX];

	for (int k = 0; k < THR_NKINDS; k++) {
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(a, k, key, now, 0);
		if (s != NULL && s->until_ms - now > wait)
			wait = s->until_ms - now;
	}
	return wait;
}

/* Seconds (rounded up) until user may try to log in from addr again; 0: now. */
int64_t
auth_throttle_wait(struct auth *a, const char *user, const char *addr)
{
	int64_t now = mono_ms(), ms;

	pthread_mutex_lock(&a->thr_mu);
	ms = thr_wait_ms(a, user, addr, now);
	pthread_mutex_unlock(&a->thr_mu);
	return (ms + 999) / 1000;
}

/* Records a login's outcome: a failure counts everywhere, a success clears the pair. */
void
auth_throttle_result(struct auth *a, const char *user, const char *addr, int ok)
{
	int64_t now = mono_ms();
	char key[THR_KEY_MAX];

	pthread_mutex_lock(&a->thr_mu);
	for (int k = 0; k < THR_NKINDS; k++) {
		if (ok && k != THR_PAIR)
			continue;
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(a, k, key, now, !ok);
		if (s == NULL)
			continue;
		if (ok) {
			s->fails = 0;
			s->until_ms = 0;
			continue;
		}
		s->fails = thr_fails(s, now) + 1;
		s->last_ms = now;
		if (s->fails >= thr_rules[k].free) {
			unsigned sh = s->fails - thr_rules[k].free;
			int64_t d = sh > 20 ? thr_rules[k].cap_ms : (int64_t)1000 << sh;
			s->until_ms = now + (d < thr_rules[k].cap_ms ? d : thr_rules[k].cap_ms);
		}
	}
	pthread_mutex_unlock(&a->thr_mu);
}

/* ---- passwords: hashing (tpcd --hash-password, the demo) and reading ---- */

/* A fresh yescrypt hash of pw; caller frees. NULL and *cause on failure. */
char *
auth_hash_password(const char *pw, char **cause)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], *res = NULL;
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *out;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting) == NULL) {
		*cause = xasprintf("crypt_gensalt: %s", strerror(errno));
		goto out;
	}
	out = crypt_rn(pw, setting, cd, sizeof *cd);
	if (out == NULL || strncmp(out, "$y$", 3) != 0) {
		*cause = xasprintf("crypt: %s", strerror(errno));
		goto out;
	}
	res = xstrdup(out);
out:
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return res;
}

static char *
read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/*
 * A password: from the terminal without echo (asked twice), or one line of in when it
 * is not a terminal. Never from argv, where ps would show it. Caller bzero's and frees.
 */
int
auth_read_password(FILE *in, char **pw, char **cause)
{
	struct termios saved, quiet;
	int tty = isatty(fileno(in)) && tcgetattr(fileno(in), &saved) == 0;
	char *again = NULL;

	*pw = NULL;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fputs("Password: ", stderr);
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	*pw = read_line(in);
	if (tty && *pw != NULL) {
		fputs("\nAgain: ", stderr);
		again = read_line(in);
	}
	if (tty) {
		tcsetattr(fileno(in), TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (*pw == NULL || **pw == '\0' || (tty && (again == NULL || strcmp(again, *pw)))) {
		*cause = xstrdup(*pw == NULL || **pw == '\0' ? "no password given" :
		    "the passwords differ");
		if (*pw != NULL)
			explicit_bzero(*pw, strlen(*pw));
		free(*pw);
		*pw = NULL;
	}
	if (again != NULL)
		explicit_bzero(again, strlen(again));
	free(again);
	return *pw == NULL ? -1 : 0;
}

/* ---- the demo's accounts ---- */

struct demo_account {
	char	*name;
	char	*secret;	/* password or token, shown once */
	char	*hash;		/* yescrypt, or SHA-256 hex for the token */
	const char *brand;	/* NULL: admin */
};

static void
demo_account_free(struct demo_account *d)
{
	if (d->secret != NULL)
		explicit_bzero(d->secret, strlen(d->secret));
	free(d->name);
	free(d->secret);
	free(d->hash);
}

static int
demo_write(const char *path, struct demo_account *acc, size_t n, struct demo_account *tok,
    char **cause)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# tpcd users, written by tpcd --demo: password hashes (yescrypt) and the\n"
	    "# SHA-256 of API tokens only. Make a hash with tpcd --hash-password.\nusers:\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  - name: %s\n    password_hash: \"%s\"\n    role: %s\n", acc[i].name,
		    acc[i].hash, acc[i].brand ? "user" : "admin");
		if (acc[i].brand != NULL)
			fprintf(f, "    brands: [%s]\n", acc[i].brand);
	}
	fprintf(f, "tokens:\n  - name: %s\n    sha256: %s\n    brands: [%s]\n", tok->name,
	    tok->hash, tok->brand);
	if (fclose(f) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * tpcd --demo: when auth.users_file names a file that does not exist, writes one with a
 * user per brand (brand_<id>_user), an admin and a dashboard token for the first brand,
 * all with fresh random secrets, and prints the secrets once on out.
 */
int
auth_demo_users(const struct config *cf, FILE *out, int port, char **cause)
{
	struct demo_account *acc, tok = { 0 };
	size_t n = cf->nbrands + 1;
	unsigned char h[32];
	char hx[65];
	int rc = -1;

	if (cf->auth.users_file == NULL)
		return 0;
	if (access(cf->auth.users_file, F_OK) == 0) {
		fprintf(out, "demo accounts: %s exists; kept (delete it for new passwords)\n",
		    cf->auth.users_file);
		return 0;
	}
	acc = xcalloc(n, sizeof *acc);
	for (size_t i = 0; i < n; i++) {
		acc[i].brand = i < cf->nbrands ? cf->brands[i].id : NULL;
		acc[i].name = acc[i].brand ? xasprintf("brand_%s_user", acc[i].brand) :
		    xstrdup("admin");
		acc[i].secret = random_secret("");
		acc[i].secret[24] = '\0';	/* 96 bits: plenty for a demo password */
		if ((acc[i].hash = auth_hash_password(acc[i].secret, cause)) == NULL)
			goto out;
	}
	tok.brand = cf->brands[0].id;
	tok.name = xasprintf("dashboard_%s", tok.brand);
	tok.secret = random_secret("tpcdt_");
	SHA256((const unsigned char *)tok.secret, strlen(tok.secret), h);
	hex(h, 32, hx);
	tok.hash = xstrdup(hx);
	if (demo_write(cf->auth.users_file, acc, n, &tok, cause) != 0)
		goto out;
	fprintf(out, "demo accounts (in %s; the secrets are shown only now):\n",
	    cf->auth.users_file);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-16s password %s  (%s%s)\n", acc[i].name, acc[i].secret,
		    acc[i].brand ? "brand " : "admin", acc[i].brand ? acc[i].brand : "");
	fprintf(out, "  %-16s token    %s  (brand %s)\n", tok.name, tok.secret, tok.brand);
	fprintf(out, "try:\n  curl -s -H 'Authorization: Bearer %s' "
	    "http://127.0.0.1:%d/v1/brands/%s/aggregates/mau_users\n", tok.secret, port,
	    tok.brand);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		demo_account_free(&acc[i]);
	free(acc);
	demo_account_free(&tok);
	return rc;
}
