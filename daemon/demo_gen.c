/*
 * demo_gen.c — the demo generator: stores, members and orders of one brand drawn from a
 * seed with its own PRNG (splitmix64; never rand() or the clock), so the same seed and
 * brand always give the same rows, plus the draws the writer makes while it inserts
 * (birth year, gender, order lines). The order of draws is the data: demo.c calls them
 * in a fixed order. It writes nothing and holds no reference data (demo_profile.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "demo_priv.h"

/* ------------------------------------------------------------------ PRNG */

/* splitmix64: tiny, fast, and the same sequence on every platform. */
static uint64_t
rng_next(struct rng *r)
{
	return util_splitmix64(&r->s);
}

/* Uniform in [0, 1): the top 53 bits. */
static double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); the modulo bias is irrelevant for demo data. */
static int
rng_below(struct rng *r, int n)
{
	return n <= 1 ? 0 : (int)(rng_next(r) % (uint64_t)n);
}

/* Index into weights[0..n) with probability proportional to its weight. */
static int
rng_pick(struct rng *r, const int *weights, int n)
{
	int total = 0, x;

	for (int i = 0; i < n; i++)
		total += weights[i];
	x = rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}

/* Standard normal (Box-Muller; the second value is dropped to keep the stream simple). */
static double
rng_normal(struct rng *r)
{
	double u = 1.0 - rng_unit(r), v = rng_unit(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Poisson(lambda): Knuth's method, in chunks so exp(-lambda) never underflows. */
static int
rng_poisson(struct rng *r, double lambda)
{
	int n = 0;

	while (lambda > 0) {
		double chunk = lambda > 20 ? 20 : lambda, limit = exp(-chunk), p = 1;
		int k = -1;

		do {
			k++;
			p *= rng_unit(r);
		} while (p > limit);
		n += k;
		lambda -= chunk;
	}
	return n;
}

/* FNV-1a: folds the brand id into the seed so brands differ for the same seed. */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* ------------------------------------------------------------------ calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int
days_from_civil(int y, int m, int d)
{
	int era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + (yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
}

static void
civil_from_days(int z, int *y, int *m, int *d)
{
	int era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" (trusted constant) to a day number. */
static int
parse_day(const char *s)
{
	return days_from_civil(atoi(s), atoi(s + 5), atoi(s + 8));
}

/* ISO weekday, 1 = Monday .. 7 = Sunday (1970-01-01 was a Thursday). */
static int
iso_weekday(int day)
{
	int w = (day + 3) % 7;

	return (w < 0 ? w + 7 : w) + 1;
}

/* "YYYY-MM-DD HH:MM:SS" of a day number and second of the day. */
void
demo_gen_format_time(char out[TS_LEN], int day, int sec)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, TS_LEN, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, sec / 3600,
	    sec / 60 % 60, sec % 60);
}

/* ------------------------------------------------------------------ demand */

/* Time-of-day demand per hour: commute (8-9) and lunch (12-13) rushes on weekdays, a
 * broad afternoon on weekends; a few stores stay open around midnight. */
static const int hour_weekday[24] = {
	1, 0, 0, 0, 0, 0, 2, 8, 22, 18, 9, 8, 20, 18, 8, 7, 6, 6, 5, 4, 3, 2, 1, 1 };
static const int hour_weekend[24] = {
	1, 0, 0, 0, 0, 0, 0, 2, 5, 7, 9, 11, 13, 13, 12, 11, 10, 9, 8, 7, 6, 4, 2, 1 };
/* Chance in % that an order lands on a weekday (Mon..Sun): offices drive traffic. */
static const int weekday_accept[8] = { 0, 95, 100, 100, 100, 100, 80, 72 };

/* ------------------------------------------------------------------ generation */

static int
region_weight_total(const struct profile *pf)
{
	int total = 0;

	for (int i = 0; i < pf->nregions; i++)
		total += demo_profile_regions[i].weight;
	return total;
}

/* One store per region, the rest spread by region weight (leftovers go to Seoul). */
static void
gen_stores(struct gen *g)
{
	const struct profile *pf = g->pf;
	int total = region_weight_total(pf), extra = pf->stores - pf->nregions, n = 0;

	g->stores = xcalloc((size_t)pf->stores, sizeof *g->stores);
	for (int r = 0; r < pf->nregions; r++) {
		int count = 1 + extra * demo_profile_regions[r].weight / total;
		for (int i = 0; i < count && n < pf->stores; i++)
			g->stores[n++].region = r;
	}
	while (n < pf->stores)
		g->stores[n++].region = 0;
	g->nstores = n;
}

/* A random store of region r (any store if the region has none). */
static int
store_in_region(struct gen *g, int r)
{
	int count = 0, k;

	for (int i = 0; i < g->nstores; i++)
		count += g->stores[i].region == r;
	if (count == 0)
		return rng_below(&g->rng, g->nstores);
	k = rng_below(&g->rng, count);
	for (int i = 0; i < g->nstores; i++)
		if (g->stores[i].region == r && k-- == 0)
			return i;
	return 0;
}

static int
is_drink(const struct menu_item *it)
{
	return strcmp(it->category, "Coffee") == 0 || strcmp(it->category, "Non-coffee") == 0 ||
	    strcmp(it->category, "Tea") == 0;
}

/* A menu item by popularity; drinks_only for a member's favourite or first line. */
static int
pick_item(struct gen *g, int drinks_only)
{
	int w[64], n = g->pf->nmenu;

	for (int i = 0; i < n; i++)
		w[i] = drinks_only && !is_drink(&g->pf->menu[i]) ? 0 : g->pf->menu[i].weight;
	return rng_pick(&g->rng, w, n);
}

/* Sign-up day: a third before the order year, the rest during it, growing over time. */
static int
pick_join_day(struct gen *g)
{
	int from = parse_day(JOIN_FROM);

	if (rng_below(&g->rng, 100) < 35)
		return from + rng_below(&g->rng, g->start - from);
	return g->start + (int)(ORDER_DAYS * sqrt(rng_unit(&g->rng)));
}

/* Birth year from an age 15..75 skewed to the 20s-30s; 6% unknown (0). */
int
demo_gen_birth_year(struct gen *g)
{
	static const int lo[] = { 15, 20, 30, 40, 50, 60 }, hi[] = { 19, 29, 39, 49, 59, 75 };
	static const int w[] = { 8, 30, 27, 18, 11, 6 };
	int b;

	if (rng_below(&g->rng, 100) < 6)
		return 0;
	b = rng_pick(&g->rng, w, 6);
	return 2025 - (lo[b] + rng_below(&g->rng, hi[b] - lo[b] + 1));
}

/* Orders per month: 12% never order; the rest are log-normal around rate_scale, a long
 * tail both ways: occasional visitors (a few orders a year) and a few percent ordering
 * 8+ times a month (the heavy users). A third stop at some point and go dormant. */
static void
pick_activity(struct gen *g, struct member_row *m)
{
	m->first_day = m->join_day > g->start ? m->join_day : g->start;
	m->last_day = g->as_of;
	if (rng_below(&g->rng, 100) < 12) {
		m->last_day = m->first_day - 1;
		return;
	}
	m->rate = g->pf->rate_scale * exp(1.2 * rng_normal(&g->rng));
	if (m->rate > 40)
		m->rate = 40;
	if (rng_below(&g->rng, 100) < 33)
		m->last_day = m->first_day + rng_below(&g->rng, g->as_of - m->first_day + 1);
}

static void
gen_member(struct gen *g, struct member_row *m)
{
	int w[NREGIONS];

	for (int i = 0; i < g->pf->nregions; i++)
		w[i] = demo_profile_regions[i].weight;
	m->join_day = pick_join_day(g);
	m->join_sec = 7 * 3600 + rng_below(&g->rng, 16 * 3600);
	m->region = rng_pick(&g->rng, w, g->pf->nregions);
	m->home_store = store_in_region(g, m->region);
	m->favourite = pick_item(g, 1);
	pick_activity(g, m);
}

/* A day in [first, last] with fewer orders at weekends. */
static int
pick_order_day(struct gen *g, int first, int last)
{
	for (;;) {
		int day = first + rng_below(&g->rng, last - first + 1);
		if (rng_below(&g->rng, 100) < weekday_accept[iso_weekday(day)])
			return day;
	}
}

/* The store of one visit: mostly the home store, sometimes elsewhere. */
static int
pick_order_store(struct gen *g, const struct member_row *m)
{
	int x = rng_below(&g->rng, 100);

	if (x < 75)
		return m->home_store;
	if (x < 90)
		return store_in_region(g, m->region);
	return rng_below(&g->rng, g->nstores);
}

static void
add_order(struct gen *g, int member)
{
	const struct member_row *m = &g->members[member];
	struct order_row *o;
	int day = pick_order_day(g, m->first_day, m->last_day);
	const int *hours = iso_weekday(day) >= 6 ? hour_weekend : hour_weekday;
	int sec = rng_pick(&g->rng, hours, 24) * 3600 + rng_below(&g->rng, 3600);

	/* Signed up at the counter and ordered right after: never before joining. */
	if (day == m->join_day && sec < m->join_sec + 60) {
		sec = m->join_sec + 60 + rng_below(&g->rng, 1800);
		if (sec > 86399)
			sec = 86399;
	}
	if (g->norders == g->caporders) {
		g->caporders = g->caporders ? g->caporders * 2 : 4096;
		g->orders = xreallocarray(g->orders, (size_t)g->caporders, sizeof *g->orders);
	}
	o = &g->orders[g->norders];
	o->day = day;
	o->sec = sec;
	o->member = member;
	o->store = pick_order_store(g, m);
	o->seq = g->norders++;
}

static void
gen_members_and_orders(struct gen *g)
{
	g->members = xcalloc((size_t)g->pf->members, sizeof *g->members);
	for (int i = 0; i < g->pf->members; i++) {
		struct member_row *m = &g->members[i];
		int n;

		gen_member(g, m);
		if (m->last_day < m->first_day)
			continue;
		n = rng_poisson(&g->rng, m->rate * (m->last_day - m->first_day + 1) / 30.4);
		for (int k = 0; k < n; k++)
			add_order(g, i);
	}
}

static int
order_cmp(const void *a, const void *b)
{
	const struct order_row *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Orders in time order, so order ids grow with ordered_at. */
void
demo_gen_sort_orders(struct gen *g)
{
	qsort(g->orders, (size_t)g->norders, sizeof *g->orders, order_cmp);
}

/* ------------------------------------------------------------------ draws at insert time */

/* Gender and birth year are drawn at insert time, from the member's own stream
 * position: still deterministic because members are inserted in a fixed order. */
const char *
demo_gen_gender(struct gen *g)
{
	static const int gw[] = { 56, 39, 5 };
	static const char *const gender[] = { "F", "M", "U" };

	return gender[rng_pick(&g->rng, gw, 3)];
}

/* How many lines an order has: 1-4, mostly one. */
int
demo_gen_lines(struct gen *g)
{
	static const int nw[] = { 62, 27, 9, 2 };

	return 1 + rng_pick(&g->rng, nw, 4);
}

/* A launched item for an order on day: the member's favourite for 45% of first lines,
 * otherwise by popularity (drinks first); items not yet launched are drawn again. */
int
demo_gen_line_item(struct gen *g, const struct member_row *m, int day, int line)
{
	if (line == 1 && g->launch[m->favourite] <= day && rng_below(&g->rng, 100) < 45)
		return m->favourite;
	for (int tries = 0; tries < 16; tries++) {
		int it = pick_item(g, line == 1);
		if (g->launch[it] <= day)
			return it;
	}
	return 0;	/* the first item of every menu is long established */
}

/* The quantity of one line: 1-3, mostly one. */
int
demo_gen_qty(struct gen *g)
{
	static const int qw[] = { 86, 11, 3 };

	return 1 + rng_pick(&g->rng, qw, 3);
}

/* ------------------------------------------------------------------ lifecycle */

/* Draws brand_id's stores, members and orders from seed into g (demo_gen_free frees). */
void
demo_gen_run(struct gen *g, const char *brand_id, unsigned seed)
{
	memset(g, 0, sizeof *g);
	g->rng.s = ((uint64_t)seed * 0x9e3779b97f4a7c15ULL) ^ hash_str(brand_id);
	g->pf = demo_profile_for(brand_id);
	g->as_of = parse_day(AS_OF);
	g->start = g->as_of - (ORDER_DAYS - 1);
	g->launch = xcalloc((size_t)g->pf->nmenu, sizeof *g->launch);
	for (int i = 0; i < g->pf->nmenu; i++)
		g->launch[i] = parse_day(g->pf->menu[i].launched ?
		    g->pf->menu[i].launched : ESTABLISHED);
	gen_stores(g);
	gen_members_and_orders(g);
}

void
demo_gen_free(struct gen *g)
{
	free(g->launch);
	free(g->stores);
	free(g->members);
	free(g->orders);
}
