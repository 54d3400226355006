/*
 * auth_throttle.c — the login throttle. Failed logins are counted per (user, address),
 * per address and per user. Past a rule's free failures each failure closes the door for
 * 1 s, 2 s, 4 s ... up to the rule's cap, and one failure is forgotten per decay period
 * of quiet. While closed, login answers 429 with Retry-After without checking the
 * password, so nothing sleeps. The per-user rule has a short cap: an attacker elsewhere
 * cannot lock the admin out. A fixed table, no allocation per attempt; any thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"

enum thr_kind { THR_PAIR, THR_ADDR, THR_USER, THR_NKINDS };
struct thr_rule {
	unsigned	 free;		/* failures before any delay */
	int64_t		 cap_ms;	/* the longest delay */
	int64_t		 decay_ms;	/* one failure forgotten per this much quiet */
};
static const struct thr_rule thr_rules[THR_NKINDS] = {
	[THR_PAIR] = { 3, 5 * 60 * 1000, 5 * 60 * 1000 },	/* one user from one address */
	[THR_ADDR] = { 10, 15 * 60 * 1000, 5 * 60 * 1000 },	/* any user from one address */
	/* one user from anywhere: short and fast-decaying, so it cannot lock anyone out */
	[THR_USER] = { 20, 60 * 1000, 60 * 1000 },
};
#define THR_SLOTS	4096
#define THR_PROBE	16
#define THR_KEY_MAX	(AUTH_NAME_MAX + 64)
struct thr_slot {
	uint64_t	 hash;		/* 0: never used */
	enum thr_kind	 kind;
	char		 key[THR_KEY_MAX];
	unsigned	 fails;
	int64_t		 last_ms;
	int64_t		 until_ms;
};

struct auth_throttle {
	pthread_mutex_t		 mu;
	struct thr_slot		*slots;		/* [THR_SLOTS] */
};

struct auth_throttle *
auth_throttle_new(void)
{
	struct auth_throttle *t = xcalloc(1, sizeof *t);

	pthread_mutex_init(&t->mu, NULL);
	t->slots = xcalloc(THR_SLOTS, sizeof *t->slots);
	return t;
}

void
auth_throttle_free(struct auth_throttle *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
thr_key(enum thr_kind kind, const char *user, const char *addr, char out[THR_KEY_MAX])
{
	static const char *const tags[THR_NKINDS] = { "p", "a", "u" };

	snprintf(out, THR_KEY_MAX, "%s|%s|%s", tags[kind], kind == THR_ADDR ? "" : user,
	    kind == THR_USER ? "" : addr);
}

/* Failures still remembered at now (the decay applied). */
static unsigned
thr_fails(const struct thr_slot *s, int64_t now)
{
	int64_t forgotten = (now - s->last_ms) / thr_rules[s->kind].decay_ms;

	return forgotten >= s->fails ? 0 : s->fails - (unsigned)forgotten;
}

static int
thr_idle(const struct thr_slot *s, int64_t now)
{
	return s->hash == 0 || (thr_fails(s, now) == 0 && s->until_ms <= now);
}

/* The slot of key; with create, an idle or else the stalest slot of its probe window. */
static struct thr_slot *
thr_slot(struct auth_throttle *t, enum thr_kind kind, const char *key, int64_t now,
    int create)
{
	uint64_t h = fnv1a(key);
	struct thr_slot *victim = NULL;

	for (unsigned i = 0; i < THR_PROBE; i++) {
		struct thr_slot *s = &t->slots[(h + i) & (THR_SLOTS - 1)];
		if (s->hash == h && s->kind == kind && strcmp(s->key, key) == 0)
			return s;
		if (victim == NULL || (!thr_idle(victim, now) && (thr_idle(s, now) ||
		    s->last_ms < victim->last_ms)))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->hash = h;
	victim->kind = kind;
	snprintf(victim->key, sizeof victim->key, "%s", key);
	return victim;
}

/* Milliseconds until user may try again from addr; 0: now. */
static int64_t
thr_wait_ms(struct auth_throttle *t, const char *user, const char *addr, int64_t now)
{
	int64_t wait = 0;
	char key[THR_KEY_MAX];

	for (int k = 0; k < THR_NKINDS; k++) {
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(t, k, key, now, 0);
		if (s != NULL && s->until_ms - now > wait)
			wait = s->until_ms - now;
	}
	return wait;
}

/*
 * Seconds (rounded up) until user may try to log in from addr again; 0: now. now_ms is
 * a monotonic clock (mono_ms()), passed in so that tests control time.
 */
int64_t
auth_throttle_wait(struct auth_throttle *t, const char *user, const char *addr,
    int64_t now_ms)
{
	int64_t ms;

	pthread_mutex_lock(&t->mu);
	ms = thr_wait_ms(t, user, addr, now_ms);
	pthread_mutex_unlock(&t->mu);
	return (ms + 999) / 1000;
}

/* Records a login's outcome: a failure counts everywhere, a success clears the pair. */
void
auth_throttle_result(struct auth_throttle *t, const char *user, const char *addr, int ok,
    int64_t now_ms)
{
	char key[THR_KEY_MAX];

	pthread_mutex_lock(&t->mu);
	for (int k = 0; k < THR_NKINDS; k++) {
		if (ok && k != THR_PAIR)
			continue;
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(t, k, key, now_ms, !ok);
		if (s == NULL)
			continue;
		if (ok) {
			s->fails = 0;
			s->until_ms = 0;
			continue;
		}
		s->fails = thr_fails(s, now_ms) + 1;
		s->last_ms = now_ms;
		if (s->fails >= thr_rules[k].free) {
			unsigned sh = s->fails - thr_rules[k].free;
			int64_t d = sh > 20 ? thr_rules[k].cap_ms : (int64_t)1000 << sh;
			s->until_ms = now_ms + (d < thr_rules[k].cap_ms ? d : thr_rules[k].cap_ms);
		}
	}
	pthread_mutex_unlock(&t->mu);
}
