/*
 * test_guard.c — publish guards without a daemon: the catalogue's guards: declarations
 * (defaults, overrides, check texts refused with a cause), and guard_run on records built
 * by the encoder: each check passes on good data and fails, named, on data made bad in
 * exactly one way; the verdict and the data times survive a manifest round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpcd.h"
#include "fixture.h"

static const char *const catalogue =
    "max_staleness: 30m\n"
    "guards:\n"
    "  min_rows: 1\n"
    "  max_row_change: 50\n"
    "  checks:\n"
    "    - name: orders_match\n"
    "      check: sum(orders) by month in sales == sum(orders) by month(day) in daily\n"
    "    - name: members_month_end\n"
    "      check: last(members) by month(day) in daily == sum(members) by month in total\n"
    "aggregates:\n"
    "  - {name: sales, relation: S, title_en: s, title_ko: s, description: d, sqlite: q.sql,\n"
    "     max_staleness: 1h, guards: {max_total_change: {orders: 10}},\n"
    "     columns: [{name: month, type: string, role: dimension},\n"
    "               {name: orders, type: int64, role: measure, unit: count},\n"
    "               {name: share, type: double, role: measure, unit: \"%\"}]}\n"
    "  - {name: daily, relation: D, title_en: d, title_ko: d, description: d, sqlite: q.sql,\n"
    "     guards: {nullable: [day]},\n"
    "     columns: [{name: day, type: date, role: dimension},\n"
    "               {name: orders, type: int64, role: measure, unit: count},\n"
    "               {name: members, type: int64, role: measure, unit: count}]}\n"
    "  - {name: total, relation: T, title_en: t, title_ko: t, description: d, sqlite: q.sql,\n"
    "     columns: [{name: month, type: string, role: dimension},\n"
    "               {name: members, type: int64, role: measure, unit: count}]}\n";

static struct catalog *
load(const char *text, char **cause)
{
	fixture_write("q.sql", "SELECT 1", 0644);
	return catalog_load(fixture_write("aggregates.yaml", text, 0644), cause);
}

static void
test_declarations(void **state)
{
	char *cause = NULL;
	struct catalog *cat;

	(void)state;
	cat = load(catalogue, &cause);
	assert_non_null(cat);
	assert_int_equal(cat->max_staleness, 1800);
	assert_int_equal(catalog_max_staleness(cat, catalog_find(cat, "sales")), 3600);
	assert_int_equal(catalog_max_staleness(cat, catalog_find(cat, "daily")), 1800);
	assert_int_equal(cat->guards.min_rows, 1);
	assert_int_equal(cat->nchecks, 2);
	assert_int_equal(cat->checks[0].side[1].key_month, 1);
	assert_string_equal(cat->checks[0].side[1].key, "day");
	assert_int_equal(cat->checks[1].side[0].fn, GUARD_LAST);
	assert_int_equal(cat->nnon_negative_units, 3);	/* count, KRW, days */
	catalog_free(cat);
}

static void
refused(const char *from, const char *to, const char *why)
{
	char *text = xstrdup(catalogue), *p = strstr(text, from), *cause = NULL;
	struct buf b;

	assert_non_null(p);
	buf_init(&b);
	buf_add(&b, text, (size_t)(p - text));
	buf_adds(&b, to);
	buf_adds(&b, p + strlen(from));
	buf_addc(&b, '\0');
	assert_null(load(b.data, &cause));
	assert_non_null(cause);
	if (strstr(cause, why) == NULL)
		fail_msg("'%s' does not say '%s'", cause, why);
	free(cause);
	buf_free(&b);
	free(text);
}

static void
test_bad_declarations(void **state)
{
	(void)state;
	refused("in daily ==", "in nowhere ==", "no aggregate 'nowhere'");
	refused("sum(orders) by month in sales", "sum(month) by month in sales",
	    "no numeric column 'month'");
	refused("last(members) by month(day) in daily", "last(members) in daily",
	    "last() needs 'by key'");
	refused("== sum(members) by month in total", "== sum(members) in total",
	    "both sides need a key");
	refused("by month in total\n", "by month in total junk\n", "unexpected");
	refused("nullable: [day]", "nullable: [orders]", "not a dimension");
	refused("{orders: 10}", "{month: 10}", "not a numeric column");
	refused("max_staleness: 30m", "max_staleness: soon", "must be seconds");
	refused("max_row_change: 50", "max_row_change: -5", "percentage");
}

/* ---- guard_run over records made by the encoder ---- */

struct world {
	struct catalog	*cat;
	struct config	 cf;
	struct brand	 brand;
	struct buf	 rec[2][3];	/* [live][aggregate]; empty: absent */
};

static int
get_cb(void *arg, int live, const char *brand, const char *agg, const char **body,
    size_t *len)
{
	struct world *w = arg;
	const struct aggregate *a = catalog_find(w->cat, agg);
	const char *etag;

	(void)brand;
	if (a == NULL || w->rec[live][a - w->cat->aggs].len == 0)
		return -1;
	return record_body(w->rec[live][a - w->cat->aggs].data,
	    w->rec[live][a - w->cat->aggs].len, BODY_MSGPACK, body, len, &etag);
}

/* One record from rows written as "text|int|double" cells ('-' is NULL). */
static void
put(struct world *w, int live, const char *agg, const char *const *rows, size_t nrows)
{
	const struct aggregate *a = catalog_find(w->cat, agg);
	struct buf *out = &w->rec[live][a - w->cat->aggs];
	struct table t;
	char *cause = NULL;

	table_init(&t, a->ncols);
	for (size_t r = 0; r < nrows; r++) {
		struct cell *c = table_add_row(&t);
		char *row = xstrdup(rows[r]), *save = NULL, *f = strtok_r(row, "|", &save);
		for (size_t i = 0; i < a->ncols && f != NULL; i++, f = strtok_r(NULL, "|",
		    &save)) {
			if (strcmp(f, "-") == 0)
				continue;
			if (a->cols[i].type == COL_INT64) {
				c[i].kind = CELL_INT;
				c[i].v.i = strtoll(f, NULL, 10);
			} else if (a->cols[i].type == COL_DOUBLE) {
				c[i].kind = CELL_DOUBLE;
				c[i].v.d = strtod(f, NULL);
			} else
				table_set_text(&t, &c[i], f, strlen(f));
		}
		free(row);
	}
	buf_reset(out);
	assert_int_equal(encode_record(&w->brand, a, &t, 1, 0, out, &cause), 0);
	table_free(&t);
}

static const char *const sales[] = { "2026-01|10|50", "2026-02|20|50" };
static const char *const daily[] = { "2026-01-01|4|5", "2026-01-31|6|7",
    "2026-02-10|20|9" };
static const char *const total[] = { "2026-01|7", "2026-02|9" };

static void
world_init(struct world *w)
{
	char *cause = NULL;

	memset(w, 0, sizeof *w);
	w->cat = load(catalogue, &cause);
	assert_non_null(w->cat);
	w->brand.id = "a";
	w->cf.brands = &w->brand;
	w->cf.nbrands = 1;
	for (int l = 0; l < 2; l++)
		for (int i = 0; i < 3; i++)
			buf_init(&w->rec[l][i]);
	for (int l = 0; l < 2; l++) {
		put(w, l, "sales", sales, 2);
		put(w, l, "daily", daily, 3);
		put(w, l, "total", total, 2);
	}
}

static void
world_free(struct world *w)
{
	for (int l = 0; l < 2; l++)
		for (int i = 0; i < 3; i++)
			buf_free(&w->rec[l][i]);
	catalog_free(w->cat);
}

/* Runs the guards; returns "check/aggregate check/aggregate ..." (caller frees). */
static char *
run(struct world *w)
{
	struct manifest m;
	struct buf b;

	manifest_init(&m, 2, "green", 0, "test");
	guard_run(&w->cf, w->cat, NULL, 0, get_cb, w, &m);
	buf_init(&b);
	for (size_t i = 0; i < m.nfailures; i++)
		buf_printf(&b, "%s%s/%s", i ? " " : "", m.failures[i].check,
		    m.failures[i].aggregate ? m.failures[i].aggregate : "-");
	buf_addc(&b, '\0');
	manifest_free(&m);
	return buf_steal(&b, NULL);
}

static void
expect(struct world *w, const char *want)
{
	char *got = run(w);

	if (strcmp(got, want) != 0)
		fail_msg("failures '%s', expected '%s'", got, want);
	free(got);
}

static void
test_each_check(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	expect(&w, "");
	/* the cross check: one month's orders disagree */
	put(&w, 0, "sales", (const char *const[]){ "2026-01|10|50", "2026-02|40|50" }, 2);
	expect(&w, "max_total_change/sales orders_match/-");
	/* a key only one side has */
	put(&w, 0, "sales", (const char *const[]){ "2026-01|10|50", "2026-02|20|50",
	    "2026-03|0|0" }, 3);
	expect(&w, "orders_match/-");
	/* rows: fewer than min_rows, and a 50 % change */
	put(&w, 0, "sales", sales, 2);
	put(&w, 0, "total", NULL, 0);
	expect(&w, "min_rows/total max_row_change/total members_month_end/-");
	put(&w, 0, "total", total, 2);
	/* signs and percentages */
	put(&w, 0, "sales", (const char *const[]){ "2026-01|10|-1", "2026-02|20|100.5" }, 2);
	expect(&w, "percent_range/sales");
	put(&w, 0, "daily", (const char *const[]){ "2026-01-01|4|-5", "2026-01-31|6|7",
	    "2026-02-10|20|9" }, 3);
	put(&w, 0, "sales", sales, 2);
	expect(&w, "non_negative/daily");
	/* NULL: a dimension not declared nullable fails, a declared one passes */
	put(&w, 0, "daily", daily, 3);
	put(&w, 0, "sales", (const char *const[]){ "2026-01|10|50", "-|20|50" }, 2);
	expect(&w, "null_dimension/sales orders_match/-");
	/* a missing aggregate; a whole brand missing */
	put(&w, 0, "sales", sales, 2);
	buf_reset(&w.rec[0][2]);
	expect(&w, "brand_present/total");
	for (int i = 0; i < 3; i++)
		buf_reset(&w.rec[0][i]);
	expect(&w, "brand_present/-");
	world_free(&w);
}

static void
test_verdict_round_trip(void **state)
{
	struct manifest m, back;
	struct guard_failure f = { "orders_match", "a", NULL, "2026-02: 21 in sales" };
	struct manifest_entry e = { .brand = "a", .aggregate = "sales", .ok = 1,
	    .data_time = 1764374400 };
	char *text, *cause = NULL;

	(void)state;
	manifest_init(&m, 3, "blue", 1, "sqlite");
	manifest_add(&m, &e);
	manifest_add_failure(&m, &f);
	m.guards = xstrdup("held");
	text = manifest_encode(&m);
	assert_int_equal(manifest_read(&back, text, strlen(text), &cause), 0);
	assert_string_equal(back.guards, "held");
	assert_int_equal(back.nfailures, 1);
	assert_string_equal(back.failures[0].check, "orders_match");
	assert_null(back.failures[0].aggregate);
	assert_int_equal(back.entries[0].data_time, 1764374400);
	assert_int_equal(manifest_data_time("2025-11-24T16:00:00.000000000Z"), 1764000000);
	assert_int_equal(manifest_data_time("2025-11-25 01:00:00+09:00"), 1764000000);
	assert_int_equal(manifest_data_time("not a time"), 0);
	free(text);
	manifest_free(&m);
	manifest_free(&back);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declarations, fixture_setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_bad_declarations, fixture_setup,
		    fixture_teardown),
		cmocka_unit_test_setup_teardown(test_each_check, fixture_setup,
		    fixture_teardown),
		cmocka_unit_test(test_verdict_round_trip),
	};

	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
