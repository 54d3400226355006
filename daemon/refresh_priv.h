/*
 * refresh_priv.h — private to the refresh thread's files: struct refresher (its
 * thread contract below), what refresh_cycle.c offers refresh.c and what
 * refresh_slices.c offers refresh_cycle.c. refresh.c owns the thread, schedule, requests
 * and status; refresh_cycle.c one cycle's settle, guard and publish; refresh_slices.c the
 * slices a publish stores for a slice_key. Only those include it; elsewhere a refresher
 * is tpcd.h's opaque struct.
 */
#ifndef REFRESH_PRIV_H
#define REFRESH_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "tpcd.h"

/*
 * Thread contract: set up by refresh_start, then owned by the refresh thread (which runs
 * at background priority) but for: mu's fields (any thread, under mu), next_due and
 * stopping (atomics), wake/stop (event_active from any thread). The source's counters
 * are atomics it adds to here and refresh_status copies.
 */
struct refresher {
	const struct config	*cf;
	const struct catalog	*cat;
	struct store		*st;
	struct store_reader	*rd;
	struct source		*src;
	pthread_t		 thread;
	struct event_base	*base;
	struct event		*timer;
	struct event		*wake;
	struct event		*stop;
	struct event		*stop_deadline;
	struct event		*lease_timer;
	char			*owner;		/* "<pid>@<host>": this process, for the lease */
	atomic_int		 stopping;
	atomic_llong		 next_due;

	/* the cycle in progress (refresh thread only) */
	struct pull		*pulls;
	size_t			 npulls;
	int64_t			 started_ms;
	uint64_t		 live_gen;	/* of the snapshot the cycle compares with */
	uint64_t		 snap_gen;	/* the candidate's, as the pulls began */
	struct refresh_seen	*seen;		/* like pulls: lineage not yet published */

	pthread_mutex_t		 mu;		/* guards everything below */
	int			 running;
	int			 requested;	/* a request arrived: run (again) */
	char			*req_brand;	/* NULL: all */
	char			*req_agg;	/* NULL: all */
	uint64_t		 runs;
	int			 last_ok;
	int			 last_published;
	char			*last_error;
	int64_t			 last_started;
	int64_t			 last_finished;
	int64_t			 last_duration_ms;
	struct refresh_agg	*aggs;		/* brand-major, like pulls; names are cf's */
	size_t			 naggs;
	int			 lease_mine;
	char			*lease_holder;	/* another process, when it holds the lease */
	struct refresh_guard_count *guard_counts;
	size_t			 nguard_counts;
	uint64_t		 fresh_failures;	/* copied from the source */
	char			*fresh_error;
};

/*
 * A pull whose content came back identical to the live record is not published, so the
 * manifest keeps the older data timestamp. Remembered here (for that live snapshot
 * only), the next cycle compares with what was pulled, not with the manifest, and does
 * not pull the same unchanged table again and again.
 */
struct refresh_seen {
	uint64_t	 live_gen;
	char		*data_ts;
	char		*handle;
};

static inline char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* refresh_slices.c: a publish's slices of the aggregates with a slice_key */
struct refresh_slices {
	struct slice_part	*parts;		/* built: put as they are */
	size_t			 nparts;
	char			**names;	/* kept: copied from the live colour */
	size_t			 nnames;
};
void	 refresh_slices_prepare(struct store_view *, const struct pull *, int keep,
	    const struct record_out *, struct refresh_slices *);
int	 refresh_slices_write(struct store_pub *, const struct pull *,
	    const struct refresh_slices *, struct buf *tmp, char **cause);
void	 refresh_slices_free(struct refresh_slices *);

/* refresh_cycle.c: one cycle, on the refresh thread */
void	 refresh_cycle_prepare(struct refresher *, const char *, const char *);
void	 refresh_cycle_publish(struct refresher *);
/* Ends the cycle: records its outcome in the status (takes error, may be NULL). */
void	 refresh_cycle_finish(struct refresher *, int, int, char *);
void	 refresh_seen_clear(struct refresh_seen *);

#endif
