/*
 * revlog.c — the revocation log: <state_dir>/revocations.log, one line per API token
 * revoked and per session ended ("<unix> token|session <sha256 hex>"), appended and
 * synced before the revocation is acknowledged. A store restored from a backup made
 * before a revocation does not bring the credential back: auth_session.c re-applies the
 * log at start-up. This file owns the file's format; what a line means is the caller's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tpcd.h"

static int	 revlog_fd = -1;
static char	*revlog_path;

/* Opens (creates, mode 0600) the log in dir; 0, or -1 and *cause. */
int
revlog_open(const char *dir, char **cause)
{
	revlog_close();
	revlog_path = xasprintf("%s/revocations.log", dir);
	if ((revlog_fd = open(revlog_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		*cause = xasprintf("%s: %s", revlog_path, strerror(errno));
		free(revlog_path);
		revlog_path = NULL;
		return -1;
	}
	return 0;
}

void
revlog_close(void)
{
	if (revlog_fd != -1)
		close(revlog_fd);
	revlog_fd = -1;
	free(revlog_path);
	revlog_path = NULL;
}

/*
 * Appends one line (kind: "token" or "session") and syncs it. Without an open log (unit
 * tests, one-shot modes) it does nothing. 0, or -1 and *cause.
 */
int
revlog_append(const char *kind, const unsigned char h[32], char **cause)
{
	char line[128];
	int n;

	if (revlog_fd == -1)
		return 0;
	n = snprintf(line, sizeof line, "%" PRId64 " %s ", (int64_t)time(NULL), kind);
	for (int i = 0; i < 32; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, "%02x", h[i]);
	line[n++] = '\n';
	if (write(revlog_fd, line, (size_t)n) != n || fdatasync(revlog_fd) != 0) {
		*cause = xasprintf("%s: %s", revlog_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
unhex(const char *s, unsigned char h[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		h[i] = (unsigned char)v;
	}
	return s[64] == '\0' || s[64] == '\n' ? 0 : -1;
}

/*
 * Calls cb for each well-formed line of the open log (a torn last line is skipped).
 * Returns the number of lines applied, or -1 and *cause when the file cannot be read.
 */
int
revlog_each(int (*cb)(const char *kind, const unsigned char h[32], void *), void *arg,
    char **cause)
{
	char line[256], kind[16], hex[80];
	unsigned char h[32];
	long long ts;
	int n = 0;
	FILE *f;

	if (revlog_path == NULL)
		return 0;
	if ((f = fopen(revlog_path, "re")) == NULL) {
		*cause = xasprintf("%s: %s", revlog_path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lld %15s %79s", &ts, kind, hex) != 3 || strlen(hex) != 64 ||
		    unhex(hex, h) != 0)
			continue;
		if (cb(kind, h, arg) == 0)
			n++;
	}
	fclose(f);
	return n;
}
