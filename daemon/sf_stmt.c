/*
 * sf_stmt.c — one Snowflake statement over the SQL API v2: sends it with a UUID requestId
 * and retry=true from the first attempt (so any re-send runs it at most once), polls a 202 by its handle, retries transient failures with
 * decorrelated jitter within the statement's deadline, renews credentials on a 401, and
 * sends the cancel requests of a shutdown. Hands a 200 to sf_result.c and every outcome to
 * sf_cycle_finish; never touches a pull itself.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "snowflake.h"

#define JWT_LIFETIME	3540	/* seconds; Snowflake accepts at most one hour */
#define JWT_RENEW	300	/* renew this long before expiry */

static uint64_t
sf_stmt_rng(struct sf_source *s)
{
	return util_splitmix64(&s->rng);
}

static void
sf_stmt_uuid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof b, 0) != sizeof b)
		fatal("getrandom failed");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
	    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ------------------------------------------------------------ credentials */

/* The bearer token for the next request: a JWT renewed before expiry, or a file token. */
const char *
sf_stmt_token(struct sf_source *s, char **cause)
{
	int64_t now = time(NULL);

	if (s->token != NULL && (s->key == NULL || now < s->token_exp - JWT_RENEW))
		return s->token;
	free(s->token);
	s->token = NULL;
	if (s->key != NULL) {
		s->token = jwt_make(s->key, s->sc->account, s->sc->user, now, JWT_LIFETIME,
		    cause);
		s->token_exp = now + JWT_LIFETIME;
	} else
		s->token = secret_file_read(s->sc->token_file, cause);
	return s->token;
}

const char *
sf_stmt_token_type(struct sf_source *s)
{
	if (s->key != NULL)
		return "KEYPAIR_JWT";
	return strcmp(s->sc->auth, "pat") == 0 ? "PROGRAMMATIC_ACCESS_TOKEN" : "OAUTH";
}

/* ------------------------------------------------------------ statements */

/* Unlinks the statement from its source and frees it with everything in flight. */
void
sf_stmt_free(struct sf_stmt *st)
{
	struct sf_stmt **pp;

	for (pp = &st->s->stmts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	up_req_free(st->req);
	if (st->timer != NULL)
		event_free(st->timer);
	sf_result_free(st);
	table_free(&st->table);
	free(st->cols);
	free(st->colmap);
	free(st->sql);
	free(st->tag);
	free(st->handle);
	free(st);
}

/* A new statement on the source's list; the caller sets its SQL, tag and columns. */
struct sf_stmt *
sf_stmt_new(struct sf_source *s, enum sf_stmt_kind kind, size_t brand)
{
	struct sf_stmt *st = xcalloc(1, sizeof *st);

	st->s = s;
	st->kind = kind;
	st->brand = brand;
	sf_stmt_uuid(st->request_id);
	st->started_ms = mono_ms();
	st->deadline_ms = st->started_ms + (int64_t)s->sc->deadline * 1000;
	st->sleep_ms = s->sc->retry_base_ms;
	st->next = s->stmts;
	s->stmts = st;
	return st;
}

/* Settles a statement's pull (or the freshness check's) as failed; error is consumed. */
void
sf_stmt_fail(struct sf_stmt *st, char *error)
{
	sf_cycle_finish(st, 0, error);
}

static void
sf_stmt_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	sf_stmt_send(arg);
}

/*
 * Decorrelated jitter: sleep = min(cap, random(base, 3 * previous sleep)); Retry-After,
 * when the server sends one, wins. Returns -1 when the retry budget is spent.
 */
int64_t
sf_stmt_next_sleep(struct sf_source *s, int *attempt, int64_t *sleep_ms, int64_t deadline,
    const char *retry_after)
{
	const struct snowflake_conf *sc = s->sc;
	int64_t lo = sc->retry_base_ms, hi = *sleep_ms * 3, ms;

	if (*attempt >= sc->retry_max)
		return -1;
	if (hi < lo)
		hi = lo;
	ms = lo + (int64_t)(sf_stmt_rng(s) % (uint64_t)(hi - lo + 1));
	if (ms > sc->retry_cap_ms)
		ms = sc->retry_cap_ms;
	if (retry_after != NULL && atoi(retry_after) > 0)
		ms = (int64_t)atoi(retry_after) * 1000;
	if (mono_ms() + ms > deadline)
		return -1;
	*sleep_ms = ms;
	(*attempt)++;
	s->src->retries++;
	return ms;
}

static void
sf_stmt_retry(struct sf_stmt *st, const char *why, const char *retry_after)
{
	int64_t ms = sf_stmt_next_sleep(st->s, &st->attempt, &st->sleep_ms, st->deadline_ms,
	    retry_after);
	struct timeval tv;

	if (ms < 0) {
		sf_stmt_fail(st, xasprintf("%s; giving up after %d retries", why, st->attempt));
		return;
	}
	log_info("snowflake: %s: %s; retry %d in %lld ms", st->tag, why, st->attempt,
	    (long long)ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (st->timer == NULL)
		st->timer = evtimer_new(st->s->base, sf_stmt_backoff_cb, st);
	evtimer_add(st->timer, &tv);
}

static void
sf_stmt_poll_later(struct sf_stmt *st)
{
	int64_t ms = 50LL << (st->polls < 7 ? st->polls : 7);
	struct timeval tv;

	if (ms > st->s->sc->poll_max_ms)
		ms = st->s->sc->poll_max_ms;
	if (mono_ms() + ms > st->deadline_ms) {
		sf_stmt_fail(st, xstrdup("statement still running at the deadline"));
		return;
	}
	st->polls++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (st->timer == NULL)
		st->timer = evtimer_new(st->s->base, sf_stmt_backoff_cb, st);
	evtimer_add(st->timer, &tv);
}

/* A Snowflake error body → "HTTP 422 002003 (42S02): SQL compilation error: …". */
char *
sf_stmt_error(long status, const struct buf *body)
{
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	const char *code = json_string_value(json_object_get(j, "code"));
	const char *state = json_string_value(json_object_get(j, "sqlState"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	char *e = xasprintf("HTTP %ld%s%s%s%s%s: %s", status, code ? " " : "", code ? code : "",
	    state ? " (" : "", state ? state : "", state ? ")" : "",
	    msg ? msg : "no error message");

	json_decref(j);
	return e;
}

int
sf_stmt_retryable(long status)
{
	return status == 429 || status >= 500;
}

static void
sf_stmt_cb(struct up_req *req, struct up_resp *resp, void *arg)
{
	struct sf_stmt *st = arg;
	json_t *j = NULL;
	const char *h;
	char why[320];

	st->req = NULL;
	log_debug("snowflake: %s: HTTP %ld (curl %d, %zu bytes)", st->tag, resp->status,
	    resp->result, resp->body.len);
	if (st->kind == SF_STMT_CANCEL) {	/* best effort: whatever the answer */
		up_req_free(req);
		sf_cycle_finish(st, 1, NULL);
		return;
	}
	if (resp->result != 0) {
		snprintf(why, sizeof why, "transport: %s", resp->errbuf);
		up_req_free(req);
		sf_stmt_retry(st, why, NULL);
		return;
	}
	if (resp->status == 200 || resp->status == 202) {
		/* the rows stay out of the tree: sf_result_read reads them in place */
		j = sf_rows_load(resp->body.data ? resp->body.data : "", resp->body.len);
		if (j == NULL) {
			const char *what = resp->status == 200 ? "malformed result body" :
			    "malformed 202 body";
			up_req_free(req);
			sf_stmt_retry(st, what, NULL);
			return;
		}
		if (st->handle == NULL &&
		    (h = json_string_value(json_object_get(j, "statementHandle"))) != NULL)
			st->handle = xstrdup(h);
	}
	switch (resp->status) {
	case 200:
		/* the instant the statement started on Snowflake's clock, not ours */
		if (json_is_integer(json_object_get(j, "createdOn")))
			st->created_on_ms = json_integer_value(json_object_get(j, "createdOn"));
		sf_result_read(st, j, &resp->body);	/* may free st, never req */
		up_req_free(req);
		break;
	case 202:
		up_req_free(req);
		if (st->handle == NULL)
			sf_stmt_fail(st, xstrdup("202 without a statementHandle"));
		else
			sf_stmt_poll_later(st);
		break;
	case 401: {
		char *e = sf_stmt_error(resp->status, &resp->body);
		up_req_free(req);
		/* 390144 invalid JWT / 390318 expired OAuth token: new credentials, once more */
		free(st->s->token);
		st->s->token = NULL;
		if (st->auth_retries++ < 2) {
			log_warn("snowflake: %s: %s; renewing credentials", st->tag, e);
			free(e);
			st->s->src->retries++;	/* a re-send like any other */
			sf_stmt_send(st);
		} else
			sf_stmt_fail(st, e);
		break;
	}
	default: {
		char *e = sf_stmt_error(resp->status, &resp->body);
		char *ra = resp->retry_after ? xstrdup(resp->retry_after) : NULL;
		long status = resp->status;	/* resp dies with req */
		up_req_free(req);
		if (sf_stmt_retryable(status)) {
			sf_stmt_retry(st, e, ra);
			free(e);
		} else if (status == 408) {
			char *m = xasprintf("%s (cancelled by Snowflake)", e);
			free(e);
			sf_stmt_fail(st, m);
		} else
			sf_stmt_fail(st, e);	/* 400, 415, 422, …: retrying cannot help */
		free(ra);
	}
	}
	json_decref(j);
}

/* Sends (or re-sends) the statement; once Snowflake has a handle, polls it instead. */
void
sf_stmt_send(struct sf_stmt *st)
{
	struct sf_source *s = st->s;
	char *cause = NULL, *url, *authz, *type, *body = NULL;
	const char *tok = sf_stmt_token(s, &cause), *method = "POST";

	if (tok == NULL) {
		sf_stmt_fail(st, cause);
		return;
	}
	if (st->kind == SF_STMT_CANCEL) {
		url = xasprintf("%s/api/v2/statements/%s/cancel", s->sc->url, st->handle);
		body = xstrdup("{}");
	} else if (st->handle != NULL) {
		url = xasprintf("%s/api/v2/statements/%s", s->sc->url, st->handle);
		method = "GET";
	} else {
		char *schema = sf_cycle_schema(&s->cf->brands[st->brand]);
		json_t *b = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s}}", "statement", st->sql,
		    "timeout", s->sc->statement_timeout, "database", s->sc->database, "schema",
		    schema, "warehouse", s->sc->warehouse, "parameters", "QUERY_TAG", st->tag);
		if (s->sc->role != NULL)
			json_object_set_new(b, "role", json_string(s->sc->role));
		body = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(b);
		free(schema);
		/*
		 * retry=true on the first send too: libcurl re-sends a POST by itself when a
		 * reused connection dies before the answer, with this very URL. Snowflake
		 * executes a known requestId again unless retry=true is set; with it, a
		 * new requestId runs once and any re-send gets the first run's result.
		 */
		url = xasprintf("%s/api/v2/statements?requestId=%s&retry=true", s->sc->url,
		    st->request_id);
		s->src->statements++;
	}
	authz = xasprintf("Authorization: Bearer %s", tok);
	type = xasprintf("X-Snowflake-Authorization-Token-Type: %s", sf_stmt_token_type(s));
	const char *hdrs[] = { authz, type, "Content-Type: application/json",
	    "Accept: application/json", NULL };
	st->req = upstream_request(s->up, method, url, body, hdrs,
	    (long)s->sc->request_timeout * 1000, sf_stmt_cb, st);
	explicit_bzero(authz, strlen(authz));
	free(url); free(authz); free(type); free(body);
}
