/*
 * backup.c — `tpcctl backup FILE`: the bytes GET /v1/backup sends are written to
 * FILE.tmp, opened as an LMDB environment (read-only, no lock file) to prove it is whole
 * and of a known store format, synced, then renamed to FILE. A partial or damaged copy
 * never takes FILE's name.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "tpcctl.h"

#define BACKUP_FORMAT	"1"	/* the store format (meta "format") this tpcctl knows */

/* Opens the copy and checks it: every page LMDB's meta names is in the file; the format. */
static int
backup_check(const char *path, size_t len, char *msg, size_t msglen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi meta;
	MDB_envinfo info;
	MDB_stat st;
	MDB_val k = { 6, "format" }, v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0600)) != 0)
		goto fail;
	if ((rc = mdb_env_info(env, &info)) != 0 || (rc = mdb_env_stat(env, &st)) != 0)
		goto fail;
	if (((size_t)info.me_last_pgno + 1) * st.ms_psize > len) {
		snprintf(msg, msglen, "the copy is truncated (%zu bytes, its pages need %zu)",
		    len, ((size_t)info.me_last_pgno + 1) * st.ms_psize);
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &meta)) != 0 ||
	    (rc = mdb_get(txn, meta, &k, &v)) != 0)
		goto fail;
	if (v.mv_size != strlen(BACKUP_FORMAT) || memcmp(v.mv_data, BACKUP_FORMAT,
	    v.mv_size) != 0) {
		snprintf(msg, msglen, "the copy has store format %.*s; this tpcctl knows %s",
		    (int)(v.mv_size < 16 ? v.mv_size : 16), (const char *)v.mv_data,
		    BACKUP_FORMAT);
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return -1;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
fail:
	snprintf(msg, msglen, "the copy is not a tpcd store: %s", mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return -1;
}

/*
 * Writes data (len bytes) to path through path.tmp, checked and synced; mode 0600 (it
 * holds sessions). 0, or -1 with msg; path is then untouched and path.tmp removed.
 */
static int
backup_save(const char *path, const void *data, size_t len, char *msg, size_t msglen)
{
	size_t n = strlen(path) + 5;
	char *tmp = malloc(n);
	const char *p = data;
	size_t left = len;
	int fd;

	if (tmp == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	snprintf(tmp, n, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		snprintf(msg, msglen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(msg, msglen, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		snprintf(msg, msglen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (backup_check(tmp, len, msg, msglen) != 0)
		goto fail;
	if (rename(tmp, path) != 0) {
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* backup FILE: the store as GET /v1/backup sends it, checked before it is FILE. */
int
backup_verb(struct ctx *c, char **args, struct err *e)
{
	struct resp r;
	char msg[512];

	c->http_timeout = 600;	/* a big store takes a while to copy and send */
	if (api_get(c, "/v1/backup", "application/octet-stream", &r, e) == -1)
		return -1;
	if (backup_save(args[0], r.body, r.len, msg, sizeof msg) != 0) {
		api_resp_free(&r);
		return fail(e, EXIT_SERVER, "backup: %s", msg);
	}
	if (c->fmt == OUT_JSON) {
		json_t *o = json_pack("{s:s, s:I}", "file", args[0], "bytes", (json_int_t)r.len);
		render_json(o);
		json_decref(o);
	} else
		printf("backup: %zu bytes written to %s\n", r.len, args[0]);
	api_resp_free(&r);
	return 0;
}
