/*
 * snowflake.h — private to the Snowflake source: its state, one statement, and what
 * each of its files offers the others. sf_cycle.c runs the refresh cycle, sf_point.c
 * keeps every brand at one point in time, sf_stmt.c sends, polls, retries and cancels
 * statements, sf_result.c decodes results and fetches partitions (sf_rows.c reads a
 * partition's rows), streaming a pull's rows into its encoder in order. Only those
 * include it (and tests/fuzz/fuzz_sfresult.c, for the decoding); elsewhere it is a
 * struct source.
 */
#ifndef SNOWFLAKE_H
#define SNOWFLAKE_H

#include "tpcd.h"

struct event;
struct sf_part;				/* a partition fetch; sf_result.c's own */

/* FRESHNESS: the cycle's SHOW; VERIFY: the same SHOW again once the pulls are in */
enum sf_stmt_kind { SF_STMT_FRESHNESS, SF_STMT_VERIFY, SF_STMT_PULL, SF_STMT_CANCEL };

/* One logical statement: freshness check or pull, with its retries and polls. */
struct sf_stmt {
	struct sf_source *s;
	enum sf_stmt_kind kind;
	size_t		 brand;		/* index into cf->brands */
	struct pull	*pull;		/* SF_STMT_PULL */
	char		 request_id[37];
	char		*sql;
	char		*tag;
	int		 attempt;	/* retries so far */
	int		 auth_retries;
	int64_t		 sleep_ms;	/* last backoff, for decorrelated jitter */
	int64_t		 deadline_ms;
	int64_t		 started_ms;
	int		 polls;
	struct up_req	*req;
	struct event	*timer;
	char		*handle;
	int64_t		 created_on_ms;	/* Snowflake's createdOn of the result (its clock) */
	/* result */
	struct sf_col	*cols;
	size_t		 ncols;
	const struct column *want;	/* catalogue columns (or the freshness ones) */
	size_t		*colmap;	/* by name: want[k] is result column colmap[k] */
	size_t		 rcols;		/* columns in the result (ncols unless by name) */
	uint64_t	 num_rows;
	uint64_t	 rows_seen;	/* decoded so far, every partition */
	struct table	 table;		/* freshness: the rows; pull: a batch for the encoder */
	struct sf_part	*parts;		/* 1..nparts-1 */
	size_t		 nparts;
	size_t		 next_part;	/* the next to fetch */
	size_t		 next_encode;	/* the next to decode: partitions encode in order */
	struct sf_stmt	*next;		/* in the source's list */
};

struct sf_source {
	struct source		*src;
	const struct config	*cf;
	const struct snowflake_conf *sc;
	const struct catalog	*cat;
	struct event_base	*base;
	struct upstream		*up;
	struct jwt_key		*key;
	char			*token;
	int64_t			 token_exp;
	uint64_t		 rng;
	/* the cycle */
	struct pull		*pulls;
	size_t			 npulls;
	void			(*done)(void *);
	void			*done_arg;
	struct sf_stmt		*stmts;		/* every live statement */
	size_t			 inflight;
	size_t			 queued_next;	/* next pull to consider */
	int			 fresh_pending;	/* freshness statements not yet answered */
	/* the point in time (sf_point.c) */
	int64_t			 point_ms;	/* the freshness check's instant; 0: unknown */
	int			 point_phase;	/* SF_POINT_* */
	unsigned char		*reread;	/* per pull: read again AT(point_ms) */
	int			 cancelled;
	int			 cancels;	/* cancel requests not yet answered */
	void			(*stopped)(void *);
	void			*stopped_arg;
};

/* sf_cycle.c: the source and its refresh cycle (source_snowflake_new in tpcd.h) */
char	*sf_cycle_schema(const struct brand *);
struct pull *sf_cycle_pull_of(struct sf_source *, const char *schema, const char *dt_name);
const char *sf_cycle_text(const struct table *, size_t row, size_t col);
struct sf_stmt *sf_cycle_show(struct sf_source *, enum sf_stmt_kind, const char *tag);
void	 sf_cycle_finish(struct sf_stmt *, int ok, char *error);

/* sf_point.c: every brand read at one point in time (the freshness check's instant) */
enum { SF_POINT_PULLING, SF_POINT_VERIFYING, SF_POINT_REREADING, SF_POINT_SETTLED };
void	 sf_point_begin(struct sf_source *);
int	 sf_point_next(struct sf_source *);
void	 sf_point_verified(struct sf_source *, struct sf_stmt *, int ok, const char *error);
int64_t	 sf_point_at(const struct sf_source *, const struct pull *);
void	 sf_point_end(struct sf_source *);

/* sf_stmt.c: statements over the SQL API: send, poll, retry, cancel; credentials */
const char *sf_stmt_token(struct sf_source *, char **cause);
const char *sf_stmt_token_type(struct sf_source *);
struct sf_stmt *sf_stmt_new(struct sf_source *, enum sf_stmt_kind, size_t brand);
void	 sf_stmt_free(struct sf_stmt *);
void	 sf_stmt_send(struct sf_stmt *);
void	 sf_stmt_fail(struct sf_stmt *, char *error);
int64_t	 sf_stmt_next_sleep(struct sf_source *, int *attempt, int64_t *sleep_ms,
	    int64_t deadline, const char *retry_after);
char	*sf_stmt_error(long status, const struct buf *body);
int	 sf_stmt_retryable(long status);

/* sf_result.c: a statement's result: metadata, rows, partitions 1..N */
int	 sf_result_meta(struct sf_stmt *, struct json_t *meta, char **cause);
void	 sf_result_read(struct sf_stmt *, struct json_t *, const struct buf *body);
void	 sf_result_free(struct sf_stmt *);
void	 sf_result_row(struct sf_stmt *, struct table *);

/* sf_rows.c: a result body's rows, read without a JSON tree */
#define SF_ROWS_MALFORMED (-2)
int	 sf_rows_scan(struct sf_stmt *, const char *body, size_t len, struct table *,
	    void (*row)(struct sf_stmt *, struct table *), char **cause);
struct json_t *sf_rows_load(const char *body, size_t len);

#endif
