/*
 * clock.c — the clocks tpcd reads: monotonic for intervals and deadlines, real time for
 * what is shown to people (snapshot times, status), and the one format those times are
 * shown in (ISO 8601, UTC). One place, so no file grows its own.
 */
#include <time.h>

#include "tpcd.h"

int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mono_ms(void)
{
	return mono_us() / 1000;
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unix seconds t as UTC "2024-05-01T12:00:00Z", the one time format tpcd shows. */
void
clock_iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
