/*
 * auth_throttle.c — the login throttle. Failed logins are counted per (user, address)
 * and per address, never per user alone: failures slow the addresses they come from and
 * cannot lock a user out everywhere. Past a rule's free failures each failure closes the
 * door for 1 s, 2 s, 4 s ... up to the rule's cap; one failure is forgotten per decay
 * period of quiet. While closed, login answers 429 with Retry-After without checking the
 * password, so nothing sleeps. An address the user logged in from recently (a known
 * address) is spared the per-address rule: a crowd behind one NAT cannot lock its
 * regulars out. Two fixed tables under a SipHash key drawn at start, no allocation per
 * attempt; full, a table evicts what it would forget soonest. Any thread; it outlives
 * reloads (main.c owns it), so SIGHUP forgives nobody.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tpcd.h"

enum thr_kind { THR_PAIR, THR_ADDR, THR_NKINDS };
struct thr_rule {
	unsigned	 free;		/* failures before any delay */
	int64_t		 cap_ms;	/* the longest delay */
	int64_t		 decay_ms;	/* one failure forgotten per this much quiet */
};
static const struct thr_rule thr_rules[THR_NKINDS] = {
	[THR_PAIR] = { 3, 5 * 60 * 1000, 5 * 60 * 1000 },	/* one user from one address */
	[THR_ADDR] = { 10, 15 * 60 * 1000, 5 * 60 * 1000 },	/* any user from one address */
};
#define THR_SLOTS	8192		/* default failure slots, ~1.5 MB */
#define THR_KNOWN	2048		/* known (user, address) pairs */
#define THR_KNOWN_MS	(30LL * 86400 * 1000)	/* how long a login makes an address known */
#define THR_PROBE	16
#define THR_KEY_MAX	(AUTH_NAME_MAX + 64)

struct thr_slot {
	uint64_t	 hash;		/* 0: never used */
	char		 key[THR_KEY_MAX];
	unsigned	 fails;		/* THR_KNOWN table: unused */
	int64_t		 last_ms;	/* last failure; THR_KNOWN table: last success */
	int64_t		 until_ms;
};

struct thr_table {
	struct thr_slot	*slots;
	size_t		 mask;		/* slots - 1, a power of two less one */
};

struct auth_throttle {
	pthread_mutex_t	 mu;
	unsigned char	 key[16];	/* SipHash key: bucket choice unknowable from outside */
	struct thr_table fails;
	struct thr_table known;
};

static void
thr_table_init(struct thr_table *tb, size_t n)
{
	size_t p = THR_PROBE;

	while (p < n)
		p <<= 1;
	tb->slots = xcalloc(p, sizeof *tb->slots);
	tb->mask = p - 1;
}

/* nslots: failure slots (rounded up to a power of two); 0 is the default. */
struct auth_throttle *
auth_throttle_new(size_t nslots)
{
	struct auth_throttle *t = xcalloc(1, sizeof *t);

	pthread_mutex_init(&t->mu, NULL);
	if (getrandom(t->key, sizeof t->key, 0) != (ssize_t)sizeof t->key)
		fatal("getrandom: %s", strerror(errno));
	thr_table_init(&t->fails, nslots ? nslots : THR_SLOTS);
	thr_table_init(&t->known, THR_KNOWN);
	return t;
}

void
auth_throttle_free(struct auth_throttle *t)
{
	if (t == NULL)
		return;
	free(t->fails.slots);
	free(t->known.slots);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static void
thr_key(enum thr_kind kind, const char *user, const char *addr, char out[THR_KEY_MAX])
{
	static const char *const tags[THR_NKINDS] = { "p", "a" };

	snprintf(out, THR_KEY_MAX, "%s|%s|%s", tags[kind], kind == THR_ADDR ? "" : user, addr);
}

/* Failures of a failure slot still remembered at now (the decay applied). */
static unsigned
thr_fails(const struct thr_slot *s, enum thr_kind kind, int64_t now)
{
	int64_t forgotten = (now - s->last_ms) / thr_rules[kind].decay_ms;

	return forgotten >= s->fails ? 0 : s->fails - (unsigned)forgotten;
}

/*
 * When a slot would be forgotten anyway: its door open and every failure decayed (a
 * known pair: when it stops being known). Eviction takes the soonest, so pushing out a
 * closed door costs an attacker doors that close for longer: never cheap.
 */
static int64_t
thr_forget_ms(const struct thr_slot *s)
{
	const char *key = s->key;
	int64_t f;

	if (s->hash == 0)
		return INT64_MIN;
	if (key[0] == 'k')
		return s->last_ms + THR_KNOWN_MS;
	f = s->last_ms + (int64_t)s->fails * thr_rules[key[0] == 'p' ? THR_PAIR :
	    THR_ADDR].decay_ms;
	return s->until_ms > f ? s->until_ms : f;
}

/* The slot of key, or NULL; with create, a new one in place of the soonest forgotten. */
static struct thr_slot *
thr_slot(struct auth_throttle *t, struct thr_table *tb, const char *key, int create)
{
	uint64_t h = siphash24(t->key, key, strlen(key)) | 1;	/* never 0: 0 is unused */
	struct thr_slot *victim = NULL;
	int64_t vf = INT64_MAX;

	for (size_t i = 0; i < THR_PROBE; i++) {
		struct thr_slot *s = &tb->slots[(h + i) & tb->mask];
		if (s->hash == h && strcmp(s->key, key) == 0)
			return s;
		int64_t f = thr_forget_ms(s);
		if (victim == NULL || f < vf) {
			victim = s;
			vf = f;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->hash = h;
	snprintf(victim->key, sizeof victim->key, "%s", key);
	return victim;
}

/* Whether user logged in from addr within THR_KNOWN_MS of now. */
static int
thr_known(struct auth_throttle *t, const char *user, const char *addr, int64_t now)
{
	char key[THR_KEY_MAX];
	struct thr_slot *s;

	snprintf(key, sizeof key, "k|%s|%s", user, addr);
	s = thr_slot(t, &t->known, key, 0);
	return s != NULL && now - s->last_ms < THR_KNOWN_MS;
}

/* Milliseconds until user may try again from addr; 0: now. */
static int64_t
thr_wait_ms(struct auth_throttle *t, const char *user, const char *addr, int64_t now)
{
	int64_t wait = 0;
	int known = thr_known(t, user, addr, now);
	char key[THR_KEY_MAX];

	for (int k = 0; k < THR_NKINDS; k++) {
		if (k == THR_ADDR && known)
			continue;
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(t, &t->fails, key, 0);
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

static void
thr_success(struct auth_throttle *t, const char *user, const char *addr, int64_t now)
{
	char key[THR_KEY_MAX];
	struct thr_slot *s;

	thr_key(THR_PAIR, user, addr, key);
	if ((s = thr_slot(t, &t->fails, key, 0)) != NULL) {
		s->fails = 0;
		s->until_ms = 0;
	}
	snprintf(key, sizeof key, "k|%s|%s", user, addr);
	s = thr_slot(t, &t->known, key, 1);
	s->last_ms = now;
}

static void
thr_failure(struct auth_throttle *t, const char *user, const char *addr, int64_t now)
{
	char key[THR_KEY_MAX];

	for (int k = 0; k < THR_NKINDS; k++) {
		thr_key(k, user, addr, key);
		struct thr_slot *s = thr_slot(t, &t->fails, key, 1);
		s->fails = thr_fails(s, k, now) + 1;
		s->last_ms = now;
		if (s->fails >= thr_rules[k].free) {
			unsigned sh = s->fails - thr_rules[k].free;
			int64_t d = sh > 20 ? thr_rules[k].cap_ms : (int64_t)1000 << sh;
			s->until_ms = now + (d < thr_rules[k].cap_ms ? d : thr_rules[k].cap_ms);
		}
	}
}

/*
 * Records a login's outcome: a failure counts for the pair and the address; a success
 * clears the pair and makes the address known for the user.
 */
void
auth_throttle_result(struct auth_throttle *t, const char *user, const char *addr, int ok,
    int64_t now_ms)
{
	pthread_mutex_lock(&t->mu);
	if (ok)
		thr_success(t, user, addr, now_ms);
	else
		thr_failure(t, user, addr, now_ms);
	pthread_mutex_unlock(&t->mu);
}

/* Failure slots in use at now (a test's view of the bound); never more than allocated. */
size_t
auth_throttle_used(struct auth_throttle *t, int64_t now_ms, size_t *nslots)
{
	size_t n = 0;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i <= t->fails.mask; i++)
		if (thr_forget_ms(&t->fails.slots[i]) > now_ms)
			n++;
	*nslots = t->fails.mask + 1;
	pthread_mutex_unlock(&t->mu);
	return n;
}
