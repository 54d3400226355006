/*
 * log.c — the one logging module. Lines go to stderr; under journald (JOURNAL_STREAM set)
 * each line carries a <N> priority prefix instead of a timestamp, so journalctl -p works.
 * Never logs secrets: callers pass only what may be read by an operator.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tpcd.h"

static int log_level = LOG_INFO;
static int log_journal;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void
log_init(int level)
{
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(int level)
{
	log_level = level;
}

/* Returns the level for a name ("info"), or -1. */
int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (level_names[i] != NULL && strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	pthread_mutex_lock(&log_mutex);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level, line);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ tpcd[%s]: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], line);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_mutex);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
