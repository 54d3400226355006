/*
 * http_freshness.c — GET /v1/freshness: how current the live data is, for a page's
 * freshness line and its polling period: the snapshot's generation and creation time,
 * when a refresh last confirmed the data (one that found nothing new publishes nothing),
 * the age since then, the refresh interval, when the next refresh is due, and "stale"
 * once that age passes two intervals. Names no brand; reads, never changes anything.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* When this instance's last refresh succeeded (unix seconds), or 0. */
static int64_t
freshness_checked(struct refresher *rf)
{
	json_t *st = refresh_status(rf), *last = json_object_get(st, "last_refresh");
	const char *res = json_string_value(json_object_get(last, "result"));
	const char *fin = json_string_value(json_object_get(last, "finished_at"));
	struct tm tm;
	int64_t t = 0;

	memset(&tm, 0, sizeof tm);
	if (res != NULL && strcmp(res, "ok") == 0 && fin != NULL &&
	    strptime(fin, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL)
		t = (int64_t)timegm(&tm);
	json_decref(st);
	return t;
}

void
http_freshness(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	struct store_view *v = store_view_begin(r->t->rd);
	const char *colour = v ? store_view_colour(v) : NULL;
	char *m = colour ? store_view_manifest(v, colour) : NULL;
	json_t *mj = m ? json_loads(m, 0, NULL) : NULL;
	int64_t created = json_integer_value(json_object_get(mj, "created_at_unix"));
	uint64_t gen = colour ? store_view_generation(v) : 0;
	int64_t now = time(NULL), checked = freshness_checked(r->t->rt->rf), age;
	char cts[32], kts[32], dts[32];

	store_view_release(v);
	free(m);
	json_decref(mj);
	if (mj == NULL) {
		http_error(r->req, 503, "not_ready", "no snapshot published yet");
		return;
	}
	if (checked < created)
		checked = created;
	age = now > checked ? now - checked : 0;
	iso8601(created, cts);
	iso8601(checked, kts);
	iso8601(refresh_next_due(r->t->rt->rf), dts);
	http_send_json(r->req, 200, "OK", json_pack("{s:I, s:s, s:s, s:I, s:i, s:s, s:b}",
	    "generation", (json_int_t)gen, "created_at", cts, "checked_at", kts, "age_s",
	    (json_int_t)age, "refresh_interval", cf->refresh_interval, "next_refresh_at", dts,
	    "stale", age > 2 * (int64_t)cf->refresh_interval));
}
