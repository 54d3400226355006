/*
 * tpcctl.h — the one header of tpcctl, the ops client of tpcd. Prototypes are grouped per
 * file, in the order a command runs: the command line (tpcctl.c), a verb's error (fail.c),
 * the token (token.c), the transport (api.c), response bodies (body.c, mpcheck.c, agg.c),
 * what is printed (term.c, grid.c, render.c) and the verbs (ops.c, health.c, session.c,
 * data.c, diff.c). Allocation (xmalloc.c), buffers (buf.c) and the helpers of util.c are
 * the daemon's, linked in.
 */
#ifndef TPCCTL_H
#define TPCCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <msgpack.h>

#include "tpcd.h"	/* and TPCD_VERSION, the one version of tpcd and tpcctl */

struct grid;

enum exit_code {
	EXIT_OK = 0,
	EXIT_SERVER = 1,	/* the server answered with an error; also local failures */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

enum out_fmt { OUT_TABLE, OUT_JSON, OUT_CSV };

enum token_src { TOKEN_NONE, TOKEN_OPTION, TOKEN_ENV, TOKEN_DEFAULT };

/* Options only some verbs take; struct verb says which. */
enum {
	OPTF_BRAND = 1 << 0,	/* --brand B */
	OPTF_WAIT = 1 << 1,	/* --wait */
	OPTF_TIMEOUT = 1 << 2,	/* -t, --timeout SECONDS */
	OPTF_WARNING = 1 << 3,	/* -w, --warning SECONDS */
	OPTF_CRITICAL = 1 << 4,	/* -c, --critical SECONDS */
	OPTF_FORCE = 1 << 5,	/* --force */
	OPTF_SLICE = 1 << 6,	/* --limit N, --offset N, --where COLUMN=VALUE */
};

/* The one error a verb hands back to main, which alone prints it. */
struct err {
	int	code;
	char	msg[1024];
};

struct ctx {
	char		*url;		/* base URL, no trailing slash */
	enum out_fmt	 fmt;
	const char	*token_file;	/* --token-file */
	char		*token;
	enum token_src	 token_src;
	CURL		*curl;
	long		 http_timeout;	/* seconds one request may take */
	unsigned	 opts;		/* OPTF_* given on the command line */
	const char	*brand;		/* --brand */
	bool		 wait;		/* --wait */
	long		 timeout;	/* --timeout; -1 when not given */
	long		 warning;	/* --warning; -1 when not given */
	long		 critical;	/* --critical; -1 when not given */
	bool		 force;		/* --force */
	const char	*limit;		/* --limit, as given */
	const char	*offset;	/* --offset, as given */
	char		**where;	/* --where COLUMN=VALUE, each as given */
	size_t		 nwhere;
};

/* fail.c */
int	fail(struct err *, int, const char *, ...) __attribute__((format(printf, 3, 4)));

/* backup.c */
int	backup_verb(struct ctx *, char **, struct err *);

/* token.c */
char	*token_default_path(void);
int	 token_check(char **, const char *, struct err *);
int	 token_load(struct ctx *, struct err *);
int	 token_store(const char *, struct err *);
char	*token_stored(void);

/* api.c */
struct resp {
	long	 status;
	char	*body;		/* always NUL-terminated */
	size_t	 len;
	size_t	 cap;
	bool	 too_big;
	char	*ctype;
	long long total;	/* X-Tpcd-Total-Rows (a slice's matching rows); -1: none */
};
void	 api_resp_free(struct resp *);
int	 api_request(struct ctx *, const char *, const char *, const char *, const char *,
	    size_t, struct resp *, struct err *);
int	 api_error(const struct resp *, struct err *);
int	 api_unauthorized(const struct ctx *, struct err *);
int	 api_get(struct ctx *, const char *, const char *, struct resp *, struct err *);
int	 api_post(struct ctx *, const char *, const char *, struct resp *, struct err *);
int	 api_get_json(struct ctx *, const char *, json_t **, struct err *);
int	 api_post_json(struct ctx *, const char *, const char *, json_t **, struct err *);
char	*api_escape(struct ctx *, const char *);

/* body.c */
int	 body_json_digits(json_t *);
char	*body_json_text(const json_t *, bool *);
int	 body_parse_json(const struct resp *, json_t **, struct err *);
const msgpack_object *body_mp_get(const msgpack_object *, const char *);
int	 body_mp_text(const msgpack_object *, char **, bool *, struct err *);
int	 body_mp_to_json(const msgpack_object *, json_t **, struct err *);

/* mpcheck.c */
int	 mpcheck_sizes(const void *, size_t);

/* agg.c: the decoded msgpack aggregate; the objects point into up's zone */
struct agg {
	msgpack_unpacked	 up;
	const msgpack_object	*root;
	const msgpack_object	*cols;
	const msgpack_object	*rows;
};
int	 agg_decode(const struct resp *, struct agg *, struct err *);
int	 agg_grid(const struct agg *, struct grid *, struct err *);
void	 agg_footer(const struct agg *, size_t, long long total);
int	 agg_col_index(const struct agg *, const char *);
char	*agg_col_name(const struct agg *, uint32_t);

/* term.c */
char	*term_text(const char *, size_t *);
void	 term_setup_locale(void);

/* grid.c: a table of display strings; row 0 is the header, a NULL text a null cell */
struct grid {
	size_t	  ncols;
	size_t	  ncells;
	size_t	  cap;
	char	**text;
	bool	 *num;		/* the cell came from a number: right-align its column */
};
void	 grid_init(struct grid *, size_t);
void	 grid_add(struct grid *, char *, bool);
void	 grid_free(struct grid *);
size_t	 grid_rows(const struct grid *);
int	 grid_from_objects(struct grid *, const json_t *, const char *const *,
	    const char *const *, size_t, struct err *);

/* render.c */
void	 render_grid(const struct ctx *, const struct grid *);
void	 render_json(json_t *);

/* ops.c */
int	 ops_status(struct ctx *, char **, struct err *);
int	 ops_refresh(struct ctx *, char **, struct err *);
int	 ops_swap(struct ctx *, char **, struct err *);
int	 ops_rollback(struct ctx *, char **, struct err *);
int	 ops_pin(struct ctx *, char **, struct err *);
int	 ops_unpin(struct ctx *, char **, struct err *);
int	 ops_snapshots(struct ctx *, char **, struct err *);
int	 ops_publish(struct ctx *, char **, struct err *);
int	 ops_discard(struct ctx *, char **, struct err *);

/* health.c */
int	 health_run(struct ctx *, char **, struct err *);
int	 health_usage(struct err *);

/* session.c */
int	 session_login(struct ctx *, char **, struct err *);
int	 session_logout(struct ctx *, char **, struct err *);

/* data.c */
int	 data_get(struct ctx *, char **, struct err *);
int	 data_brands(struct ctx *, char **, struct err *);
int	 data_aggregates(struct ctx *, char **, struct err *);

/* diff.c */
int	 diff_run(struct ctx *, char **, struct err *);

#endif
