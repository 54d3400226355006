/*
 * http_backup.c — GET /v1/backup: a consistent, compacted copy of the store (LMDB's
 * copy from one read transaction) sent as application/octet-stream. The copy is made
 * into an unlinked file in the state directory first, so a failure is a 500, not a
 * truncated 200. The copy runs on the writer pool (it reads the whole store), so the
 * serving thread answers others meanwhile and sends the file when it is ready.
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

struct backup_job {
	struct store	*st;
	int		 fd;		/* the copy; -1 when it failed */
	off_t		 size;
	char		*cause;		/* why it failed */
};

/* On the writer pool: the copy, into an anonymous file. */
static void
backup_work(void *arg)
{
	struct backup_job *j = arg;
	struct stat sb;

	if ((j->fd = backup_tmpfile(store_dir(j->st))) == -1) {
		j->cause = xasprintf("backup: a temporary file in %s: %s", store_dir(j->st),
		    strerror(errno));
		return;
	}
	if (store_backup(j->st, j->fd, &j->cause) != 0 || fstat(j->fd, &sb) != 0) {
		if (j->cause == NULL)
			j->cause = xasprintf("backup: %s", strerror(errno));
		close(j->fd);
		j->fd = -1;
		return;
	}
	j->size = sb.st_size;
}

/* Back on the serving thread: the file, or a 500. Frees the job. */
static void
backup_reply(struct http_req *r, void *arg)
{
	struct backup_job *j = arg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct evbuffer *eb;
	char disp[96], ts[32];

	if (j->fd == -1) {
		log_err("%s", j->cause);
		http_reply_error(r->req, 500, "backup_failed", "%s", j->cause);
		goto done;
	}
	clock_iso8601(time(NULL), ts);
	for (char *p = ts; *p != '\0'; p++)
		if (*p == ':')
			*p = '-';
	snprintf(disp, sizeof disp, "attachment; filename=\"tpcd-%s.mdb\"", ts);
	evhttp_add_header(out, "Content-Type", "application/octet-stream");
	evhttp_add_header(out, "Content-Disposition", disp);
	evhttp_add_header(out, "Cache-Control", "no-store");
	if ((eb = evbuffer_new()) == NULL ||
	    evbuffer_add_file(eb, j->fd, 0, j->size) != 0) {	/* eb owns fd on success */
		close(j->fd);
		if (eb != NULL)
			evbuffer_free(eb);
		http_reply_error(r->req, 500, "backup_failed", "backup: cannot send the copy");
		goto done;
	}
	log_info("backup: %lld bytes to %s", (long long)j->size, r->addr);
	http_reply_note(200, (size_t)j->size);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
done:
	free(j->cause);
	free(j);
}

void
http_backup(struct http_req *r)
{
	struct backup_job *j = xcalloc(1, sizeof *j);

	j->st = r->t->srv->st;
	j->fd = -1;
	http_defer(r, r->t->srv->writer, backup_work, backup_reply, j);
}
