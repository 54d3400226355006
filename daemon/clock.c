/*
 * clock.c — the clocks tpcd reads: monotonic for intervals and deadlines, real time for
 * what is shown to people (snapshot times, status), and the one format those times are
 * shown in (ISO 8601, UTC). One place, so no file grows its own.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tpcd.h"

/* Clock id's time in units of 1/per_sec second (truncated). */
static int64_t
clock_read(clockid_t id, int64_t per_sec)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * per_sec + ts.tv_nsec / (1000000000 / per_sec);
}

int64_t
mono_us(void)
{
	return clock_read(CLOCK_MONOTONIC, 1000000);
}

int64_t
mono_ms(void)
{
	return mono_us() / 1000;
}

int64_t
wall_ms(void)
{
	return clock_read(CLOCK_REALTIME, 1000);
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

/*
 * "2024-05-01T12:00:00[.fff…]Z" (the form tpcd shows, and sfdecode.c gives Snowflake's
 * timestamps in) as unix milliseconds. Returns 0, or -1 when it is not that form.
 */
int
clock_parse_iso8601_ms(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int n = 0, frac = 0, digits = 0;
	const char *p;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 3) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	while (digits > 0 && digits < 3) {
		frac *= 10;
		digits++;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}
