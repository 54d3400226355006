/*
 * audit.c — the security audit log: one JSON object per line (logins, logouts, session
 * expiry, data access, admin actions, denials, config reloads), appended to one file and
 * rotated by size, keeping FILE.1 .. FILE.keep. Any thread may hand it a line (one mutex,
 * held for a copy); its own writer thread does every write(2) and rotation, so a serving
 * loop never writes a file. Callers never pass secrets: this file does not know what
 * they are. Data access arrives already counted per connection (http_tally.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tpcd.h"

#define AUDIT_LINE_MAX	8192	/* a longer event is cut to its essentials */

/*
 * Lines are appended to pending (under mu) and the writer is woken at once; it takes
 * the whole batch and writes it (file state under fmu, which only the writer, open and
 * close take).
 */
static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 wake;		/* pending has lines, or stop */
	struct buf	 pending;
	int		 running, stop;
	pthread_t	 thread;
	pthread_mutex_t	 fmu;
	char		*path;
	int		 fd;
	size_t		 size;
	size_t		 max_bytes;
	int		 keep;
} audit = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL, 0, 0 }, 0, 0, 0,
    PTHREAD_MUTEX_INITIALIZER, NULL, -1, 0, 0, 0 };

static void audit_rotate(void);

static void
audit_put(const char *p, size_t n)
{
	if (write(audit.fd, p, n) != (ssize_t)n)
		log_err("audit: write %s: %s", audit.path, strerror(errno));
	else
		audit.size += n;
}

/*
 * Writes b, whole lines only, rotating where the next line would take the file past
 * max_bytes (a line longer than that gets a file of its own). audit.fmu held.
 */
static void
audit_write_out(const struct buf *b)
{
	const char *p = b->data, *end;

	if (audit.fd < 0 || p == NULL)
		return;
	end = p + b->len;	/* not before: NULL + 0 is undefined (UBSan) */
	while (p < end) {
		const char *q = p;
		size_t room = audit.max_bytes == 0 ? SIZE_MAX :
		    audit.max_bytes > audit.size ? audit.max_bytes - audit.size : 0;
		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			size_t l = nl ? (size_t)(nl - q) + 1 : (size_t)(end - q);
			if ((size_t)(q - p) + l > room && (q > p || audit.size > 0))
				break;
			q += l;
		}
		if (q == p) {
			audit_rotate();
			if (audit.fd < 0)
				break;
			continue;
		}
		audit_put(p, (size_t)(q - p));
		p = q;
	}
}

/* The writer thread: takes what is pending, writes it outside mu, until stopped. */
static void *
audit_writer_main(void *arg)
{
	struct buf mine, tmp;

	(void)arg;
	buf_init(&mine);
	pthread_mutex_lock(&audit.mu);
	for (;;) {
		while (audit.pending.len == 0 && !audit.stop)
			pthread_cond_wait(&audit.wake, &audit.mu);
		if (audit.pending.len == 0)
			break;		/* stopped, and nothing is left */
		tmp = mine;
		mine = audit.pending;
		audit.pending = tmp;
		pthread_mutex_unlock(&audit.mu);
		pthread_mutex_lock(&audit.fmu);
		audit_write_out(&mine);
		pthread_mutex_unlock(&audit.fmu);
		buf_reset(&mine);
		pthread_mutex_lock(&audit.mu);
	}
	pthread_mutex_unlock(&audit.mu);
	buf_free(&mine);
	return NULL;
}

/* Hands n bytes of whole lines to the writer, which is woken at once. Any thread. */
static void
audit_append(const char *p, size_t n)
{
	pthread_mutex_lock(&audit.mu);
	if (audit.running) {	/* no log open: nothing is kept */
		buf_add(&audit.pending, p, n);
		pthread_cond_signal(&audit.wake);
	}
	pthread_mutex_unlock(&audit.mu);
}

static int
audit_reopen(char **cause)
{
	struct stat sb;
	int fd = open(audit.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0) {
		*cause = xasprintf("audit log %s: %s", audit.path, strerror(errno));
		return -1;
	}
	if (audit.fd >= 0)
		close(audit.fd);
	audit.fd = fd;
	audit.size = fstat(fd, &sb) == 0 ? (size_t)sb.st_size : 0;
	return 0;
}

/* FILE.keep-1 → FILE.keep, ..., FILE → FILE.1, then a fresh FILE. Under audit.fmu. */
static void
audit_rotate(void)
{
	char *cause = NULL;

	for (int i = audit.keep - 1; i >= 0; i--) {
		char *from = i == 0 ? xstrdup(audit.path) : xasprintf("%s.%d", audit.path, i);
		char *to = xasprintf("%s.%d", audit.path, i + 1);
		if (rename(from, to) != 0 && errno != ENOENT)
			log_warn("audit: rotating %s: %s", from, strerror(errno));
		free(from);
		free(to);
	}
	if (audit_reopen(&cause) != 0) {
		/* keep writing to the renamed file rather than losing events */
		log_err("%s", cause);
		free(cause);
	}
}

/*
 * Opens (appends to) the audit log and starts its writer. max_bytes 0: never rotate.
 * Returns 0 or -1, *cause.
 */
int
audit_open(const char *path, size_t max_bytes, int keep, char **cause)
{
	int rc;

	pthread_mutex_lock(&audit.fmu);
	free(audit.path);
	audit.path = xstrdup(path);
	audit.max_bytes = max_bytes;
	audit.keep = keep < 1 ? 1 : keep;
	rc = audit_reopen(cause);
	pthread_mutex_unlock(&audit.fmu);
	if (rc != 0)
		return -1;
	pthread_mutex_lock(&audit.mu);
	if (!audit.running) {
		audit.stop = 0;
		if (pthread_create(&audit.thread, NULL, audit_writer_main, NULL) != 0)
			fatal("audit: cannot start the writer thread");
		audit.running = 1;
	}
	pthread_mutex_unlock(&audit.mu);
	return 0;
}

/* Writes what is pending, stops the writer, closes the file. After the serving threads. */
void
audit_close(void)
{
	int running;

	pthread_mutex_lock(&audit.mu);
	running = audit.running;
	audit.running = 0;	/* lines handed over from now on are dropped */
	audit.stop = 1;
	pthread_cond_signal(&audit.wake);
	pthread_mutex_unlock(&audit.mu);
	if (running)
		pthread_join(audit.thread, NULL);	/* it writes what is pending first */
	pthread_mutex_lock(&audit.mu);
	buf_free(&audit.pending);
	pthread_mutex_unlock(&audit.mu);
	pthread_mutex_lock(&audit.fmu);
	if (audit.fd >= 0)
		close(audit.fd);
	audit.fd = -1;
	free(audit.path);
	audit.path = NULL;
	pthread_mutex_unlock(&audit.fmu);
}

/* "2026-11-25T23:00:00.123Z" for ms (unix milliseconds); seconds cached per thread. */
static void
audit_timestamp_at(int64_t ms, char out[40])
{
	static _Thread_local int64_t last = -1;
	static _Thread_local char secs[32];
	struct tm tm;

	if (ms / 1000 != last) {
		time_t t = (time_t)(ms / 1000);
		gmtime_r(&t, &tm);
		strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
		last = ms / 1000;
	}
	snprintf(out, 40, "%s.%03dZ", secs, (int)(ms % 1000));
}

/* Now, as unix milliseconds: what audit_access's first_ms and last_ms hold. */
int64_t
audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
audit_timestamp(char out[40])
{
	audit_timestamp_at(audit_now_ms(), out);
}

/* Length of the well-formed UTF-8 sequence at s (at most left bytes), 0 if none. */
static size_t
audit_utf8_len(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/*
 * Copies in into out (size bytes, NUL included), cut on a character boundary and with
 * each byte that is not well-formed UTF-8 as '?': a field cut mid-character, or raw
 * bytes from a request, must not cost the event its line (the JSON encoder refuses
 * them). Returns out.
 */
char *
audit_cut(char *out, size_t size, const char *in)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t o = 0, n, left = strlen((const char *)s);

	while (*s != '\0') {
		if ((n = audit_utf8_len(s, left)) == 0) {
			if (o + 1 >= size)
				break;
			out[o++] = '?';
			s++, left--;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(out + o, s, n);
		o += n, s += n, left -= n;
	}
	out[o] = '\0';
	return out;
}

static void
field(struct buf *b, const char *name, const char *v)
{
	if (v == NULL)
		return;
	buf_printf(b, ",\"%s\":", name);
	buf_json_escape(b, v, strlen(v));
}

/*
 * The data-access line of count requests alike (http_tally.c counts them), built without
 * a JSON tree: the fields audit_write would give one request, ts the first request's
 * time, then bytes (their sum), count and last (the last request's time).
 */
void
audit_access(const struct audit_access *e)
{
	struct buf b;
	char ts[40], last[40];

	audit_timestamp_at(e->first_ms, ts);
	audit_timestamp_at(e->last_ms, last);
	buf_init(&b);
	buf_printf(&b, "{\"ts\":\"%s\",\"event\":\"access\"", ts);
	field(&b, "principal", e->principal);
	field(&b, "kind", e->kind);
	field(&b, "session", e->session);
	field(&b, "addr", e->addr);
	field(&b, "method", e->method);
	buf_adds(&b, ",\"path\":");
	buf_json_escape(&b, e->path, e->pathlen);
	buf_printf(&b, ",\"status\":%d", e->status);
	field(&b, "brand", e->brand);
	field(&b, "aggregate", e->aggregate);
	buf_printf(&b, ",\"bytes\":%llu,\"count\":%llu,\"last\":\"%s\"}\n",
	    (unsigned long long)e->bytes, (unsigned long long)e->count, last);
	audit_append(b.data, b.len);
	buf_free(&b);
}

/*
 * Writes one event: {"ts": ..., <the event's keys>} and a newline; the writer has it at
 * once, in one write(2) with whatever is pending, so lines never interleave. Steals the
 * reference. A no-op when no log is open.
 */
void
audit_write(json_t *ev)
{
	char line[AUDIT_LINE_MAX], ts[40];
	json_t *o;
	size_t n;

	if (ev == NULL)
		return;
	audit_timestamp(ts);
	o = json_pack("{s:s}", "ts", ts);
	json_object_update(o, ev);
	n = json_dumpb(o, line, sizeof line - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0 || n > sizeof line - 1) {
		/* too long (a huge path?): keep what an auditor needs, drop the rest */
		json_t *slim = json_pack("{s:s, s:O, s:b}", "ts", ts, "event",
		    json_object_get(ev, "event"), "truncated", 1);
		n = json_dumpb(slim, line, sizeof line - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(slim);
	}
	json_decref(o);
	json_decref(ev);
	line[n++] = '\n';
	audit_append(line, n);
}

/* For main on SIGHUP: whether the new configuration was taken, and why not. */
void
audit_config_reload(const char *path, int ok, const char *error)
{
	audit_write(json_pack("{s:s, s:s, s:s, s:s*}", "event", "config_reload", "file", path,
	    "result", ok ? "ok" : "refused", "error", error));
}
