/*
 * http_auth.c — the HTTP side of access control: the client's address (peer, or the
 * last X-Forwarded-For hop behind a trusted proxy), the credential of a request (bearer
 * token or session cookie), 401s, login and logout (the password checked on a hashing
 * thread, the session written by the writer: worker.c). The admin's session and token
 * routes are http_sessions.c's. Who may do what is decided by http_route.c's router and
 * auth.c; secrets never reach a log.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "tpcd.h"
#include "http.h"

#define COOKIE_NAME	"tpcd_session"

static int
addr_ok(const char *s)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

/* The last hop of the last X-Forwarded-For header: the one our proxy appended. */
static int
forwarded_for(struct evhttp_request *req, char *out, size_t outlen)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *last = NULL, *hop;
	struct evkeyval *kv;
	size_t n;

	TAILQ_FOREACH(kv, h, next)
		if (strcasecmp(kv->key, "X-Forwarded-For") == 0)
			last = kv->value;
	if (last == NULL)
		return -1;
	hop = strrchr(last, ',');
	hop = hop ? hop + 1 : last;
	hop += strspn(hop, " \t");
	n = strcspn(hop, " \t");
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, hop, n);
	out[n] = '\0';
	return addr_ok(out) ? 0 : -1;
}

/* r->addr: the peer (read once per connection), or what a trusted proxy says it is. */
void
http_client_addr(struct http_req *r)
{
	struct evhttp_connection *evcon;
	char *peer = NULL, fwd[INET6_ADDRSTRLEN];
	ev_uint16_t port;

	if (r->conn != NULL && r->conn->peer[0] != '\0')
		peer = r->conn->peer;
	else if ((evcon = evhttp_request_get_connection(r->req)) != NULL) {
		evhttp_connection_get_peer(evcon, &peer, &port);
		if (peer != NULL && r->conn != NULL)
			snprintf(r->conn->peer, sizeof r->conn->peer, "%s", peer);
	}
	snprintf(r->addr, sizeof r->addr, "%s", peer ? peer : "unknown");
	if (peer != NULL && auth_proxy_trusted(r->t->rt->auth, peer) &&
	    forwarded_for(r->req, fwd, sizeof fwd) == 0)
		snprintf(r->addr, sizeof r->addr, "%s", fwd);
}

/* The secret presented: "Authorization: Bearer X", else the tpcd_session cookie. */
static const char *
credential(struct evhttp_request *req, size_t *len)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v = evhttp_find_header(h, "Authorization");

	*len = 0;
	if (v != NULL) {
		if (strncasecmp(v, "Bearer ", 7) != 0)
			return NULL;
		v += 7;
		v += strspn(v, " ");
		*len = strcspn(v, " \t");
		return v;
	}
	if ((v = evhttp_find_header(h, "Cookie")) == NULL)
		return NULL;
	for (const char *p = v; *p != '\0'; p += strcspn(p, ";"), p += *p == ';') {
		p += strspn(p, " \t");
		if (strncmp(p, COOKIE_NAME "=", sizeof COOKIE_NAME) == 0) {
			p += sizeof COOKIE_NAME;
			*len = strcspn(p, "; \t");
			return p;
		}
	}
	return NULL;
}

/* A session the writer ends: an expired one presented (nobody waits), or a logout. */
struct session_job {
	struct auth		*auth;
	struct principal	 p;
};

static void
expire_work(void *arg)
{
	struct session_job *j = arg;

	auth_expire(j->auth, &j->p);
	explicit_bzero(j, sizeof *j);
	free(j);
}

/*
 * What a keep-alive connection presented last and whom it proved: the same secret again
 * skips the hash and the lookups. Only a success is remembered, and only while nothing
 * could have changed the answer: the same runtime's tables (a reload brings new ones;
 * retired runtimes are freed only at exit, so the pointer is not reused), no session
 * ended and no token revoked since (auth_session_revocations), and a session not past
 * its expiry. Anything else checks afresh, exactly as a new connection would.
 */
#define MEMO_SECRET_MAX	256	/* longer secrets are checked every time */

struct auth_memo {
	unsigned char		 secret[MEMO_SECRET_MAX];
	size_t			 len;		/* 0: nothing remembered */
	const struct auth	*auth;
	uint64_t		 revocations;	/* counted before the check's view began */
	struct principal	 p;
};

static int
memo_recall(struct http_req *r, const char *secret, size_t len)
{
	const struct auth_memo *m = r->conn != NULL ? r->conn->memo : NULL;

	if (m == NULL || m->len == 0 || m->len != len || m->auth != r->t->rt->auth ||
	    m->revocations != auth_session_revocations() ||
	    (m->p.kind == PRINCIPAL_SESSION && m->p.expires <= r->now) ||
	    CRYPTO_memcmp(m->secret, secret, len) != 0)
		return 0;
	r->p = m->p;
	r->auth = AUTH_OK;
	return 1;
}

static void
memo_keep(struct http_req *r, const char *secret, size_t len, uint64_t revocations)
{
	struct auth_memo *m;

	if (r->conn == NULL || len == 0 || len > MEMO_SECRET_MAX)
		return;
	if ((m = r->conn->memo) == NULL)
		m = r->conn->memo = xmalloc(sizeof *m);
	memcpy(m->secret, secret, len);
	m->len = len;
	m->auth = r->t->rt->auth;
	m->revocations = revocations;
	m->p = r->p;
}

/* The connection closes: what it presented goes with it. */
void
http_auth_forget(struct conn *c)
{
	if (c->memo == NULL)
		return;
	explicit_bzero(c->memo, sizeof *c->memo);
	free(c->memo);
	c->memo = NULL;
}

/*
 * Sets r->auth and r->p from the request's credential: remembered on this connection,
 * or checked in a read view of the store. -1 (r->auth untouched): no view could begin.
 */
int
http_authenticate(struct http_req *r)
{
	size_t len;
	const char *secret = credential(r->req, &len);
	uint64_t revocations;
	struct store_view *v;

	if (secret != NULL && memo_recall(r, secret, len))
		return 0;
	revocations = auth_session_revocations();
	if ((v = store_view_begin(r->t->rd)) == NULL)
		return -1;
	r->auth = auth_check(r->t->rt->auth, v, secret, secret ? len : 0, r->now, &r->p);
	store_view_release(v);
	if (r->auth == AUTH_OK && secret != NULL)
		memo_keep(r, secret, len, revocations);
	else if (r->conn != NULL && r->conn->memo != NULL)
		r->conn->memo->len = 0;
	if (r->auth == AUTH_EXPIRED) {
		struct session_job *j = xmalloc(sizeof *j);

		j->auth = r->t->rt->auth;
		j->p = r->p;
		worker_submit(r->t->srv->writer, NULL, expire_work, NULL, j);
	}
	return 0;
}

/* 401 for a missing, unknown, expired or revoked credential; the audit says which. */
void
http_unauthorized(struct http_req *r)
{
	static const char *const reasons[] = {
		[AUTH_OK] = "ok", [AUTH_NONE] = "no_credential",
		[AUTH_INVALID] = "invalid_credential", [AUTH_EXPIRED] = "session_expired",
		[AUTH_REVOKED] = "token_revoked",
	};
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);

	r->reason = reasons[r->auth];
	if (r->auth == AUTH_EXPIRED)
		r->event = "session_expired";
	evhttp_add_header(out, "WWW-Authenticate", r->auth == AUTH_NONE ?
	    "Bearer realm=\"tpcd\"" : "Bearer realm=\"tpcd\", error=\"invalid_token\"");
	http_reply_error(r->req, 401, "unauthorized", "%s", r->auth == AUTH_NONE ?
	    "log in (POST /v1/login) or send Authorization: Bearer TOKEN" :
	    "the credential is not valid (expired, revoked or unknown)");
}

static json_t *
principal_brands(const struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	json_t *list = json_array();

	for (size_t i = 0; i < cf->nbrands; i++)
		if (principal_may_read(&r->p, i))
			json_array_append_new(list, json_string(cf->brands[i].id));
	return list;
}

static void
login_audit(struct http_req *r, const char *user, int ok, const char *reason)
{
	char name[AUTH_NAME_MAX + 1];

	metrics_login(ok, reason);
	/* the name as typed, cut on a character: an unknown one is still worth seeing */
	audit_cut(name, sizeof name, user);
	audit_write(json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:i}", "event", ok ? "login_ok" :
	    "login_failed", "user", name, "addr", r->addr, "session",
	    ok ? r->p.session_id : NULL, "reason", reason, "status", r->status));
	r->event = "";
}

static void
login_ok(struct http_req *r, const struct auth_login_result *res)
{
	struct auth *a = r->t->rt->auth;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	char ts[32], *cookie;

	if (!r->no_cookie) {	/* see http_cors.c */
		cookie = xasprintf(COOKIE_NAME "=%s; Path=/; Max-Age=%d; HttpOnly; "
		    "SameSite=Strict%s", res->token, auth_cookie_max_age(a),
		    auth_cookie_secure(a) ? "; Secure" : "");
		evhttp_add_header(out, "Set-Cookie", cookie);
		explicit_bzero(cookie, strlen(cookie));
		free(cookie);
	}
	clock_iso8601(res->expires, ts);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "token",
	    res->token, "user", r->p.name, "role", r->p.admin ? "admin" : (r->p.monitor ? "monitor" : "user"), "brands",
	    principal_brands(r), "expires_at", ts, "session", r->p.session_id));
}

/* Zeroes the password inside the parsed body before it is freed. */
static void
scrub(json_t *body)
{
	json_t *pw = json_object_get(body, "password");

	if (json_is_string(pw))
		explicit_bzero((char *)(uintptr_t)json_string_value(pw), json_string_length(pw));
	json_decref(body);
}

/*
 * A login in flight: the password is checked on a hashing thread, the session written by
 * the writer; the serving loop only parses, throttles and answers. auth is the runtime's
 * at the request (a reload retires runtimes but frees them only at exit).
 */
struct login_job {
	struct auth		*auth;
	struct worker_pool	*writer;
	char			 user[AUTH_NAME_MAX + 1];
	char			*password;
	char			 addr[INET6_ADDRSTRLEN];
	int64_t			 now;
	enum auth_login		 rc;
	struct auth_login_result res;
	struct principal	 p;
};

static void
login_session_work(void *arg)
{
	struct login_job *j = arg;

	j->rc = auth_login_session(j->auth, j->user, j->addr, j->now, &j->p, &j->res);
}

static void
login_work(void *arg)
{
	struct login_job *j = arg;

	j->rc = auth_login_check(j->auth, j->user, j->password, &j->res);
	explicit_bzero(j->password, strlen(j->password));
	if (j->rc == AUTH_LOGIN_OK)
		worker_run(j->writer, login_session_work, j);
}

static void
login_reply(struct http_req *r, void *arg)
{
	struct login_job *j = arg;
	struct auth *a = r->t->rt->auth;

	r->p = j->p;
	/* a reload came between: the user's role and brands as configured now */
	if (j->rc == AUTH_LOGIN_OK && a != j->auth && auth_principal_refresh(a, &r->p) != 0) {
		j->rc = AUTH_LOGIN_REFUSED;
		j->res.reason = "unknown_user";
	}
	if (j->rc != AUTH_LOGIN_STORE_ERROR)
		auth_throttle_result(auth_get_throttle(a), j->user, r->addr,
		    j->rc == AUTH_LOGIN_OK, mono_ms());
	if (j->rc == AUTH_LOGIN_OK) {
		login_ok(r, &j->res);
		login_audit(r, j->user, 1, NULL);
	} else if (j->rc == AUTH_LOGIN_REFUSED) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate",
		    "Bearer realm=\"tpcd\"");
		http_reply_error(r->req, 401, "unauthorized", "wrong user or password");
		login_audit(r, j->user, 0, j->res.reason);
	} else {
		http_reply_error(r->req, 500, "internal", "cannot store the session");
		login_audit(r, j->user, 0, "store_error");
	}
	if (j->res.token != NULL) {
		explicit_bzero(j->res.token, strlen(j->res.token));
		free(j->res.token);
	}
	free(j->password);
	explicit_bzero(j, sizeof *j);
	free(j);
}

/*
 * POST /v1/login {"user","password"}: 429 while throttled (the password is not even
 * checked), 401 for a wrong user or password (the same answer for both), 200 with the
 * session as a cookie and in the body.
 */
void
http_login(struct http_req *r)
{
	struct auth *a = r->t->rt->auth;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	unsigned char *data = evbuffer_pullup(in, -1);
	json_t *body = data ? json_loadb((const char *)data, len, 0, NULL) : NULL;
	const char *user = json_string_value(json_object_get(body, "user"));
	const char *pw = json_string_value(json_object_get(body, "password"));
	struct login_job *j;
	int64_t wait;
	char tmp[32];

	if (data != NULL)
		explicit_bzero(data, len);
	if (user == NULL || pw == NULL || *user == '\0' || strlen(user) > AUTH_NAME_MAX) {
		http_reply_error(r->req, 400, "bad_request", "the body must be "
		    "{\"user\": \"...\", \"password\": \"...\"}");
		login_audit(r, user, 0, "malformed");
		scrub(body);
		return;
	}
	if ((wait = auth_throttle_wait(auth_get_throttle(a), user, r->addr, mono_ms())) > 0) {
		snprintf(tmp, sizeof tmp, "%lld", (long long)wait);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", tmp);
		http_reply_error(r->req, 429, "too_many_attempts", "too many failed logins; retry in "
		    "%lld s", (long long)wait);
		login_audit(r, user, 0, "throttled");
		scrub(body);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->auth = a;
	j->writer = r->t->srv->writer;
	snprintf(j->user, sizeof j->user, "%s", user);
	j->password = xstrdup(pw);
	snprintf(j->addr, sizeof j->addr, "%s", r->addr);
	j->now = r->now;
	scrub(body);
	http_defer(r, r->t->srv->hashers, login_work, login_reply, j);
}

static void
logout_work(void *arg)
{
	struct session_job *j = arg;

	auth_logout(j->auth, &j->p);
}

static void
logout_reply(struct http_req *r, void *arg)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie",
	    COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	http_reply_json(r->req, 200, "OK", json_pack("{s:b}", "logged_out", 1));
	explicit_bzero(arg, sizeof(struct session_job));
	free(arg);
}

/* POST /v1/logout: ends the session in use (an API token is revoked by an admin). */
void
http_logout(struct http_req *r)
{
	struct session_job *j;

	r->event = "logout";
	if (r->p.kind != PRINCIPAL_SESSION) {
		http_reply_error(r->req, 400, "not_a_session", "an API token is not logged out; an admin "
		    "revokes it (POST /v1/tokens/NAME/revoke)");
		return;
	}
	j = xmalloc(sizeof *j);
	j->auth = r->t->rt->auth;
	j->p = r->p;
	http_defer(r, r->t->srv->writer, logout_work, logout_reply, j);
}
