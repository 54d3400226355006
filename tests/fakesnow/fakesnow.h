/* fakesnow: a strict fake of the Snowflake SQL API v2 for tpcd's tests.
 * This header owns the shared state and the interfaces between the modules;
 * each .c file owns one concern (see its opening comment).
 */
#ifndef FAKESNOW_H
#define FAKESNOW_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sqlite3.h>

#define FS_MAX_BODY	(1024 * 1024)	/* evhttp rejects larger request bodies with 413 */
#define FS_MAX_HANDLES	64		/* statements kept in memory; the oldest goes first */
#define FS_UUID_LEN	36

struct fs_config {
	int		port;
	const char	*db_path;
	const char	*pubkey_path;
	const char	*account;	/* as given; jwt.c normalises it */
	const char	*user;
	const char	*token;		/* OAUTH / PROGRAMMATIC_ACCESS_TOKEN secret, or NULL */
	const char	*port_file;
	int		partition_rows;
	int		async_polls;
	int		retention_days;	/* Time Travel: DATA_RETENTION_TIME_IN_DAYS */
};

/* One process serves one fake account, so the state is a single global: it keeps
 * the libevent callbacks free of plumbing. */
struct fakesnow {
	struct fs_config	cfg;
	struct event_base	*base;
	struct evhttp		*http;
	sqlite3			*db;
};
extern struct fakesnow FS;

/* util.c */
void		uuid4(char out[FS_UUID_LEN + 1]);
int		is_uuid(const char *s);
long long	now_ms(void);
unsigned char	*b64url_decode(const char *in, size_t inlen, size_t *outlen);
unsigned char	*gzip_bytes(const void *in, size_t len, size_t *outlen);
void		upcase(char *s);

/* jwt.c */
int	auth_init(const char *pem_path, const char *account, const char *user, char *err, size_t errlen);
void	auth_cleanup(void);
const char *auth_expected_iss(void);
/* 0 when the token verifies; otherwise fills reason (for the 390144 message) */
int	jwt_verify(const char *token, long long now_s, char *reason, size_t reasonlen);


/* encode.c: Snowflake column types and the jsonv2 text of each cell */
enum sf_type {
	T_UNKNOWN, T_FIXED, T_REAL, T_TEXT, T_DATE, T_TIME, T_TS_NTZ, T_TS_LTZ, T_TS_TZ,
	T_BOOLEAN, T_VARIANT, T_OBJECT, T_ARRAY, T_BINARY
};
struct coltype {
	enum sf_type	t;
	int		precision, scale;
	long long	length;
};
struct cell {			/* one SQLite value, copied out of the statement */
	int		vtype;		/* SQLITE_INTEGER ... SQLITE_NULL */
	sqlite3_int64	i;
	double		d;
	char		*s;		/* text or blob bytes, NUL-terminated */
	size_t		len;
};
struct coltype	coltype_from_decl(const char *decl);
struct coltype	coltype_from_values(const struct cell *rows, size_t nrows, size_t ncols, size_t col);
const char	*sf_type_name(enum sf_type t);
char		*encode_cell(const struct cell *c, const struct coltype *ct);	/* malloc'd, NULL if invalid */
json_t		*json_text(const char *s, size_t len);

/* exec.c */
struct sql_error {
	const char	*code;
	const char	*sql_state;
	char		message[1024];
};
/* Runs one statement; on success *row_type and *rows (array of arrays of string|null)
 * are new references. Returns 0, or -1 with err filled. */
int	exec_statement(sqlite3 *db, const char *sql, json_t *bindings, const char *database,
	    const char *schema, int nulls_as_text, json_t **row_type, json_t **rows,
	    struct sql_error *err);

/* sqlrewrite.c: Snowflake names -> the SQLite layout (README.md "Database layout");
 * NULL with err->code set for a statement Snowflake refuses (Time Travel), else on OOM */
char	*sql_rewrite(sqlite3 *db, const char *sql, const char *default_schema,
	    struct sql_error *err);

/* timetravel.c: versions of dynamic tables, AT(TIMESTAMP => ...), scheduled refreshes */
void	tt_init(void);
char	*tt_resolve(const char *table, double at, struct sql_error *err);
int	tt_queue(json_t *spec, char *err, size_t errlen);
void	tt_statement_answered(void);
json_t	*tt_list(void);
void	tt_clear(void);

/* store.c */
struct partition {
	char		*json;		/* {"data":[...]} compact */
	size_t		json_len;
	unsigned char	*gz;
	size_t		gz_len;
};
struct stmt {
	char		handle[FS_UUID_LEN + 1];
	char		*request_id;
	long long	created_ms;
	int		polls_left;	/* > 0: still "running"; each status GET takes one */
	int		cancelled;
	int		numrows_fault;	/* deliver numRows off by one on the next ResultSet */
	int		status;		/* final HTTP status: 200 or 422 */
	json_t		*final;		/* ResultSet (200) or QueryFailureStatus (422) */
	struct partition *parts;	/* [0] is inline in final; [1..nparts) served by GET */
	size_t		nparts;
};
struct stmt	*store_new(const char *request_id);
struct stmt	*store_find(const char *handle);
struct stmt	*store_find_request(const char *request_id);
int		store_set_result(struct stmt *st, json_t *row_type, json_t *rows, int partition_rows);
void		store_set_error(struct stmt *st, const struct sql_error *err);
void		store_free_all(void);
char		*status_url(const struct stmt *st, int with_request_id);

/* faults.c */
enum fault_kind {
	F_STATUS, F_DELAY, F_RESET, F_TRUNCATE, F_MALFORMED, F_BAD_GZIP, F_NUMROWS, F_ASYNC,
	F_NKINDS
};
#define FM(k)	(1u << (k))
struct fault {
	enum fault_kind	kind;
	int		count;
	char		*match;
	int		status;
	char		*code;
	char		*message;
	char		*sql_state;
	int		retry_after;	/* seconds, -1 = no header */
	int		ms;
	int		polls;
	int		execute;	/* reset on POST: execute (and store) before dropping */
	int		rst;		/* reset: TCP RST (default) rather than FIN */
	struct fault	*next;
};
int		faults_add(json_t *spec, char *err, size_t errlen);
void		faults_clear(void);
json_t		*faults_list(void);
struct fault	*faults_take(unsigned kinds, const char *statement, const char *uri);
void		fault_free(struct fault *f);
json_t		*fault_status_body(const struct fault *f, const char *handle);

/* reply.c: every byte that goes on the wire, including the deliberately broken ways */
void	reply_json(struct evhttp_request *req, int status, json_t *body, const struct fault *f);
void	reply_bytes(struct evhttp_request *req, int status, const char *encoding,
	    const void *data, size_t len, const struct fault *f);
void	reply_shutdown(void);

/* control.c: /_fake/ endpoints and the counters they expose */
void	counters_init(void);
void	counters_free(void);
void	counter_inc(const char *name);
void	counter_key(const char *map, const char *key);
void	counter_add(const char *name, long long n);
void	counter_key_add(const char *map, const char *key, long long n);
void	counter_statement_text(const char *text);
void	counter_user_agent(const char *ua);
void	control_handle(struct evhttp_request *req, const char *path);

/* billing.c: the result cache, warehouse time, SHOW DYNAMIC TABLES */
int	billing_cached(const char *role, const char *database, const char *schema,
	    const char *sql, json_t **row_type, json_t **rows);
void	billing_ran(const char *role, const char *database, const char *schema,
	    const char *sql, json_t *row_type, json_t *rows, long long elapsed_us);
void	billing_failed(long long elapsed_us);
void	billing_free(void);
char	*billing_show_sql(const char *stmt, const char *database, int *bad);
void	billing_show_names(json_t *row_type);

/* api.c */
void	api_handle(struct evhttp_request *req, const char *path, const char *query);

/* http.c */
int	http_start(char *err, size_t errlen);
void	http_stop(void);

#endif
