/*
 * manifest.c — the manifest: what one snapshot (one colour) holds, written beside it in
 * the store. refresh_cycle.c builds it, store_pub.c writes and checks it, the readers
 * (status, snapshots, swap, metrics, the start-up schedule) read it here and nowhere
 * else. This file knows the JSON layout and nothing of LMDB or HTTP; a manifest that
 * does not have that layout is refused whole, never read half.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tpcd.h"

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* An empty manifest for one publish; colour and source are copied. */
void
manifest_init(struct manifest *m, uint64_t generation, const char *colour,
    int64_t created_at, const char *source)
{
	memset(m, 0, sizeof *m);
	m->generation = generation;
	m->colour = xstrdup(colour ? colour : "");
	m->created_at = created_at;
	m->source = xstrdup(source ? source : "");
}

/* Appends one record's entry; its strings are copied (the caller keeps e's). */
void
manifest_add(struct manifest *m, const struct manifest_entry *e)
{
	struct manifest_entry *n;

	if (m->nentries == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->entries = xreallocarray(m->entries, m->cap, sizeof *m->entries);
	}
	n = &m->entries[m->nentries++];
	*n = *e;
	n->brand = xstrdup(e->brand);
	n->aggregate = xstrdup(e->aggregate);
	n->error = dup_or_null(e->error);
	n->data_ts = dup_or_null(e->data_ts);
	n->handle = dup_or_null(e->handle);
}

/* The entry of brand/agg, or NULL. */
const struct manifest_entry *
manifest_find(const struct manifest *m, const char *brand, const char *agg)
{
	for (size_t i = 0; m != NULL && i < m->nentries; i++)
		if (strcmp(m->entries[i].brand, brand) == 0 &&
		    strcmp(m->entries[i].aggregate, agg) == 0)
			return &m->entries[i];
	return NULL;
}

/* The manifest as a JSON object (a new reference): the layout the store holds. */
struct json_t *
manifest_json(const struct manifest *m)
{
	json_t *list = json_array();
	char ts[32];

	for (size_t i = 0; i < m->nentries; i++) {
		const struct manifest_entry *e = &m->entries[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:s?, "
		    "s:s?, s:s?}", "brand", e->brand, "aggregate", e->aggregate, "ok", e->ok,
		    "rows", (json_int_t)e->rows, "generation", (json_int_t)e->generation,
		    "duration_ms", (json_int_t)e->duration_ms, "error", e->error,
		    "data_timestamp", e->data_ts, "statement_handle", e->handle);
		if (e->data_time > 0) {
			clock_iso8601(e->data_time, ts);
			json_object_set_new(o, "data_time", json_string(ts));
			json_object_set_new(o, "data_time_unix", json_integer(e->data_time));
		}
		if (e->point_ms > 0) {
			char ms[40];
			clock_iso8601(e->point_ms / 1000, ts);
			/* the instant to the millisecond: "2026-11-29T08:00:00.123Z" */
			snprintf(ms, sizeof ms, "%.19s.%03dZ", ts, (int)(e->point_ms % 1000));
			json_object_set_new(o, "point_in_time", json_string(ms));
			json_object_set_new(o, "point_in_time_unix_ms", json_integer(e->point_ms));
		}
		json_array_append_new(list, o);
	}
	clock_iso8601(m->created_at, ts);
	json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:o}", "generation",
	    (json_int_t)m->generation, "colour", m->colour, "created_at", ts,
	    "created_at_unix", (json_int_t)m->created_at, "source", m->source, "duration_ms",
	    (json_int_t)m->duration_ms, "aggregates", list);
	if (m->guards != NULL) {
		json_t *failed = json_array();
		for (size_t i = 0; i < m->nfailures; i++) {
			const struct guard_failure *f = &m->failures[i];
			json_array_append_new(failed, json_pack("{s:s, s:s, s:s?, s:s}", "check",
			    f->check, "brand", f->brand, "aggregate", f->aggregate, "message",
			    f->message));
		}
		json_object_set_new(j, "guards", json_pack("{s:s, s:o}", "result", m->guards,
		    "failed", failed));
	}
	return j;
}

/* Appends one failed guard; its strings are copied. */
void
manifest_add_failure(struct manifest *m, const struct guard_failure *f)
{
	struct guard_failure *n;

	m->failures = xreallocarray(m->failures, m->nfailures + 1, sizeof *m->failures);
	n = &m->failures[m->nfailures++];
	n->check = xstrdup(f->check);
	n->brand = xstrdup(f->brand);
	n->aggregate = dup_or_null(f->aggregate);
	n->message = xstrdup(f->message);
}

/*
 * An ISO 8601 time ("2026-11-25T21:00:00[.fff][Z|+09:00]", or a space for the T; no
 * zone is UTC) as unix seconds; 0 when it does not read.
 */
int64_t
manifest_data_time(const char *iso)
{
	struct tm tm;
	const char *p;
	int64_t t;
	int off = 0, n = 0;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || sscanf(iso, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	p = iso + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return 0;
		off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != '\0')
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm);
	return t - off;
}

/* The manifest as the compact JSON text the store keeps; caller frees. */
char *
manifest_encode(const struct manifest *m)
{
	json_t *j = manifest_json(m);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	if (s == NULL)
		fatal("manifest: cannot encode");
	return s;
}

/* An optional string: absent or null is NULL (0); anything but a string is refused. */
static int
opt_string(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = (char *)(uintptr_t)json_string_value(v);
	return 0;
}

static int
read_entry(struct manifest *m, json_t *o, size_t i, char **cause)
{
	struct manifest_entry e;
	json_int_t rows, gen, dur;
	json_error_t jerr;
	const char *why = NULL;

	memset(&e, 0, sizeof e);
	if (json_unpack_ex(o, &jerr, 0, "{s:s, s:s, s:b, s:I, s:I, s:I}", "brand", &e.brand,
	    "aggregate", &e.aggregate, "ok", &e.ok, "rows", &rows, "generation", &gen,
	    "duration_ms", &dur) != 0)
		why = jerr.text;
	else if (rows < 0 || gen < 0)
		why = "negative count";
	else if (opt_string(o, "error", &e.error) != 0 ||
	    opt_string(o, "data_timestamp", &e.data_ts) != 0 ||
	    opt_string(o, "statement_handle", &e.handle) != 0)
		why = "error, data_timestamp or statement_handle not a string";
	if (why != NULL) {
		*cause = xasprintf("manifest: aggregate %zu: %s", i, why);
		return -1;
	}
	e.rows = (uint64_t)rows;
	e.generation = (uint64_t)gen;
	e.duration_ms = dur;
	if (json_is_integer(json_object_get(o, "data_time_unix")))
		e.data_time = json_integer_value(json_object_get(o, "data_time_unix"));
	/* absent from manifests written before the point in time was recorded */
	if (json_is_integer(json_object_get(o, "point_in_time_unix_ms")))
		e.point_ms = json_integer_value(json_object_get(o, "point_in_time_unix_ms"));
	manifest_add(m, &e);		/* copies the strings out of o */
	return 0;
}

/* The guards' verdict, when the manifest has one. */
static int
read_guards(struct manifest *m, json_t *g, char **cause)
{
	json_t *failed, *o;
	const char *result;
	size_t i;

	if (g == NULL || json_is_null(g))
		return 0;
	if (json_unpack(g, "{s:s, s:o}", "result", &result, "failed", &failed) != 0 ||
	    !json_is_array(failed)) {
		*cause = xstrdup("manifest: guards: no result and failed list");
		return -1;
	}
	m->guards = xstrdup(result);
	json_array_foreach(failed, i, o) {
		struct guard_failure f = { NULL, NULL, NULL, NULL };
		if (json_unpack(o, "{s:s, s:s, s:s}", "check", &f.check, "brand", &f.brand,
		    "message", &f.message) != 0 ||
		    opt_string(o, "aggregate", &f.aggregate) != 0) {
			*cause = xasprintf("manifest: guards: failure %zu malformed", i);
			return -1;
		}
		manifest_add_failure(m, &f);
	}
	return 0;
}

/*
 * Reads the text of a manifest into m (which the caller frees with manifest_free, also
 * on failure). Returns 0, or -1 and *cause for anything that is not a whole manifest.
 */
int
manifest_read(struct manifest *m, const char *text, size_t len, char **cause)
{
	json_t *j, *list, *o;
	json_int_t gen, created, dur;
	const char *colour, *created_iso, *source;
	json_error_t jerr;
	size_t i;
	int rc = -1;

	memset(m, 0, sizeof *m);
	if ((j = json_loadb(text, len, 0, &jerr)) == NULL) {
		*cause = xasprintf("manifest: %s", jerr.text);
		return -1;
	}
	if (json_unpack_ex(j, &jerr, 0, "{s:I, s:s, s:s, s:I, s:s, s:I, s:o}", "generation",
	    &gen, "colour", &colour, "created_at", &created_iso, "created_at_unix", &created,
	    "source", &source, "duration_ms", &dur, "aggregates", &list) != 0) {
		*cause = xasprintf("manifest: %s", jerr.text);
		goto out;
	}
	if (gen < 0 || !json_is_array(list)) {
		*cause = xstrdup(gen < 0 ? "manifest: negative generation" :
		    "manifest: aggregates is not a list");
		goto out;
	}
	manifest_init(m, (uint64_t)gen, colour, created, source);
	m->duration_ms = dur;
	json_array_foreach(list, i, o)
		if (read_entry(m, o, i, cause) != 0)
			goto out;
	if (read_guards(m, json_object_get(j, "guards"), cause) != 0)
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* Frees what m holds (not m itself); m may be NULL or empty. */
void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nentries; i++) {
		free(m->entries[i].brand);
		free(m->entries[i].aggregate);
		free(m->entries[i].error);
		free(m->entries[i].data_ts);
		free(m->entries[i].handle);
	}
	for (size_t i = 0; i < m->nfailures; i++)
		guard_failure_free(&m->failures[i]);
	free(m->failures);
	free(m->guards);
	free(m->entries);
	free(m->colour);
	free(m->source);
	memset(m, 0, sizeof *m);
}
