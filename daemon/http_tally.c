/*
 * http_tally.c — the data-access audit of a serving thread, counted rather than written
 * per request: each connection keeps one tally per (principal, address, method, path,
 * status), and each tally becomes one audit line with its count when its interval ends
 * (every second), its connection closes, the thread takes a reloaded runtime, or the
 * server stops. Touched only by its serving thread; the lines go to audit.c, whose
 * writer thread writes them. Security events (denials, logins, admin actions) never
 * come here: the router writes them at once.
 */
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "http.h"

#define TALLY_MAX	16		/* per connection: more keys, and the oldest are written */
#define TALLY_PATH_MAX	257		/* the router's cleaned path, NUL included */
#define TALLY_INTERVAL_MS 1000

/* One key's count on one connection. Strings are copies: the request goes first. */
struct tally {
	const char	*kind;		/* static: "session", "token" or NULL */
	const char	*method;	/* static */
	int		 status;
	char		 principal[AUTH_NAME_MAX + 1];
	char		 session[SESSION_ID_LEN + 1];
	char		 addr[INET6_ADDRSTRLEN];
	char		 path[TALLY_PATH_MAX];
	size_t		 pathlen;
	char		 brand[HTTP_SEG_MAX];
	char		 aggregate[HTTP_SEG_MAX];
	uint64_t	 count;
	uint64_t	 bytes;
	int64_t		 first_ms, last_ms;
};

struct http_tally {
	size_t		 n, cap;	/* grown by doubling up to TALLY_MAX */
	struct tally	 t[];
};

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static int
same(const struct tally *x, const struct audit_access *a)
{
	return x->status == a->status && x->method == a->method && x->kind == a->kind &&
	    x->pathlen == a->pathlen && memcmp(x->path, a->path, a->pathlen) == 0 &&
	    strcmp(x->principal, a->principal ? a->principal : "") == 0 &&
	    strcmp(x->session, a->session ? a->session : "") == 0 &&
	    strcmp(x->addr, a->addr ? a->addr : "") == 0 &&
	    strcmp(x->brand, a->brand ? a->brand : "") == 0 &&
	    strcmp(x->aggregate, a->aggregate ? a->aggregate : "") == 0;
}

static const char *
opt(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

static void
tally_write(const struct tally *x)
{
	struct audit_access a = {
		.principal = opt(x->principal), .kind = x->kind, .session = opt(x->session),
		.addr = opt(x->addr), .method = x->method, .path = x->path,
		.pathlen = x->pathlen, .brand = opt(x->brand), .aggregate = opt(x->aggregate),
		.status = x->status, .bytes = x->bytes, .count = x->count,
		.first_ms = x->first_ms, .last_ms = x->last_ms,
	};

	audit_access(&a);
}

/* Writes c's tallies and forgets them (its connection closes, or their time is up). */
void
http_tally_flush_conn(struct conn *c)
{
	struct conn_set *cs = &c->t->conns;

	if (c->tally == NULL)
		return;
	for (size_t i = 0; i < c->tally->n; i++)
		tally_write(&c->tally->t[i]);
	free(c->tally);
	c->tally = NULL;
	TAILQ_REMOVE(&cs->tallied, c, tally_entry);
}

/* Writes every tally of thread t: the interval is over, a reload, or the server stops. */
void
http_tally_flush(struct http_thread *t)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&t->conns.tallied)) != NULL)
		http_tally_flush_conn(c);
	t->conns.tally_ms = mono_ms();
}

/* The thread's heartbeat: a second since the last flush, and every tally is written. */
void
http_tally_tick(struct http_thread *t)
{
	if (mono_ms() - t->conns.tally_ms >= TALLY_INTERVAL_MS)
		http_tally_flush(t);
}

/*
 * Counts one data-access request a on r's connection (its line is written later, with
 * the others alike); without a connection (gone, or unknown) the line goes at once.
 */
void
http_tally_add(struct http_req *r, struct audit_access *a)
{
	struct conn *c = r->conn;
	struct http_tally *ht;
	struct tally *x;
	int64_t now = audit_now_ms();

	a->first_ms = a->last_ms = now;
	a->count = 1;
	if (c == NULL || a->pathlen >= TALLY_PATH_MAX) {
		audit_access(a);
		return;
	}
	if ((ht = c->tally) == NULL) {
		ht = c->tally = xmalloc(sizeof *ht + sizeof ht->t[0]);
		ht->n = 0;
		ht->cap = 1;
		TAILQ_INSERT_TAIL(&c->t->conns.tallied, c, tally_entry);
	}
	for (size_t i = 0; i < ht->n; i++) {
		x = &ht->t[i];
		if (same(x, a)) {
			x->count++;
			x->bytes += a->bytes;
			x->last_ms = now;
			return;
		}
	}
	if (ht->n == TALLY_MAX) {	/* a connection with many keys: write them now */
		for (size_t i = 0; i < ht->n; i++)
			tally_write(&ht->t[i]);
		ht->n = 0;
	} else if (ht->n == ht->cap) {
		ht->cap *= 2;
		ht = c->tally = xrealloc(ht, sizeof *ht + ht->cap * sizeof ht->t[0]);
	}
	x = &ht->t[ht->n++];
	x->kind = a->kind;
	x->method = a->method;
	x->status = a->status;
	copy(x->principal, sizeof x->principal, a->principal);
	copy(x->session, sizeof x->session, a->session);
	copy(x->addr, sizeof x->addr, a->addr);
	memcpy(x->path, a->path, a->pathlen);
	x->path[a->pathlen] = '\0';
	x->pathlen = a->pathlen;
	copy(x->brand, sizeof x->brand, a->brand);
	copy(x->aggregate, sizeof x->aggregate, a->aggregate);
	x->count = 1;
	x->bytes = a->bytes;
	x->first_ms = x->last_ms = now;
}
