/*
 * slice_cache.c — slices already built, kept for the next request for the same one: an
 * LRU bounded in bytes, keyed by the slice's identity (the whole record's msgpack ETag,
 * which changes with every new generation of the data, and the canonical query). Only the
 * slicer pool's threads look up and insert (under the mutex); a serving thread only drops
 * its reference when the body has left (an atomic count: it never takes the lock).
 * Knows nothing of HTTP or LMDB.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "tpcd.h"

#define SLICE_CACHE_BUCKETS	1024

struct slice_entry {
	char			 key[ETAG_LEN + 1];
	struct buf		 rec;		/* the slice's record */
	uint64_t		 total;
	atomic_int		 refs;		/* the cache's (while listed) + each reply's */
	TAILQ_ENTRY(slice_entry) lru;		/* most recent first */
	struct slice_entry	*next;		/* in its bucket */
};

struct slice_cache {
	pthread_mutex_t		 mu;		/* guards everything below */
	size_t			 max_bytes;
	size_t			 bytes;
	TAILQ_HEAD(slice_entry_lru, slice_entry) lru;
	struct slice_entry	*bucket[SLICE_CACHE_BUCKETS];
	uint64_t		 hits, misses;
};

struct slice_cache *
slice_cache_new(size_t max_bytes)
{
	struct slice_cache *c = xcalloc(1, sizeof *c);

	pthread_mutex_init(&c->mu, NULL);
	c->max_bytes = max_bytes;
	TAILQ_INIT(&c->lru);
	return c;
}

static unsigned
slice_cache_bucket(const char *key)
{
	unsigned h = 0;

	for (const char *p = key; *p != '\0'; p++)
		h = h * 31 + (unsigned char)*p;
	return h % SLICE_CACHE_BUCKETS;
}

/* Drops one reference to e; the last one frees it. Any thread, no lock. */
void
slice_cache_release(struct slice_entry *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
		buf_free(&e->rec);
		free(e);
	}
}

/* Unlists e (the cache's reference goes with it). With c->mu held. */
static void
slice_cache_evict(struct slice_cache *c, struct slice_entry *e)
{
	struct slice_entry **pp = &c->bucket[slice_cache_bucket(e->key)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= e->rec.len;
	slice_cache_release(e);
}

/*
 * The entry for key with a reference for the caller (slice_cache_release it), or NULL.
 * Its record and total are read-only.
 */
struct slice_entry *
slice_cache_get(struct slice_cache *c, const char *key)
{
	struct slice_entry *e;

	pthread_mutex_lock(&c->mu);
	for (e = c->bucket[slice_cache_bucket(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (e != NULL) {
		atomic_fetch_add(&e->refs, 1);
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		c->hits++;
	} else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return e;
}

/*
 * Takes rec (emptied here) as the slice for key and returns its entry with a reference
 * for the caller. Kept unless it alone is over the budget; older entries make room.
 */
struct slice_entry *
slice_cache_put(struct slice_cache *c, const char *key, struct buf *rec, uint64_t total)
{
	struct slice_entry *e = xcalloc(1, sizeof *e), *old;
	unsigned b;

	snprintf(e->key, sizeof e->key, "%s", key);
	e->rec = *rec;
	buf_init(rec);
	e->total = total;
	atomic_init(&e->refs, 1);
	if (e->rec.len > c->max_bytes)
		return e;	/* the caller's alone */
	atomic_fetch_add(&e->refs, 1);
	pthread_mutex_lock(&c->mu);
	b = slice_cache_bucket(key);
	for (old = c->bucket[b]; old != NULL; old = old->next)
		if (strcmp(old->key, key) == 0)
			break;
	if (old != NULL)	/* built twice at once: the newer replaces it */
		slice_cache_evict(c, old);
	while (c->bytes + e->rec.len > c->max_bytes && !TAILQ_EMPTY(&c->lru))
		slice_cache_evict(c, TAILQ_LAST(&c->lru, slice_entry_lru));
	e->next = c->bucket[b];
	c->bucket[b] = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += e->rec.len;
	pthread_mutex_unlock(&c->mu);
	return e;
}

const struct buf *
slice_cache_record(const struct slice_entry *e, uint64_t *total)
{
	*total = e->total;
	return &e->rec;
}

/* For tests and status: lookups that found their slice, those that did not, bytes kept. */
void
slice_cache_stats(struct slice_cache *c, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	*bytes = c->bytes;
	pthread_mutex_unlock(&c->mu);
}

/* Unlists every entry; those still referenced by a reply go when it drops them. */
void
slice_cache_free(struct slice_cache *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->lru))
		slice_cache_evict(c, TAILQ_FIRST(&c->lru));
	pthread_mutex_destroy(&c->mu);
	free(c);
}
