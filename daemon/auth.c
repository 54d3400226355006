/*
 * auth.c — who is asking: the configured users and API tokens (tables built once per
 * configuration), the check of a presented secret, login and logout, and the trusted
 * proxies. Passwords are auth_password.c's, the session records auth_session.c's, the
 * login throttle auth_throttle.c's. Nothing in this file logs a secret; HTTP lives in
 * http_auth.c.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "tpcd.h"

#define SECRET_MAX	1024	/* longer presented secrets are refused unhashed */

struct auth_entry {
	const struct auth_principal_conf *conf;
	unsigned char	*brands;		/* [config brand index] */
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
	struct auth_throttle	*throttle;	/* not owned: it outlives reloads */
};

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

/*
 * Builds the in-memory tables from cf (which must outlive the result); th, the login
 * throttle, is the caller's and outlives every configuration.
 */
struct auth *
auth_new(const struct config *cf, struct store *st, struct auth_throttle *th, char **cause)
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
	a->throttle = th;
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
	free(a);
}

/* The login throttle (the process's, shared by every configuration). */
struct auth_throttle *
auth_get_throttle(struct auth *a)
{
	return a->throttle;
}

int
auth_cookie_secure(const struct auth *a)
{
	return a->cf->auth.cookie_secure;
}

/* The session cookie's Max-Age: the configured session lifetime, in seconds. */
int
auth_cookie_max_age(const struct auth *a)
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

	if (a->nproxies == 0)	/* the common case: nothing to parse */
		return 0;
	if (inet_pton(af, addr, bin) != 1)
		return 0;
	for (size_t i = 0; i < a->nproxies; i++)
		if (a->proxies[i].af == af && memcmp(a->proxies[i].a, bin, len) == 0)
			return 1;
	return 0;
}

/* The role's name as configured and as the API reports it. */
const char *
auth_role_name(int role)
{
	return role == ROLE_ADMIN ? "admin" : role == ROLE_MONITOR ? "monitor" : "user";
}

int
principal_may_read(const struct principal *p, size_t brand_index)
{
	return p->admin || (p->brands != NULL && p->brands[brand_index]);
}

/* p's role and brands from a's tables (a reload came between); -1: the user is gone. */
int
auth_principal_refresh(struct auth *a, struct principal *p)
{
	const struct auth_entry *e = user_find(a, p->name);

	if (e == NULL)
		return -1;
	p->admin = e->conf->role == ROLE_ADMIN;
	p->monitor = e->conf->role == ROLE_MONITOR;
	p->brands = e->brands;
	return 0;
}

static void
principal_set(struct principal *p, enum principal_kind kind, const char *name,
    const struct auth_entry *e)
{
	p->kind = kind;
	snprintf(p->name, sizeof p->name, "%s", name);
	p->admin = e ? e->conf->role == ROLE_ADMIN : 0;
	p->monitor = e ? e->conf->role == ROLE_MONITOR : 0;
	p->brands = e ? e->brands : NULL;
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
	struct auth_session s;

	memset(p, 0, sizeof *p);
	if (len == 0)
		return AUTH_NONE;
	if (len > SECRET_MAX || v == NULL)
		return AUTH_INVALID;
	SHA256((const unsigned char *)secret, len, p->key);
	if ((e = token_find(a, p->key)) != NULL) {
		principal_set(p, PRINCIPAL_TOKEN, e->conf->name, e);
		if (e->conf->revoked || auth_session_token_revoked(v, p->key))
			return AUTH_REVOKED;
		return AUTH_OK;
	}
	if (auth_session_get(v, p->key, &s) != 0)
		return AUTH_INVALID;
	e = user_find(a, s.user);
	principal_set(p, PRINCIPAL_SESSION, s.user, e);
	memcpy(p->session_id, s.id, sizeof p->session_id);
	p->expires = s.expires;
	if (s.expires <= now)
		return AUTH_EXPIRED;
	if (e == NULL)		/* the user was removed from the configuration */
		return AUTH_INVALID;
	return AUTH_OK;
}

/*
 * Checks user's password (a crypt even for an unknown user, so timing tells nothing):
 * AUTH_LOGIN_OK, or AUTH_LOGIN_REFUSED and res->reason. ~20 ms of yescrypt: a hashing
 * thread's work (worker.c), never a serving loop's. Reads only a's tables.
 */
enum auth_login
auth_login_check(struct auth *a, const char *user, const char *password,
    struct auth_login_result *res)
{
	const struct auth_entry *e = user_find(a, user);
	int ok = auth_password_verify(password, e ? e->conf->password_hash : a->dummy_hash);

	memset(res, 0, sizeof *res);
	if (e == NULL || !ok) {
		res->reason = e == NULL ? "unknown_user" : "bad_password";
		return AUTH_LOGIN_REFUSED;
	}
	return AUTH_LOGIN_OK;
}

/*
 * The password was right: makes user's session in the store (expired ones purged, the
 * oldest beyond auth.max_sessions ended) and fills p and res (res->token: the secret,
 * caller bzero's and frees). The writer thread's work.
 */
enum auth_login
auth_login_session(struct auth *a, const char *user, const char *addr, int64_t now,
    struct principal *p, struct auth_login_result *res)
{
	const struct auth_entry *e = user_find(a, user);
	struct auth_session s;
	char *cause = NULL;

	memset(res, 0, sizeof *res);
	memset(p, 0, sizeof *p);
	if (e == NULL) {
		res->reason = "unknown_user";
		return AUTH_LOGIN_REFUSED;
	}
	memset(&s, 0, sizeof s);
	snprintf(s.user, sizeof s.user, "%s", e->conf->name);
	snprintf(s.addr, sizeof s.addr, "%s", addr);
	s.created = now;
	s.expires = now + a->cf->auth.session_lifetime;
	auth_session_purge(a->st, now);
	auth_session_cap(a->st, s.user, a->cf->auth.max_sessions);
	if (auth_session_create(a->st, &s, &res->token, p->key, &cause) != 0) {
		log_err("login: %s", cause);
		free(cause);
		return AUTH_LOGIN_STORE_ERROR;
	}
	principal_set(p, PRINCIPAL_SESSION, s.user, e);
	memcpy(p->session_id, s.id, sizeof p->session_id);
	p->expires = res->expires = s.expires;
	return AUTH_LOGIN_OK;
}

/* Both halves on the calling thread (tests, tools): check, then the session. */
enum auth_login
auth_login(struct auth *a, const char *user, const char *password, const char *addr,
    int64_t now, struct principal *p, struct auth_login_result *res)
{
	enum auth_login rc = auth_login_check(a, user, password, res);

	if (rc != AUTH_LOGIN_OK) {
		memset(p, 0, sizeof *p);
		return rc;
	}
	return auth_login_session(a, user, addr, now, p, res);
}

/* Ends p's session. 0, or -1 when p is not a live session. */
int
auth_logout(struct auth *a, const struct principal *p)
{
	if (p->kind != PRINCIPAL_SESSION)
		return -1;
	return auth_session_delete(a->st, p->key);
}

/* An expired session was presented: it goes now rather than at the next purge. */
void
auth_expire(struct auth *a, const struct principal *p)
{
	if (p->kind == PRINCIPAL_SESSION)
		auth_session_delete(a->st, p->key);
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
		int api = v != NULL && auth_session_token_revoked(v, c->sha256);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:b, s:s?}", "name",
		    c->name, "role", auth_role_name(c->role), "brands", brands_json(c),
		    "revoked", c->revoked || api, "revoked_by", c->revoked ? "configuration" :
		    (api ? "api" : NULL)));
	}
	return list;
}

/* Revokes the API token called name, durably (in the store). */
enum auth_token_revoke
auth_token_revoke(struct auth *a, const char *name, const char *by, int64_t now,
    char **cause)
{
	for (size_t i = 0; i < a->ntokens; i++) {
		const struct auth_principal_conf *c = a->tokens[i].conf;
		if (strcmp(c->name, name) != 0)
			continue;
		if (auth_session_token_revoke(a->st, c->sha256, c->name, by, now, cause) != 0)
			return AUTH_TOKEN_REVOKE_ERROR;
		return AUTH_TOKEN_REVOKE_OK;
	}
	return AUTH_TOKEN_REVOKE_NONE;
}
