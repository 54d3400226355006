/* The statement store: every executed statement by handle (and by requestId for
 * retry=true de-duplication), with its final response and its result partitions
 * pre-encoded. Bounded: beyond FS_MAX_HANDLES the oldest statement is forgotten,
 * after which its handle answers 422 000709 like an unknown one.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct stmt	*ring[FS_MAX_HANDLES];
static size_t		next_slot;

static void
stmt_free(struct stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nparts; i++) {
		free(st->parts[i].json);
		free(st->parts[i].gz);
	}
	free(st->parts);
	json_decref(st->final);
	free(st->request_id);
	free(st);
}

struct stmt *
store_new(const char *request_id)
{
	struct stmt *st = calloc(1, sizeof(*st));
	char rid[FS_UUID_LEN + 1];

	if (st == NULL)
		return NULL;
	uuid4(st->handle);
	if (request_id == NULL) {	/* the server assigns one when the client did not */
		uuid4(rid);
		request_id = rid;
	}
	st->request_id = strdup(request_id);
	if (st->request_id == NULL) {
		free(st);
		return NULL;
	}
	st->created_ms = now_ms();
	st->status = 200;
	stmt_free(ring[next_slot]);
	ring[next_slot] = st;
	next_slot = (next_slot + 1) % FS_MAX_HANDLES;
	return st;
}

struct stmt *
store_find(const char *handle)
{
	for (size_t i = 0; i < FS_MAX_HANDLES; i++)
		if (ring[i] && strcmp(ring[i]->handle, handle) == 0)
			return ring[i];
	return NULL;
}

struct stmt *
store_find_request(const char *request_id)
{
	/* newest first: walk backwards from the last slot written */
	for (size_t k = 1; k <= FS_MAX_HANDLES; k++) {
		struct stmt *st = ring[(next_slot + FS_MAX_HANDLES - k) % FS_MAX_HANDLES];

		if (st && strcmp(st->request_id, request_id) == 0)
			return st;
	}
	return NULL;
}

char *
status_url(const struct stmt *st, int with_request_id)
{
	char *u = NULL;

	if (with_request_id) {
		if (asprintf(&u, "/api/v2/statements/%s?requestId=%s", st->handle, st->request_id) < 0)
			u = NULL;
	} else if (asprintf(&u, "/api/v2/statements/%s", st->handle) < 0)
		u = NULL;
	return u;
}

static json_t *
slice(json_t *rows, size_t from, size_t to)
{
	json_t *a = json_array();

	for (size_t i = from; i < to && a; i++)
		json_array_append(a, json_array_get(rows, i));
	return a;
}

/* Splits rows into partitions of partition_rows: partition 0 goes inline in the
 * ResultSet, the others are encoded (plain and gzip) for GET ?partition=N. */
int
store_set_result(struct stmt *st, json_t *row_type, json_t *rows, int partition_rows)
{
	size_t n = json_array_size(rows), per = (size_t)partition_rows, np;
	json_t *info = json_array(), *meta, *first_data = NULL;
	char *url = status_url(st, 1);

	np = n == 0 ? 1 : (n + per - 1) / per;
	st->parts = calloc(np, sizeof(*st->parts));
	if (st->parts == NULL || info == NULL || url == NULL)
		goto fail;
	st->nparts = np;
	for (size_t p = 0; p < np; p++) {
		size_t from = p * per, to = from + per < n ? from + per : n;
		json_t *data = slice(rows, from, to), *body;
		char *text;
		json_t *pi;

		if (data == NULL)
			goto fail;
		/* uncompressedSize is the JSON text of the partition's rows */
		text = json_dumps(data, JSON_COMPACT);
		if (text == NULL) {
			json_decref(data);
			goto fail;
		}
		pi = json_pack("{s:I, s:I}", "rowCount", (json_int_t)(to - from),
		    "uncompressedSize", (json_int_t)strlen(text));
		free(text);
		if (p == 0) {
			first_data = data;
		} else {
			body = json_pack("{s:o}", "data", data);
			st->parts[p].json = body ? json_dumps(body, JSON_COMPACT) : NULL;
			json_decref(body);
			if (st->parts[p].json == NULL) {
				json_decref(pi);
				goto fail;
			}
			st->parts[p].json_len = strlen(st->parts[p].json);
			st->parts[p].gz = gzip_bytes(st->parts[p].json, st->parts[p].json_len,
			    &st->parts[p].gz_len);
			if (st->parts[p].gz == NULL) {
				json_decref(pi);
				goto fail;
			}
			json_object_set_new(pi, "compressedSize", json_integer((json_int_t)st->parts[p].gz_len));
		}
		json_array_append_new(info, pi);
	}
	meta = json_pack("{s:I, s:s, s:o, s:O}", "numRows", (json_int_t)n, "format", "jsonv2",
	    "partitionInfo", info, "rowType", row_type);
	info = NULL;
	st->final = json_pack("{s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
	    "resultSetMetaData", meta, "data", first_data, "code", "090001",
	    "statementStatusUrl", url, "requestId", st->request_id, "sqlState", "00000",
	    "statementHandle", st->handle, "message", "Statement executed successfully.",
	    "createdOn", (json_int_t)st->created_ms);
	first_data = NULL;
	free(url);
	st->status = 200;
	return st->final ? 0 : -1;
fail:
	json_decref(info);
	json_decref(first_data);
	free(url);
	return -1;
}

void
store_set_error(struct stmt *st, const struct sql_error *err)
{
	char *url = status_url(st, 1);

	st->status = 422;
	json_decref(st->final);
	st->final = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "code", err->code,
	    "sqlState", err->sql_state, "message", err->message, "statementHandle", st->handle,
	    "statementStatusUrl", url ? url : "", "createdOn", (json_int_t)st->created_ms);
	free(url);
}

void
store_free_all(void)
{
	for (size_t i = 0; i < FS_MAX_HANDLES; i++) {
		stmt_free(ring[i]);
		ring[i] = NULL;
	}
}
