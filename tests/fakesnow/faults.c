/* The fault queue behind POST /_fake/faults: validation of a fault spec, FIFO
 * matching against the next requests, and the Snowflake-shaped bodies of injected
 * HTTP statuses. How a taken fault changes the response is up to api.c/reply.c.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[F_NKINDS] = {
	"status", "delay", "reset", "truncate", "malformed", "bad_gzip", "numrows", "async"
};

static struct fault *queue;

void
fault_free(struct fault *f)
{
	if (f == NULL)
		return;
	free(f->match);
	free(f->code);
	free(f->message);
	free(f->sql_state);
	free(f);
}

static char *
opt_str(json_t *spec, const char *key)
{
	json_t *v = json_object_get(spec, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* Optional integer field within [lo, hi]; -2 when present but wrong. */
static long long
opt_int(json_t *spec, const char *key, long long def, long long lo, long long hi)
{
	json_t *v = json_object_get(spec, key);

	if (v == NULL || json_is_null(v))
		return def;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -2;
	return json_integer_value(v);
}

int
faults_add(json_t *spec, char *err, size_t errlen)
{
	struct fault *f, **tail;
	json_t *kind = json_object_get(spec, "kind");
	int k;
	long long v;

	if (!json_is_object(spec) || !json_is_string(kind)) {
		snprintf(err, errlen, "body must be an object with a string \"kind\"");
		return -1;
	}
	for (k = 0; k < F_NKINDS; k++)
		if (strcmp(json_string_value(kind), kind_names[k]) == 0)
			break;
	if (k == F_NKINDS) {
		snprintf(err, errlen, "unknown kind '%s'", json_string_value(kind));
		return -1;
	}
	for (const char *const *key = (const char *const[]){ "match", "code", "message",
	    "sql_state", NULL }; *key; key++) {
		json_t *sv = json_object_get(spec, *key);

		if (sv != NULL && !json_is_string(sv) && !json_is_null(sv)) {
			snprintf(err, errlen, "\"%s\" must be a string", *key);
			return -1;
		}
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->kind = (enum fault_kind)k;
#define INT_FIELD(dst, key, def, lo, hi) do {					\
		if ((v = opt_int(spec, key, def, lo, hi)) == -2) {		\
			snprintf(err, errlen, "\"%s\" must be an integer in [%lld, %lld]", \
			    key, (long long)(lo), (long long)(hi));		\
			fault_free(f);						\
			return -1;						\
		}								\
		dst = (int)v;							\
	} while (0)
	INT_FIELD(f->count, "count", 1, 1, 1000000);
	INT_FIELD(f->status, "status", 500, 100, 599);
	INT_FIELD(f->retry_after, "retry_after", -1, 0, 86400);
	INT_FIELD(f->ms, "ms", 1000, 0, 600000);
	INT_FIELD(f->polls, "polls", 2, 1, 1000);
#undef INT_FIELD
	f->execute = !json_is_false(json_object_get(spec, "execute"));
	f->rst = !json_is_false(json_object_get(spec, "rst"));
	f->match = opt_str(spec, "match");
	f->code = opt_str(spec, "code");
	f->message = opt_str(spec, "message");
	f->sql_state = opt_str(spec, "sql_state");
	for (tail = &queue; *tail; tail = &(*tail)->next)
		;
	*tail = f;
	return 0;
}

void
faults_clear(void)
{
	while (queue) {
		struct fault *f = queue;

		queue = f->next;
		fault_free(f);
	}
}

json_t *
faults_list(void)
{
	json_t *a = json_array();

	for (struct fault *f = queue; f; f = f->next)
		json_array_append_new(a, json_pack("{s:s, s:i, s:s?}", "kind", kind_names[f->kind],
		    "count", f->count, "match", f->match));
	return a;
}

static struct fault *
copy_one(const struct fault *f)
{
	struct fault *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *f;
	c->next = NULL;
	c->count = 1;
	c->match = f->match ? strdup(f->match) : NULL;
	c->code = f->code ? strdup(f->code) : NULL;
	c->message = f->message ? strdup(f->message) : NULL;
	c->sql_state = f->sql_state ? strdup(f->sql_state) : NULL;
	return c;
}

/* The first queued fault of an applicable kind whose match is a substring of the
 * statement or of the request URI; its count drops by one. Caller frees the copy. */
struct fault *
faults_take(unsigned kinds, const char *statement, const char *uri)
{
	struct fault **pp, *f, *c;

	for (pp = &queue; (f = *pp) != NULL; pp = &f->next) {
		if (!(kinds & FM(f->kind)))
			continue;
		if (f->match && *f->match && !(statement && strstr(statement, f->match)) &&
		    !(uri && strstr(uri, f->match)))
			continue;
		c = copy_one(f);
		if (--f->count == 0) {
			*pp = f->next;
			fault_free(f);
		}
		counter_inc("faults_fired");
		return c;
	}
	return NULL;
}

/* Bodies as Snowflake sends them for each status; "code"/"message"/"sql_state" in
 * the fault spec override. Codes marked (fake) are not Snowflake's. */
json_t *
fault_status_body(const struct fault *f, const char *handle)
{
	const char *code, *msg, *state = NULL;
	json_t *b;

	switch (f->status) {
	case 400: code = "390400"; msg = "Bad request (fake)."; break;
	case 401: code = "390144"; msg = "JWT token is invalid. [injected fault]"; break;
	case 403: code = "390403"; msg = "Forbidden (fake)."; break;
	case 404: code = "390404"; msg = "Not found (fake)."; break;
	case 408:
		code = "000630";
		msg = "Statement reached its statement or warehouse timeout of 60 second(s) and was canceled.";
		state = "57014";
		break;
	case 422:
		code = "002003";
		msg = "SQL compilation error:\nObject does not exist or not authorized. (injected fault)";
		state = "42S02";
		break;
	case 429: code = "390505"; msg = "Too many requests. Please retry later. (fake)"; break;
	case 500:
		code = "000603";
		msg = "SQL execution internal error: Processing aborted due to error 300002.";
		state = "XX000";
		break;
	case 503: code = "390503"; msg = "Service Unavailable (fake)."; break;
	case 504: code = "390504"; msg = "Gateway Timeout (fake)."; break;
	default: code = "390000"; msg = "Injected HTTP status (fake)."; break;
	}
	if (f->code)
		code = f->code;
	if (f->message)
		msg = f->message;
	if (f->sql_state)
		state = f->sql_state;
	b = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (b && state)
		json_object_set_new(b, "sqlState", json_string(state));
	if (b && handle && (f->status == 408 || f->status == 422)) {
		char url[80];

		snprintf(url, sizeof(url), "/api/v2/statements/%s", handle);
		json_object_set_new(b, "statementHandle", json_string(handle));
		json_object_set_new(b, "statementStatusUrl", json_string(url));
	}
	return b;
}
