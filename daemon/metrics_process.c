/*
 * metrics_process.c — the metrics that belong to the process, not to one configuration:
 * the totals of refreshers a reload retired (so counters only go up in a process's life),
 * the refresh duration histogram, login outcomes, build info and process_* read from
 * /proc. Any thread may record; a scrape renders. It never touches a runtime.
 */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tpcd.h"

/* Upper bounds of the refresh duration buckets, in seconds (the last is +Inf). */
static const double refresh_le_s[] = { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600 };
#define REFRESH_BUCKETS	(sizeof refresh_le_s / sizeof refresh_le_s[0] + 1)

static const char *const login_reasons[] = { "unknown_user", "bad_password", "other" };
#define LOGIN_REASONS	3

struct retired_agg {
	char		*brand;
	char		*aggregate;
	uint64_t	 ok;
	uint64_t	 fail;
};

static pthread_mutex_t	 mp_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		 mp_runs, mp_statements, mp_retries;	/* retired refreshers */
static struct retired_agg *mp_aggs;
static size_t		 mp_naggs;
static uint64_t		 mp_refresh_hist[REFRESH_BUCKETS];
static double		 mp_refresh_sum;
static uint64_t		 mp_logins_ok, mp_login_failed[LOGIN_REASONS], mp_login_throttled;

/* A refresher stops (reload or exit): its counters carry on in the process's totals. */
void
metrics_refresh_retire(const struct refresh_status *st)
{
	pthread_mutex_lock(&mp_mu);
	mp_runs += st->runs;
	mp_statements += st->statements;
	mp_retries += st->retries;
	for (const struct refresh_agg *a = st->aggs; a < st->aggs + st->naggs; a++) {
		struct retired_agg *r = NULL;
		for (size_t i = 0; i < mp_naggs && r == NULL; i++)
			if (strcmp(mp_aggs[i].brand, a->brand) == 0 &&
			    strcmp(mp_aggs[i].aggregate, a->aggregate) == 0)
				r = &mp_aggs[i];
		if (r == NULL) {
			mp_aggs = xreallocarray(mp_aggs, mp_naggs + 1, sizeof *mp_aggs);
			r = &mp_aggs[mp_naggs++];
			r->brand = xstrdup(a->brand);
			r->aggregate = xstrdup(a->aggregate);
			r->ok = r->fail = 0;
		}
		r->ok += a->ok_count;
		r->fail += a->fail_count;
	}
	pthread_mutex_unlock(&mp_mu);
}

/* One finished refresh cycle of duration_ms. */
void
metrics_refresh_observe(int64_t duration_ms)
{
	double s = duration_ms > 0 ? (double)duration_ms / 1e3 : 0;
	size_t b = 0;

	while (b < REFRESH_BUCKETS - 1 && s > refresh_le_s[b])
		b++;
	pthread_mutex_lock(&mp_mu);
	mp_refresh_hist[b]++;
	mp_refresh_sum += s;
	pthread_mutex_unlock(&mp_mu);
}

/* One login attempt's outcome: ok, or refused with reason ("throttled" counts apart). */
void
metrics_login(int ok, const char *reason)
{
	pthread_mutex_lock(&mp_mu);
	if (ok)
		mp_logins_ok++;
	else if (reason != NULL && strcmp(reason, "throttled") == 0)
		mp_login_throttled++;
	else {
		int i = 0;
		while (i < LOGIN_REASONS - 1 && (reason == NULL ||
		    strcmp(reason, login_reasons[i]) != 0))
			i++;
		mp_login_failed[i]++;
	}
	pthread_mutex_unlock(&mp_mu);
}

/* The retired totals of one aggregate (0 when no refresher of it was retired). */
void
metrics_refresh_retired_agg(const char *brand, const char *agg, uint64_t *ok, uint64_t *fail)
{
	*ok = *fail = 0;
	pthread_mutex_lock(&mp_mu);
	for (size_t i = 0; i < mp_naggs; i++)
		if (strcmp(mp_aggs[i].brand, brand) == 0 &&
		    strcmp(mp_aggs[i].aggregate, agg) == 0) {
			*ok = mp_aggs[i].ok;
			*fail = mp_aggs[i].fail;
		}
	pthread_mutex_unlock(&mp_mu);
}

/* Adds the retired refreshers' totals to a live refresh_status's counters. */
void
metrics_refresh_totals(const struct refresh_status *st, uint64_t *runs, uint64_t *stmts,
    uint64_t *retries)
{
	pthread_mutex_lock(&mp_mu);
	*runs = st->runs + mp_runs;
	*stmts = st->statements + mp_statements;
	*retries = st->retries + mp_retries;
	pthread_mutex_unlock(&mp_mu);
}

static void
help(struct buf *o, const char *name, const char *type, const char *text)
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/*
 * The process's start time, taken as it starts: /proc/stat (boot time) is hidden by the
 * unit's ProcSubset=pid, so it is not derived from /proc/self/stat's starttime.
 */
static struct timespec mp_started;

static void __attribute__((constructor))
mp_start(void)
{
	clock_gettime(CLOCK_REALTIME, &mp_started);
}

static void
render_process(struct buf *o)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vsz = 0, rss = 0;
	FILE *f;
	int fds;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		help(o, "process_cpu_seconds_total", "counter", "User and system CPU time.");
		buf_printf(o, "process_cpu_seconds_total %.3f\n",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%llu %llu", &vsz, &rss) == 2) {
			long pg = sysconf(_SC_PAGESIZE);
			help(o, "process_resident_memory_bytes", "gauge", "Resident memory.");
			buf_printf(o, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)pg);
			help(o, "process_virtual_memory_bytes", "gauge", "Virtual memory.");
			buf_printf(o, "process_virtual_memory_bytes %llu\n", vsz * (unsigned long long)pg);
		}
		fclose(f);
	}
	if ((fds = count_fds()) >= 0) {
		help(o, "process_open_fds", "gauge", "Open file descriptors.");
		buf_printf(o, "process_open_fds %d\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		help(o, "process_max_fds", "gauge", "The file descriptor limit.");
		buf_printf(o, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	help(o, "process_start_time_seconds", "gauge", "Start time, unix seconds.");
	buf_printf(o, "process_start_time_seconds %.3f\n", (double)mp_started.tv_sec +
	    (double)mp_started.tv_nsec / 1e9);
}

/* Build info, process_*, the refresh duration histogram and the login counters. */
void
metrics_process_render(struct buf *o)
{
	uint64_t cum = 0;

	help(o, "tpcd_build_info", "gauge", "Always 1; the version as a label.");
	buf_printf(o, "tpcd_build_info{version=\"%s\"} 1\n", TPCD_VERSION);
	render_process(o);
	pthread_mutex_lock(&mp_mu);
	help(o, "tpcd_refresh_cycle_duration_seconds", "histogram",
	    "Duration of refresh cycles.");
	for (size_t b = 0; b < REFRESH_BUCKETS; b++) {
		cum += mp_refresh_hist[b];
		if (b < REFRESH_BUCKETS - 1)
			buf_printf(o, "tpcd_refresh_cycle_duration_seconds_bucket{le=\"%g\"} %"
			    PRIu64 "\n", refresh_le_s[b], cum);
		else
			buf_printf(o, "tpcd_refresh_cycle_duration_seconds_bucket{le=\"+Inf\"} %"
			    PRIu64 "\n", cum);
	}
	buf_printf(o, "tpcd_refresh_cycle_duration_seconds_sum %.3f\n", mp_refresh_sum);
	buf_printf(o, "tpcd_refresh_cycle_duration_seconds_count %" PRIu64 "\n", cum);
	help(o, "tpcd_logins_total", "counter", "Successful logins.");
	buf_printf(o, "tpcd_logins_total %" PRIu64 "\n", mp_logins_ok);
	help(o, "tpcd_login_failures_total", "counter", "Refused logins by reason.");
	for (int i = 0; i < LOGIN_REASONS; i++)
		buf_printf(o, "tpcd_login_failures_total{reason=\"%s\"} %" PRIu64 "\n",
		    login_reasons[i], mp_login_failed[i]);
	help(o, "tpcd_login_throttled_total", "counter", "Logins refused by the throttle.");
	buf_printf(o, "tpcd_login_throttled_total %" PRIu64 "\n", mp_login_throttled);
	pthread_mutex_unlock(&mp_mu);
}
