/*
 * http_head.c — the head of a data response, formatted as little as possible: the values
 * that hold for a whole snapshot (Last-Modified, X-Tpcd-Generation, X-Tpcd-Data-Time)
 * are formatted once per thread and aggregate until the snapshot changes, those that
 * change each second (Age, X-Tpcd-Staleness, Date) once a second. Per-thread caches, no
 * locks, no allocation of its own; it reads only what http_data.c hands it and never
 * touches the store or the record format (record.c's).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

#define HEAD_SLOTS	256	/* direct-mapped by (brand, aggregate) */

/* The formatted values of one (brand, aggregate) as last served on this thread. */
struct head_slot {
	/* the inputs the strings were made from: equal inputs, equal strings */
	int		 used;
	uint64_t	 generation;
	int64_t		 refreshed_at;
	int64_t		 data_time;
	char		 last_modified[40];
	char		 gen[24];
	char		 data_time_s[32];
	/* per second */
	int64_t		 second;
	char		 age[24];
	char		 staleness[24];
};

static __thread struct head_slot head_slots[HEAD_SLOTS];
static __thread int64_t date_second = -1;
static __thread char date_s[40];

static void
http_date(int64_t t, char out[40])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static struct head_slot *
head_slot(const struct http_head *h, int64_t now)
{
	struct head_slot *s = &head_slots[(h->brand_ix * 31 + h->agg_ix) % HEAD_SLOTS];

	if (!s->used || s->generation != h->generation || s->refreshed_at != h->refreshed_at ||
	    s->data_time != h->data_time) {
		s->used = 1;
		s->generation = h->generation;
		s->refreshed_at = h->refreshed_at;
		s->data_time = h->data_time;
		http_date(h->refreshed_at, s->last_modified);
		snprintf(s->gen, sizeof s->gen, "%llu", (unsigned long long)h->generation);
		if (h->data_time > 0)
			clock_iso8601(h->data_time, s->data_time_s);
		s->second = -1;
	}
	if (s->second != now) {
		s->second = now;
		snprintf(s->age, sizeof s->age, "%lld", (long long)(now > h->refreshed_at ?
		    now - h->refreshed_at : 0));
		snprintf(s->staleness, sizeof s->staleness, "%lld", (long long)(now >
		    h->data_time ? now - h->data_time : 0));
	}
	return s;
}

/*
 * The head of a data response: the cache and validation headers, how old the data is
 * (when known), generation and colour; unless not_modified (a 304), Content-Type and
 * Content-Encoding; then Date, from this second's string, so that evhttp does not format
 * its own (it adds one only when none is there).
 *
 * no-cache: a browser keeps the body but asks every time, and a 304 answers cheaply;
 * a max-age would let it show data a rollback or an on-demand refresh has replaced.
 */
void
http_head_data(struct evkeyvalq *out, const struct http_head *h, int not_modified)
{
	int64_t now = time(NULL);
	struct head_slot *s = head_slot(h, now);

	evhttp_add_header(out, "ETag", h->etag);
	evhttp_add_header(out, "Cache-Control", "private, no-cache");
	evhttp_add_header(out, "Last-Modified", s->last_modified);
	evhttp_add_header(out, "Age", s->age);
	evhttp_add_header(out, "Vary", "Accept, Accept-Encoding");
	if (h->data_time > 0) {
		evhttp_add_header(out, "X-Tpcd-Data-Time", s->data_time_s);
		evhttp_add_header(out, "X-Tpcd-Staleness", s->staleness);
	}
	evhttp_add_header(out, "X-Tpcd-Generation", s->gen);
	evhttp_add_header(out, "X-Tpcd-Colour", h->colour);
	if (!not_modified) {
		evhttp_add_header(out, "Content-Type", h->content_type);
		if (h->gzip)
			evhttp_add_header(out, "Content-Encoding", "gzip");
	}
	if (date_second != now) {
		http_date(now, date_s);
		date_second = now;
	}
	evhttp_add_header(out, "Date", date_s);
}
