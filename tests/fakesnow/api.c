/* The SQL API v2 endpoints: POST /api/v2/statements, GET /api/v2/statements/<h>
 * (status, result, ?partition=N) and POST .../<h>/cancel. Owns request validation
 * (headers, auth, body), the async/dedup/cancel state machine and fault dispatch.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#define STATEMENTS	"/api/v2/statements"

/* fault kinds that make sense for each endpoint */
#define K_COMMON	(FM(F_STATUS) | FM(F_DELAY) | FM(F_RESET) | FM(F_TRUNCATE) | FM(F_MALFORMED))
#define K_POST		(K_COMMON | FM(F_NUMROWS) | FM(F_ASYNC))
#define K_STATUS	(K_COMMON | FM(F_NUMROWS))
#define K_PARTITION	(K_COMMON | FM(F_BAD_GZIP))
#define K_CANCEL	K_COMMON

static const char *
in_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static void
error_reply(struct evhttp_request *req, int status, const char *code, const char *msg,
    const struct fault *f)
{
	reply_json(req, status, json_pack("{s:s, s:s}", "code", code, "message", msg), f);
}

static json_t *
query_status_body(const struct stmt *st)
{
	char *url = status_url(st, 0);
	json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "code", "333334", "message",
	    "Asynchronous execution in progress. Use provided query id to perform query "
	    "monitoring and management.", "statementHandle", st->handle,
	    "statementStatusUrl", url ? url : "");

	free(url);
	return b;
}

static json_t *
handle_status_body(const char *handle, const char *code, const char *state, const char *msg)
{
	char url[128];

	snprintf(url, sizeof(url), STATEMENTS "/%s", handle);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", code, "sqlState", state,
	    "message", msg, "statementHandle", handle, "statementStatusUrl", url);
}

static int
auth_failure(struct evhttp_request *req, const char *code, const char *msg)
{
	counter_inc("auth_failures");
	error_reply(req, 401, code, msg, NULL);
	return -1;
}

/* Headers every SQL API request needs; answers and returns -1 when one is wrong. */
static int
check_request(struct evhttp_request *req, int has_body)
{
	const char *accept = in_header(req, "Accept"), *ctype = in_header(req, "Content-Type");
	const char *authz = in_header(req, "Authorization");
	const char *ttype = in_header(req, "X-Snowflake-Authorization-Token-Type");
	char reason[512], msg[600];

	if (in_header(req, "User-Agent") == NULL || *in_header(req, "User-Agent") == '\0') {
		error_reply(req, 400, "391903", "User-Agent header is required.", NULL);
		return -1;
	}
	if (accept == NULL || strcasestr(accept, "application/json") == NULL) {
		error_reply(req, 415, "390415", "Accept header must be application/json. (fake code)", NULL);
		return -1;
	}
	if (has_body && (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0)) {
		error_reply(req, 415, "390415", "Content-Type must be application/json. (fake code)", NULL);
		return -1;
	}
	if (authz == NULL || strncmp(authz, "Bearer ", 7) != 0 || authz[7] == '\0')
		return auth_failure(req, "390101", "Authorization header with a Bearer token is required. (fake code)");
	if (ttype == NULL)
		return auth_failure(req, "390101", "X-Snowflake-Authorization-Token-Type header is required. (fake code)");
	if (strcmp(ttype, "KEYPAIR_JWT") == 0) {
		if (jwt_verify(authz + 7, (long long)time(NULL), reason, sizeof(reason)) != 0) {
			snprintf(msg, sizeof(msg), "JWT token is invalid. [%s]", reason);
			return auth_failure(req, "390144", msg);
		}
		return 0;
	}
	if (strcmp(ttype, "OAUTH") == 0 || strcmp(ttype, "PROGRAMMATIC_ACCESS_TOKEN") == 0) {
		if (FS.cfg.token == NULL || strcmp(authz + 7, FS.cfg.token) != 0)
			return auth_failure(req, "390303", "Invalid OAuth access token.");
		return 0;
	}
	return auth_failure(req, "390101", "Unsupported X-Snowflake-Authorization-Token-Type. (fake code)");
}

/* The first ResultSet delivered, with numRows off by one when a numrows fault hit. */
static json_t *
final_body(struct stmt *st, int numrows_fault)
{
	json_t *b = json_deep_copy(st->final), *meta;

	if (b && st->status == 200 && (numrows_fault || st->numrows_fault)) {
		meta = json_object_get(b, "resultSetMetaData");
		json_object_set_new(meta, "numRows",
		    json_integer(json_integer_value(json_object_get(meta, "numRows")) + 1));
		st->numrows_fault = 0;
	}
	return b;
}

/* What GET on a statement answers now: 202 while polls remain, else the final. */
static void
reply_current(struct evhttp_request *req, struct stmt *st, int consume_poll, const struct fault *f)
{
	int nr = f && f->kind == F_NUMROWS;

	if (st->cancelled) {
		reply_json(req, 422, handle_status_body(st->handle, "000604", "57014",
		    "SQL execution canceled"), f);
		return;
	}
	if (st->polls_left > 0 && consume_poll)
		st->polls_left--;
	if (st->polls_left > 0) {
		if (nr)		/* keep it for the ResultSet that comes later */
			st->numrows_fault = 1;
		reply_json(req, 202, query_status_body(st), f);
		return;
	}
	reply_json(req, st->status, final_body(st, nr), f);
}

static int
query_flag(struct evkeyvalq *q, const char *name)
{
	const char *v = evhttp_find_header(q, name);

	return v != NULL && strcasecmp(v, "true") == 0;
}

static const char *
opt_string(json_t *body, const char *key, int *bad)
{
	json_t *v = json_object_get(body, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		*bad = 1;
	return json_string_value(v);
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Runs a statement as a warehouse would, unless the result cache answers it (a text
 * with bindings is never cached here: the values are not part of the text). The
 * warehouse time is the execution's own, in microseconds, also per query tag.
 */
static int
run_billed(const char *sql, json_t *bindings, const char *ctx, const char *database,
    const char *schema, const char *tag, int nulls_as_text, json_t **row_type, json_t **rows,
    struct sql_error *err)
{
	long long t0, us;
	int rc;

	if (bindings == NULL && billing_cached(ctx, database, schema, sql, row_type, rows))
		return 0;
	t0 = now_us();
	rc = exec_statement(FS.db, sql, bindings, database, schema, nulls_as_text, row_type,
	    rows, err);
	us = now_us() - t0;
	if (us < 1)
		us = 1;
	if (tag != NULL)
		counter_key_add("warehouse_us_by_tag", tag, us);
	if (rc != 0)
		billing_failed(us);
	else
		billing_ran(ctx, database, schema, bindings ? "" : sql, bindings ? NULL : *row_type,
		    bindings ? NULL : *rows, us);
	return rc;
}

static void
post_statement(struct evhttp_request *req, struct evkeyvalq *q, const char *uri)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *rid = evhttp_find_header(q, "requestId"), *stmt_text, *database, *schema;
	const char *role, *tagname = NULL;
	const unsigned char *raw;
	json_t *body, *params, *tag, *timeout, *bindings, *row_type = NULL, *rows = NULL;
	struct fault *f = NULL;
	struct stmt *st;
	struct sql_error err;
	char *sql = NULL, *show = NULL, handle[FS_UUID_LEN + 1], ctx[512];
	int retry = query_flag(q, "retry"), bad = 0, bad_show = 0, polls, nulls_as_text;

	if (retry)
		counter_inc("retries");
	if (rid != NULL && !is_uuid(rid)) {
		error_reply(req, 400, "390400", "requestId must be a UUID. (fake code)", NULL);
		return;
	}
	raw = len ? evbuffer_pullup(in, (ev_ssize_t)len) : NULL;
	body = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
	if (!json_is_object(body)) {
		json_decref(body);
		error_reply(req, 400, "390400", "Request body must be a JSON object. (fake code)", NULL);
		return;
	}
	stmt_text = json_string_value(json_object_get(body, "statement"));
	database = opt_string(body, "database", &bad);
	schema = opt_string(body, "schema", &bad);
	opt_string(body, "warehouse", &bad);
	role = opt_string(body, "role", &bad);
	params = json_object_get(body, "parameters");
	timeout = json_object_get(body, "timeout");
	bindings = json_object_get(body, "bindings");
	if (params && !json_is_object(params))
		bad = 1;
	if (bindings && !json_is_null(bindings) && !json_is_object(bindings))
		bad = 1;
	if (timeout && !json_is_null(timeout) &&
	    (!json_is_integer(timeout) || json_integer_value(timeout) < 0 ||
	    json_integer_value(timeout) > 604800))
		bad = 1;
	if (stmt_text == NULL || bad) {
		json_decref(body);
		error_reply(req, 400, "390400", "Body needs a string \"statement\"; database, schema, "
		    "warehouse, role are strings, timeout an integer 0..604800, parameters and "
		    "bindings objects. (fake code)", NULL);
		return;
	}
	counter_statement_text(stmt_text);
	if (rid)
		counter_key("by_request_id", rid);
	tag = json_object_get(params, "QUERY_TAG");
	if (json_is_string(tag)) {
		tagname = json_string_value(tag);
		counter_key("query_tags", tagname);
	}
	if (json_is_integer(json_object_get(params, "MULTI_STATEMENT_COUNT")) &&
	    json_integer_value(json_object_get(params, "MULTI_STATEMENT_COUNT")) != 1) {
		json_decref(body);
		error_reply(req, 422, "000008", "fakesnow runs one statement per request "
		    "(MULTI_STATEMENT_COUNT must be 1).", NULL);
		return;
	}

	f = faults_take(K_POST, stmt_text, uri);
	if (f && f->kind == F_STATUS) {
		uuid4(handle);
		reply_json(req, f->status, fault_status_body(f, handle), f);
		goto out;
	}
	if (retry && rid && (st = store_find_request(rid)) != NULL) {
		/* Snowflake does not run a retried request again: same handle, same result */
		counter_inc("dedups");
		reply_current(req, st, 0, f);
		goto out;
	}
	if (f && f->kind == F_RESET && !f->execute) {	/* dropped before it ran */
		reply_bytes(req, 0, NULL, "", 0, f);
		goto out;
	}
	st = store_new(rid);
	if (st == NULL) {
		error_reply(req, 500, "000603", "fakesnow: out of memory", NULL);
		goto out;
	}
	counter_inc("statements");
	nulls_as_text = evhttp_find_header(q, "nullable") && !query_flag(q, "nullable");
	/* what decides a result besides its text: the role and the reply's format */
	snprintf(ctx, sizeof ctx, "%s%s", role ? role : "", nulls_as_text ? " nullable=false" : "");
	show = billing_show_sql(stmt_text, database, &bad_show);
	memset(&err, 0, sizeof(err));
	sql = show ? NULL : sql_rewrite(FS.db, stmt_text, schema, &err);
	if (bad_show) {
		err.code = "001003";
		err.sql_state = "42000";
		snprintf(err.message, sizeof(err.message), "SQL compilation error: syntax error "
		    "in SHOW DYNAMIC TABLES (fakesnow knows [LIKE '<p>'] [IN ACCOUNT | DATABASE d "
		    "| SCHEMA [d.]s])");
		store_set_error(st, &err);
	} else if (show != NULL) {		/* cloud services: no warehouse */
		if (exec_statement(FS.db, show, NULL, database, schema, nulls_as_text, &row_type,
		    &rows, &err) != 0)
			store_set_error(st, &err);
		else {
			billing_show_names(row_type);
			if (store_set_result(st, row_type, rows, FS.cfg.partition_rows) != 0) {
				err.code = "000603";
				err.sql_state = "XX000";
				snprintf(err.message, sizeof(err.message),
				    "fakesnow: cannot encode the result");
				store_set_error(st, &err);
			}
		}
	} else if (sql == NULL && err.code != NULL) {	/* refused while compiling */
		store_set_error(st, &err);
	} else if (sql == NULL) {
		err.code = "000603";
		err.sql_state = "XX000";
		snprintf(err.message, sizeof(err.message), "fakesnow: cannot rewrite the statement");
		store_set_error(st, &err);
	} else if (run_billed(sql, json_is_object(bindings) && json_object_size(bindings) ?
	    bindings : NULL, ctx, database, schema, tagname, nulls_as_text, &row_type, &rows,
	    &err) != 0) {
		store_set_error(st, &err);
	} else if (store_set_result(st, row_type, rows, FS.cfg.partition_rows) != 0) {
		err.code = "000603";
		err.sql_state = "XX000";
		snprintf(err.message, sizeof(err.message), "fakesnow: cannot encode the result");
		store_set_error(st, &err);
	}
	json_decref(row_type);
	json_decref(rows);
	if (st->final == NULL) {
		error_reply(req, 500, "000603", "fakesnow: cannot encode the response", NULL);
		goto out;
	}
	polls = FS.cfg.async_polls;
	if (f && f->kind == F_ASYNC)
		polls = f->polls;
	else if (query_flag(q, "async") && polls < 1)
		polls = 1;
	st->polls_left = polls;
	reply_current(req, st, 0, f);
	tt_statement_answered();	/* a refresh scheduled after this one runs now */
out:
	free(sql);
	free(show);
	fault_free(f);
	json_decref(body);
}

static void
get_statement(struct evhttp_request *req, struct evkeyvalq *q, const char *handle, const char *uri)
{
	const char *pstr = evhttp_find_header(q, "partition"), *ae;
	struct stmt *st;
	struct fault *f;
	char *end, msg[128];
	long part = 0;

	if (pstr != NULL) {
		part = strtol(pstr, &end, 10);
		if (*pstr == '\0' || *end != '\0' || part < 0) {
			error_reply(req, 400, "390400", "partition must be a non-negative integer. (fake code)", NULL);
			return;
		}
		counter_inc("partitions");
	} else
		counter_inc("polls");
	f = faults_take(part >= 1 ? K_PARTITION : K_STATUS, NULL, uri);
	if (f && f->kind == F_STATUS) {
		reply_json(req, f->status, fault_status_body(f, handle), f);
		goto out;
	}
	if ((st = store_find(handle)) == NULL) {
		snprintf(msg, sizeof(msg), "Statement %.64s not found", handle);
		reply_json(req, 422, handle_status_body(handle, "000709", "02000", msg), f);
		goto out;
	}
	if (part == 0 || st->cancelled || st->polls_left > 0 || st->status != 200) {
		reply_current(req, st, 1, f);
		goto out;
	}
	if ((size_t)part >= st->nparts) {
		snprintf(msg, sizeof(msg), "Partition %ld out of range: the result has %zu. (fake code)",
		    part, st->nparts);
		reply_json(req, 422, handle_status_body(handle, "390422", "22000", msg), f);
		goto out;
	}
	ae = in_header(req, "Accept-Encoding");
	if (ae && strcasestr(ae, "gzip"))
		reply_bytes(req, 200, "gzip", st->parts[part].gz, st->parts[part].gz_len, f);
	else
		reply_bytes(req, 200, NULL, st->parts[part].json, st->parts[part].json_len, f);
out:
	fault_free(f);
}

static void
cancel_statement(struct evhttp_request *req, const char *handle, const char *uri)
{
	struct fault *f = faults_take(K_CANCEL, NULL, uri);
	struct stmt *st;
	char msg[128];

	counter_inc("cancels");
	if (f && f->kind == F_STATUS) {
		reply_json(req, f->status, fault_status_body(f, handle), f);
	} else if ((st = store_find(handle)) == NULL) {
		snprintf(msg, sizeof(msg), "Statement %.64s not found", handle);
		reply_json(req, 422, handle_status_body(handle, "000709", "02000", msg), f);
	} else {
		/* only a statement still running is stopped; a finished result stays readable */
		if (st->polls_left > 0) {
			st->cancelled = 1;
			st->polls_left = 0;
		}
		reply_json(req, 200, handle_status_body(handle, "000604", "57014",
		    "SQL execution canceled"), f);
	}
	fault_free(f);
}

void
api_handle(struct evhttp_request *req, const char *path, const char *query)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *rest = path + strlen(STATEMENTS), *uri = evhttp_request_get_uri(req);
	struct evkeyvalq q;
	char handle[FS_UUID_LEN + 1];
	size_t hlen;

	counter_inc("requests");
	counter_user_agent(in_header(req, "User-Agent"));
	if (evhttp_parse_query_str(query ? query : "", &q) != 0) {
		error_reply(req, 400, "390400", "Malformed query string. (fake code)", NULL);
		return;
	}
	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (m != EVHTTP_REQ_POST)
			error_reply(req, 405, "390405", "Use POST to submit a statement. (fake code)", NULL);
		else if (check_request(req, 1) == 0)
			post_statement(req, &q, uri);
		goto out;
	}
	if (*rest != '/') {
		error_reply(req, 404, "390404", "Not found. (fake code)", NULL);
		goto out;
	}
	rest++;
	hlen = strcspn(rest, "/");
	if (hlen == 0 || hlen > FS_UUID_LEN) {
		/* unknown but well-formed-looking handles get 000709 below; this is garbage */
		error_reply(req, 404, "390404", "Not found. (fake code)", NULL);
		goto out;
	}
	memcpy(handle, rest, hlen);
	handle[hlen] = '\0';
	if (rest[hlen] == '\0') {
		if (m != EVHTTP_REQ_GET)
			error_reply(req, 405, "390405", "Use GET for a statement's status. (fake code)", NULL);
		else if (check_request(req, 0) == 0)
			get_statement(req, &q, handle, uri);
	} else if (strcmp(rest + hlen, "/cancel") == 0) {
		if (m != EVHTTP_REQ_POST)
			error_reply(req, 405, "390405", "Use POST to cancel. (fake code)", NULL);
		else if (check_request(req, 0) == 0)
			cancel_statement(req, handle, uri);
	} else
		error_reply(req, 404, "390404", "Not found. (fake code)", NULL);
out:
	evhttp_clear_headers(&q);
}
