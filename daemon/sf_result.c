/*
 * sf_result.c — a statement's result: checks resultSetMetaData against the catalogue,
 * decodes rows (sf_rows.c, sfdecode.c) and fetches partitions 1..N, at most max_partitions ahead of
 * the one being decoded (each retried on its own). A pull's rows stream into its encoder
 * in partition order, a batch at a time: a partition that arrives early waits as the
 * body it came in, and is freed once decoded, so no whole result is held. Owns struct
 * sf_part; reports the outcome through sf_cycle_finish / sf_stmt_fail.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#include "snowflake.h"

/* One partition fetch (1..N) of a statement's result. */
struct sf_part {
	struct sf_stmt	*st;
	size_t		 idx;
	int		 attempt;
	int64_t		 sleep_ms;
	struct up_req	*req;
	struct event	*timer;
	struct buf	 body;		/* arrived, waiting for its turn to be decoded */
	int		 arrived;
};

/* A row of t is decoded: counted, and a full batch of a pull's goes to its encoder. */
void
sf_result_row(struct sf_stmt *st, struct table *t)
{
	st->rows_seen++;
	if (st->pull != NULL && t->nrows == ENCODE_BATCH_ROWS)
		encode_pull_rows(st->pull, t);
}

/*
 * The freshness answer is a SHOW command's: many columns, more in each release (the
 * behaviour change bundles add some), so the columns wanted are found by name.
 */
static int
sf_result_meta_by_name(struct sf_stmt *st, json_t *meta, json_t *rt, json_t *pi,
    char **cause)
{
	st->cols = xcalloc(st->ncols, sizeof *st->cols);
	st->colmap = xcalloc(st->ncols, sizeof *st->colmap);
	for (size_t k = 0; k < st->ncols; k++) {
		size_t i;
		json_t *col;
		int found = 0;
		json_array_foreach(rt, i, col) {
			const char *name = json_string_value(json_object_get(col, "name"));
			const char *type = json_string_value(json_object_get(col, "type"));
			if (name == NULL || type == NULL || strcasecmp(name, st->want[k].name) != 0)
				continue;
			st->colmap[k] = i;
			st->cols[k].type = sf_type_parse(type);
			st->cols[k].scale = (int)json_integer_value(json_object_get(col, "scale"));
			found = 1;
			break;
		}
		if (!found) {
			*cause = xasprintf("result has no column '%s'", st->want[k].name);
			return -1;
		}
	}
	st->rcols = json_array_size(rt);
	st->num_rows = (uint64_t)json_integer_value(json_object_get(meta, "numRows"));
	st->nparts = json_is_array(pi) && json_array_size(pi) > 1 ? json_array_size(pi) : 1;
	return 0;
}

/* Reads resultSetMetaData: column types (checked against the catalogue), partitions. */
int
sf_result_meta(struct sf_stmt *st, json_t *meta, char **cause)
{
	json_t *rt = json_object_get(meta, "rowType"), *pi = json_object_get(meta,
	    "partitionInfo"), *col;
	size_t i;

	if (!json_is_array(rt) || !json_is_integer(json_object_get(meta, "numRows"))) {
		*cause = xstrdup("result without rowType/numRows");
		return -1;
	}
	if (st->kind == SF_STMT_FRESHNESS || st->kind == SF_STMT_VERIFY)
		return sf_result_meta_by_name(st, meta, rt, pi, cause);
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
	st->rcols = st->ncols;
	st->num_rows = (uint64_t)json_integer_value(json_object_get(meta, "numRows"));
	st->nparts = json_is_array(pi) && json_array_size(pi) > 1 ? json_array_size(pi) : 1;
	return 0;
}

static int sf_result_part_send(struct sf_part *);

static void
sf_result_part_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	sf_result_part_send(arg);
}

/* Every partition is decoded: check the count, settle the statement. */
static void
sf_result_done(struct sf_stmt *st)
{
	if (st->rows_seen != st->num_rows) {
		sf_stmt_fail(st, xasprintf("received %llu rows but numRows says %llu",
		    (unsigned long long)st->rows_seen, (unsigned long long)st->num_rows));
		return;
	}
	sf_cycle_finish(st, 1, NULL);
}

static int sf_result_part_retry(struct sf_part *, const char *, const char *);

/*
 * Decodes partition p, whose turn it is, from the body it arrived in. Returns 0; 1 when
 * the body was not JSON and it is being fetched again; -1 when the statement failed
 * (and is freed).
 */
static int
sf_result_decode(struct sf_stmt *st, struct sf_part *p)
{
	char *cause = NULL;
	int rc = sf_rows_scan(st, p->body.data ? p->body.data : "", p->body.len, &st->table,
	    sf_result_row, &cause);

	buf_free(&p->body);
	p->arrived = 0;
	if (rc == SF_ROWS_MALFORMED)
		return sf_result_part_retry(p, "malformed partition body", NULL) != 0 ? -1 : 1;
	if (rc == 0 && st->pull != NULL)
		encode_pull_rows(st->pull, &st->table);	/* the last, partial batch */
	if (rc != 0) {
		sf_stmt_fail(st, xasprintf("partition %zu: %s", p->idx, cause));
		free(cause);
		return -1;
	}
	return 0;
}

/*
 * Decodes what has arrived, in order, then fetches ahead: at most max_partitions past
 * the one awaited are fetching or waiting, so at most that many bodies are held.
 */
static void
sf_result_pump(struct sf_stmt *st)
{
	size_t ahead = (size_t)st->s->sc->max_partitions;

	while (st->next_encode < st->nparts && st->parts[st->next_encode].arrived) {
		int rc = sf_result_decode(st, &st->parts[st->next_encode]);
		if (rc < 0)
			return;
		if (rc > 0)
			break;
		st->next_encode++;
	}
	if (st->next_encode == st->nparts) {
		sf_result_done(st);
		return;
	}
	while (st->next_part < st->nparts && st->next_part < st->next_encode + ahead) {
		struct sf_part *p = &st->parts[st->next_part++];
		if (sf_result_part_send(p) != 0)
			return;
	}
}

/* Fetches partition p again after a backoff; -1 when the budget is spent (st freed). */
static int
sf_result_part_retry(struct sf_part *p, const char *why, const char *retry_after)
{
	struct sf_stmt *st = p->st;
	int64_t ms = sf_stmt_next_sleep(st->s, &p->attempt, &p->sleep_ms, st->deadline_ms,
	    retry_after);
	struct timeval tv;

	if (ms < 0) {
		sf_stmt_fail(st, xasprintf("partition %zu: %s; giving up after %d retries",
		    p->idx, why, p->attempt));
		return -1;
	}
	log_info("snowflake: %s: partition %zu: %s; retry %d in %lld ms", st->tag, p->idx,
	    why, p->attempt, (long long)ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (p->timer == NULL)
		p->timer = evtimer_new(st->s->base, sf_result_part_backoff_cb, p);
	evtimer_add(p->timer, &tv);
	return 0;
}

/* A partition's answer: kept as it came until its turn (sf_result_pump decodes it). */
static void
sf_result_part_cb(struct up_req *req, struct up_resp *resp, void *arg)
{
	struct sf_part *p = arg;
	struct sf_stmt *st = p->st;
	char why[320];

	p->req = NULL;
	if (resp->result != 0) {
		snprintf(why, sizeof why, "transport: %s", resp->errbuf);
		up_req_free(req);
		sf_result_part_retry(p, why, NULL);
		return;
	}
	if (resp->status != 200) {
		char *e = sf_stmt_error(resp->status, &resp->body);
		int again = sf_stmt_retryable(resp->status);
		snprintf(why, sizeof why, "%s", e);
		free(e);
		if (again) {
			char *ra = resp->retry_after ? xstrdup(resp->retry_after) : NULL;
			up_req_free(req);
			sf_result_part_retry(p, why, ra);
			free(ra);
		} else {
			up_req_free(req);
			sf_stmt_fail(st, xasprintf("partition %zu: %s", p->idx, why));
		}
		return;
	}
	/* the body moves to the partition: no copy of a partition's bytes */
	buf_free(&p->body);
	p->body = resp->body;
	buf_init(&resp->body);
	up_req_free(req);
	p->arrived = 1;
	sf_result_pump(st);
}

/* Asks for partition p; -1 when there is no credential to ask with (st freed). */
static int
sf_result_part_send(struct sf_part *p)
{
	struct sf_stmt *st = p->st;
	struct sf_source *s = st->s;
	char *cause = NULL, *url, *authz, *type;
	const char *tok = sf_stmt_token(s, &cause);

	if (tok == NULL) {
		sf_stmt_fail(st, cause);
		return -1;
	}
	url = xasprintf("%s/api/v2/statements/%s?partition=%zu", s->sc->url, st->handle,
	    p->idx);
	authz = xasprintf("Authorization: Bearer %s", tok);
	type = xasprintf("X-Snowflake-Authorization-Token-Type: %s", sf_stmt_token_type(s));
	const char *hdrs[] = { authz, type, "Accept: application/json", NULL };
	p->req = upstream_request(s->up, "GET", url, NULL, hdrs,
	    (long)s->sc->request_timeout * 1000, sf_result_part_cb, p);
	explicit_bzero(authz, strlen(authz));
	free(url); free(authz); free(type);
	return 0;
}

/*
 * A complete first response (200): metadata, partition 0, then the other partitions.
 * A pull's encoder starts here, with its first rows.
 */
void
sf_result_read(struct sf_stmt *st, json_t *j, const struct buf *body)
{
	char *cause = NULL;

	if (sf_result_meta(st, json_object_get(j, "resultSetMetaData"), &cause) != 0) {
		sf_stmt_fail(st, cause);
		return;
	}
	if (st->pull != NULL)
		encode_pull_begin(st->pull);
	/* j holds no rows (sf_rows_load): they are read from the body in place */
	if (sf_rows_scan(st, body->data ? body->data : "", body->len, &st->table,
	    sf_result_row, &cause) != 0) {
		sf_stmt_fail(st, cause ? cause : xstrdup("malformed result body"));
		return;
	}
	if (st->pull != NULL)
		encode_pull_rows(st->pull, &st->table);
	if (st->nparts == 1) {
		sf_result_done(st);
		return;
	}
	st->parts = xcalloc(st->nparts, sizeof *st->parts);
	for (size_t i = 1; i < st->nparts; i++) {
		st->parts[i].st = st;
		st->parts[i].idx = i;
		st->parts[i].sleep_ms = st->s->sc->retry_base_ms;
		buf_init(&st->parts[i].body);
	}
	st->next_part = st->next_encode = 1;
	sf_result_pump(st);
}

/* Frees the partition fetches of a statement being freed, with whatever is in flight. */
void
sf_result_free(struct sf_stmt *st)
{
	for (size_t i = 1; st->parts != NULL && i < st->nparts; i++) {
		up_req_free(st->parts[i].req);
		if (st->parts[i].timer != NULL)
			event_free(st->parts[i].timer);
		buf_free(&st->parts[i].body);
	}
	free(st->parts);
	st->parts = NULL;
}
