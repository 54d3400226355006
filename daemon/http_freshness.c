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
	struct refresh_status st;
	int64_t t;

	refresh_status(rf, &st);
	t = st.runs > 0 && st.last_ok ? st.last_finished_ms / 1000 : 0;
	refresh_status_free(&st);
	return t;
}

void
http_freshness(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	struct store_view *v = store_view_begin(r->t->rd);
	const char *colour = v ? store_view_colour(v) : NULL;
	struct manifest m;
	int have = colour != NULL && store_view_manifest(v, colour, &m) == 0;
	uint64_t gen = colour ? store_view_generation(v) : 0;
	int64_t now = time(NULL), checked = freshness_checked(r->t->rt->rf), created, age;
	char cts[32], kts[32], dts[32];

	store_view_release(v);
	if (!have) {
		http_reply_error(r->req, 503, "not_ready", "no snapshot published yet");
		return;
	}
	created = m.created_at;
	manifest_free(&m);
	if (checked < created)
		checked = created;
	age = now > checked ? now - checked : 0;
	clock_iso8601(created, cts);
	clock_iso8601(checked, kts);
	clock_iso8601(refresh_next_due(r->t->rt->rf), dts);
	http_reply_json(r->req, 200, "OK", json_pack("{s:I, s:s, s:s, s:I, s:i, s:s, s:b}",
	    "generation", (json_int_t)gen, "created_at", cts, "checked_at", kts, "age_s",
	    (json_int_t)age, "refresh_interval", cf->refresh_interval, "next_refresh_at", dts,
	    "stale", age > 2 * (int64_t)cf->refresh_interval));
}
