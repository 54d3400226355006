/*
 * http_backup.c — GET /v1/backup: a consistent, compacted copy of the store (LMDB's
 * copy from one read transaction) sent as application/octet-stream. The copy is made
 * into an unlinked file in the state directory first, so a failure is a 500, not a
 * truncated 200; the serving thread doing it is busy meanwhile, the others serve on.
 * The router has checked the admin role. Restoring is tpcd.8's, not this file's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "tpcd.h"
#include "http.h"

/* An anonymous file in dir: O_TMPFILE where the filesystem has it, else made and unlinked. */
static int
backup_tmpfile(const char *dir)
{
	char *path;
	int fd;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) != -1)
		return fd;
	path = xasprintf("%s/.backup.XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
		unlink(path);
	free(path);
	return fd;
}

void
http_backup(struct http_req *r)
{
	struct store *st = r->t->srv->st;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct evbuffer *eb;
	struct stat sb;
	char *cause = NULL, disp[96], ts[32];
	int fd;

	if ((fd = backup_tmpfile(store_dir(st))) == -1) {
		http_reply_error(r->req, 500, "backup_failed", "backup: a temporary file in %s: %s",
		    store_dir(st), strerror(errno));
		return;
	}
	if (store_backup(st, fd, &cause) != 0 || fstat(fd, &sb) != 0) {
		http_reply_error(r->req, 500, "backup_failed", "%s", cause ? cause :
		    strerror(errno));
		log_err("%s", cause ? cause : strerror(errno));
		free(cause);
		close(fd);
		return;
	}
	clock_iso8601(time(NULL), ts);
	for (char *p = ts; *p != '\0'; p++)
		if (*p == ':')
			*p = '-';
	snprintf(disp, sizeof disp, "attachment; filename=\"tpcd-%s.mdb\"", ts);
	evhttp_add_header(out, "Content-Type", "application/octet-stream");
	evhttp_add_header(out, "Content-Disposition", disp);
	evhttp_add_header(out, "Cache-Control", "no-store");
	eb = evbuffer_new();
	/* the buffer owns fd from here, and sends the file without copying it to memory */
	if (evbuffer_add_file(eb, fd, 0, sb.st_size) != 0) {
		close(fd);
		evbuffer_free(eb);
		http_reply_error(r->req, 500, "backup_failed", "backup: cannot send the copy");
		return;
	}
	log_info("backup: %lld bytes to %s", (long long)sb.st_size, r->addr);
	http_reply_note(200, (size_t)sb.st_size);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
}
