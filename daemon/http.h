/*
 * http.h — what the http_*.c files share: the server's threads (http_server.c), the
 * request as routed (http_route.c), the reply helpers (http_reply.c) and the handlers
 * the route table names. Calls go one way: server -> route -> handlers -> reply.
 */
#ifndef HTTP_H
#define HTTP_H

#include <netinet/in.h>
#include <pthread.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
/*
 * After libevent's headers: event_struct.h undefines TAILQ_ENTRY when keyvalq_struct.h
 * (included before it by some files) had defined its own, even if sys/queue.h's stood.
 */
#include <sys/queue.h>

#include "tpcd.h"

#define HTTP_MAX_SEGS	6
#define HTTP_SEG_MAX	72
#define SLICE_CACHE_BYTES	(32u << 20)	/* built slices kept (slice_cache.c) */

struct http_server;

/*
 * http_conn.c: one accepted connection, from accept (http_conn_bev_cb) to evhttp's
 * close callback. Owned and touched only by its serving thread.
 */
enum conn_state {
	CONN_IDLE,		/* no byte of a request yet: evictable at the cap */
	CONN_HEAD,		/* the request head is arriving: http.header_timeout */
	CONN_BODY,		/* the body is arriving: http.body_timeout */
	CONN_ACTIVE		/* the router has the request: in flight until sent */
};

struct conn {
	struct http_thread		*t;
	struct bufferevent		*bev;
	struct evhttp_connection	*evcon;		/* NULL until adopted */
	int				 fd;
	enum conn_state			 state;
	int				 head_lines;	/* the head scanner (http_conn.c) */
	size_t				 line_len;
	int				 refusing;	/* libevent writes a refusal */
	struct event			 deadline;
	struct evbuffer_cb_entry	*in_cb, *out_cb;
	TAILQ_ENTRY(conn)		 idle_entry;	/* on t->conns.idle: oldest first */
	TAILQ_ENTRY(conn)		 work_entry;	/* on adopt or refused */
	int				 on_idle, on_work;
	struct auth_memo		*memo;		/* http_auth.c: its last credential */
	char				 peer[INET6_ADDRSTRLEN];	/* "": not read yet */
	struct http_tally		*tally;		/* http_tally.c: its uncounted access */
	TAILQ_ENTRY(conn)		 tally_entry;	/* on t->conns.tallied while tally */
};
TAILQ_HEAD(conn_list, conn);

/* http_conn.c: the connections of one serving thread */
struct conn_set {
	struct conn		**by_fd;	/* adopted connections by descriptor */
	size_t			  nfd;
	size_t			  count;	/* accepted and not yet closed */
	size_t			  pending;	/* of which not yet adopted */
	struct conn_list	  idle;		/* CONN_IDLE, oldest first */
	struct conn_list	  adopt;	/* accepted this turn of the loop */
	struct conn_list	  refused;	/* replies libevent wrote on its own */
	struct conn_list	  tallied;	/* with access to audit (http_tally.c) */
	int64_t			  tally_ms;	/* mono_ms of the last tally flush */
	struct event		 *work_ev;
};

/*
 * http_server.c: one serving thread, and the server they make up.
 * Thread contract: a serving thread owns its struct http_thread (base, http, conns, rd
 * and its pooled views, rt between requests) and only reads the store; counters, beat_ms
 * and inflight are atomics that main and /metrics read. Store writes and password checks
 * go to the server's pools (worker.c) through http_defer; their replies come back on
 * the thread's own base. struct http_server is set up before the threads start and
 * read-only after, but for rt (main, under the switch protocol) and the atomics.
 */
struct http_thread {
	struct http_server	*srv;
	struct runtime		*rt;		/* this thread's view; switched between requests */
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct event		*beat_timer;
	struct event		*resume_timer;	/* accept paused on EMFILE (http_listen.c) */
	int64_t			 pause_logged;	/* mono_us of the last pause logged */
	unsigned		 pauses;	/* since then */
	struct store_reader	*rd;
	int			 fd;
	_Atomic int64_t		 beat_ms;	/* the loop's last heartbeat (watchdog) */
	_Atomic int		 inflight;	/* requests not yet fully sent (drain) */
	struct http_counters	 counters;
	struct conn_set		 conns;
};

struct http_server {
	struct runtime		*rt;		/* the newest */
	struct store		*st;
	struct worker_pool	*writer;	/* every store write of a request (1 thread) */
	struct worker_pool	*hashers;	/* password checks (yescrypt, ~20 ms each) */
	struct worker_pool	*slicers;	/* slices of an aggregate (http_slice.c) */
	struct slice_cache	*slice_cache;	/* the slicers' (slice_cache.c) */
	struct http_thread	*th;
	int			 nthreads;
	int			 port;
	int			 lock_fd;	/* the instance lock (http_listen.c), or -1 */
	_Atomic int		 draining;
	_Atomic int		 switched;	/* threads that took the newest runtime */
};

/* Who may use a route; the router checks it before any handler runs. */
enum http_access {
	ACCESS_OPEN,		/* health: anyone */
	ACCESS_LOGIN,		/* POST /v1/login: anyone, throttled */
	ACCESS_USER,		/* any valid credential (logout) */
	ACCESS_READER,		/* roles user and admin; brand routes: that brand's readers */
	ACCESS_MONITOR,		/* roles admin and monitor: status, snapshots */
	ACCESS_ADMIN,		/* role admin */
	ACCESS_MONITOR_OR_LOOPBACK	/* /metrics: admin, monitor, or any loopback client */
};

/* One request as routed: who asks, from where, for what; what the audit line records. */
struct http_req {
	struct http_thread	*t;
	struct evhttp_request	*req;
	struct conn		*conn;		/* NULL: unknown, or gone (deferred) */
	char			 seg[HTTP_MAX_SEGS][HTTP_SEG_MAX];
	int			 nseg;		/* -1: a path the router refuses */
	char			 addr[INET6_ADDRSTRLEN];	/* the client, see http_auth.c */
	struct principal	 p;
	enum auth_result	 auth;
	const struct brand	*brand;
	const struct aggregate	*agg;
	const char		*action;	/* admin routes: what was done */
	const char		*event;		/* NULL: access/denied/admin; "": audited already */
	const char		*reason;	/* why it was denied */
	char			 target[HTTP_SEG_MAX];	/* what an admin action touched */
	int			 status;	/* of the reply sent */
	size_t			 bytes;		/* of the body sent */
	int			 no_cookie;	/* login from a listed CORS origin: no Set-Cookie */
	int64_t			 now;
	int64_t			 t0;		/* mono_us when handling began */
	const char		*method;	/* "GET", ...: static */
	enum metric_route	 metric;
	int			 v1;		/* a /v1 path: audited */
	int			 deferred;	/* handed to a pool: answered by http_defer */
};

/* http_reply.c: a leaf, used by every other http_*.c */
void	http_reply_track(struct http_req *);
void	http_reply_note(int status, size_t bytes);
void	http_reply_json(struct evhttp_request *, int status, const char *reason, json_t *);
void	http_reply_error(struct evhttp_request *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	http_reply_unavailable(struct evhttp_request *);
void	http_reply_reference(struct evhttp_request *, const void *body, size_t len,
	    evbuffer_ref_cleanup_cb done, void *arg);

/* http_audit.c: a leaf, the audit line of a routed /v1 request */
void	http_audit_request(struct http_req *, const char *path);

/* http_defer.c: a leaf, work handed to a pool and answered when done */
void	http_defer(struct http_req *, struct worker_pool *, worker_fn work,
	    void (*reply)(struct http_req *, void *), void *arg);

/* http_route.c */
void	http_route_request(struct http_thread *, struct evhttp_request *, struct conn *,
	    int64_t t0);

/* http_conn.c */
int	http_conn_init(struct http_thread *);
struct bufferevent *http_conn_bev_cb(struct event_base *, void *);
struct conn *http_conn_request(struct http_thread *, struct evhttp_request *);
size_t	http_conn_count(const struct http_thread *);
void	http_conn_free(struct http_thread *);

/* http_tally.c: the data-access audit, counted per connection and written per interval */
void	http_tally_add(struct http_req *, struct audit_access *);
void	http_tally_flush_conn(struct conn *);
void	http_tally_flush(struct http_thread *);
void	http_tally_tick(struct http_thread *);

/* http_refuse.c: what is refused below the router, answered in JSON and audited */
void	http_refuse_full(struct conn *);
void	http_refuse_late(struct conn *);
void	http_refuse_rewrite(struct conn *);

/* http_listen.c */
int	http_listen_lock(const char *addr, int port, int inherited_fd, int *lock_fd,
	    char **cause);
int	http_listen_open(const char *addr, int port, int *bound_port, char **cause);
int	http_listen_probe(const char *addr, int port, char **cause);
void	http_listen_watch(struct http_thread *);
void	http_listen_stop(struct http_thread *);
void	http_listen_limit(int nthreads, int max_connections);

/* http_info.c */
void	http_info_health(struct http_req *);
void	http_info_brands(struct http_req *);
void	http_info_aggregates(struct http_req *);
void	http_info_status(struct http_req *);
void	http_info_snapshots(struct http_req *);

/* http_data.c */
void	http_data(struct http_req *);
int	http_data_accepts(const char *header, const char *token);
int	http_data_etag_matches(const char *if_none_match, const char *etag);
int	http_data_behind(struct evkeyvalq *in, int64_t data_time);

/* http_slice.c: ?limit=&offset= and dimension filters, built on the slicer pool */
int	http_slice_asked(const char *query);
int	http_slice(struct http_req *, const char *query);

/* http_head.c: a data response's head, pre-built per snapshot and variant, per second */
struct http_head {
	size_t		 brand_ix, agg_ix;	/* in the runtime's config and catalogue */
	uint64_t	 generation;		/* of the view served from */
	int64_t		 refreshed_at;		/* the record's: Last-Modified, Age */
	int64_t		 data_time;		/* 0: unknown (no X-Tpcd-Data-Time) */
	enum body_variant variant;
	const char	*etag;			/* the record's, quoted */
	const char	*colour;
	const char	*content_type;
	int		 gzip;
};
struct evkeyvalq;
void	http_head_data(struct evkeyvalq *, const struct http_head *, int not_modified);

/* http_backup.c */
void	http_backup(struct http_req *);

/* http_admin.c */
void	http_admin_swap(struct http_req *);
void	http_admin_rollback(struct http_req *);
void	http_admin_pin(struct http_req *);
void	http_admin_unpin(struct http_req *);
void	http_admin_refresh(struct http_req *);
void	http_admin_publish(struct http_req *);
void	http_admin_discard(struct http_req *);

/* http_staleness.c */
struct evkeyvalq;
int64_t	http_staleness_data_time(struct http_req *, struct store_view *);
/* One configured aggregate's staleness in the live snapshot. */
struct staleness {
	const char	*brand;		/* configuration id */
	const char	*aggregate;	/* catalogue name */
	int64_t		 data_time;	/* unix seconds the data describes; 0: unknown */
	int64_t		 age_s;		/* now - data_time, when known */
	int64_t		 max_s;		/* its max_staleness; 0: none */
	int		 stale;
};
struct staleness *http_staleness_all(struct http_req *, struct store_view *, size_t *n,
	    size_t *nstale);
void	http_staleness_set(json_t *, const struct staleness *);
json_t	*http_staleness_list(struct http_req *, struct store_view *, int only_stale,
	    size_t *nstale);
void	http_staleness_readyz(struct http_req *);
void	http_staleness_metrics(struct http_req *, struct store_view *, struct buf *);

/* http_metrics.c */
void	http_metrics(struct http_req *);

/* http_auth.c */
void	http_client_addr(struct http_req *);
int	http_authenticate(struct http_req *);
void	http_auth_forget(struct conn *);
void	http_unauthorized(struct http_req *);
void	http_login(struct http_req *);
void	http_logout(struct http_req *);

/* http_sessions.c */
void	http_sessions(struct http_req *);
void	http_session_delete(struct http_req *);
void	http_tokens(struct http_req *);
void	http_token_revoke(struct http_req *);

/* http_ui.c: the dashboard's shell and assets */
void	http_ui_index(struct http_req *);
void	http_ui_asset(struct http_req *);

/* http_cors.c: CORS and the cookie's same-origin rule */
int	http_cors_begin(struct http_req *);
int	http_cors_allow(struct http_req *);

/* http_me.c, http_freshness.c, http_openapi.c */
void	http_me(struct http_req *);
void	http_freshness(struct http_req *);
void	http_openapi(struct http_req *);

#endif
