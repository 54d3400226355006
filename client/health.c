/*
 * health.c — the health verb, a check for monitoring systems: one line on stdout and the
 * monitoring-plugin exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) instead of the
 * exit codes of the other verbs, its usage errors included.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tpcctl.h"

/* health follows the monitoring-plugin convention for its exit status and output */
enum plugin_code { PLUGIN_OK, PLUGIN_WARNING, PLUGIN_CRITICAL, PLUGIN_UNKNOWN };

static const char *const plugin_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)", or -1. */
static int64_t
health_parse_utc(const char *s)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* Prints the verdict (a line, or JSON with detail's members) and sets the exit status. */
static int health_done(struct ctx *, int, json_t *, struct err *, const char *, ...)
    __attribute__((format(printf, 5, 6)));
static int
health_done(struct ctx *c, int code, json_t *detail, struct err *e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->fmt == OUT_JSON) {
		char *perf = strstr(msg, " | ");

		o = json_pack("{s:s, s:i}", "status", plugin_names[code], "exit", code);
		if (perf != NULL)
			*perf = '\0';
		json_object_set_new(o, "message", json_string(msg));
		if (perf != NULL)
			json_object_set_new(o, "perfdata", json_string(perf + 3));
		if (detail != NULL)
			json_object_update(o, detail);
		render_json(o);
		json_decref(o);
	} else
		printf("%s - %s\n", plugin_names[code], msg);
	json_decref(detail);
	e->code = code;
	return code == PLUGIN_OK ? 0 : -2;
}

/* he->msg with what was asked in front: "/v1/status: 401: ...". */
static void
health_prefix(struct err *he, const char *what)
{
	char msg[sizeof he->msg];

	snprintf(msg, sizeof msg, "%s%s", what, he->msg);
	memcpy(he->msg, msg, sizeof msg);
}

/*
 * GET /healthz, then /v1/status into *st (caller json_decref's). On -1, *code is the
 * verdict and he->msg says why: UNKNOWN when the check cannot ask (no connection, the
 * credential refused, an answer it cannot read: the check is broken, not necessarily the
 * service), CRITICAL when the daemon answers that it cannot serve (/healthz not 200, 503
 * before the first snapshot; or /v1/status failing on the server's side).
 */
static int
health_fetch(struct ctx *c, json_t **st, int *code, struct err *he)
{
	struct resp r;
	int rc;

	*st = NULL;
	*code = PLUGIN_UNKNOWN;
	if (api_request(c, "GET", "/healthz", "application/json", NULL, 0, &r, he) == -1)
		return -1;
	if (r.status != 200) {
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "message"));
		size_t w;

		if (m != NULL && json_object_get(j, "error") == NULL) {
			char *d = term_text(m, &w);

			snprintf(he->msg, sizeof he->msg, "%ld: %s", r.status, d);
			free(d);
		} else
			api_error(&r, he);
		*code = r.status == 401 || r.status == 403 ? PLUGIN_UNKNOWN : PLUGIN_CRITICAL;
		health_prefix(he, "/healthz ");
		json_decref(j);
		api_resp_free(&r);
		return -1;
	}
	api_resp_free(&r);
	if (api_request(c, "GET", "/v1/status", "application/json", NULL, 0, &r, he) == -1) {
		health_prefix(he, "/v1/status: ");
		return -1;
	}
	if (r.status < 200 || r.status > 299) {
		if (r.status == 401)
			api_unauthorized(c, he);
		else
			api_error(&r, he);
		if (r.status != 401 && r.status != 403)
			*code = PLUGIN_CRITICAL;
		health_prefix(he, "/v1/status: ");
		api_resp_free(&r);
		return -1;
	}
	if ((rc = body_parse_json(&r, st, he)) == -1)
		health_prefix(he, "/v1/status: ");
	api_resp_free(&r);
	return rc;
}

/*
 * OK when /healthz is 200 and the active snapshot is younger than --warning (default:
 * twice the refresh interval, estimated as next_refresh_at - created_at; else 3600 s);
 * WARNING when older; CRITICAL when the daemon says it cannot serve (health_fetch), the
 * last refresh failed, or the snapshot is older than --critical; UNKNOWN when the check
 * cannot ask (unreachable, the credential refused) or the answer cannot be judged.
 */
int
health_run(struct ctx *c, char **args, struct err *e)
{
	const json_t *lr, *v, *snap;
	json_t *st, *detail;
	struct err he = { 0 };
	int64_t created, next, age, warn, crit = c->critical;
	const char *colour, *res;
	json_int_t gen;
	char perf[160], note[64], *d;
	size_t w;
	int code;

	(void)args;
	if (c->timeout >= 0)
		c->http_timeout = c->timeout > 0 ? c->timeout : 1;
	else
		c->http_timeout = 10;
	if (health_fetch(c, &st, &code, &he) == -1)
		return health_done(c, code, NULL, e, "%s", he.msg);
	/* the active snapshot: "snapshot": {colour, generation, created_at}, or top level */
	if (!json_is_object(snap = json_object_get(st, "snapshot")))
		snap = st;
	if (json_is_integer(v = json_object_get(snap, "created_at_unix")))
		created = json_integer_value(v);
	else if ((created = health_parse_utc(json_string_value(json_object_get(snap,
	    "created_at")))) < 0)
		created = health_parse_utc(json_string_value(json_object_get(st, "created_at")));
	if ((colour = json_string_value(json_object_get(st, "active"))) == NULL)
		colour = json_string_value(json_object_get(snap, "colour"));
	if (!json_is_integer(v = json_object_get(st, "generation")))
		v = json_object_get(snap, "generation");
	gen = json_integer_value(v);
	if (created < 0 || colour == NULL) {
		json_decref(st);
		return health_done(c, PLUGIN_UNKNOWN, NULL, e, "/v1/status names no active "
		    "snapshot with a created_at");
	}
	if (c->warning >= 0)
		warn = c->warning;
	else if ((next = health_parse_utc(json_string_value(json_object_get(st,
	    "next_refresh_at")))) > created)
		warn = 2 * (next - created);
	else
		warn = 3600;
	age = (int64_t)time(NULL) - created;
	if (age < 0)
		age = 0;
	lr = json_object_get(st, "last_refresh");
	res = json_string_value(json_object_get(lr, "result"));
	snprintf(note, sizeof note, "%s%s",
	    json_is_true(json_object_get(st, "pinned")) ? ", pinned" : "",
	    json_is_true(json_object_get(st, "refreshing")) ? ", refreshing" : "");
	if (crit >= 0)
		snprintf(perf, sizeof perf, "age=%" PRId64 "s;%" PRId64 ";%" PRId64 ";0; "
		    "generation=%" JSON_INTEGER_FORMAT, age, warn, crit, gen);
	else
		snprintf(perf, sizeof perf, "age=%" PRId64 "s;%" PRId64 ";;0; generation=%"
		    JSON_INTEGER_FORMAT, age, warn, gen);
	detail = json_pack("{s:s, s:I, s:I, s:I, s:o, s:b, s:b, s:o}", "active", colour,
	    "generation", gen, "age_seconds", (json_int_t)age, "warning_seconds",
	    (json_int_t)warn, "critical_seconds", crit >= 0 ? json_integer(crit) : json_null(),
	    "pinned", json_is_true(json_object_get(st, "pinned")),
	    "refreshing", json_is_true(json_object_get(st, "refreshing")),
	    "last_refresh", res ? json_string(res) : json_null());
	if (res != NULL && strcmp(res, "ok") != 0) {
		const char *err = json_string_value(json_object_get(lr, "error"));

		d = term_text(err ? err : "no error message", &w);
		code = health_done(c, PLUGIN_CRITICAL, detail, e, "last refresh failed: %s "
		    "(serving %s generation %" JSON_INTEGER_FORMAT ", %" PRId64 " s old%s) | %s",
		    d, colour, gen, age, note, perf);
		free(d);
	} else if (crit >= 0 && age >= crit)
		code = health_done(c, PLUGIN_CRITICAL, detail, e, "snapshot is %" PRId64 " s old "
		    "(critical at %" PRId64 " s; %s generation %" JSON_INTEGER_FORMAT "%s) | %s",
		    age, crit, colour, gen, note, perf);
	else if (age >= warn)
		code = health_done(c, PLUGIN_WARNING, detail, e, "snapshot is %" PRId64 " s old "
		    "(warning at %" PRId64 " s; %s generation %" JSON_INTEGER_FORMAT "%s) | %s",
		    age, warn, colour, gen, note, perf);
	else
		code = health_done(c, PLUGIN_OK, detail, e, "%s generation %" JSON_INTEGER_FORMAT
		    ", snapshot %" PRId64 " s old%s | %s", colour, gen, age, note, perf);
	json_decref(st);
	return code;
}

/* health's usage errors are UNKNOWN, on stdout, for the monitoring system to show. */
int
health_usage(struct err *e)
{
	printf("%s - %s\n", plugin_names[PLUGIN_UNKNOWN], e->msg);
	e->code = PLUGIN_UNKNOWN;
	return -2;
}
