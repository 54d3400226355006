/*
 * body.c — response bodies: JSON (jansson) and msgpack (msgpack-c) values as display
 * text, msgpack converted to JSON, doubles printed so that they read back exactly.
 * Nothing here talks to the server or prints.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

/*
 * The %g precision that reads back as d. 15 digits suffice for most values and then print
 * the shortest form (any decimal of at most DBL_DIG digits survives the trip, and %g drops
 * the trailing zeros: 0.1 stays 0.1); only the rest need 16 or 17.
 */
static int
body_double_digits(double d)
{
	char buf[40];
	int p;

	for (p = 15; p < 17; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

static char *
body_double_text(double d)
{
	if (isnan(d))
		return xstrdup("NaN");
	if (isinf(d))
		return xstrdup(d < 0 ? "-Infinity" : "Infinity");
	return xasprintf("%.*g", body_double_digits(d), d);
}

int
body_json_digits(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int m = 15, d;

	switch (json_typeof(j)) {
	case JSON_REAL:
		return body_double_digits(json_real_value(j));
	case JSON_ARRAY:
		json_array_foreach(j, i, v) {
			if ((d = body_json_digits(v)) > m)
				m = d;
		}
		return m;
	case JSON_OBJECT:
		json_object_foreach(j, key, v) {
			if ((d = body_json_digits(v)) > m)
				m = d;
		}
		return m;
	default:
		return m;
	}
}

/* A JSON scalar as display text; NULL for null or missing. */
char *
body_json_text(const json_t *j, bool *num)
{
	char *s;

	*num = false;
	if (j == NULL)
		return NULL;
	switch (json_typeof(j)) {
	case JSON_STRING:
		return xstrndup(json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		*num = true;
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
	case JSON_REAL:
		*num = true;
		return body_double_text(json_real_value(j));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return NULL;
	default:
		if ((s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			fatal("out of memory");
		return s;
	}
}

int
body_parse_json(const struct resp *r, json_t **out, struct err *e)
{
	json_error_t je;

	if ((*out = json_loadb(r->body, r->len, 0, &je)) == NULL)
		return fail(e, EXIT_SERVER, "malformed response from server (%s): %s",
		    r->ctype, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(e, EXIT_SERVER, "malformed response from server: not a JSON object");
	}
	return 0;
}

const msgpack_object *
body_mp_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

/* A scalar cell as display text; NULL for nil. */
int
body_mp_text(const msgpack_object *o, char **text, bool *num, struct err *e)
{
	*num = false;
	*text = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		*text = xstrdup(o->via.boolean ? "true" : "false");
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*num = true;
		*text = xasprintf("%" PRIu64, o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*num = true;
		*text = xasprintf("%" PRId64, o->via.i64);
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*num = true;
		*text = body_double_text(o->via.f64);
		return 0;
	case MSGPACK_OBJECT_STR:
		*text = xstrndup(o->via.str.ptr, o->via.str.size);
		return 0;
	default:
		return fail(e, EXIT_SERVER, "malformed response from server: msgpack type %d in a cell",
		    (int)o->type);
	}
}

int
body_mp_to_json(const msgpack_object *o, json_t **out, struct err *e)
{
	json_t *j = NULL, *v;
	uint32_t i;

	*out = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		j = json_null();
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		j = json_boolean(o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "integer %" PRIu64 " beyond int64", o->via.u64);
		j = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		j = json_integer((json_int_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or Infinity */
		j = isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
		break;
	case MSGPACK_OBJECT_STR:
		if ((j = json_stringn(o->via.str.ptr, o->via.str.size)) == NULL)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "a string is not UTF-8");
		return *out = j, 0;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++) {
			if (body_mp_to_json(&o->via.array.ptr[i], &v, e) == -1) {
				json_decref(j);
				return -1;
			}
			json_array_append_new(j, v);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR) {
				json_decref(j);
				return fail(e, EXIT_SERVER, "malformed response from server: "
				    "a map key is not a string");
			}
			if (body_mp_to_json(&o->via.map.ptr[i].val, &v, e) == -1) {
				json_decref(j);
				return -1;
			}
			if (json_object_setn_new(j, k->via.str.ptr, k->via.str.size, v) == -1) {
				json_decref(j);
				return fail(e, EXIT_SERVER, "malformed response from server: "
				    "a map key is not UTF-8");
			}
		}
		break;
	default:
		return fail(e, EXIT_SERVER, "malformed response from server: msgpack type %d",
		    (int)o->type);
	}
	if (j == NULL)
		fatal("out of memory");
	*out = j;
	return 0;
}
