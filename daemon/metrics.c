/*
 * metrics.c — Prometheus text exposition (format 0.0.4) of tpcd's counters. Serving
 * threads count into their own struct http_counters (single writer, relaxed atomics: no
 * lock, no shared cache line on the hot path); a scrape sums them, adds the refresh
 * thread's state and the snapshot's generation and age. It owns names and help texts.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "tpcd.h"

static const char *const route_names[ROUTE_COUNT] = {
	[ROUTE_HEALTH] = "health", [ROUTE_BRANDS] = "brands",
	[ROUTE_AGGREGATES] = "aggregates", [ROUTE_DATA] = "data", [ROUTE_STATUS] = "status",
	[ROUTE_SNAPSHOTS] = "snapshots", [ROUTE_REFRESH] = "refresh",
	[ROUTE_SESSION] = "session", [ROUTE_ADMIN] = "admin", [ROUTE_METRICS] = "metrics",
	[ROUTE_UI] = "ui",
	[ROUTE_OTHER] = "other",
};

static const int status_codes[STATUS_SLOTS - 1] = {
	200, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503,
};

/* Upper bounds of the latency buckets, in µs (the last bucket is +Inf). */
static const uint64_t latency_le_us[LATENCY_BUCKETS - 1] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

#define CTR_ADD(c, n)	atomic_store_explicit(&(c), \
	atomic_load_explicit(&(c), memory_order_relaxed) + (n), memory_order_relaxed)
#define CTR_GET(c)	atomic_load_explicit(&(c), memory_order_relaxed)

static int
status_slot(int status)
{
	for (int i = 0; i < STATUS_SLOTS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return STATUS_SLOTS - 1;	/* "other" */
}

/* One finished request, counted by the serving thread that owns c. */
void
metrics_request(struct http_counters *c, enum metric_route r, int status, uint64_t usec,
    size_t bytes)
{
	int b = 0;

	CTR_ADD(c->requests[r][status_slot(status)], 1);
	while (b < LATENCY_BUCKETS - 1 && usec > latency_le_us[b])
		b++;
	CTR_ADD(c->latency[r][b], 1);
	CTR_ADD(c->latency_sum_us[r], usec);
	CTR_ADD(c->bytes_out, bytes);
}

static void
help(struct buf *o, const char *name, const char *type, const char *text)
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void
render_http(struct buf *o, struct http_counters *const *th, int n)
{
	uint64_t sum, cum = 0, count = 0;

	help(o, "tpcd_http_requests_total", "counter", "HTTP requests by route and status.");
	for (int r = 0; r < ROUTE_COUNT; r++) {
		for (int s = 0; s < STATUS_SLOTS; s++) {
			sum = 0;
			for (int t = 0; t < n; t++)
				sum += CTR_GET(th[t]->requests[r][s]);
			if (sum == 0)
				continue;
			if (s < STATUS_SLOTS - 1)
				buf_printf(o, "tpcd_http_requests_total{route=\"%s\",status=\"%d\"} "
				    "%" PRIu64 "\n", route_names[r], status_codes[s], sum);
			else
				buf_printf(o, "tpcd_http_requests_total{route=\"%s\",status="
				    "\"other\"} %" PRIu64 "\n", route_names[r], sum);
		}
	}
	help(o, "tpcd_http_request_duration_seconds", "histogram",
	    "Time from a complete request to its response being queued, by route.");
	for (int r = 0; r < ROUTE_COUNT; r++) {
		cum = 0;
		for (int t = 0; t < n; t++)
			for (int b = 0; b < LATENCY_BUCKETS; b++)
				cum += CTR_GET(th[t]->latency[r][b]);
		if (cum == 0)
			continue;	/* a route never asked for */
		cum = 0;
		for (int b = 0; b < LATENCY_BUCKETS; b++) {
			for (int t = 0; t < n; t++)
				cum += CTR_GET(th[t]->latency[r][b]);
			if (b < LATENCY_BUCKETS - 1)
				buf_printf(o, "tpcd_http_request_duration_seconds_bucket{route="
				    "\"%s\",le=\"%g\"} %" PRIu64 "\n", route_names[r],
				    (double)latency_le_us[b] / 1e6, cum);
			else
				buf_printf(o, "tpcd_http_request_duration_seconds_bucket{route="
				    "\"%s\",le=\"+Inf\"} %" PRIu64 "\n", route_names[r], cum);
		}
		count = cum;
		sum = 0;
		for (int t = 0; t < n; t++)
			sum += CTR_GET(th[t]->latency_sum_us[r]);
		buf_printf(o, "tpcd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
		    route_names[r], (double)sum / 1e6);
		buf_printf(o, "tpcd_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64
		    "\n", route_names[r], count);
	}
	sum = 0;
	for (int t = 0; t < n; t++)
		sum += CTR_GET(th[t]->bytes_out);
	help(o, "tpcd_http_response_bytes_total", "counter", "Response body bytes sent.");
	buf_printf(o, "tpcd_http_response_bytes_total %" PRIu64 "\n", sum);
}

static void
render_refresh(struct buf *o, const struct refresh_status *st)
{
	const struct refresh_agg *a;
	uint64_t ok, fail, runs, stmts, retries;

	/* counters carry the totals of the refreshers reloads retired: they only go up */
	metrics_refresh_totals(st, &runs, &stmts, &retries);
	help(o, "tpcd_refreshes_total", "counter", "Aggregate refreshes by result.");
	for (a = st->aggs; a < st->aggs + st->naggs; a++) {
		metrics_refresh_retired_agg(a->brand, a->aggregate, &ok, &fail);
		buf_printf(o, "tpcd_refreshes_total{brand=\"%s\",aggregate=\"%s\",result=\"ok\"} "
		    "%" PRIu64 "\n", a->brand, a->aggregate, a->ok_count + ok);
		buf_printf(o, "tpcd_refreshes_total{brand=\"%s\",aggregate=\"%s\","
		    "result=\"error\"} %" PRIu64 "\n", a->brand, a->aggregate,
		    a->fail_count + fail);
	}
	help(o, "tpcd_aggregate_rows", "gauge", "Rows of each published aggregate.");
	for (a = st->aggs; a < st->aggs + st->naggs; a++)
		buf_printf(o, "tpcd_aggregate_rows{brand=\"%s\",aggregate=\"%s\"} %" PRIu64 "\n",
		    a->brand, a->aggregate, a->rows);
	/* an aggregate no refresh has tried yet counts as up */
	help(o, "tpcd_aggregate_up", "gauge", "1 when the aggregate's last refresh worked.");
	for (a = st->aggs; a < st->aggs + st->naggs; a++)
		buf_printf(o, "tpcd_aggregate_up{brand=\"%s\",aggregate=\"%s\"} %d\n",
		    a->brand, a->aggregate, a->ok_count + a->fail_count == 0 || a->ok);
	help(o, "tpcd_refresh_runs_total", "counter", "Refresh cycles completed.");
	buf_printf(o, "tpcd_refresh_runs_total %" PRIu64 "\n", runs);
	help(o, "tpcd_refresh_duration_seconds", "gauge", "Duration of the last refresh cycle.");
	buf_printf(o, "tpcd_refresh_duration_seconds %.3f\n",
	    st->runs > 0 ? (double)st->last_duration_ms / 1e3 : 0.0);
	help(o, "tpcd_refresh_last_ok", "gauge", "1 when the last refresh cycle worked.");
	buf_printf(o, "tpcd_refresh_last_ok %d\n", st->runs > 0 && st->last_ok);
	help(o, "tpcd_refresh_in_progress", "gauge", "1 while a refresh runs.");
	buf_printf(o, "tpcd_refresh_in_progress %d\n", st->refreshing != 0);
	help(o, "tpcd_upstream_statements_total", "counter", "Statements sent upstream.");
	buf_printf(o, "tpcd_upstream_statements_total %" PRIu64 "\n", stmts);
	help(o, "tpcd_upstream_retries_total", "counter", "Upstream requests retried.");
	buf_printf(o, "tpcd_upstream_retries_total %" PRIu64 "\n", retries);
	help(o, "tpcd_upstream_freshness_failures_total", "counter",
	    "Freshness checks that failed (each makes its brand a full pull).");
	buf_printf(o, "tpcd_upstream_freshness_failures_total %" PRIu64 "\n",
	    st->freshness_failures);
	help(o, "tpcd_upstream_freshness_ok", "gauge",
	    "1 when the last cycle's freshness checks worked.");
	buf_printf(o, "tpcd_upstream_freshness_ok %d\n", st->freshness_error == NULL);
}

/* The store's own counters and the background queues (issue 11's rules, observable). */
void
metrics_render_store(struct buf *o, const struct store_counters *c, int writer_queue,
    int hash_queue)
{
	help(o, "tpcd_store_write_txns_total", "counter",
	    "LMDB write transactions begun, by thread kind (serving must stay 0).");
	buf_printf(o, "tpcd_store_write_txns_total{thread=\"background\"} %" PRIu64 "\n",
	    c->write_txns_background);
	buf_printf(o, "tpcd_store_write_txns_total{thread=\"serving\"} %" PRIu64 "\n",
	    c->write_txns_serving);
	help(o, "tpcd_store_readers_full_total", "counter",
	    "Read views refused because the LMDB reader table was full (answered 503).");
	buf_printf(o, "tpcd_store_readers_full_total %" PRIu64 "\n", c->readers_full);
	help(o, "tpcd_store_map_resized_total", "counter",
	    "Remaps after another process grew the LMDB map.");
	buf_printf(o, "tpcd_store_map_resized_total %" PRIu64 "\n", c->resized);
	help(o, "tpcd_store_map_full_total", "counter",
	    "Publishes dropped because the LMDB map was full (store.map_size_mb).");
	buf_printf(o, "tpcd_store_map_full_total %" PRIu64 "\n", c->map_full);
	help(o, "tpcd_worker_queue", "gauge", "Jobs queued or running per background pool.");
	buf_printf(o, "tpcd_worker_queue{pool=\"writer\"} %d\n", writer_queue);
	buf_printf(o, "tpcd_worker_queue{pool=\"hashing\"} %d\n", hash_queue);
}

/* The whole exposition into o; refresh_st is a refresh_status() snapshot. */
void
metrics_render(struct buf *o, struct http_counters *const *th, int nthreads,
    int64_t open_conns, const struct refresh_status *refresh_st, uint64_t generation,
    int64_t created_at, int pinned)
{
	int64_t now = time(NULL);

	render_http(o, th, nthreads);
	help(o, "tpcd_http_connections_open", "gauge", "Client connections open now.");
	buf_printf(o, "tpcd_http_connections_open %" PRId64 "\n", open_conns);
	render_refresh(o, refresh_st);
	help(o, "tpcd_snapshot_generation", "gauge", "Generation of the active snapshot.");
	buf_printf(o, "tpcd_snapshot_generation %" PRIu64 "\n", generation);
	help(o, "tpcd_snapshot_age_seconds", "gauge", "Age of the active snapshot.");
	buf_printf(o, "tpcd_snapshot_age_seconds %" PRId64 "\n",
	    created_at > 0 ? now - created_at : 0);
	help(o, "tpcd_snapshot_pinned", "gauge", "1 while an admin holds the snapshot (pin).");
	buf_printf(o, "tpcd_snapshot_pinned %d\n", pinned != 0);
	metrics_process_render(o);
}
