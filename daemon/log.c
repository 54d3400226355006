/*
 * log.c — the one logging module. Lines go to stderr; under journald (JOURNAL_STREAM set)
 * each line carries a <N> priority prefix instead of a timestamp, so journalctl -p works.
 * Never logs secrets: callers pass only what may be read by an operator.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tpcd.h"

static atomic_int log_level = LOG_INFO;	/* set on the main thread (reload), read by all */
static int log_journal;
static FILE *log_fp;		/* the optional log file, under log_mutex */
static char *log_path;
static size_t log_max, log_size;
static int log_keep;
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

/* path.N-1 → path.N … path → path.1, then a new path; keeps log_keep old files. */
static void
log_rotate_locked(void)
{
	char from[4096], to[4096];

	fclose(log_fp);
	log_fp = NULL;
	for (int i = log_keep; i >= 1; i--) {
		snprintf(to, sizeof to, "%s.%d", log_path, i);
		if (i == 1)
			snprintf(from, sizeof from, "%s", log_path);
		else
			snprintf(from, sizeof from, "%s.%d", log_path, i - 1);
		rename(from, to);
	}
	if (log_keep == 0)
		unlink(log_path);
	log_fp = fopen(log_path, "a");
	log_size = 0;
}

/*
 * Also logs to path, rotated at max_mb, keeping keep old files. Called again (SIGHUP)
 * it reopens the file, for rotation done by others. Returns 0, or -1 with errno.
 */
int
log_open_file(const char *path, int max_mb, int keep)
{
	FILE *fp = fopen(path, "a");
	struct stat sb;

	if (fp == NULL)
		return -1;
	pthread_mutex_lock(&log_mutex);
	if (log_fp != NULL)
		fclose(log_fp);
	free(log_path);
	log_fp = fp;
	log_path = strdup(path);
	log_max = (size_t)max_mb << 20;
	log_keep = keep;
	log_size = fstat(fileno(fp), &sb) == 0 ? (size_t)sb.st_size : 0;
	pthread_mutex_unlock(&log_mutex);
	return 0;
}

void
log_close_file(void)
{
	pthread_mutex_lock(&log_mutex);
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
	pthread_mutex_unlock(&log_mutex);
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
	char stamp[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000);
	pthread_mutex_lock(&log_mutex);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "%s tpcd[%s]: %s\n", stamp, level_names[level], line);
	fflush(stderr);
	if (log_fp != NULL) {
		int n = fprintf(log_fp, "%s tpcd[%s]: %s\n", stamp, level_names[level], line);
		fflush(log_fp);
		log_size += n > 0 ? (size_t)n : 0;
		if (log_size >= log_max)
			log_rotate_locked();
	}
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
