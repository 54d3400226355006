/*
 * refresh_slices.c — the slices a publish stores beside an aggregate whose catalogue entry
 * declares a slice_key: one record per value (slice.c builds them), under
 * "brand/aggregate#value". A changed record's slices are built before the write
 * transaction; a record kept from the live snapshot has its slices copied with it (or
 * built from it, when the live snapshot lacks them: a slice_key declared since). Runs on
 * the refresh thread; reaches the store only through store_view_* and store_pub_*.
 */
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "refresh_priv.h"

/*
 * Before the write, once a cycle publishes: the slices of pull p's record for the new
 * snapshot — built from out's msgpack body when it changed (keep 1: out is the sealed
 * record, its bodies still apart); for a record kept from the live snapshot v (keep 0),
 * named from it when v holds every one of its slices, else built from it. A failure
 * leaves none: those slices are then computed on request, and the publish goes on.
 */
void
refresh_slices_prepare(struct store_view *v, const struct pull *p, int keep,
    const struct record_out *out, struct refresh_slices *s)
{
	const struct aggregate *a = p->agg;
	struct record_meta meta;
	const char *mp, *etag;
	const void *rec, *r;
	size_t mplen, len, i;
	char *cause = NULL;

	memset(s, 0, sizeof *s);
	if (a->slice_key == NULL || keep < 0 || (keep == 1 && out == NULL))
		return;
	if (keep == 1) {
		meta = out->meta;
		mp = record_out_body(out, BODY_MSGPACK, &mplen);
	} else {
		/* the live record, in the map while v is open */
		if (store_view_get(v, p->brand->id, a->name, &rec, &len) != 0 ||
		    record_parse(rec, len, &meta) != 0 ||
		    record_body(rec, len, BODY_MSGPACK, &mp, &mplen, &etag) != 0)
			return;
		if (slice_part_names(a, mp, mplen, &s->names, &s->nnames, &cause) == 0) {
			for (i = 0; i < s->nnames; i++)
				if (store_view_get(v, p->brand->id, s->names[i], &r, &len) != 0)
					break;
			if (i == s->nnames)
				return;		/* all there: copied at the write */
			refresh_slices_free(s);
		}
	}
	if (cause == NULL && slice_partitions(p->brand, a, &meta, mp, mplen, &s->parts,
	    &s->nparts, &cause) == 0)
		return;
	log_warn("refresh: %s/%s: no slices by %s (%s); they are computed on request",
	    p->brand->id, a->name, a->slice_key, cause);
	free(cause);
}

/*
 * In the write transaction: pull p's slices into the new snapshot, built ones put,
 * named ones copied from the live colour (tmp is scratch). 0, or -1 and *cause.
 */
int
refresh_slices_write(struct store_pub *pub, const struct pull *p,
    const struct refresh_slices *s, struct buf *tmp, char **cause)
{
	for (size_t i = 0; i < s->nparts; i++) {
		char *name = slice_part_name(p->agg->name, s->parts[i].value, s->parts[i].n);
		int rc = name == NULL ? 0 : store_pub_put(pub, p->brand->id, name,
		    s->parts[i].rec.data, s->parts[i].rec.len, cause);
		free(name);
		if (rc != 0)
			return -1;
	}
	for (size_t i = 0; i < s->nnames; i++)
		if (store_pub_prev(pub, p->brand->id, s->names[i], tmp) == 0 &&
		    store_pub_put(pub, p->brand->id, s->names[i], tmp->data, tmp->len,
		    cause) != 0)
			return -1;
	return 0;
}

void
refresh_slices_free(struct refresh_slices *s)
{
	slice_parts_free(s->parts, s->nparts);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof *s);
}
