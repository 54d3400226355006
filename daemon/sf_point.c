/*
 * sf_point.c — one point in time per brand for the Snowflake source. The cycle's
 * freshness check (SHOW DYNAMIC TABLES) fixes the instant P, on Snowflake's clock, whose
 * state the snapshot describes. The pulls run as plain SELECTs (byte-identical, so the
 * result cache still answers replicas); once they are in, the same SHOW runs again, and a
 * table whose data timestamp moved meanwhile, which may have been read after its refresh
 * committed, is read again AT(TIMESTAMP => P). A brand one of whose re-reads fails keeps
 * its whole last snapshot. Owns the source's point_* fields and reread; sends nothing
 * itself but through sf_cycle_show and the cycle's pump (schema/README.md has the why).
 */
#include <stdlib.h>
#include <string.h>

#include "snowflake.h"

/* A new cycle: no point in time until its freshness check answers. */
void
sf_point_begin(struct sf_source *s)
{
	free(s->reread);
	s->reread = xcalloc(s->npulls ? s->npulls : 1, 1);
	s->point_ms = 0;
	s->point_phase = SF_POINT_PULLING;
}

void
sf_point_end(struct sf_source *s)
{
	free(s->reread);
	s->reread = NULL;
}

/* The instant pull p is to be read at: P for a re-read, else 0 (the current state). */
int64_t
sf_point_at(const struct sf_source *s, const struct pull *p)
{
	size_t i = (size_t)(p - s->pulls);

	return s->reread != NULL && i < s->npulls && s->reread[i] ? s->point_ms : 0;
}

static void
sf_point_mark(struct sf_source *s, size_t i, const char *why)
{
	struct pull *p = &s->pulls[i];

	log_info("snowflake: %s/%s %s; reading it again as of the brand's point in time "
	    "(%lld)", p->brand->id, p->agg->name, why, (long long)s->point_ms);
	s->reread[i] = 1;
	p->state = PULL_PENDING;
	encode_free(p->enc);	/* the re-read encodes its rows anew */
	p->enc = NULL;
}

/*
 * The second SHOW's answer: every table pulled this cycle whose data timestamp is no
 * longer the one the first SHOW reported (or that it does not list) is read again at P.
 * Without an answer, every table pulled is.
 */
void
sf_point_verified(struct sf_source *s, struct sf_stmt *st, int ok, const char *error)
{
	const struct table *t = &st->table;
	unsigned char *seen = xcalloc(s->npulls ? s->npulls : 1, 1);
	size_t marked = 0;

	s->point_phase = SF_POINT_REREADING;
	if (!ok)
		log_warn("snowflake: %s: %s", st->tag, error ? error : "failed");
	for (size_t r = 0; ok && r < t->nrows; r++) {
		const char *name = sf_cycle_text(t, r, 0), *schema = sf_cycle_text(t, r, 1);
		const char *ts = sf_cycle_text(t, r, 2);
		struct pull *p;
		size_t i;

		if (name == NULL || schema == NULL ||
		    (p = sf_cycle_pull_of(s, schema, name)) == NULL)
			continue;
		i = (size_t)(p - s->pulls);
		if (!p->wanted || p->state != PULL_DONE || seen[i])
			continue;
		seen[i] = 1;
		if (ts == NULL || p->data_ts == NULL || strcmp(ts, p->data_ts) != 0) {
			sf_point_mark(s, i, "was refreshed during the cycle");
			marked++;
		}
	}
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		if (p->wanted && p->state == PULL_DONE && !seen[i]) {
			sf_point_mark(s, i, ok ? "is missing from the second look" :
			    "cannot be checked (the second look failed)");
			marked++;
		}
	}
	free(seen);
	if (marked > 0)
		s->queued_next = 0;	/* the pump sends the re-reads */
}

/*
 * Settles the cycle's point in time: a brand one of whose re-reads failed (e.g. no Time
 * Travel data at P) publishes none of this cycle's reads, which would mix two states;
 * the others record P.
 */
static void
sf_point_settle(struct sf_source *s)
{
	for (size_t i = 0; i < s->npulls; i++) {
		const struct pull *bad = &s->pulls[i];

		if (!s->reread[i] || bad->state != PULL_FAILED)
			continue;
		for (size_t j = 0; j < s->npulls; j++) {
			struct pull *p = &s->pulls[j];
			if (p->brand != bad->brand || !p->wanted || p->state != PULL_DONE)
				continue;
			p->state = PULL_FAILED;
			encode_free(p->enc);	/* read fine, but not at the brand's point */
			p->enc = NULL;
			free(p->error);
			p->error = xasprintf("kept the last snapshot of brand %s: %s could not be "
			    "read at the brand's point in time: %s", p->brand->id, bad->agg->name,
			    bad->error ? bad->error : "failed");
		}
	}
	for (size_t i = 0; i < s->npulls; i++) {
		struct pull *p = &s->pulls[i];
		if (p->wanted && p->state != PULL_FAILED)
			p->point_ms = s->point_ms;
	}
	s->point_phase = SF_POINT_SETTLED;
}

/*
 * Called when everything started has settled. Returns 1 when it started more (the second
 * SHOW) or queued re-reads, 0 when the cycle is complete.
 */
int
sf_point_next(struct sf_source *s)
{
	int any = 0;

	switch (s->point_phase) {
	case SF_POINT_PULLING:
		for (size_t i = 0; i < s->npulls; i++)
			any |= s->pulls[i].wanted && s->pulls[i].state == PULL_DONE;
		if (s->point_ms > 0 && any) {
			s->point_phase = SF_POINT_VERIFYING;
			sf_cycle_show(s, SF_STMT_VERIFY, "tpcd:freshness:verify");
			return 1;
		}
		break;
	case SF_POINT_VERIFYING:
		return 0;		/* not reached: the second SHOW is pending */
	case SF_POINT_REREADING:
		break;
	default:
		return 0;
	}
	sf_point_settle(s);
	return 0;
}
