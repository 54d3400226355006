/*
 * source_snowflake.c — the Snowflake source: pulls the aggregates from their dynamic
 * tables over the SQL API v2, on the refresh thread's event loop (upstream.c), never
 * blocking. Per cycle and brand one cheap statement reads the tables' refresh history;
 * only tables refreshed since the last publish are pulled. Statements carry a UUID
 * requestId (re-sent with retry=true), a query tag, and byte-identical SQL from cycle to
 * cycle (so Snowflake's result cache can answer). 202 is polled; partitions 1..N are
 * fetched with bounded concurrency; transient failures are retried with decorrelated
 * jitter (the official drivers' policy) within a deadline. It only fills struct pull.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "tpcd.h"

#define JWT_LIFETIME	3540	/* seconds; Snowflake accepts at most one hour */
#define JWT_RENEW	300	/* renew this long before expiry */

enum stmt_kind { STMT_FRESHNESS, STMT_PULL, STMT_CANCEL };

struct sf_source;
struct stmt;

/* One partition fetch (1..N) of a statement's result. */
struct part {
	struct stmt	*st;
	size_t		 idx;
	int		 attempt;
	int64_t		 sleep_ms;
	struct up_req	*req;
	struct event	*timer;
	struct table	 table;
	int		 done;
};

/* One logical statement: freshness check or pull, with its retries and polls. */
struct stmt {
	struct sf_source *s;
	enum stmt_kind	 kind;
	size_t		 brand;		/* index into cf->brands */
	struct pull	*pull;		/* STMT_PULL */
	char		 request_id[37];
	char		*sql;
	char		*tag;
	int		 attempt;	/* retries so far */
	int		 auth_retries;
	int64_t		 sleep_ms;	/* last backoff, for decorrelated jitter */
	int64_t		 deadline_ms;
	int64_t		 started_ms;
	int		 polls;
	struct up_req	*req;
	struct event	*timer;
	char		*handle;
	/* result */
	struct sf_col	*cols;
	size_t		 ncols;
	const struct column *want;	/* catalogue columns (or the freshness ones) */
	uint64_t	 num_rows;
	struct table	 table;		/* partition 0, then all */
	struct part	*parts;		/* 1..nparts-1 */
	size_t		 nparts;
	size_t		 next_part;
	size_t		 parts_inflight;
	size_t		 parts_done;
	struct stmt	*next;		/* in the source's list */
};

/* What the freshness check learnt about one dynamic table. */
struct dt_state {
	char	*name;
	char	*data_ts;	/* latest SUCCEEDED refresh that changed data */
	char	*bad_state;	/* FAILED / UPSTREAM_FAILED as the latest state */
	char	*message;
};

struct sf_source {
	struct source		*src;
	const struct config	*cf;
	const struct snowflake_conf *sc;
	const struct catalog	*cat;
	struct event_base	*base;
	struct upstream		*up;
	struct jwt_key		*key;
	char			*token;
	int64_t			 token_exp;
	uint64_t		 rng;
	/* the cycle */
	struct pull		*pulls;
	size_t			 npulls;
	void			(*done)(void *);
	void			*done_arg;
	struct stmt		*stmts;		/* every live statement */
	size_t			 inflight;
	size_t			 queued_next;	/* next pull to consider */
	int			 fresh_pending;	/* freshness statements not yet answered */
	int			 cancelled;
	int			 cancels;	/* cancel requests not yet answered */
	void			(*stopped)(void *);
	void			*stopped_arg;
};

static const struct column fresh_cols[] = {
	{ "name", COL_STRING, NULL, NULL, NULL, NULL },
	{ "state", COL_STRING, NULL, NULL, NULL, NULL },
	{ "refresh_action", COL_STRING, NULL, NULL, NULL, NULL },
	{ "data_timestamp", COL_STRING, NULL, NULL, NULL, NULL },
	{ "state_message", COL_STRING, NULL, NULL, NULL, NULL },
};


static uint64_t
rng_next(struct sf_source *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
uuid4(char out[37])
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

static char *
upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* Where a brand's dynamic tables live: the schema ddl.c creates them in. */
static char *
dt_schema(const struct brand *b)
{
	char *id = upper(b->id), *s = xasprintf("ANALYSIS_BRAND_%s", id);

	free(id);
	return s;
}

/* ------------------------------------------------------------ credentials */

/* The bearer token for the next request: a JWT renewed before expiry, or a file token. */
static const char *
auth_token(struct sf_source *s, char **cause)
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

static const char *
auth_type(struct sf_source *s)
{
	if (s->key != NULL)
		return "KEYPAIR_JWT";
	return strcmp(s->sc->auth, "pat") == 0 ? "PROGRAMMATIC_ACCESS_TOKEN" : "OAUTH";
}

/* ------------------------------------------------------------ statements */

static void stmt_send(struct stmt *);
static void source_pump(struct sf_source *);

static void
stmt_free(struct stmt *st)
{
	struct stmt **pp;

	for (pp = &st->s->stmts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	up_req_free(st->req);
	if (st->timer != NULL)
		event_free(st->timer);
	for (size_t i = 1; st->parts != NULL && i < st->nparts; i++) {
		up_req_free(st->parts[i].req);
		if (st->parts[i].timer != NULL)
			event_free(st->parts[i].timer);
		table_free(&st->parts[i].table);
	}
	free(st->parts);
	table_free(&st->table);
	free(st->cols);
	free(st->sql);
	free(st->tag);
	free(st->handle);
	free(st);
}

static struct stmt *
stmt_new(struct sf_source *s, enum stmt_kind kind, size_t brand)
{
	struct stmt *st = xcalloc(1, sizeof *st);

	st->s = s;
	st->kind = kind;
	st->brand = brand;
	uuid4(st->request_id);
	st->started_ms = mono_ms();
	st->deadline_ms = st->started_ms + (int64_t)s->sc->deadline * 1000;
	st->sleep_ms = s->sc->retry_base_ms;
	st->next = s->stmts;
	s->stmts = st;
	return st;
}

/* The pull SQL: stable text, so Snowflake's result cache can answer repeats for free. */
static char *
pull_sql(struct sf_source *s, const struct brand *b, const struct aggregate *a)
{
	struct buf q;
	char *schema = dt_schema(b), *db = upper(s->sc->database), *id = upper(b->id);
	int ndim = 0;

	buf_init(&q);
	buf_adds(&q, "SELECT ");
	for (size_t i = 0; i < a->ncols; i++) {
		char *c = upper(a->cols[i].name);
		buf_printf(&q, "%s%s", i ? ", " : "", c);
		free(c);
	}
	buf_printf(&q, " FROM %s.%s.DT_BRAND_%s_%s ORDER BY ", db, schema, id, a->relation);
	for (size_t i = 0; i < a->ncols; i++) {
		if (strcmp(a->cols[i].role, "dimension") != 0)
			continue;
		char *c = upper(a->cols[i].name);
		buf_printf(&q, "%s%s", ndim++ ? ", " : "", c);
		free(c);
	}
	if (ndim == 0)
		buf_adds(&q, "1");
	free(schema); free(db); free(id);
	return buf_steal(&q, NULL);
}

static char *
freshness_sql(struct sf_source *s, const struct brand *b)
{
	char *schema = dt_schema(b), *db = upper(s->sc->database);
	char *q = xasprintf("SELECT NAME, STATE, REFRESH_ACTION, DATA_TIMESTAMP, "
	    "STATE_MESSAGE FROM TABLE(%s.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY("
	    "NAME_PREFIX => '%s.%s.', RESULT_LIMIT => 10000)) "
	    "WHERE STATE IN ('SUCCEEDED', 'FAILED', 'UPSTREAM_FAILED') "
	    "ORDER BY NAME, REFRESH_END_TIME", db, db, schema);

	free(schema);
	free(db);
	return q;
}

/* Settles a statement's pull (or the freshness check's) and frees the statement. */
static void
stmt_finish(struct stmt *st, int ok, char *error);

static void
stmt_fail(struct stmt *st, char *error)
{
	stmt_finish(st, 0, error);
}

static void
backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	stmt_send(arg);
}

/*
 * Decorrelated jitter: sleep = min(cap, random(base, 3 * previous sleep)); Retry-After,
 * when the server sends one, wins. Returns -1 when the retry budget is spent.
 */
static int64_t
next_sleep(struct sf_source *s, int *attempt, int64_t *sleep_ms, int64_t deadline,
    const char *retry_after)
{
	const struct snowflake_conf *sc = s->sc;
	int64_t lo = sc->retry_base_ms, hi = *sleep_ms * 3, ms;

	if (*attempt >= sc->retry_max)
		return -1;
	if (hi < lo)
		hi = lo;
	ms = lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
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
stmt_retry(struct stmt *st, const char *why, const char *retry_after)
{
	int64_t ms = next_sleep(st->s, &st->attempt, &st->sleep_ms, st->deadline_ms,
	    retry_after);
	struct timeval tv;

	if (ms < 0) {
		stmt_fail(st, xasprintf("%s; giving up after %d retries", why, st->attempt));
		return;
	}
	log_info("snowflake: %s: %s; retry %d in %lld ms", st->tag, why, st->attempt,
	    (long long)ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (st->timer == NULL)
		st->timer = evtimer_new(st->s->base, backoff_cb, st);
	evtimer_add(st->timer, &tv);
}

static void
poll_later(struct stmt *st)
{
	int64_t ms = 50LL << (st->polls < 7 ? st->polls : 7);
	struct timeval tv;

	if (ms > st->s->sc->poll_max_ms)
		ms = st->s->sc->poll_max_ms;
	if (mono_ms() + ms > st->deadline_ms) {
		stmt_fail(st, xstrdup("statement still running at the deadline"));
		return;
	}
	st->polls++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (st->timer == NULL)
		st->timer = evtimer_new(st->s->base, backoff_cb, st);
	evtimer_add(st->timer, &tv);
}

/* A Snowflake error body → "HTTP 422 002003 (42S02): SQL compilation error: …". */
static char *
sf_error(long status, const struct buf *body)
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

/* --------------------------------------------------------- result decoding */

static int
decode_rows(struct stmt *st, json_t *data, struct table *t, char **cause)
{
	size_t i;
	json_t *row;

	if (!json_is_array(data)) {
		*cause = xstrdup("result has no data array");
		return -1;
	}
	json_array_foreach(data, i, row) {
		struct cell *c;

		if (!json_is_array(row) || json_array_size(row) != st->ncols) {
			*cause = xasprintf("row %zu has the wrong number of cells", i);
			return -1;
		}
		c = table_add_row(t);
		for (size_t k = 0; k < st->ncols; k++) {
			json_t *v = json_array_get(row, k);
			const char *sv;
			if (json_is_null(v))
				continue;
			if ((sv = json_string_value(v)) == NULL) {
				*cause = xasprintf("row %zu cell %zu is not a string", i, k);
				return -1;
			}
			if (sf_decode(&st->cols[k], sv, json_string_length(v), st->want[k].type,
			    t, &c[k], cause) != 0)
				return -1;
		}
	}
	return 0;
}

/* Reads resultSetMetaData: column types (checked against the catalogue), partitions. */
static int
read_meta(struct stmt *st, json_t *meta, char **cause)
{
	json_t *rt = json_object_get(meta, "rowType"), *pi = json_object_get(meta,
	    "partitionInfo"), *col;
	size_t i;

	if (!json_is_array(rt) || !json_is_integer(json_object_get(meta, "numRows"))) {
		*cause = xstrdup("result without rowType/numRows");
		return -1;
	}
	if (json_array_size(rt) != st->ncols) {
		*cause = xasprintf("result has %zu columns, expected %zu", json_array_size(rt),
		    st->ncols);
		return -1;
	}
	st->cols = xcalloc(st->ncols, sizeof *st->cols);
	json_array_foreach(rt, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *type = json_string_value(json_object_get(col, "type"));
		if (name == NULL || type == NULL || strcasecmp(name, st->want[i].name) != 0) {
			*cause = xasprintf("result column %zu is '%s', expected '%s'", i + 1,
			    name ? name : "?", st->want[i].name);
			return -1;
		}
		st->cols[i].type = sf_type_parse(type);
		st->cols[i].scale = (int)json_integer_value(json_object_get(col, "scale"));
	}
	st->num_rows = (uint64_t)json_integer_value(json_object_get(meta, "numRows"));
	st->nparts = json_is_array(pi) && json_array_size(pi) > 1 ? json_array_size(pi) : 1;
	return 0;
}

static void part_send(struct part *);

static void
part_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	part_send(arg);
}

/* All partitions are in: stitch them after partition 0, in order, and check the count. */
static void
stmt_assemble(struct stmt *st)
{
	for (size_t i = 1; i < st->nparts; i++) {
		struct table *p = &st->parts[i].table;
		for (size_t r = 0; r < p->nrows; r++) {
			struct cell *dst = table_add_row(&st->table);
			for (size_t c = 0; c < st->ncols; c++) {
				const struct cell *src = table_cell(p, r, c);
				if (src->kind == CELL_TEXT)
					table_set_text(&st->table, &dst[c], table_text(p, src),
					    src->v.t.len);
				else
					dst[c] = *src;
			}
		}
		table_free(p);
	}
	if (st->table.nrows != st->num_rows) {
		stmt_fail(st, xasprintf("received %zu rows but numRows says %llu",
		    st->table.nrows, (unsigned long long)st->num_rows));
		return;
	}
	stmt_finish(st, 1, NULL);
}

static void
parts_pump(struct stmt *st)
{
	while (st->next_part < st->nparts &&
	    st->parts_inflight < (size_t)st->s->sc->max_partitions) {
		struct part *p = &st->parts[st->next_part++];
		st->parts_inflight++;
		part_send(p);
	}
	if (st->parts_done == st->nparts - 1)
		stmt_assemble(st);
}

static void
part_retry(struct part *p, const char *why, const char *retry_after)
{
	struct stmt *st = p->st;
	int64_t ms = next_sleep(st->s, &p->attempt, &p->sleep_ms, st->deadline_ms,
	    retry_after);
	struct timeval tv;

	if (ms < 0) {
		stmt_fail(st, xasprintf("partition %zu: %s; giving up after %d retries",
		    p->idx, why, p->attempt));
		return;
	}
	log_info("snowflake: %s: partition %zu: %s; retry %d in %lld ms", st->tag, p->idx,
	    why, p->attempt, (long long)ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (p->timer == NULL)
		p->timer = evtimer_new(st->s->base, part_backoff_cb, p);
	evtimer_add(p->timer, &tv);
}

static int
retryable_status(long status)
{
	return status == 429 || status >= 500;
}

static void
part_cb(struct up_req *req, struct up_resp *resp, void *arg)
{
	struct part *p = arg;
	struct stmt *st = p->st;
	char *cause = NULL, why[320];
	json_t *j;

	p->req = NULL;
	if (resp->result != 0) {
		snprintf(why, sizeof why, "transport: %s", resp->errbuf);
		up_req_free(req);
		part_retry(p, why, NULL);
		return;
	}
	if (resp->status != 200) {
		char *e = sf_error(resp->status, &resp->body);
		int again = retryable_status(resp->status);
		snprintf(why, sizeof why, "%s", e);
		free(e);
		if (again) {
			char *ra = resp->retry_after ? xstrdup(resp->retry_after) : NULL;
			up_req_free(req);
			part_retry(p, why, ra);
			free(ra);
		} else {
			up_req_free(req);
			stmt_fail(st, xasprintf("partition %zu: %s", p->idx, why));
		}
		return;
	}
	j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	up_req_free(req);
	if (j == NULL) {
		part_retry(p, "malformed partition body", NULL);
		return;
	}
	table_init(&p->table, st->ncols);
	if (decode_rows(st, json_object_get(j, "data"), &p->table, &cause) != 0) {
		json_decref(j);
		stmt_fail(st, xasprintf("partition %zu: %s", p->idx, cause));
		free(cause);
		return;
	}
	json_decref(j);
	p->done = 1;
	st->parts_inflight--;
	st->parts_done++;
	parts_pump(st);
}

static void
part_send(struct part *p)
{
	struct stmt *st = p->st;
	struct sf_source *s = st->s;
	char *cause = NULL, *url, *authz, *type;
	const char *tok = auth_token(s, &cause);

	if (tok == NULL) {
		stmt_fail(st, cause);
		return;
	}
	url = xasprintf("%s/api/v2/statements/%s?partition=%zu", s->sc->url, st->handle,
	    p->idx);
	authz = xasprintf("Authorization: Bearer %s", tok);
	type = xasprintf("X-Snowflake-Authorization-Token-Type: %s", auth_type(s));
	const char *hdrs[] = { authz, type, "Accept: application/json", NULL };
	p->req = upstream_request(s->up, "GET", url, NULL, hdrs,
	    (long)s->sc->request_timeout * 1000, part_cb, p);
	explicit_bzero(authz, strlen(authz));
	free(url); free(authz); free(type);
}

/* A complete first response (200): metadata, partition 0, then the other partitions. */
static void
stmt_result(struct stmt *st, json_t *j)
{
	char *cause = NULL;

	if (read_meta(st, json_object_get(j, "resultSetMetaData"), &cause) != 0 ||
	    decode_rows(st, json_object_get(j, "data"), &st->table, &cause) != 0) {
		stmt_fail(st, cause);
		return;
	}
	if (st->nparts == 1) {
		stmt_assemble(st);
		return;
	}
	st->parts = xcalloc(st->nparts, sizeof *st->parts);
	for (size_t i = 1; i < st->nparts; i++) {
		st->parts[i].st = st;
		st->parts[i].idx = i;
		st->parts[i].sleep_ms = st->s->sc->retry_base_ms;
		table_init(&st->parts[i].table, st->ncols);
	}
	st->next_part = 1;
	parts_pump(st);
}

static void
stmt_cb(struct up_req *req, struct up_resp *resp, void *arg)
{
	struct stmt *st = arg;
	json_t *j = NULL;
	const char *h;
	char why[320];

	st->req = NULL;
	log_debug("snowflake: %s: HTTP %ld (curl %d, %zu bytes)", st->tag, resp->status,
	    resp->result, resp->body.len);
	if (st->kind == STMT_CANCEL) {		/* best effort: whatever the answer */
		up_req_free(req);
		stmt_finish(st, 1, NULL);
		return;
	}
	if (resp->result != 0) {
		snprintf(why, sizeof why, "transport: %s", resp->errbuf);
		up_req_free(req);
		stmt_retry(st, why, NULL);
		return;
	}
	if (resp->status == 200 || resp->status == 202) {
		j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
		if (j == NULL) {
			const char *what = resp->status == 200 ? "malformed result body" :
			    "malformed 202 body";
			up_req_free(req);
			stmt_retry(st, what, NULL);
			return;
		}
		if (st->handle == NULL &&
		    (h = json_string_value(json_object_get(j, "statementHandle"))) != NULL)
			st->handle = xstrdup(h);
	}
	switch (resp->status) {
	case 200:
		up_req_free(req);
		stmt_result(st, j);
		break;
	case 202:
		up_req_free(req);
		if (st->handle == NULL)
			stmt_fail(st, xstrdup("202 without a statementHandle"));
		else
			poll_later(st);
		break;
	case 401: {
		char *e = sf_error(resp->status, &resp->body);
		up_req_free(req);
		/* 390144 invalid JWT / 390318 expired OAuth token: new credentials, once more */
		free(st->s->token);
		st->s->token = NULL;
		if (st->auth_retries++ < 2) {
			log_warn("snowflake: %s: %s; renewing credentials", st->tag, e);
			free(e);
			stmt_send(st);
		} else
			stmt_fail(st, e);
		break;
	}
	default: {
		char *e = sf_error(resp->status, &resp->body);
		char *ra = resp->retry_after ? xstrdup(resp->retry_after) : NULL;
		long status = resp->status;	/* resp dies with req */
		up_req_free(req);
		if (retryable_status(status)) {
			stmt_retry(st, e, ra);
			free(e);
		} else if (status == 408) {
			char *m = xasprintf("%s (cancelled by Snowflake)", e);
			free(e);
			stmt_fail(st, m);
		} else
			stmt_fail(st, e);	/* 400, 415, 422, …: retrying cannot help */
		free(ra);
	}
	}
	json_decref(j);
}

/* Sends (or re-sends) the statement; once Snowflake has a handle, polls it instead. */
static void
stmt_send(struct stmt *st)
{
	struct sf_source *s = st->s;
	char *cause = NULL, *url, *authz, *type, *body = NULL;
	const char *tok = auth_token(s, &cause), *method = "POST";

	if (tok == NULL) {
		stmt_fail(st, cause);
		return;
	}
	if (st->kind == STMT_CANCEL) {
		url = xasprintf("%s/api/v2/statements/%s/cancel", s->sc->url, st->handle);
		body = xstrdup("{}");
	} else if (st->handle != NULL) {
		url = xasprintf("%s/api/v2/statements/%s", s->sc->url, st->handle);
		method = "GET";
	} else {
		char *schema = dt_schema(&s->cf->brands[st->brand]);
		json_t *b = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s}}", "statement", st->sql,
		    "timeout", s->sc->statement_timeout, "database", s->sc->database, "schema",
		    schema, "warehouse", s->sc->warehouse, "parameters", "QUERY_TAG", st->tag);
		if (s->sc->role != NULL)
			json_object_set_new(b, "role", json_string(s->sc->role));
		body = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(b);
		free(schema);
		url = xasprintf("%s/api/v2/statements?requestId=%s%s", s->sc->url,
		    st->request_id, st->attempt > 0 || st->auth_retries > 0 ?
		    "&retry=true" : "");
		s->src->statements++;
	}
	authz = xasprintf("Authorization: Bearer %s", tok);
	type = xasprintf("X-Snowflake-Authorization-Token-Type: %s", auth_type(s));
	const char *hdrs[] = { authz, type, "Content-Type: application/json",
	    "Accept: application/json", NULL };
	st->req = upstream_request(s->up, method, url, body, hdrs,
	    (long)s->sc->request_timeout * 1000, stmt_cb, st);
	explicit_bzero(authz, strlen(authz));
	free(url); free(authz); free(type); free(body);
}

/* ------------------------------------------------------------ the cycle */

static struct pull *
pull_of(struct sf_source *s, size_t brand, const char *dt_name)
{
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		char *name;
		if (p->brand != &s->cf->brands[brand])
			continue;
		char *id = upper(p->brand->id);
		name = xasprintf("DT_BRAND_%s_%s", id, p->agg->relation);
		free(id);
		int match = strcasecmp(name, dt_name) == 0;
		free(name);
		if (match)
			return p;
	}
	return NULL;
}

/*
 * The freshness answer for a brand: a pull whose table has not refreshed since the
 * last publish is settled as unchanged; the others get their data timestamp and stay
 * pending. A table whose latest refresh failed is reported, its last good data kept.
 */
static void
apply_freshness(struct sf_source *s, struct stmt *st)
{
	const struct table *t = &st->table;

	for (size_t r = 0; r < t->nrows; r++) {
		const struct cell *c = table_cell(t, r, 0);
		const char *name = c->kind == CELL_TEXT ? table_text(t, c) : "";
		const char *state = table_cell(t, r, 1)->kind == CELL_TEXT ?
		    table_text(t, table_cell(t, r, 1)) : "";
		const struct cell *ac = table_cell(t, r, 2), *tc = table_cell(t, r, 3),
		    *mc = table_cell(t, r, 4);
		struct pull *p = pull_of(s, st->brand, name);

		if (p == NULL || !p->wanted)
			continue;
		/* rows come oldest first: later ones overwrite */
		if (strcmp(state, "SUCCEEDED") == 0) {
			free(p->error);
			p->error = NULL;
			if (tc->kind == CELL_TEXT && !(ac->kind == CELL_TEXT &&
			    strcmp(table_text(t, ac), "NO_DATA") == 0)) {
				free(p->data_ts);
				p->data_ts = xstrdup(table_text(t, tc));
			}
		} else {
			free(p->error);
			p->error = xasprintf("dynamic table refresh %s: %s", state,
			    mc->kind == CELL_TEXT ? table_text(t, mc) : "");
		}
	}
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		if (p->brand != &s->cf->brands[st->brand] || !p->wanted ||
		    p->state != PULL_PENDING)
			continue;
		if (p->data_ts != NULL && p->prev_data_ts != NULL &&
		    strcmp(p->data_ts, p->prev_data_ts) == 0) {
			p->state = PULL_UNCHANGED;	/* p->error, if any, is a warning */
		}
	}
}

static void
stmt_finish(struct stmt *st, int ok, char *error)
{
	struct sf_source *s = st->s;

	if (st->kind == STMT_CANCEL) {
		free(error);
		stmt_free(st);
		if (--s->cancels == 0 && s->stopped != NULL)
			s->stopped(s->stopped_arg);
		return;
	}
	s->inflight--;
	if (st->kind == STMT_FRESHNESS) {
		if (ok)
			apply_freshness(s, st);
		else {
			/* Without the history every table of the brand is pulled. */
			log_warn("snowflake: %s: %s; pulling every table", st->tag, error);
			free(error);
		}
		s->fresh_pending--;
	} else {
		struct pull *p = st->pull;
		p->duration_ms = mono_ms() - st->started_ms;
		free(p->handle);
		p->handle = st->handle ? xstrdup(st->handle) : NULL;
		if (ok) {
			table_free(&p->table);
			p->table = st->table;		/* ownership moves to the pull */
			table_init(&st->table, st->ncols);
			p->state = PULL_DONE;
			free(p->error);
			p->error = NULL;
		} else {
			p->state = PULL_FAILED;
			free(p->error);
			p->error = error;
			error = NULL;
		}
		free(error);
	}
	stmt_free(st);
	source_pump(s);
}

/* Starts what may start; when nothing is left, hands the cycle back to refresh. */
static void
source_pump(struct sf_source *s)
{
	if (s->cancelled || s->pulls == NULL)
		return;
	while (s->fresh_pending == 0 && s->inflight < (size_t)s->sc->max_statements &&
	    s->queued_next < s->npulls) {
		struct pull *p = &s->pulls[s->queued_next++];
		struct stmt *st;
		size_t bi = (size_t)(p->brand - s->cf->brands);

		if (!p->wanted || p->state != PULL_PENDING)
			continue;
		st = stmt_new(s, STMT_PULL, bi);
		st->pull = p;
		st->sql = pull_sql(s, p->brand, p->agg);
		st->tag = xasprintf("tpcd:%s:%s", p->brand->id, p->agg->name);
		st->want = p->agg->cols;
		st->ncols = p->agg->ncols;
		table_init(&st->table, st->ncols);
		s->inflight++;
		stmt_send(st);
	}
	if (s->fresh_pending == 0 && s->inflight == 0 && s->queued_next >= s->npulls) {
		void (*done)(void *) = s->done;
		s->pulls = NULL;
		s->done = NULL;
		done(s->done_arg);
	}
}

static void
sf_pull_all(struct source *src, struct pull *p, size_t n, void (*done)(void *), void *arg)
{
	struct sf_source *s = src->impl;

	s->pulls = p;
	s->npulls = n;
	s->done = done;
	s->done_arg = arg;
	s->queued_next = 0;
	s->fresh_pending = 0;
	/* one freshness statement per brand with anything wanted */
	for (size_t b = 0; b < s->cf->nbrands; b++) {
		int any = 0;
		for (size_t i = 0; i < n; i++)
			any |= p[i].wanted && p[i].brand == &s->cf->brands[b];
		if (!any)
			continue;
		struct stmt *st = stmt_new(s, STMT_FRESHNESS, b);
		st->sql = freshness_sql(s, &s->cf->brands[b]);
		st->tag = xasprintf("tpcd:%s:freshness", s->cf->brands[b].id);
		st->want = fresh_cols;
		st->ncols = sizeof fresh_cols / sizeof fresh_cols[0];
		table_init(&st->table, st->ncols);
		s->fresh_pending++;
		s->inflight++;
		stmt_send(st);
	}
	source_pump(s);
}

/*
 * Shutdown: drops every statement and asks Snowflake to cancel those it is running;
 * stopped(arg) runs once the cancels are answered (the caller bounds the wait).
 */
static void
sf_cancel(struct source *src, void (*stopped)(void *), void *arg)
{
	struct sf_source *s = src->impl;
	struct stmt *list = s->stmts, *next;

	s->cancelled = 1;
	s->pulls = NULL;
	s->stmts = NULL;
	s->stopped = stopped;
	s->stopped_arg = arg;
	for (struct stmt *st = list; st != NULL; st = next) {
		next = st->next;
		if (st->handle != NULL && (st->req != NULL || st->timer != NULL)) {
			struct stmt *c = stmt_new(s, STMT_CANCEL, st->brand);
			c->handle = xstrdup(st->handle);
			c->tag = xasprintf("%s:cancel", st->tag);
			log_info("snowflake: cancelling statement %s (%s)", st->handle, st->tag);
			s->cancels++;
		}
		st->next = NULL;
		stmt_free(st);
	}
	for (struct stmt *c = s->stmts; c != NULL; c = c->next)
		stmt_send(c);
	if (s->cancels == 0)
		stopped(arg);
}

static void
sf_free(struct source *src)
{
	struct sf_source *s;

	if (src == NULL)
		return;
	s = src->impl;
	while (s->stmts != NULL)
		stmt_free(s->stmts);
	upstream_free(s->up);
	jwt_key_free(s->key);
	if (s->token != NULL)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s);
	free(src);
}

/* The Snowflake source; loads the key now so a bad one stops start-up, not a refresh. */
struct source *
source_snowflake_new(const struct config *cf, const struct catalog *cat,
    struct event_base *base, char **cause)
{
	struct sf_source *s = xcalloc(1, sizeof *s);
	struct source *src;

	s->cf = cf;
	s->sc = &cf->sf;
	s->cat = cat;
	s->base = base;
	if (strcmp(s->sc->auth, "keypair") == 0 &&
	    (s->key = jwt_key_load(s->sc->private_key, s->sc->private_key_passphrase_file,
	    cause)) == NULL) {
		free(s);
		return NULL;
	}
	if (getrandom(&s->rng, sizeof s->rng, 0) != sizeof s->rng)
		fatal("getrandom failed");
	s->up = upstream_new(base, "tpcd/" TPCD_VERSION);
	src = xcalloc(1, sizeof *src);
	src->name = "snowflake";
	src->pull = sf_pull_all;
	src->cancel = sf_cancel;
	src->free = sf_free;
	src->impl = s;
	s->src = src;
	return src;
}
