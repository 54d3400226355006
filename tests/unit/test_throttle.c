/*
 * test_throttle.c — the login throttle on a fixed clock: the doors of the (user, address)
 * and address rules, decay and caps; failures from many addresses never lock the user
 * out; known addresses keep working; the table stays bounded and its eviction cannot be
 * used to shed a penalty; SipHash-2-4 against the reference vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpcd.h"

/* A fixed monotonic "now": the test controls time. */
#define T0	1000000

static void
test_throttle(void **state)
{
	struct auth_throttle *t = auth_throttle_new(0);

	(void)state;
	/* three free failures for a (user, address), then a 1 s, then 2 s door */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(auth_throttle_wait(t, "root", "10.0.0.1", T0), 0);
		auth_throttle_result(t, "root", "10.0.0.1", 0, T0);
	}
	assert_int_equal(auth_throttle_wait(t, "root", "10.0.0.1", T0), 1);
	/* another address is not held back; nor is another user from that address */
	assert_int_equal(auth_throttle_wait(t, "root", "10.0.0.2", T0), 0);
	assert_int_equal(auth_throttle_wait(t, "alice", "10.0.0.1", T0), 0);
	auth_throttle_result(t, "root", "10.0.0.1", 0, T0);
	assert_int_equal(auth_throttle_wait(t, "root", "10.0.0.1", T0), 2);
	/* a success clears the pair */
	auth_throttle_result(t, "root", "10.0.0.1", 1, T0);
	assert_int_equal(auth_throttle_wait(t, "root", "10.0.0.1", T0), 0);
	/* one address trying many users is held back for all of them */
	for (int i = 0; i < 10; i++) {
		char u[16];
		snprintf(u, sizeof u, "u%d", i);
		auth_throttle_result(t, u, "10.0.0.9", 0, T0);
	}
	assert_true(auth_throttle_wait(t, "alice", "10.0.0.9", T0) >= 1);
	auth_throttle_free(t);
}

/*
 * Issue 16's lockout: 20 (then 400) wrong passwords for admin from as many addresses;
 * a fresh address is never held back, and neither is the admin's known address even
 * when it is the attackers' too (one NAT); the attackers' own addresses are.
 */
static void
test_throttle_no_lockout(void **state)
{
	struct auth_throttle *t = auth_throttle_new(0);
	char ad[32];

	(void)state;
	auth_throttle_result(t, "admin", "192.0.2.7", 1, T0);		/* known to admin */
	for (int i = 0; i < 400; i++) {
		snprintf(ad, sizeof ad, "10.9.%d.%d", i / 200, i % 200);
		auth_throttle_result(t, "admin", ad, 0, T0 + i);
	}
	assert_int_equal(auth_throttle_wait(t, "admin", "10.200.0.1", T0 + 400), 0);
	/* the shared address: strangers trying many users close it for strangers only */
	for (int i = 0; i < 30; i++) {
		char u[16];
		snprintf(u, sizeof u, "x%d", i);
		auth_throttle_result(t, u, "192.0.2.7", 0, T0 + 400);
	}
	assert_true(auth_throttle_wait(t, "bob", "192.0.2.7", T0 + 400) >= 60);
	assert_int_equal(auth_throttle_wait(t, "admin", "192.0.2.7", T0 + 400), 0);
	/* an attacking address that kept at admin is slowed */
	for (int i = 0; i < 12; i++)
		auth_throttle_result(t, "admin", "10.9.0.1", 0, T0 + 500);
	assert_true(auth_throttle_wait(t, "admin", "10.9.0.1", T0 + 500) >= 60);
	/* known means recently: after 30 days the address is a stranger's again */
	assert_true(auth_throttle_wait(t, "admin", "192.0.2.7",
	    T0 + 400 + 30LL * 86400 * 1000 - 1000 * 1000) == 0);
	auth_throttle_free(t);
}

/* The door closes for whole seconds, counted down by the clock, rounded up. */
static void
test_throttle_countdown(void **state)
{
	struct auth_throttle *t = auth_throttle_new(0);

	(void)state;
	for (int i = 0; i < 5; i++)
		auth_throttle_result(t, "bob", "10.3.0.1", 0, T0);
	/* the fifth failure is the third past the free ones: a 4 s door */
	assert_int_equal(auth_throttle_wait(t, "bob", "10.3.0.1", T0), 4);
	assert_int_equal(auth_throttle_wait(t, "bob", "10.3.0.1", T0 + 2500), 2);
	assert_int_equal(auth_throttle_wait(t, "bob", "10.3.0.1", T0 + 3999), 1);
	assert_int_equal(auth_throttle_wait(t, "bob", "10.3.0.1", T0 + 4000), 0);
	auth_throttle_free(t);
}

/* One failure is forgotten per 5 minutes of quiet; each rule's door has its cap. */
static void
test_throttle_decay_and_cap(void **state)
{
	struct auth_throttle *t = auth_throttle_new(0);
	int64_t now = T0;

	(void)state;
	for (int i = 0; i < 3; i++)
		auth_throttle_result(t, "carol", "10.4.0.1", 0, now);
	/* ten quiet minutes forget two of the three: the next failure is only the second */
	now += 10 * 60 * 1000;
	assert_int_equal(auth_throttle_wait(t, "carol", "10.4.0.1", now), 0);
	auth_throttle_result(t, "carol", "10.4.0.1", 0, now);
	assert_int_equal(auth_throttle_wait(t, "carol", "10.4.0.1", now), 0);
	auth_throttle_result(t, "carol", "10.4.0.1", 0, now);
	assert_int_equal(auth_throttle_wait(t, "carol", "10.4.0.1", now), 1);
	/* nine more (the pair's 12th): 512 s, cut to the pair rule's five minutes */
	for (int i = 0; i < 9; i++)
		auth_throttle_result(t, "carol", "10.4.0.1", 0, now);
	assert_int_equal(auth_throttle_wait(t, "carol", "10.4.0.1", now), 5 * 60);
	/* the address rule (10 free, 15 min cap) then dominates: capped too */
	for (int i = 0; i < 30; i++)
		auth_throttle_result(t, "carol", "10.4.0.1", 0, now);
	assert_int_equal(auth_throttle_wait(t, "carol", "10.4.0.1", now), 15 * 60);
	auth_throttle_free(t);
}

/*
 * A 64-slot table under 100 000 addresses: never more than 64 slots live, and an
 * attacker's closed door survives the flood (eviction takes what would be forgotten
 * soonest: one-failure newcomers go before a fifteen-minute door).
 */
static void
test_throttle_bounded(void **state)
{
	struct auth_throttle *t = auth_throttle_new(64);
	size_t used, nslots;
	char ad[32];

	(void)state;
	for (int i = 0; i < 40; i++)
		auth_throttle_result(t, "root", "10.5.0.1", 0, T0);
	assert_int_equal(auth_throttle_wait(t, "root", "10.5.0.1", T0), 15 * 60);
	for (int i = 0; i < 100000; i++) {
		snprintf(ad, sizeof ad, "10.6.%d.%d", i / 250, i % 250);
		auth_throttle_result(t, "root", ad, 0, T0 + 1000);
	}
	used = auth_throttle_used(t, T0 + 1000, &nslots);
	assert_int_equal((int)nslots, 64);
	assert_true(used <= nslots && used > nslots / 2);
	assert_int_equal(auth_throttle_wait(t, "root", "10.5.0.1", T0 + 1000), 15 * 60 - 1);
	auth_throttle_free(t);
}

/* The reference vectors of the SipHash paper (key 00..0f, input 00..len-1). */
static void
test_siphash(void **state)
{
	unsigned char key[16], in[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		in[i] = (unsigned char)i;
	assert_true(siphash24(key, in, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash24(key, in, 15) == 0xa129ca6149be45e5ULL);
	assert_true(siphash24(key, in, 8) == 0x93f5f5799a932462ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_throttle_no_lockout),
		cmocka_unit_test(test_throttle_countdown),
		cmocka_unit_test(test_throttle_decay_and_cap),
		cmocka_unit_test(test_throttle_bounded),
		cmocka_unit_test(test_siphash),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
