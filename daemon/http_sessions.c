/*
 * http_sessions.c — the admin's session and token routes: list and end sessions, list
 * and revoke API tokens. Every write (and the purge a listing does) is the store
 * writer's (worker.c, through http_defer); the serving thread only checks and answers.
 * Login and logout are http_auth.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* One store write of a session or token route, done by the writer thread. */
struct write_job {
	struct auth		*auth;
	struct store		*st;
	char			 name[HTTP_SEG_MAX];	/* a session id prefix or a token */
	char			 by[AUTH_NAME_MAX + 1];
	int64_t			 now;
	int			 rc;
	char			 user[AUTH_NAME_MAX + 1];	/* whose session was ended */
	char			*cause;
	json_t			*list;
};

static struct write_job *
write_job_new(struct http_req *r)
{
	struct write_job *j = xcalloc(1, sizeof *j);

	j->auth = r->t->rt->auth;
	j->st = r->t->srv->st;
	j->now = r->now;
	snprintf(j->by, sizeof j->by, "%s", r->p.name);
	return j;
}

static void
write_job_free(struct write_job *j)
{
	free(j->cause);
	json_decref(j->list);
	explicit_bzero(j, sizeof *j);
	free(j);
}

/*
 * Hands the write of a route that names its object in the path (DELETE /v1/sessions/ID,
 * POST /v1/tokens/NAME/revoke) to the writer: the name is the job's and the audit
 * line's target.
 */
static void
write_job_defer_named(struct http_req *r, worker_fn work,
    void (*reply)(struct http_req *, void *))
{
	struct write_job *j = write_job_new(r);

	snprintf(j->name, sizeof j->name, "%s", r->seg[2]);
	snprintf(r->target, sizeof r->target, "%s", r->seg[2]);
	http_defer(r, r->t->srv->writer, work, reply, j);
}

static void
sessions_work(void *arg)
{
	struct write_job *j = arg;

	j->list = auth_session_list(j->st, j->now);	/* purges the expired first */
}

static void
sessions_reply(struct http_req *r, void *arg)
{
	struct write_job *j = arg;

	http_reply_json(r->req, 200, "OK", json_pack("{s:O}", "sessions", j->list));
	write_job_free(j);
}

/* GET /v1/sessions: the live sessions, without secrets. */
void
http_sessions(struct http_req *r)
{
	http_defer(r, r->t->srv->writer, sessions_work, sessions_reply, write_job_new(r));
}

static void
session_delete_work(void *arg)
{
	struct write_job *j = arg;

	j->rc = (int)auth_session_revoke(j->st, j->name, j->user, &j->cause);
}

static void
session_delete_reply(struct http_req *r, void *arg)
{
	struct write_job *j = arg;
	const char *id = j->name;

	if (j->rc == AUTH_SESSION_REVOKE_OK)
		http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:s}", "revoked", id, "user",
		    j->user));
	else if (j->rc == AUTH_SESSION_REVOKE_NONE)
		http_reply_error(r->req, 404, "not_found", "no session %s", id);
	else if (j->rc == AUTH_SESSION_REVOKE_AMBIGUOUS)
		http_reply_error(r->req, 409, "ambiguous", "several sessions start with %s", id);
	else
		http_reply_error(r->req, 400, "bad_request", "%s", j->cause);
	write_job_free(j);
}

/* DELETE /v1/sessions/{id or a unique prefix of it} */
void
http_session_delete(struct http_req *r)
{
	write_job_defer_named(r, session_delete_work, session_delete_reply);
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

static void
token_revoke_work(void *arg)
{
	struct write_job *j = arg;

	j->rc = auth_token_revoke(j->auth, j->name, j->by, j->now, &j->cause);
}

static void
token_revoke_reply(struct http_req *r, void *arg)
{
	struct write_job *j = arg;

	if (j->rc == AUTH_TOKEN_REVOKE_OK)
		http_reply_json(r->req, 200, "OK", json_pack("{s:s}", "revoked", j->name));
	else if (j->rc == AUTH_TOKEN_REVOKE_NONE)
		http_reply_error(r->req, 404, "not_found", "no token %s", j->name);
	else
		http_reply_error(r->req, 500, "internal", "%s", j->cause);
	write_job_free(j);
}

/* POST /v1/tokens/{name}/revoke: durable, survives restarts; undone only in the store. */
void
http_token_revoke(struct http_req *r)
{
	write_job_defer_named(r, token_revoke_work, token_revoke_reply);
}
