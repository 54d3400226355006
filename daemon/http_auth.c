/*
 * http_auth.c — the HTTP side of access control: the client's address (peer, or the
 * last X-Forwarded-For hop behind a trusted proxy), the credential of a request (bearer
 * token or session cookie), 401s, and the login, logout, session and token routes.
 * Who may do what is decided by http_route.c's router and auth.c; secrets never reach a log.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

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

/* r->addr: the peer, or what a trusted proxy says the client is. */
void
http_client_addr(struct http_req *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	char *peer = NULL, fwd[INET6_ADDRSTRLEN];
	ev_uint16_t port;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer, &port);
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

/* Sets r->auth and r->p from the request's credential, looked up in view v. */
void
http_authenticate(struct http_req *r, struct store_view *v)
{
	size_t len;
	const char *secret = credential(r->req, &len);

	r->auth = auth_check(r->t->rt->auth, v, secret, secret ? len : 0, r->now, &r->p);
	if (r->auth == AUTH_EXPIRED)
		auth_expire(r->t->rt->auth, &r->p);
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

	/* the name as typed, cut: an unknown one is still worth seeing */
	snprintf(name, sizeof name, "%s", user ? user : "");
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
	    res->token, "user", r->p.name, "role", r->p.admin ? "admin" : "user", "brands",
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
	struct auth_login_result res;
	int64_t wait;
	char tmp[32];
	enum auth_login rc;

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
	rc = auth_login(a, user, pw, r->addr, r->now, &r->p, &res);
	if (rc != AUTH_LOGIN_STORE_ERROR)
		auth_throttle_result(auth_get_throttle(a), user, r->addr,
		    rc == AUTH_LOGIN_OK, mono_ms());
	if (rc == AUTH_LOGIN_OK) {
		login_ok(r, &res);
		login_audit(r, user, 1, NULL);
		explicit_bzero(res.token, strlen(res.token));
		free(res.token);
	} else if (rc == AUTH_LOGIN_REFUSED) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate",
		    "Bearer realm=\"tpcd\"");
		http_reply_error(r->req, 401, "unauthorized", "wrong user or password");
		login_audit(r, user, 0, res.reason);
	} else {
		http_reply_error(r->req, 500, "internal", "cannot store the session");
		login_audit(r, user, 0, "store_error");
	}
	scrub(body);
}

/* POST /v1/logout: ends the session in use (an API token is revoked by an admin). */
void
http_logout(struct http_req *r)
{
	r->event = "logout";
	if (r->p.kind != PRINCIPAL_SESSION) {
		http_reply_error(r->req, 400, "not_a_session", "an API token is not logged out; an admin "
		    "revokes it (POST /v1/tokens/NAME/revoke)");
		return;
	}
	auth_logout(r->t->rt->auth, &r->p);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie",
	    COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	http_reply_json(r->req, 200, "OK", json_pack("{s:b}", "logged_out", 1));
}

/* GET /v1/sessions: the live sessions, without secrets. */
void
http_sessions(struct http_req *r)
{
	http_reply_json(r->req, 200, "OK", json_pack("{s:o}", "sessions",
	    auth_session_list(r->t->srv->st, r->now)));
}

/* DELETE /v1/sessions/{id or a unique prefix of it} */
void
http_session_delete(struct http_req *r)
{
	char user[AUTH_NAME_MAX + 1] = "", *cause = NULL;
	const char *id = r->seg[2];
	enum auth_session_revoke rc = auth_session_revoke(r->t->srv->st, id, user,
	    &cause);

	snprintf(r->target, sizeof r->target, "%s", id);
	if (rc == AUTH_SESSION_REVOKE_OK)
		http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:s}", "revoked", id, "user",
		    user));
	else if (rc == AUTH_SESSION_REVOKE_NONE)
		http_reply_error(r->req, 404, "not_found", "no session %s", id);
	else if (rc == AUTH_SESSION_REVOKE_AMBIGUOUS)
		http_reply_error(r->req, 409, "ambiguous", "several sessions start with %s", id);
	else
		http_reply_error(r->req, 400, "bad_request", "%s", cause);
	free(cause);
}

/* GET /v1/tokens: the API tokens (names, scope, revocation; never hashes). */
void
http_tokens(struct http_req *r)
{
	struct store_view *v = store_view_begin(r->t->rd);

	http_reply_json(r->req, 200, "OK", json_pack("{s:o}", "tokens",
	    auth_tokens_list(r->t->rt->auth, v)));
	store_view_release(v);
}

/* POST /v1/tokens/{name}/revoke: durable, survives restarts; undone only in the store. */
void
http_token_revoke(struct http_req *r)
{
	char *cause = NULL;
	const char *name = r->seg[2];
	int rc = auth_token_revoke(r->t->rt->auth, name, r->p.name, r->now, &cause);

	snprintf(r->target, sizeof r->target, "%s", name);
	if (rc == 0)
		http_reply_json(r->req, 200, "OK", json_pack("{s:s}", "revoked", name));
	else if (rc == 1)
		http_reply_error(r->req, 404, "not_found", "no token %s", name);
	else {
		http_reply_error(r->req, 500, "internal", "%s", cause);
		free(cause);
	}
}
