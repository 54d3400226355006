/* The test-control surface under /_fake/ (no auth): fault queue management and the
 * counters that tests assert on. The counters live in one JSON object so that
 * GET /_fake/counters is a plain dump of it.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#define MAX_TEXTS	200	/* statements_text keeps the most recent ones */
#define MAX_KEYS	10000	/* by_request_id / query_tags stop growing here */
#define MAX_AGENTS	64

static json_t *counters;

static json_t *
fresh_counters(void)
{
	json_t *c = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:{}, s:{}, s:[], s:[]}",
	    "statements", 0, "requests", 0, "polls", 0, "partitions", 0, "cancels", 0,
	    "retries", 0, "dedups", 0, "auth_failures", 0, "faults_fired", 0,
	    "by_request_id", "query_tags", "statements_text", "user_agents");

	/* the bill (billing.c) */
	json_object_set_new(c, "dt_refreshes", json_integer(0));	/* timetravel.c */
	json_object_set_new(c, "warehouse_statements", json_integer(0));
	json_object_set_new(c, "warehouse_us", json_integer(0));
	json_object_set_new(c, "result_cache_hits", json_integer(0));
	json_object_set_new(c, "cloud_services_statements", json_integer(0));
	json_object_set_new(c, "statements_by_kind", json_object());
	json_object_set_new(c, "warehouse_us_by_tag", json_object());
	return c;
}

void
counters_init(void)
{
	json_decref(counters);
	counters = fresh_counters();
}

void
counters_free(void)
{
	json_decref(counters);
	counters = NULL;
}

void
counter_inc(const char *name)
{
	counter_add(name, 1);
}

void
counter_add(const char *name, long long n)
{
	json_t *v = json_object_get(counters, name);

	json_object_set_new(counters, name, json_integer(json_integer_value(v) + n));
}

/* Adds n to map[key]. */
void
counter_key_add(const char *map, const char *key, long long n)
{
	json_t *m = json_object_get(counters, map), *v;

	if (m == NULL || key == NULL)
		return;
	v = json_object_get(m, key);
	if (v == NULL && json_object_size(m) >= MAX_KEYS)
		return;
	json_object_set_new(m, key, json_integer(json_integer_value(v) + n));
}

void
counter_key(const char *map, const char *key)
{
	counter_key_add(map, key, 1);
}

void
counter_statement_text(const char *text)
{
	json_t *a = json_object_get(counters, "statements_text");

	json_array_append_new(a, json_string(text));
	while (json_array_size(a) > MAX_TEXTS)
		json_array_remove(a, 0);
}

void
counter_user_agent(const char *ua)
{
	json_t *a = json_object_get(counters, "user_agents");
	size_t i;
	json_t *v;

	if (ua == NULL || json_array_size(a) >= MAX_AGENTS)
		return;
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), ua) == 0)
			return;
	json_array_append_new(a, json_string(ua));
}

static void
answer(struct evhttp_request *req, int status, json_t *body)
{
	reply_json(req, status, body, NULL);
}

static json_t *
read_body(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const unsigned char *p = len ? evbuffer_pullup(in, (ev_ssize_t)len) : NULL;

	return p ? json_loadb((const char *)p, len, 0, NULL) : NULL;
}

void
control_handle(struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	char err[256];
	json_t *spec;

	if (strcmp(path, "/_fake/faults") == 0) {
		if (m == EVHTTP_REQ_POST) {
			spec = read_body(req);
			if (faults_add(spec, err, sizeof(err)) != 0) {
				json_decref(spec);
				answer(req, 400, json_pack("{s:s}", "error", err));
				return;
			}
			json_decref(spec);
			answer(req, 200, json_pack("{s:o}", "queued", faults_list()));
		} else if (m == EVHTTP_REQ_DELETE) {
			faults_clear();
			answer(req, 200, json_pack("{s:[]}", "queued"));
		} else if (m == EVHTTP_REQ_GET) {
			answer(req, 200, json_pack("{s:o}", "queued", faults_list()));
		} else
			answer(req, 405, json_pack("{s:s}", "error", "POST, GET or DELETE"));
	} else if (strcmp(path, "/_fake/refreshes") == 0) {
		if (m == EVHTTP_REQ_POST) {
			spec = read_body(req);
			if (tt_queue(spec, err, sizeof(err)) != 0) {
				json_decref(spec);
				answer(req, 400, json_pack("{s:s}", "error", err));
				return;
			}
			json_decref(spec);
			answer(req, 200, json_pack("{s:o}", "queued", tt_list()));
		} else if (m == EVHTTP_REQ_DELETE) {
			tt_clear();
			answer(req, 200, json_pack("{s:[]}", "queued"));
		} else if (m == EVHTTP_REQ_GET) {
			answer(req, 200, json_pack("{s:o}", "queued", tt_list()));
		} else
			answer(req, 405, json_pack("{s:s}", "error", "POST, GET or DELETE"));
	} else if (strcmp(path, "/_fake/counters") == 0 && m == EVHTTP_REQ_GET) {
		answer(req, 200, json_incref(counters));
	} else if (strcmp(path, "/_fake/counters/reset") == 0 && m == EVHTTP_REQ_POST) {
		counters_init();
		answer(req, 200, json_pack("{s:b}", "reset", 1));
	} else if (strcmp(path, "/_fake/health") == 0) {
		answer(req, 200, json_pack("{s:s, s:s}", "status", "ok", "iss", auth_expected_iss()));
	} else {
		answer(req, 404, json_pack("{s:s}", "error", "unknown /_fake/ endpoint"));
	}
}
