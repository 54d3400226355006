/*
 * tpcd.h — the one internal header of the daemon. Prototypes are grouped per file,
 * in the order data flows: config → catalog → source → refresh → store → http.
 * Structs that only one file needs stay in that file.
 */
#ifndef TPCD_H
#define TPCD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define TPCD_VERSION "0.1.0"

/* log.c */
enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };
void	log_init(int level);
void	log_set_level(int level);
int	log_level_parse(const char *name);
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* xmalloc.c: allocation that cannot fail (out of memory is fatal) */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list);

/* buf.c: a growable byte buffer */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
void	buf_add(struct buf *, const void *, size_t);
void	buf_adds(struct buf *, const char *);
void	buf_addc(struct buf *, char);
void	buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
char	*buf_steal(struct buf *, size_t *);

/* config.c */
enum source_kind { SOURCE_SQLITE, SOURCE_SNOWFLAKE };

struct brand {
	char	*id;		/* API id, lowercase: "a" */
	char	*name;		/* display name: "Brand A" */
	char	*schema;	/* source schema: "brand_a" (sqlite file / Snowflake schema) */
};

struct config {
	char		*path;
	char		*listen_addr;
	int		 listen_port;
	int		 threads;		/* serving threads; 0 = one per core */
	char		*state_dir;		/* LMDB store lives here */
	size_t		 map_size_mb;
	int		 max_readers;
	enum source_kind source;
	char		*sqlite_dir;		/* <dir>/<schema>.db per brand */
	struct brand	*brands;
	size_t		 nbrands;
	char		*catalog_path;
	int		 refresh_interval;	/* seconds */
	int		 log_level;
	/* HTTP limits */
	int		 http_timeout;		/* seconds, per connection read/write */
	size_t		 http_max_header;
	size_t		 http_max_body;
	int		 http_max_connections;	/* per serving thread */
};

struct config	*config_load(const char *path, char **cause);
void		 config_free(struct config *);
const struct brand *config_find_brand(const struct config *, const char *id);

/* catalog.c */
enum col_type { COL_INT64, COL_DOUBLE, COL_STRING, COL_DATE };

struct column {
	char		*name;
	enum col_type	 type;
	char		*role;		/* dimension | measure */
	char		*unit;		/* count | KRW | % | days | none */
	char		*title_en;
	char		*title_ko;
};

struct param {
	char	*name;
	char	*value;		/* as written in YAML; bound as integer when it parses as one */
};

struct aggregate {
	char		*name;
	char		*relation;
	char		*title_en;
	char		*title_ko;
	char		*description;
	char		*target_lag;
	int		 refresh;
	char		*sqlite_sql;	/* file contents */
	char		*snowflake_sql;	/* template contents */
	struct column	*cols;
	size_t		 ncols;
};

struct catalog {
	char		*path;
	struct param	*params;
	size_t		 nparams;
	struct aggregate *aggs;
	size_t		 naggs;
};

struct catalog	*catalog_load(const char *path, char **cause);
void		 catalog_free(struct catalog *);
const struct aggregate *catalog_find(const struct catalog *, const char *name);
const char	*col_type_name(enum col_type);

/* table.c: a result set held in memory; strings live in one arena */
enum cell_kind { CELL_NULL, CELL_INT, CELL_DOUBLE, CELL_TEXT };
struct cell {
	enum cell_kind	 kind;
	union {
		int64_t	 i;
		double	 d;
		struct {
			size_t	off;	/* into table.text */
			size_t	len;
		} t;
	} v;
};
struct table {
	size_t		 ncols;
	size_t		 nrows;
	size_t		 cap;		/* cells allocated */
	struct cell	*cells;		/* row-major */
	struct buf	 text;
};
void	table_init(struct table *, size_t ncols);
void	table_free(struct table *);
struct cell *table_add_row(struct table *);
void	table_set_text(struct table *, struct cell *, const char *, size_t);
const struct cell *table_cell(const struct table *, size_t row, size_t col);
const char *table_text(const struct table *, const struct cell *);

/* source.h-like section: what refresh.c asks of a source */
enum pull_state { PULL_PENDING, PULL_DONE, PULL_UNCHANGED, PULL_FAILED };

/* One aggregate of one brand in one refresh cycle. The source fills it; refresh owns it. */
struct pull {
	const struct brand	*brand;
	const struct aggregate	*agg;
	int			 wanted;	/* 0: not part of this cycle, keep the live one */
	enum pull_state		 state;
	struct table		 table;		/* PULL_DONE */
	char			*error;		/* PULL_FAILED; a warning with PULL_UNCHANGED */
	char			*prev_data_ts;	/* lineage of the live record (from the manifest) */
	char			*data_ts;	/* lineage of what was pulled */
	char			*handle;	/* the upstream statement behind it */
	char			*prev_handle;
	int64_t			 duration_ms;
	uint64_t		 rows;		/* set by refresh: of the record kept */
	uint64_t		 generation;
};

struct source {
	const char	*name;
	/* Settles every wanted pull, then calls done(arg) (on the refresh thread). */
	void		(*pull)(struct source *, struct pull *, size_t n,
			    void (*done)(void *), void *arg);
	/* Shutdown: abandon in-flight work (cancel upstream statements); done is not called. */
	void		(*cancel)(struct source *);
	void		(*free)(struct source *);
	void		*impl;
	/* counters for status and metrics, touched only on the refresh thread */
	uint64_t	 statements;
	uint64_t	 retries;
};

/* source_sqlite.c */
struct source *source_sqlite_new(const struct config *, const struct catalog *);
int	source_sqlite_pull(const struct config *, const struct catalog *,
	    const struct brand *, const struct aggregate *, struct table *, char **cause);

/* jwt.c: Snowflake key-pair JWTs and secret files */
struct jwt_key;
int	 secret_file_check(const char *path, char **cause);
char	*secret_file_read(const char *path, char **cause);
struct jwt_key *jwt_key_load(const char *path, const char *passphrase_file, char **cause);
void	 jwt_key_free(struct jwt_key *);
const char *jwt_key_fingerprint(const struct jwt_key *);
char	*sf_account_id(const char *account);
char	*jwt_make(const struct jwt_key *, const char *account, const char *user, int64_t now,
	    int lifetime, char **cause);

/* sfdecode.c: Snowflake SQL API cells (strings typed by rowType) → table cells */
enum sf_type {
	SF_FIXED, SF_REAL, SF_TEXT, SF_BOOLEAN, SF_DATE, SF_TIME, SF_TIMESTAMP_NTZ,
	SF_TIMESTAMP_LTZ, SF_TIMESTAMP_TZ, SF_VARIANT, SF_OBJECT, SF_ARRAY, SF_BINARY,
	SF_UNKNOWN
};
struct sf_col {
	enum sf_type	 type;
	int		 scale;
};
enum sf_type sf_type_parse(const char *name);
int	sf_decode(const struct sf_col *, const char *s, size_t len, enum col_type want,
	    struct table *, struct cell *, char **cause);

/* demo.c: deterministic demo data for the embedded source */
int	demo_generate(const char *path, const char *brand_id, unsigned seed, char **cause);

/* ddl.c: Snowflake dynamic-table DDL, rendered per brand */
int	ddl_render(FILE *, const struct config *, const struct catalog *, const struct brand *,
	    const char *warehouse, char **cause);

/* encode.c: the bodies of one aggregate, built once at publish */
enum body_variant {
	BODY_JSON, BODY_JSON_GZ, BODY_MSGPACK, BODY_CSV, BODY_CSV_GZ, BODY_NVARIANTS
};
#define ETAG_LEN 34	/* '"' + 32 hex + '"' */
struct record_meta {
	uint64_t	 generation;	/* snapshot in which this content last changed */
	int64_t		 refreshed_at;	/* unix seconds of that snapshot */
	uint64_t	 rows;
	unsigned char	 content_hash[32];	/* of columns + rows only */
};
int	encode_record(const struct brand *, const struct aggregate *, const struct table *,
	    uint64_t generation, int64_t refreshed_at, struct buf *out, char **cause);
int	record_parse(const void *rec, size_t len, struct record_meta *);
int	record_body(const void *rec, size_t len, enum body_variant,
	    const char **body, size_t *bodylen, const char **etag);
void	iso8601(int64_t t, char out[32]);

/* store.c: LMDB, blue/green snapshots */
struct store;
struct store_pub;
struct store_view;
int	store_open(struct store **, const char *dir, size_t map_size_mb, int max_readers,
	    char **cause);
void	store_close(struct store *);
/* Publish: the refresh thread only. */
int	store_pub_begin(struct store *, struct store_pub **, char **cause);
uint64_t store_pub_generation(struct store_pub *);
const char *store_pub_colour(struct store_pub *);
int	store_pub_prev(struct store_pub *, const char *brand, const char *agg,
	    struct buf *out);
int	store_pub_put(struct store_pub *, const char *brand, const char *agg,
	    const void *rec, size_t len, char **cause);
int	store_pub_commit(struct store_pub *, const char *manifest_json, char **cause);
void	store_pub_abort(struct store_pub *);
int	store_swap(struct store *, char **cause);
/* Read: any thread; a view is one read transaction, owned by the calling thread. */
struct store_reader;
struct store_reader *store_reader_new(struct store *);
void	store_reader_free(struct store_reader *);
struct store_view *store_view_begin(struct store_reader *);
void	store_view_release(struct store_view *);
const char *store_view_colour(const struct store_view *);	/* NULL: no snapshot yet */
uint64_t store_view_generation(const struct store_view *);
int	store_view_get(struct store_view *, const char *brand, const char *agg,
	    const void **rec, size_t *len);
char	*store_view_manifest(struct store_view *, const char *colour);	/* caller frees */

/* refresh.c: the refresh thread */
struct refresher;
struct json_t;
struct event_base;
struct refresher *refresh_start(const struct config *, const struct catalog *, struct store *,
	    struct source *, struct event_base *, int64_t last_publish);
uint64_t refresh_request(struct refresher *, const char *brand, const char *agg);
void	refresh_pin(struct refresher *, int);
int	refresh_running(struct refresher *);
void	refresh_stop(struct refresher *);
struct json_t *refresh_status(struct refresher *);	/* caller json_decref's */
int64_t	refresh_next_due(struct refresher *);

/* http.c */
struct http_server;
struct http_server *http_start(const struct config *, const struct catalog *, struct store *,
	    struct refresher *, int listen_fd, char **cause);
int	http_port(const struct http_server *);
void	http_stop(struct http_server *);

#endif
