/*
 * lmdb_peer.c — a second process on tpcd's store, for test_never_waits.py: "grow" opens
 * the store with a larger map and writes one big value into a db of its own, so that the
 * data outgrows tpcd's map (tpcd must remap: MDB_MAP_RESIZED); "hold" takes every free
 * reader slot and keeps them until stdin closes (tpcd must answer 503: MDB_READERS_FULL).
 * Built by the test: cc -o lmdb_peer lmdb_peer.c -llmdb
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static int
die(const char *what, int rc)
{
	fprintf(stderr, "lmdb_peer: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

static int
grow(MDB_env *env, size_t bytes)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 4, "peer" }, v = { bytes, NULL };
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return die("begin", rc);
	if ((rc = mdb_dbi_open(txn, "peer", MDB_CREATE, &dbi)) != 0)
		return die("dbi", rc);
	if ((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)) != 0)
		return die("put", rc);
	memset(v.mv_data, 'p', bytes);
	if ((rc = mdb_txn_commit(txn)) != 0)
		return die("commit", rc);
	printf("grown\n");
	return 0;
}

static int
hold(MDB_env *env)
{
	MDB_txn *txn;
	int n = 0, rc;
	char line[16];

	while ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0)
		n++;		/* kept open: each holds a reader slot */
	if (rc != MDB_READERS_FULL)
		return die("begin", rc);
	printf("held %d\n", n);
	fflush(stdout);
	while (fgets(line, sizeof line, stdin) != NULL)
		;
	return 0;
}

int
main(int argc, char **argv)
{
	MDB_env *env;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: lmdb_peer grow DIR MAP_MB BYTES | hold DIR MAP_MB\n");
		return 2;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, (size_t)strtoull(argv[3], NULL, 10) << 20)) != 0 ||
	    (rc = mdb_env_open(env, argv[2], MDB_NOTLS, 0640)) != 0)
		return die("open", rc);
	rc = strcmp(argv[1], "grow") == 0 && argc == 5 ?
	    grow(env, (size_t)strtoull(argv[4], NULL, 10)) : hold(env);
	mdb_env_close(env);
	return rc;
}
