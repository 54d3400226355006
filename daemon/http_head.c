/*
 * http_head.c — the head of a data response, pre-built: the lines that hold for a whole
 * snapshot (ETag, Cache-Control, Last-Modified, Vary, X-Tpcd-Data-Time, generation,
 * colour) are formatted once per thread, aggregate and body variant until the snapshot
 * changes, those that change each second (Date, Age, X-Tpcd-Staleness) once a second.
 * Per-thread caches, no locks; it reads only what http_data.c hands it and never touches
 * the store or the record format (record.c's).
 *
 * Why one header entry holds several lines: evhttp keeps each output header as three
 * allocations and prints each with its own printf (a third of a small response's
 * user-space instructions went there). The pre-built lines go in as the value of one
 * "Date" entry, which evhttp prints verbatim ("Date: " value CRLF); evhttp still finds
 * its Date, Content-Type (an entry of its own) and adds Content-Length. Only these bytes
 * of ours go in — never a byte of the request — and each piece is checked for CR/LF when
 * built.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

#include <event2/keyvalq_struct.h>	/* after http.h: see the note there */

#define HEAD_SLOTS	128	/* direct-mapped by (brand, aggregate) */
#define HEAD_TEXT_MAX	512	/* the snapshot's lines of one variant */
#define HEAD_MAX	768	/* the whole entry: Date ... */

/* The snapshot's lines of one body variant. */
struct head_text {
	int		 used;
	char		 etag[ETAG_LEN + 1];	/* the inputs, beside the slot's */
	char		 colour[8];
	char		 text[HEAD_TEXT_MAX];
	size_t		 len;
};

/* One (brand, aggregate) as last served on this thread. */
struct head_slot {
	int		 used;
	uint64_t	 generation;	/* the inputs the strings were made from */
	int64_t		 refreshed_at;
	int64_t		 data_time;
	char		 last_modified[40];
	char		 data_time_s[32];
	struct head_text v[BODY_NVARIANTS];
	int64_t		 second;	/* Age and staleness were made for this second */
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
		if (h->data_time > 0)
			clock_iso8601(h->data_time, s->data_time_s);
		for (int i = 0; i < BODY_NVARIANTS; i++)
			s->v[i].used = 0;
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

/* Are these bytes safe inside a head: no CR, LF or NUL of their own? */
static int
head_clean(const char *p, size_t n)
{
	return memchr(p, '\r', n) == NULL && memchr(p, '\n', n) == NULL;
}

/* The snapshot's lines of h's variant: built at its first use in this snapshot. */
static const struct head_text *
head_text(struct head_slot *s, const struct http_head *h)
{
	struct head_text *t = &s->v[h->variant];
	char text[HEAD_TEXT_MAX];
	int n;

	if (t->used && strcmp(t->etag, h->etag) == 0 && strcmp(t->colour, h->colour) == 0)
		return t;
	n = snprintf(text, sizeof text, "ETag: %s\r\nCache-Control: private, no-cache\r\n"
	    "Last-Modified: %s\r\nVary: Accept, Accept-Encoding\r\n%s%s%s"
	    "X-Tpcd-Generation: %llu\r\nX-Tpcd-Colour: %s", h->etag, s->last_modified,
	    h->data_time > 0 ? "X-Tpcd-Data-Time: " : "",
	    h->data_time > 0 ? s->data_time_s : "", h->data_time > 0 ? "\r\n" : "",
	    (unsigned long long)h->generation, h->colour);
	if (n < 0 || (size_t)n >= sizeof text || strlen(h->etag) != ETAG_LEN ||
	    strlen(h->colour) >= sizeof t->colour || !head_clean(h->etag, ETAG_LEN) ||
	    !head_clean(h->colour, strlen(h->colour)))
		return NULL;
	memcpy(t->text, text, (size_t)n + 1);
	t->len = (size_t)n;
	memcpy(t->etag, h->etag, ETAG_LEN + 1);
	snprintf(t->colour, sizeof t->colour, "%s", h->colour);
	t->used = 1;
	return t;
}

static void
head_cat(char *dst, size_t *at, const char *src, size_t n)
{
	memcpy(dst + *at, src, n);
	*at += n;
}

#define HEAD_CAT(d, at, lit)	head_cat(d, at, lit, sizeof lit - 1)

/* The same lines as separate headers: a variant too long to pre-build (never, in fact). */
static void
head_plain(struct evkeyvalq *out, const struct http_head *h, struct head_slot *s,
    int not_modified)
{
	char gen[24];

	snprintf(gen, sizeof gen, "%llu", (unsigned long long)h->generation);
	evhttp_add_header(out, "Date", date_s);
	evhttp_add_header(out, "Age", s->age);
	if (h->data_time > 0)
		evhttp_add_header(out, "X-Tpcd-Staleness", s->staleness);
	evhttp_add_header(out, "ETag", h->etag);
	evhttp_add_header(out, "Cache-Control", "private, no-cache");
	evhttp_add_header(out, "Last-Modified", s->last_modified);
	evhttp_add_header(out, "Vary", "Accept, Accept-Encoding");
	if (h->data_time > 0)
		evhttp_add_header(out, "X-Tpcd-Data-Time", s->data_time_s);
	evhttp_add_header(out, "X-Tpcd-Generation", gen);
	evhttp_add_header(out, "X-Tpcd-Colour", h->colour);
	if (!not_modified && h->gzip)
		evhttp_add_header(out, "Content-Encoding", "gzip");
}

/*
 * The head of a data response: Date, how old the data is, the cache and validation
 * headers, generation and colour; unless not_modified (a 304), Content-Encoding and
 * Content-Type.
 *
 * no-cache: a browser keeps the body but asks every time, and a 304 answers cheaply;
 * a max-age would let it show data a rollback or an on-demand refresh has replaced.
 */
void
http_head_data(struct evkeyvalq *out, const struct http_head *h, int not_modified)
{
	int64_t now = time(NULL);
	struct head_slot *s = head_slot(h, now);
	const struct head_text *t = head_text(s, h);
	struct evkeyval *kv;
	char *v;
	size_t at = 0;

	if (date_second != now) {
		http_date(now, date_s);
		date_second = now;
	}
	if (t == NULL) {
		head_plain(out, h, s, not_modified);
	} else {
		v = xmalloc(HEAD_MAX);
		head_cat(v, &at, date_s, strlen(date_s));
		HEAD_CAT(v, &at, "\r\nAge: ");
		head_cat(v, &at, s->age, strlen(s->age));
		HEAD_CAT(v, &at, "\r\n");
		if (h->data_time > 0) {
			HEAD_CAT(v, &at, "X-Tpcd-Staleness: ");
			head_cat(v, &at, s->staleness, strlen(s->staleness));
			HEAD_CAT(v, &at, "\r\n");
		}
		head_cat(v, &at, t->text, t->len);
		if (!not_modified && h->gzip)
			HEAD_CAT(v, &at, "\r\nContent-Encoding: gzip");
		v[at] = '\0';
		/* evhttp frees key and value (evhttp_clear_headers): both malloc'd */
		kv = xcalloc(1, sizeof *kv);
		kv->key = xstrdup("Date");
		kv->value = v;
		TAILQ_INSERT_TAIL(out, kv, next);
	}
	if (!not_modified)
		evhttp_add_header(out, "Content-Type", h->content_type);
}
