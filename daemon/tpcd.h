
/*
 * tpcd.h — the one internal header of the daemon. Prototypes are grouped per file, the
 * files in the order data flows: helpers, then config → catalog → source → encode →
 * refresh → store → access → http → process; each stage's banner names its files, each
 * group the file that defines it. Structs that only one file needs stay in that file;
 * the store's and the refresh thread's files share theirs in store_priv.h and
 * refresh_priv.h, the demo generator's in demo_priv.h, the config table and its checks
 * config_check.h, the http_*.c files in http.h. It is longer than any .c on purpose
 * (tmux.h's model): one concern, the daemon's whole interface, read top to bottom.
 */
#ifndef TPCD_H
#define TPCD_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define TPCD_VERSION "0.1.0"

/* Other libraries' types, for the few prototypes that pass them */
struct json_t;				/* jansson's json_t */
struct event_base;			/* libevent's */
struct yaml_node_s;			/* libyaml's yaml_node_t */

/* Opaque types: each defined and owned by the file named */
struct ydoc;				/* yamldoc.c (yamldoc.h) */
struct upstream;			/* upstream.c */
struct up_req;				/* upstream.c */
struct jwt_key;				/* jwt.c */
struct encoder;				/* encode.c */
struct slice_cache;			/* slice_cache.c */
struct slice_entry;			/* slice_cache.c */
struct refresher;			/* refresh.c (refresh_priv.h) */
struct store;				/* store.c (store_priv.h) */
struct store_pub;			/* store_pub.c */
struct store_reader;			/* store_view.c (store_priv.h) */
struct store_view;			/* store_view.c (store_priv.h) */
struct auth;				/* auth.c */
struct auth_throttle;			/* auth_throttle.c */
struct worker_pool;			/* worker.c */
struct http_server;			/* http_server.c (http.h) */

/* ==== helpers: log.c, clock.c, xmalloc.c, buf.c, util.c ==== */
/* log.c */
enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };
void	log_init(int level);
void	log_set_level(int level);
int	log_level_parse(const char *name);
int	log_open_file(const char *path, int max_mb, int keep);
void	log_close_file(void);
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* clock.c */
int64_t	mono_us(void);
int64_t	mono_ms(void);
int64_t	wall_ms(void);
void	clock_iso8601(int64_t t, char out[32]);
int64_t	clock_parse_iso8601(const char *iso);
int	clock_parse_iso8601_ms(const char *, int64_t *ms);

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
void	buf_grow(struct buf *, size_t extra);
void	buf_add(struct buf *, const void *, size_t);
void	buf_adds(struct buf *, const char *);
void	buf_addc(struct buf *, char);
void	buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
char	*buf_steal(struct buf *, size_t *);
void	buf_json_escape(struct buf *, const char *s, size_t n);

/* util.c: helpers without daemon state, linked by tpcctl too */
enum { UTIL_PW_CONFIRM = 1 << 0, UTIL_PW_NONEMPTY = 1 << 1 };
int	util_mkdir_p(const char *path, unsigned int mode, char **cause);
int	util_read_password(FILE *in, const char *prompt, int flags, char **pw, char **cause);
void	util_csv_field(struct buf *, const char *s, size_t n);
uint64_t util_splitmix64(uint64_t *state);

/* ==== config: config.c, config_table.c, config_check.c (config_check.h; yamldoc.h: the
 *      YAML reader they share) ==== */
/* config.c */
enum source_kind { SOURCE_SQLITE, SOURCE_SNOWFLAKE };

struct brand {
	char	*id;		/* API id, lowercase: "a" */
	char	*name;		/* display name: "Brand A" */
	char	*schema;	/* source schema: "brand_a" (sqlite file / Snowflake schema) */
};

struct snowflake_conf {
	char		*account;		/* "myorg-acct" or "xy12345.region" */
	char		*user;
	char		*url;			/* default https://<account>.snowflakecomputing.com */
	char		*warehouse;
	char		*role;
	char		*database;
	char		*auth;			/* keypair | oauth | pat */
	char		*private_key;
	char		*private_key_passphrase_file;
	char		*token_file;
	int		 statement_timeout;	/* seconds, Snowflake's own "timeout" */
	int		 request_timeout;	/* seconds per HTTP request */
	int		 deadline;		/* seconds per statement, retries included */
	int		 max_statements;	/* in flight */
	int		 max_partitions;	/* partition fetches in flight per statement */
	int		 retry_max;
	int		 retry_base_ms;
	int		 retry_cap_ms;
	int		 poll_max_ms;
};

/* Access control as configured (auth: in tpcd.yaml and its users_file); see auth.c. */
enum principal_role {
	ROLE_USER = 0,		/* reads the brands listed */
	ROLE_ADMIN = 1,		/* every brand, and the operations */
	ROLE_MONITOR = 2	/* status, snapshots, metrics: what a monitoring host needs */
};
#define AUTH_NAME_MAX	64
struct auth_principal_conf {
	char		*name;		/* [A-Za-z0-9_.@-], 1..AUTH_NAME_MAX */
	int		 role;		/* ROLE_USER | ROLE_ADMIN | ROLE_MONITOR */
	char		**brands;	/* brand ids it may read (role user) */
	size_t		 nbrands;
	char		*password_hash;	/* users: crypt(3), yescrypt "$y$..." */
	unsigned char	 sha256[32];	/* tokens: SHA-256 of the token */
	int		 revoked;	/* tokens: "revoked: true" */
	const char	*file;		/* where it is defined, for FILE:LINE after the load: */
	size_t		 brands_line;	/* the config's path or auth.users_file, not owned */
};

struct auth_conf {
	char		*users_file;
	int		 users_file_missing;	/* it does not exist (yet): tpcd --demo writes it */
	int		 session_lifetime;	/* seconds */
	int		 max_sessions;		/* live sessions per user; the oldest goes */
	int		 cookie_secure;		/* Set-Cookie ... ; Secure */
	char		**trusted_proxies;	/* peers whose last X-Forwarded-For hop counts */
	size_t		 ntrusted_proxies;
	struct auth_principal_conf *users;
	size_t		 nusers;
	struct auth_principal_conf *tokens;
	size_t		 ntokens;
};

struct audit_conf {
	char		*file;			/* default <state_dir>/audit.log */
	int		 max_size_mb;
	int		 keep;			/* rotated files kept: FILE.1 .. FILE.keep */
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
	struct snowflake_conf sf;
	struct brand	*brands;
	size_t		 nbrands;
	char		*catalog_path;
	int		 refresh_interval;	/* seconds */
	int		 refresh_lease_ttl;	/* seconds; the lease between instances */
	int		 shutdown_timeout;	/* seconds SIGTERM waits for connections */
	char		*log_file;		/* NULL: stderr only */
	int		 log_max_size_mb;
	int		 log_keep;
	int		 log_level;
	/* HTTP limits */
	int		 http_timeout;		/* seconds a connection may stall (idle, keep-alive) */
	int		 http_header_timeout;	/* seconds for a whole request head */
	int		 http_body_timeout;	/* seconds for a whole request body */
	size_t		 http_max_header;
	size_t		 http_max_body;
	int		 http_max_connections;	/* per serving thread */
	int		 guards_warn;		/* guards: warn (publish and report) or enforce */
	char		**cors_origins;		/* http.cors_origins: scheme://host[:port] */
	size_t		 ncors_origins;
	struct auth_conf auth;
	struct audit_conf audit;
	struct config_where *where;	/* where each path key was set, for tpcd -t */
	size_t		 nwhere;
};

/* A path key as the file set it: tpcd -t checks it and reports it at FILE:LINE. */
struct config_where {
	const char	*key;		/* the table's name for it: "dir", "log_file" */
	const char	*file;		/* the config's path or auth.users_file (cf owns) */
	size_t		 line;
	const char	*value;		/* the resolved path (cf owns) */
};

struct config	*config_load(const char *path, char **cause);
void		 config_free(struct config *);
const struct brand *config_find_brand(const struct config *, const char *id);

/*
 * Every key of tpcd.yaml is one row of a section table in config_table.c; config.c parses,
 * defaults and frees a value by its type, at offset bytes from the section's base struct;
 * the rows' checks and the sections' done functions are config_check.c's.
 */
enum config_type {
	CONFIG_INT,		/* int, min..max */
	CONFIG_SIZE,		/* size_t, min..max */
	CONFIG_BOOL,		/* int, true (1) or false (0) */
	CONFIG_STRING,		/* char * */
	CONFIG_PATH,		/* char *, relative to the configuration file's directory */
	CONFIG_ENUM,		/* int, the value of one of choices */
	CONFIG_KEYWORD,		/* char *, the name of one of choices */
	CONFIG_SECTION,		/* a mapping of section's keys; base += offset */
	CONFIG_LIST,		/* array of section's structs, or of char * without one */
	CONFIG_CUSTOM,		/* check alone parses and stores it */
};
#define CONFIG_REQUIRED		0x1
#define CONFIG_EMPTY_OK		0x2	/* STRING, PATH: "" is not refused */
#define CONFIG_ANYCASE		0x4	/* ENUM, KEYWORD: choices match in any case */
#define CONFIG_SENSITIVE	0x8	/* STRING: zeroed before it is freed */

struct config_walk {
	struct ydoc	*d;		/* the file being read, for "FILE:LINE: message" */
	const char	*file;		/* its path, owned by cf (path or auth.users_file) */
	const char	*dir;		/* of the configuration file: relative paths */
	struct config	*cf;
};
struct config_key;
typedef int (*config_check_fn)(struct config_walk *, struct yaml_node_s *v,
	    const struct config_key *, void *base, char **cause);
typedef int (*config_done_fn)(struct config_walk *, struct yaml_node_s *m,
	    const char *what, void *base, char **cause);

struct config_choice {
	const char	*name;
	int		 value;
};

struct config_section {
	const char		*name;		/* in messages: "brand", "the configuration" */
	const struct config_key	*keys;
	size_t			 nkeys;
	size_t			 size;		/* of one element, for a LIST */
	config_done_fn		 done;		/* checks across its keys, once all are read */
};

struct config_key {
	const char		*name;
	enum config_type	 type;
	int			 flags;
	size_t			 offset;	/* of the value, from the section's base */
	size_t			 count;		/* LIST: offset of its size_t count */
	long			 min, max;	/* INT, SIZE; LIST: min 1 refuses [] */
	long			 dflt;		/* INT, SIZE, BOOL, ENUM */
	const char		*dflt_str;	/* STRING, PATH, KEYWORD */
	const struct config_choice *choices;	/* ENUM, KEYWORD: ends with { NULL } */
	const struct config_section *section;	/* SECTION; LIST of mappings */
	config_check_fn		 check;		/* after the value is stored (per LIST item) */
	const char		*what;		/* LIST: what it holds, in messages */
	const char		*text;		/* what the key means, for readers of the table */
};

extern const struct config_section config_top;	/* the file's top-level keys */
int	config_walk_file(struct config_walk *, const char *path,
	    const struct config_section *, void *base, char **cause);

/* ==== catalog: catalog.c, catalog_guards.c ==== */
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

/*
 * Publish guards (guard.c evaluates them). Per aggregate, with the catalogue's guards:
 * as defaults; -1 (or NULL lists) where the aggregate does not override.
 */
struct guard_total {
	char		*column;
	double		 max_change;	/* percent of the live colour's total */
};
struct agg_guards {
	long		 min_rows;		/* -1: inherit */
	double		 max_row_change;	/* percent; < 0: inherit; 0: no limit */
	struct guard_total *totals;		/* max_total_change */
	size_t		 ntotals;
	char		**non_negative;		/* columns, beside those of non_negative_units */
	size_t		 nnon_negative;
	char		**nullable;		/* dimension columns that may hold NULL */
	size_t		 nnullable;
};
/* One side of a cross-aggregate check: fn(column) [by key | by month(key)] in aggregate */
enum guard_fn { GUARD_SUM, GUARD_COUNT, GUARD_LAST };
struct guard_side {
	enum guard_fn	 fn;
	char		*column;	/* NULL for count(*) */
	char		*key;		/* NULL: one total */
	int		 key_month;	/* key is month(col): its first 7 characters */
	char		*aggregate;
};
struct guard_check {
	char		*name;
	char		*text;		/* as declared, for messages */
	struct guard_side side[2];
	int		 common_keys;	/* keys: common: compare where both sides have the key */
};

struct aggregate {
	char		*name;
	char		*relation;
	char		*title_en;
	char		*title_ko;
	char		*description;
	char		*target_lag;
	char		*refresh_mode;	/* the dynamic table's: FULL or INCREMENTAL */
	int		 refresh;
	char		*sqlite_sql;	/* file contents */
	char		*snowflake_sql;	/* template contents */
	struct column	*cols;
	size_t		 ncols;
	int64_t		 max_staleness;	/* seconds; -1: the catalogue's; 0: no limit */
	struct agg_guards guards;
	char		*slice_key;	/* a dimension whose slices are built at publish */
	size_t		 slice_col;	/* its column (when slice_key is set) */
};

struct catalog {
	char		*path;
	struct param	*params;
	size_t		 nparams;
	struct aggregate *aggs;
	size_t		 naggs;
	int64_t		 max_staleness;	/* seconds, the default; 0: no limit */
	struct agg_guards guards;	/* the defaults */
	char		**non_negative_units;	/* measures in these units are >= 0 */
	size_t		 nnon_negative_units;
	char		**percent_units;	/* measures in these units are in [0, 100] */
	size_t		 npercent_units;
	struct guard_check *checks;	/* per brand, across its aggregates */
	size_t		 nchecks;
};

struct catalog	*catalog_load(const char *path, char **cause);
void		 catalog_free(struct catalog *);
const struct aggregate *catalog_find(const struct catalog *, const char *name);
const char	*col_type_name(enum col_type);
int64_t		 catalog_max_staleness(const struct catalog *, const struct aggregate *);

/* catalog_guards.c: the guards: declarations of the catalogue and its aggregates */
void	catalog_guards_init(struct agg_guards *);
int	catalog_guards_parse(struct ydoc *, struct yaml_node_s *, struct catalog *,
	    struct agg_guards *, int top, char **cause);
int	catalog_guards_resolve(struct catalog *, char **cause);
void	catalog_guards_free(struct agg_guards *);

/* ==== source: table.c, the source interface, source_sqlite.c, sf_*.c, upstream.c, jwt.c,
 *      sfdecode.c, demo.c, demo_gen.c, demo_profile.c (demo_priv.h), demo_accounts.c,
 *      ddl.c ==== */
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
void	table_clear(struct table *);
struct cell *table_add_row(struct table *);
void	table_set_text(struct table *, struct cell *, const char *, size_t);
const struct cell *table_cell(const struct table *, size_t row, size_t col);
const char *table_text(const struct table *, const struct cell *);

/* the source interface: what refresh asks of a source (source_sqlite.c, sf_cycle.c) */
enum pull_state { PULL_PENDING, PULL_DONE, PULL_UNCHANGED, PULL_FAILED };

/* One aggregate of one brand in one refresh cycle. The source fills it; refresh owns it. */
struct pull {
	const struct brand	*brand;
	const struct aggregate	*agg;
	int			 wanted;	/* 0: not part of this cycle, keep the live one */
	enum pull_state		 state;
	struct encoder		*enc;		/* PULL_DONE: the bodies, encoded as rows came */
	uint64_t		 snap_generation;	/* set by refresh: the candidate's */
	int64_t			 snap_at;	/* and its time: a record without data_ts */
	char			*error;		/* PULL_FAILED; a warning with PULL_UNCHANGED */
	char			*prev_data_ts;	/* lineage of the live record (from the manifest) */
	char			*data_ts;	/* lineage of what was pulled */
	char			*handle;	/* the upstream statement behind it */
	char			*prev_handle;
	int64_t			 data_time;	/* unix seconds the data describes; 0: unknown */
	int64_t			 prev_data_time;	/* of the live record (from the manifest) */
	int			 source_failed;	/* the upstream stopped refreshing (a SUSPENDED DT) */
	int64_t			 point_ms;	/* the brand's point in time it was read at; 0: none */
	int64_t			 prev_point_ms;	/* of the live record (from the manifest) */
	int64_t			 duration_ms;
	uint64_t		 rows;		/* set by refresh: of the record kept */
	uint64_t		 generation;
};

struct source {
	const char	*name;
	/* Settles every wanted pull, then calls done(arg) (on the refresh thread). */
	void		(*pull)(struct source *, struct pull *, size_t n,
			    void (*done)(void *), void *arg);
	/*
	 * Shutdown, on the refresh thread: abandon in-flight work (done is not called),
	 * cancel upstream statements, then call stopped(arg).
	 */
	void		(*cancel)(struct source *, void (*stopped)(void *), void *arg);
	void		(*free)(struct source *);
	void		*impl;
	atomic_int	*stopping;	/* set from any thread: a synchronous pull stops early */
	int		 spread;	/* seconds of random delay added to each schedule */
	/* counters for status and metrics: the refresh thread adds, any thread reads */
	_Atomic uint64_t statements;
	_Atomic uint64_t retries;
	/* the cheap check of what changed: failures since start, the last one's error
	 * (refresh thread only; refresh.c copies it out under its lock) */
	_Atomic uint64_t freshness_failures;
	char		*freshness_error;	/* NULL: the last check succeeded */
};

/* source_sqlite.c */
struct source *source_sqlite_new(const struct config *, const struct catalog *);

/* sf_cycle.c: the Snowflake source (sf_point.c, sf_stmt.c, sf_result.c; private snowflake.h) */
struct source *source_snowflake_new(const struct config *, const struct catalog *,
	    struct event_base *, char **cause);

/* upstream.c: async HTTP (curl multi) on an event_base */
struct up_resp {
	int		 result;	/* CURLcode: 0 when an HTTP answer arrived */
	long		 status;
	struct buf	 body;		/* decoded (gzip undone) */
	char		*retry_after;	/* the Retry-After header, if any */
	char		 errbuf[256];	/* CURL_ERROR_SIZE */
};
typedef void (*up_cb)(struct up_req *, struct up_resp *, void *arg);
struct upstream *upstream_new(struct event_base *, const char *user_agent);
void	upstream_free(struct upstream *);
struct up_req *upstream_request(struct upstream *, const char *method, const char *url,
	    const char *body, const char *const *headers, long timeout_ms, up_cb, void *arg);
void	up_req_free(struct up_req *);

/* jwt.c: Snowflake key-pair JWTs and secret files */
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

/* demo_accounts.c: the demo's users file (tpcd --demo) */
int	demo_accounts_write(const struct config *, FILE *out, int port, char **cause);

/* ddl.c: Snowflake dynamic-table DDL, rendered per brand */
int	ddl_render(FILE *, const struct config *, const struct catalog *, const struct brand *,
	    const char *warehouse, char **cause);

/* ==== encode: encode.c, record.c, slice.c, slice_cache.c, manifest.c ==== */
/* encode.c: the bodies of one aggregate, built once at publish as its rows stream in */
struct encoder *encode_begin(const struct brand *, const struct aggregate *,
	    uint64_t generation, int64_t refreshed_at);
void	encode_table(struct encoder *, const struct table *);
uint64_t encode_rows(const struct encoder *);
struct record_out *encode_finish_out(struct encoder *, char **cause);
int	encode_finish(struct encoder *, struct buf *out, char **cause);
void	encode_free(struct encoder *);
int	encode_record(const struct brand *, const struct aggregate *, const struct table *,
	    uint64_t generation, int64_t refreshed_at, struct buf *out, char **cause);
#define ENCODE_BATCH_ROWS 256	/* rows a source decodes before handing them over */
void	encode_pull_begin(struct pull *);
void	encode_pull_rows(struct pull *, struct table *);

/* record.c: the record format: a header, then every body of one aggregate */
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
void	record_etag_hex(const unsigned char h[32], char out[ETAG_LEN + 1]);
void	record_begin(struct buf *);
int	record_seal(struct buf *, uint64_t generation, int64_t refreshed_at, uint64_t rows,
	    const size_t start[BODY_NVARIANTS], const size_t end[BODY_NVARIANTS],
	    size_t content_off, size_t content_end);
/* A sealed record whose bodies are still apart: body v is body[v].data + off[v], len[v]. */
struct record_out {
	char		*hdr;
	size_t		 hdr_len;
	struct buf	 body[BODY_NVARIANTS];
	size_t		 off[BODY_NVARIANTS];
	size_t		 len[BODY_NVARIANTS];
	size_t		 total;		/* the record's size once written */
	struct record_meta meta;
};
struct record_out *record_out_new(void);
int	record_out_seal(struct record_out *, uint64_t generation, int64_t refreshed_at,
	    uint64_t rows, size_t content_off);
const char *record_out_body(const struct record_out *, enum body_variant, size_t *len);
void	record_out_write(struct record_out *, void *dst);
void	record_out_free(struct record_out *);
int	record_parse(const void *rec, size_t len, struct record_meta *);
int	record_body(const void *rec, size_t len, enum body_variant,
	    const char **body, size_t *bodylen, const char **etag);

/* slice.c: a window of one record's rows, filtered on dimension columns, encoded again */
struct slice_filter {
	size_t		 col;		/* index into the aggregate's columns */
	enum cell_kind	 kind;		/* CELL_TEXT, CELL_INT or CELL_DOUBLE */
	int64_t		 i;
	double		 d;
	const char	*s;		/* the value as given (the canonical query's) */
	size_t		 n;
};
struct slice_query {
	uint64_t		 offset;
	uint64_t		 limit;
	struct slice_filter	*filters;	/* in column order, one per column at most */
	size_t			 nfilters;
};
int	slice_filter_parse(const struct aggregate *, size_t col, const char *value,
	    struct slice_filter *, char **cause);
int	slice_build(const struct brand *, const struct aggregate *, const void *rec,
	    size_t len, const struct slice_query *, struct buf *out, uint64_t *total,
	    char **cause);
void	slice_etag(const char *whole_etag, const struct slice_query *,
	    char out[ETAG_LEN + 1]);
struct slice_part {
	char		*value;		/* the slice key's value (an integer in decimal) */
	size_t		 n;
	struct buf	 rec;		/* the record of its rows */
};
int	slice_partitions(const struct brand *, const struct aggregate *,
	    const struct record_meta *, const char *mp, size_t mplen, struct slice_part **,
	    size_t *nparts, char **cause);
void	slice_parts_free(struct slice_part *, size_t);
char	*slice_part_name(const char *agg, const char *value, size_t n);
int	slice_part_names(const struct aggregate *, const char *mp, size_t mplen,
	    char ***names, size_t *nnames, char **cause);
const char *slice_part_value(const struct aggregate *, const struct slice_query *,
	    char num[32], size_t *n, size_t *which);

/* slice_cache.c: built slices kept for the next identical request (an LRU in bytes) */
struct slice_cache *slice_cache_new(size_t max_bytes);
void	slice_cache_free(struct slice_cache *);
struct slice_entry *slice_cache_get(struct slice_cache *, const char *key);
struct slice_entry *slice_cache_put(struct slice_cache *, const char *key, struct buf *rec,
	    uint64_t total);
void	slice_cache_release(struct slice_entry *);
const struct buf *slice_cache_record(const struct slice_entry *, uint64_t *total);
void	slice_cache_stats(struct slice_cache *, uint64_t *hits, uint64_t *misses,
	    size_t *bytes);

/* manifest.c: what one snapshot holds, a record format: refresh builds it, the store keeps it */
struct manifest_entry {
	char		*brand;
	char		*aggregate;
	int		 ok;		/* its last pull worked */
	uint64_t	 rows;		/* of the record kept */
	uint64_t	 generation;	/* in which that record last changed */
	int64_t		 duration_ms;
	char		*error;		/* NULL: none */
	char		*data_ts;	/* lineage of the record kept; NULL: unknown */
	char		*handle;	/* the upstream statement behind it; NULL: none */
	int64_t		 data_time;	/* unix seconds its data describes; 0: unknown */
	int64_t		 point_ms;	/* the brand's point in time it was read at (unix ms); 0: none */
};
/* One failed publish guard: which check, on what, and why (guard.c names them). */
struct manifest_failure {
	char		*check;		/* min_rows, max_row_change, ..., or a check's name */
	char		*brand;
	char		*aggregate;	/* NULL: the brand as a whole */
	char		*message;
};
struct manifest {
	uint64_t		 generation;
	char			*colour;
	int64_t			 created_at;	/* unix seconds */
	char			*source;
	int64_t			 duration_ms;	/* of the refresh that built it */
	struct manifest_entry	*entries;
	size_t			 nentries;
	size_t			 cap;
	char			*guards;	/* passed | held | warned | forced; NULL: unknown */
	struct manifest_failure	*failures;	/* of the guards, when they ran */
	size_t			 nfailures;
};
void	manifest_init(struct manifest *, uint64_t generation, const char *colour,
	    int64_t created_at, const char *source);
void	manifest_add(struct manifest *, const struct manifest_entry *);
const struct manifest_entry *manifest_find(const struct manifest *, const char *brand,
	    const char *agg);
struct json_t *manifest_json(const struct manifest *);
char	*manifest_encode(const struct manifest *);	/* caller frees */
int	manifest_read(struct manifest *, const char *text, size_t len, char **cause);
void	manifest_free(struct manifest *);
void	manifest_add_failure(struct manifest *, const struct manifest_failure *);

/* ==== refresh: guard.c, guard_rows.c, refresh.c, refresh_cycle.c ==== */
/* guard.c: publish guards, evaluated on a candidate snapshot before it goes live */
/*
 * The msgpack body of one record of the candidate (live 0) or the live snapshot
 * (live 1); 0 or -1.
 */
typedef int (*guard_get_fn)(void *arg, int live, const char *brand, const char *agg,
	    const char **body, size_t *len);
void	guard_run(const struct config *, const struct catalog *, const struct pull *,
	    size_t npulls, guard_get_fn, void *arg, struct manifest *out);
/* guard_rows.c: a msgpack body's rows, one at a time, for the guards */
int	guard_rows(const char *body, size_t len, size_t ncols,
	    void (*fn)(void *, const struct table *), void *arg);

/* refresh.c: the refresh thread (its cycle: refresh_cycle.c) */
struct refresher *refresh_start(const struct config *, const struct catalog *, struct store *,
	    struct source *, struct event_base *, int64_t last_publish);
uint64_t refresh_request(struct refresher *, const char *brand, const char *agg);
int	refresh_running(struct refresher *);
void	refresh_stop(struct refresher *);
/* One aggregate of one brand, as the refreshes so far left it. */
struct refresh_agg {
	char		*brand;
	char		*aggregate;
	int		 ok;		/* of its last refresh; meaningless while never tried */
	char		*error;		/* of its last refresh; NULL: none */
	uint64_t	 rows;
	uint64_t	 generation;	/* of the content now published */
	int64_t		 duration_ms;
	char		*data_ts;	/* lineage of the content published; NULL: unknown */
	char		*handle;
	uint64_t	 ok_count;	/* monotonic while the refresher runs */
	uint64_t	 fail_count;
};
/* Publish guards that failed so far, counted per check, brand and aggregate. */
struct refresh_guard_count {
	char		*check;
	char		*brand;
	char		*aggregate;	/* "" for the brand as a whole */
	uint64_t	 count;
};
/* The refresh state at one instant, copied under the refresher's lock; all owned. */
struct refresh_status {
	int		 refreshing;
	uint64_t	 runs;		/* cycles finished; 0: no last_* yet */
	int		 last_ok;
	int		 last_published;
	char		*last_error;	/* NULL: none */
	int64_t		 last_started_ms;	/* wall clock */
	int64_t		 last_finished_ms;
	int64_t		 last_duration_ms;
	int64_t		 next_due;	/* unix seconds */
	char		*source;
	uint64_t	 statements;
	uint64_t	 retries;
	uint64_t	 freshness_failures;	/* the source's freshness checks that failed */
	char		*freshness_error;	/* of the last one; NULL: it succeeded */
	char		*lease_owner;	/* this process */
	int		 lease_held;
	char		*lease_holder;	/* NULL: nobody known */
	struct refresh_agg *aggs;	/* brand-major, in config and catalog order */
	size_t		 naggs;
	struct refresh_guard_count *guard_counts;
	size_t		 nguard_counts;
};
void	refresh_status(struct refresher *, struct refresh_status *);
void	refresh_status_free(struct refresh_status *);
int64_t	refresh_next_due(struct refresher *);

/* ==== store: store.c, store_pub.c, store_view.c, store_session.c ==== */
/* store.c: the LMDB environment holding blue/green snapshots, sessions and the lease */
int	store_open(struct store **, const char *dir, size_t map_size_mb, int max_readers,
	    char **cause);
void	store_close(struct store *);
int	store_backup(struct store *, int fd, char **cause);
const char *store_dir(struct store *);
void	store_thread_serving(void);	/* this thread only reads (checked) */
struct store_counters {
	uint64_t	 write_txns_background;
	uint64_t	 write_txns_serving;	/* must stay 0 */
	uint64_t	 readers_full;		/* views refused: reader table full */
	uint64_t	 resized;		/* remaps after a peer grew the map */
	uint64_t	 map_full;		/* publishes refused: map full */
};
void	store_counters(struct store *, struct store_counters *);

/* store_pub.c: publish (the refresh thread only); swap, hold, pin (writer pool too) */
int	store_pub_begin(struct store *, struct store_pub **, char **cause);
uint64_t store_pub_generation(struct store_pub *);
const char *store_pub_colour(struct store_pub *);
int	store_pub_prev(struct store_pub *, const char *brand, const char *agg,
	    struct buf *out);
int	store_pub_put(struct store_pub *, const char *brand, const char *agg,
	    const void *rec, size_t len, char **cause);
int	store_pub_put_out(struct store_pub *, const char *brand, const char *agg,
	    struct record_out *, char **cause);
int	store_pub_commit(struct store_pub *, const struct manifest *, char **cause);
int	store_pub_stage(struct store_pub *, const struct manifest *, char **cause);
void	store_pub_abort(struct store_pub *);
enum store_held {
	STORE_HELD_RELEASED = 0,	/* the held candidate was published or discarded */
	STORE_HELD_NONE = 1,		/* no candidate is held (*cause says so) */
	STORE_HELD_ERROR = -1
};
enum store_held store_held_release(struct store *, int publish, char **cause);
int	store_manifest_update(struct store *, const struct manifest *, char **cause);
int	store_swap(struct store *, char **cause);
int	store_set_pinned(struct store *, int pinned, char **cause);

/* store_view.c: read, any thread; a view is one read transaction, owned by its thread */
struct store_reader *store_reader_new(struct store *);
void	store_reader_free(struct store_reader *);
struct store_view *store_view_begin(struct store_reader *);
void	store_view_release(struct store_view *);
const char *store_view_colour(const struct store_view *);	/* NULL: no snapshot yet */
uint64_t store_view_generation(const struct store_view *);
int	store_view_get(struct store_view *, const char *brand, const char *agg,
	    const void **rec, size_t *len);
uint64_t store_view_next_generation(struct store_view *);
int	store_view_get_colour(struct store_view *, const char *colour, const char *brand,
	    const char *agg, const void **rec, size_t *len);
/* 0 and *m (caller manifest_free's), or -1: the colour holds no readable manifest */
int	store_view_manifest(struct store_view *, const char *colour, struct manifest *m);
int	store_view_pinned(struct store_view *);
const char *store_view_held(struct store_view *);	/* the held colour, or NULL */
int	store_view_session(struct store_view *, const void *key, size_t klen,
	    const void **val, size_t *vlen);

/*
 * store_session.c: the sessions db, small opaque records under opaque keys
 * (auth_session.c owns the format), written rarely (login, logout, revocation, purge)
 * in tiny write transactions; and the refresh lease.
 */
int	store_session_put(struct store *, const void *key, size_t klen, const void *val,
	    size_t vlen, char **cause);
int	store_session_del(struct store *, const void *key, size_t klen);
/* What a store_session_scan callback wants done with the record it was given. */
enum store_session_act {
	STORE_SESSION_KEEP,
	STORE_SESSION_DELETE,		/* only when the scan is writable */
	STORE_SESSION_STOP		/* keep it and end the scan */
};
typedef enum store_session_act (*store_session_cb)(const void *key, size_t klen,
	    const void *val, size_t vlen, void *arg);
int	store_session_scan(struct store *, int writable, store_session_cb, void *arg,
	    char **cause);
enum store_lease {
	STORE_LEASE_MINE = 1,		/* owner holds the lease (taken or renewed) */
	STORE_LEASE_HELD = 0,		/* another live process does (*holder) */
	STORE_LEASE_ERROR = -1
};
enum store_lease store_lease(struct store *, const char *owner, int ttl, char **holder);
void	store_lease_release(struct store *, const char *owner);

/* ==== access: auth.c, auth_session.c, auth_throttle.c, siphash.c, auth_password.c,
 *      audit.c, revlog.c, users_init.c ==== */
/* auth.c: principals and their checks: configured users and API tokens, login, logout */
enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_SESSION, PRINCIPAL_TOKEN };
enum auth_result { AUTH_OK, AUTH_NONE, AUTH_INVALID, AUTH_EXPIRED, AUTH_REVOKED };
#define SESSION_ID_LEN	16	/* hex: the public handle of a session (not its secret) */
struct principal {
	enum principal_kind	 kind;
	char			 name[AUTH_NAME_MAX + 1];	/* user or token name */
	int			 admin;
	int			 monitor;	/* role monitor: status, snapshots, metrics */
	const unsigned char	*brands;	/* [config brand index]: may read; NULL none */
	char			 session_id[SESSION_ID_LEN + 1];
	unsigned char		 key[32];	/* SHA-256 of the presented secret */
	int64_t			 expires;	/* sessions: unix seconds */
};
struct auth_login_result {
	char			*token;		/* the session secret; caller bzero's and frees */
	int64_t			 expires;
	const char		*reason;	/* failure: unknown_user | bad_password */
};
enum auth_login {
	AUTH_LOGIN_OK = 0,
	AUTH_LOGIN_REFUSED = -1,	/* unknown user or wrong password (res->reason) */
	AUTH_LOGIN_STORE_ERROR = -2	/* the password was right; the session not stored */
};
struct auth *auth_new(const struct config *, struct store *, struct auth_throttle *,
	    char **cause);
void	auth_free(struct auth *);
struct auth_throttle *auth_get_throttle(struct auth *);
int	auth_cookie_secure(const struct auth *);
int	auth_cookie_max_age(const struct auth *);
int	auth_proxy_trusted(const struct auth *, const char *addr);
enum auth_result auth_check(struct auth *, struct store_view *, const char *secret,
	    size_t len, int64_t now, struct principal *);
int	principal_may_read(const struct principal *, size_t brand_index);
const char *auth_role_name(int);
int	auth_principal_refresh(struct auth *, struct principal *);
enum auth_login auth_login(struct auth *, const char *user, const char *password,
	    const char *addr, int64_t now, struct principal *, struct auth_login_result *);
enum auth_login auth_login_check(struct auth *, const char *user, const char *password,
	    struct auth_login_result *);
enum auth_login auth_login_session(struct auth *, const char *user, const char *addr,
	    int64_t now, struct principal *, struct auth_login_result *);
int	auth_logout(struct auth *, const struct principal *);
void	auth_expire(struct auth *, const struct principal *);
struct json_t *auth_tokens_list(struct auth *, struct store_view *);
enum auth_token_revoke {
	AUTH_TOKEN_REVOKE_OK = 0,
	AUTH_TOKEN_REVOKE_NONE = 1,	/* no configured token has that name */
	AUTH_TOKEN_REVOKE_ERROR = -1	/* the store refused the write (*cause) */
};
enum auth_token_revoke auth_token_revoke(struct auth *, const char *name, const char *by,
	    int64_t now, char **cause);

/* auth_session.c: session records and token revocations in the store's sessions db */
struct auth_session {
	char		 id[SESSION_ID_LEN + 1];
	char		 user[AUTH_NAME_MAX + 1];
	char		 addr[48];
	int64_t		 created;	/* unix seconds */
	int64_t		 expires;
};
enum auth_session_revoke {
	AUTH_SESSION_REVOKE_OK = 0,
	AUTH_SESSION_REVOKE_NONE = 1,		/* no session starts with the prefix */
	AUTH_SESSION_REVOKE_AMBIGUOUS = 2,	/* several do; none was ended */
	AUTH_SESSION_REVOKE_ERROR = -1		/* a malformed prefix or a store error */
};
int	auth_session_create(struct store *, struct auth_session *, char **token,
	    unsigned char key[32], char **cause);
int	auth_session_get(struct store_view *, const unsigned char key[32],
	    struct auth_session *);
int	auth_session_delete(struct store *, const unsigned char key[32]);
uint64_t auth_session_revocations(void);
int	auth_session_replay(struct store *, char **cause);
void	auth_session_purge(struct store *, int64_t now);
void	auth_session_cap(struct store *, const char *user, int max);
struct json_t *auth_session_list(struct store *, int64_t now);
enum auth_session_revoke auth_session_revoke(struct store *, const char *id_prefix,
	    char *user_out, char **cause);
int	auth_session_token_revoked(struct store_view *, const unsigned char sha256[32]);
int	auth_session_token_revoke(struct store *, const unsigned char sha256[32],
	    const char *name, const char *by, int64_t now, char **cause);

/* auth_throttle.c: the login throttle; now_ms is mono_ms() */
struct auth_throttle *auth_throttle_new(size_t nslots);
void	auth_throttle_free(struct auth_throttle *);
int64_t	auth_throttle_wait(struct auth_throttle *, const char *user, const char *addr,
	    int64_t now_ms);
void	auth_throttle_result(struct auth_throttle *, const char *user, const char *addr,
	    int ok, int64_t now_ms);
size_t	auth_throttle_used(struct auth_throttle *, int64_t now_ms, size_t *nslots);

/* siphash.c: SipHash-2-4, a keyed hash for tables an attacker fills */
uint64_t siphash24(const unsigned char key[16], const void *, size_t);

/* auth_password.c: password hashes, reading a password, random secrets */
char	*auth_password_random(const char *prefix, size_t nbytes);
int	auth_password_verify(const char *pw, const char *hash);
char	*auth_password_hash(const char *pw, char **cause);

/* audit.c: the security audit log (JSON lines, size-rotated); any thread */
int	audit_open(const char *path, size_t max_bytes, int keep, char **cause);
void	audit_close(void);
struct audit_access {		/* count requests alike, first_ms to last_ms */
	const char	*principal, *kind, *session, *addr, *method, *path;
	size_t		 pathlen;
	const char	*brand, *aggregate;
	int		 status;
	uint64_t	 bytes;		/* their sum */
	uint64_t	 count;
	int64_t		 first_ms, last_ms;	/* unix milliseconds (audit_now_ms) */
};
void	audit_access(const struct audit_access *);
int64_t	audit_now_ms(void);
void	audit_write(struct json_t *event);	/* steals the reference; adds "ts" */
void	audit_config_reload(const char *path, int ok, const char *error);
char	*audit_cut(char *out, size_t size, const char *in);

/* revlog.c: the append-only revocation log in state_dir (a restore cannot undo it) */
int	revlog_open(const char *dir, char **cause);
void	revlog_close(void);
int	revlog_append(const char *kind, const unsigned char h[32], char **cause);
int	revlog_each(int (*)(const char *, const unsigned char[32], void *), void *,
	    char **cause);

/* users_init.c: tpcd --init-users FILE */
int	users_init(const char *path, FILE *out, char **cause);

/* ==== http: worker.c, http_server.c (http.h: the http_*.c files), metrics.c,
 *      metrics_process.c ==== */
/* worker.c: background job pools (the store writer, the password hashers) */
typedef void (*worker_fn)(void *arg);
struct worker_pool *worker_pool_new(const char *name, int nthreads);
void	worker_pool_free(struct worker_pool *);
void	worker_submit(struct worker_pool *, struct event_base *reply, worker_fn work,
	    worker_fn done, void *arg);
void	worker_run(struct worker_pool *, worker_fn fn, void *arg);
int	worker_pending(struct worker_pool *);
void	worker_background(const char *what);

/* http_server.c (the other http_*.c share daemon/http.h) */
/* What one configuration brings up; a reload builds a new one and switches to it. */
struct runtime {
	struct config		*cf;
	struct catalog		*cat;
	struct auth		*auth;
	struct refresher	*rf;
	struct event_base	*rbase;		/* the refresh thread's loop */
};
struct http_server *http_server_start(struct runtime *, struct store *, int listen_fd,
	    char **cause);
void	http_server_switch(struct http_server *, struct runtime *);
void	http_server_drain(struct http_server *, int timeout_s);
int	http_server_alive(struct http_server *, int64_t max_silence_ms);
int	http_server_port(const struct http_server *);
void	http_server_stop(struct http_server *);

/* metrics.c: Prometheus counters, one set per serving thread */
enum metric_route {
	ROUTE_HEALTH, ROUTE_BRANDS, ROUTE_AGGREGATES, ROUTE_DATA, ROUTE_STATUS,
	ROUTE_SNAPSHOTS, ROUTE_REFRESH, ROUTE_SESSION, ROUTE_ADMIN, ROUTE_METRICS, ROUTE_UI,
	ROUTE_OTHER, ROUTE_COUNT
};
#define STATUS_SLOTS	15	/* the codes metrics.c names, and "other" */
#define LATENCY_BUCKETS	14
struct http_counters {
	_Atomic uint64_t requests[ROUTE_COUNT][STATUS_SLOTS];
	_Atomic uint64_t latency[ROUTE_COUNT][LATENCY_BUCKETS];
	_Atomic uint64_t latency_sum_us[ROUTE_COUNT];
	_Atomic uint64_t bytes_out;
};
void	metrics_request(struct http_counters *, enum metric_route, int status, uint64_t usec,
	    size_t bytes);
void	metrics_render_store(struct buf *, const struct store_counters *, int writer_queue,
	    int hash_queue);
void	metrics_render(struct buf *, struct http_counters *const *, int nthreads,
	    int64_t open_conns, const struct refresh_status *, uint64_t generation,
	    int64_t created_at, int pinned);

/* metrics_process.c: metrics of the process: survive reloads; build info, process_* */
void	metrics_refresh_retire(const struct refresh_status *);
void	metrics_refresh_observe(int64_t duration_ms);
void	metrics_login(int ok, const char *reason);
void	metrics_refresh_retired_agg(const char *brand, const char *agg, uint64_t *ok,
	    uint64_t *fail);
void	metrics_refresh_totals(const struct refresh_status *, uint64_t *runs, uint64_t *stmts,
	    uint64_t *retries);
void	metrics_process_render(struct buf *);

/* ==== process: sdnotify.c, preflight.c (main.c exports nothing) ==== */
/* sdnotify.c: systemd readiness, status, watchdog, socket activation */
void	 notify_ready(void);
void	 notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_watchdog(void);
uint64_t notify_watchdog_usec(void);
enum notify_listen {
	NOTIFY_LISTEN_PASSED,		/* *fd is the socket systemd passed */
	NOTIFY_LISTEN_NONE,		/* none passed: listen on the configured address */
	NOTIFY_LISTEN_ERROR		/* a unit file mistake (*cause) */
};
enum notify_listen notify_listen_fd(int *fd, char **cause);

/* preflight.c: tpcd -t's checks of the paths a configuration names */
int	preflight_run(const struct config *, FILE *out);

#endif
