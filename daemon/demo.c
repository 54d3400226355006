/*
 * demo.c — deterministic demo data for the embedded SQLite source. demo_generate()
 * (re)creates one brand's database file with the tables of schema/source_sqlite.sql and
 * fills them from a seed with its own PRNG (splitmix64; never rand() or the clock), so
 * the same seed and brand always give the same rows. Brand "a" is a big coffee chain,
 * "b" a smaller tea-and-dessert chain, any other brand id a small generic one.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tpcd.h"

extern const char source_sqlite_ddl[];	/* generated from schema/source_sqlite.sql */

/* The data's "today": analyses are run as of this day; orders cover the year up to it. */
#define AS_OF		"2025-12-31"
#define ORDER_DAYS	365		/* orders from AS_OF - 364 days to AS_OF */
#define COVERAGE_START	"2025-01-01"	/* = AS_OF - (ORDER_DAYS - 1): the first ordered day */
#define JOIN_FROM	"2023-01-01"	/* first sign-ups */

/* ------------------------------------------------------------------ PRNG */

struct rng {
	uint64_t	 s;
};

/* splitmix64: tiny, fast, and the same sequence on every platform. */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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

/* "YYYY-MM-DD HH:MM:SS" of a day number and second of the day (room to spare so the
 * compiler can prove no truncation). */
#define TS_LEN 64
static void
format_time(char out[TS_LEN], int day, int sec)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, TS_LEN, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, sec / 3600,
	    sec / 60 % 60, sec % 60);
}

/* ------------------------------------------------------------------ brand profiles */

struct region {
	const char	*name;
	int		 weight;	/* share of members and stores (roughly population) */
	const char	*districts[10];	/* store locations, NULL-terminated */
};

/* Ordered by weight: a profile with n regions uses the first n. */
static const struct region regions[] = {
	{ "Seoul", 30, { "Gangnam", "Hongdae", "Jongno", "Yeouido", "Jamsil", "Seongsu",
	    "Itaewon", "Sinchon", "Konkuk Univ", NULL } },
	{ "Gyeonggi", 26, { "Suwon", "Pangyo", "Ilsan", "Bundang", "Yongin", "Bucheon",
	    "Anyang", "Dongtan", NULL } },
	{ "Busan", 8, { "Haeundae", "Seomyeon", "Gwangalli", "Nampo", NULL } },
	{ "Incheon", 7, { "Songdo", "Bupyeong", "Guwol", NULL } },
	{ "Daegu", 6, { "Dongseongno", "Suseong", NULL } },
	{ "Daejeon", 4, { "Dunsan", "Yuseong", NULL } },
	{ "Gwangju", 3, { "Chungjang-ro", "Sangmu", NULL } },
	{ "Ulsan", 2, { "Samsan", NULL } },
	{ "Jeju", 2, { "Jeju City", "Seogwipo", NULL } },
};
#define NREGIONS ((int)(sizeof regions / sizeof regions[0]))

struct menu_item {
	const char	*name;
	const char	*category;
	int		 price;		/* KRW */
	int		 weight;	/* relative popularity once launched */
	int		 is_new;
	int		 is_signature;
	const char	*launched;	/* NULL: long established */
};
#define ESTABLISHED "2018-03-01"

/* Brand A: a large coffee chain; new items launched through the year. */
static const struct menu_item menu_a[] = {
	{ "Americano", "Coffee", 4500, 300, 0, 0, NULL },
	{ "Iced Americano", "Coffee", 4500, 260, 0, 0, NULL },
	{ "Cafe Latte", "Coffee", 5000, 140, 0, 0, NULL },
	{ "Vanilla Latte", "Coffee", 5500, 80, 0, 0, NULL },
	{ "Caramel Macchiato", "Coffee", 5900, 50, 0, 0, NULL },
	{ "Cold Brew", "Coffee", 5000, 60, 0, 0, NULL },
	{ "Signature Dolce Latte", "Coffee", 5900, 70, 0, 1, "2021-04-01" },
	{ "Signature Einspanner", "Coffee", 6200, 40, 0, 1, "2023-05-01" },
	{ "Hallabong Cream Latte", "Coffee", 6500, 45, 1, 1, "2025-04-01" },
	{ "Green Tea Latte", "Non-coffee", 5500, 45, 0, 0, NULL },
	{ "Chocolate Latte", "Non-coffee", 5300, 30, 0, 0, NULL },
	{ "Strawberry Latte", "Non-coffee", 5800, 25, 0, 0, NULL },
	{ "Yuzu Ade", "Non-coffee", 5800, 30, 0, 0, NULL },
	{ "Black Sesame Latte", "Non-coffee", 6300, 40, 1, 0, "2025-09-01" },
	{ "Yuja Tea", "Tea", 5000, 25, 0, 0, NULL },
	{ "Earl Grey", "Tea", 4500, 15, 0, 0, NULL },
	{ "Chamomile", "Tea", 4500, 12, 0, 0, NULL },
	{ "Hojicha Latte", "Tea", 5800, 30, 1, 0, "2025-11-10" },
	{ "New York Cheesecake", "Dessert", 6500, 25, 0, 0, NULL },
	{ "Tiramisu", "Dessert", 6800, 18, 0, 0, NULL },
	{ "Macaron", "Dessert", 2800, 22, 0, 0, NULL },
	{ "Winter Strawberry Cake", "Dessert", 7500, 25, 1, 0, "2025-12-01" },
	{ "Butter Croissant", "Bakery", 3800, 25, 0, 0, NULL },
	{ "Salt Bread", "Bakery", 3500, 35, 0, 0, NULL },
	{ "Plain Bagel", "Bakery", 3500, 15, 0, 0, NULL },
	{ "Ham Cheese Sandwich", "Bakery", 6900, 18, 0, 0, NULL },
	{ "Signature Tumbler", "MD", 25000, 3, 0, 1, "2024-03-01" },
	{ "Drip Bag Set", "MD", 15000, 3, 0, 0, NULL },
};

/* Brand B: a smaller tea-and-dessert chain with a different menu. */
static const struct menu_item menu_b[] = {
	{ "Americano", "Coffee", 3500, 150, 0, 0, NULL },
	{ "Cafe Latte", "Coffee", 4000, 80, 0, 0, NULL },
	{ "Royal Milk Tea", "Tea", 4800, 120, 0, 1, "2020-06-01" },
	{ "Brown Sugar Bubble Tea", "Tea", 5200, 110, 0, 1, "2021-03-01" },
	{ "Taro Milk Tea", "Tea", 5200, 50, 0, 0, NULL },
	{ "Jasmine Green Tea", "Tea", 4200, 40, 0, 0, NULL },
	{ "Grapefruit Black Tea", "Tea", 4800, 45, 0, 0, NULL },
	{ "Hojicha Bubble Tea", "Tea", 5500, 40, 1, 0, "2025-10-01" },
	{ "Mango Smoothie", "Non-coffee", 5800, 35, 0, 0, NULL },
	{ "Strawberry Yogurt Smoothie", "Non-coffee", 5900, 30, 0, 0, NULL },
	{ "Injeolmi Bingsu", "Dessert", 9800, 20, 1, 1, "2025-06-01" },
	{ "Honey Butter Bread", "Dessert", 6800, 25, 0, 0, NULL },
	{ "Croffle", "Dessert", 4500, 40, 0, 0, NULL },
	{ "Cream Cheese Pretzel", "Bakery", 4300, 30, 0, 0, NULL },
	{ "Eco Bag", "MD", 12000, 2, 0, 0, NULL },
};

/* Any other brand: a small neighbourhood chain. */
static const struct menu_item menu_generic[] = {
	{ "Americano", "Coffee", 4000, 200, 0, 0, NULL },
	{ "Cafe Latte", "Coffee", 4500, 100, 0, 0, NULL },
	{ "House Blend Latte", "Coffee", 5200, 50, 0, 1, "2022-01-01" },
	{ "Lemon Tea", "Tea", 4500, 40, 0, 0, NULL },
	{ "Chocolate Latte", "Non-coffee", 5000, 30, 0, 0, NULL },
	{ "Seasonal Ade", "Non-coffee", 5500, 40, 1, 0, "2025-07-01" },
	{ "Cheesecake", "Dessert", 6000, 25, 0, 0, NULL },
	{ "Cookie", "Bakery", 2500, 30, 0, 0, NULL },
	{ "Tumbler", "MD", 20000, 2, 0, 0, NULL },
};

struct profile {
	int			 members;
	int			 stores;
	int			 nregions;	/* the first n of regions[] */
	double			 rate_scale;	/* monthly order rate multiplier */
	const struct menu_item	*menu;
	int			 nmenu;
};

#define MENU(m) (m), (int)(sizeof(m) / sizeof((m)[0]))
static const struct profile profile_a = { 5000, 60, 9, 2.0, MENU(menu_a) };
static const struct profile profile_b = { 2000, 24, 6, 1.8, MENU(menu_b) };
static const struct profile profile_generic = { 400, 8, 4, 1.3, MENU(menu_generic) };

/* Time-of-day demand per hour: commute (8-9) and lunch (12-13) rushes on weekdays, a
 * broad afternoon on weekends; a few stores stay open around midnight. */
static const int hour_weekday[24] = {
	1, 0, 0, 0, 0, 0, 2, 8, 22, 18, 9, 8, 20, 18, 8, 7, 6, 6, 5, 4, 3, 2, 1, 1 };
static const int hour_weekend[24] = {
	1, 0, 0, 0, 0, 0, 0, 2, 5, 7, 9, 11, 13, 13, 12, 11, 10, 9, 8, 7, 6, 4, 2, 1 };
/* Chance in % that an order lands on a weekday (Mon..Sun): offices drive traffic. */
static const int weekday_accept[8] = { 0, 95, 100, 100, 100, 100, 80, 72 };

/* ------------------------------------------------------------------ generation */

struct store_row {
	int		 region;
};

struct member_row {
	int		 join_day, join_sec;
	int		 region;
	int		 home_store;	/* index into stores */
	int		 favourite;	/* menu index */
	int		 first_day, last_day;	/* ordering span; last < first: never orders */
	double		 rate;		/* orders per 30.4 days while ordering */
};

struct order_row {
	int		 day, sec;
	int		 member;	/* index into members */
	int		 store;		/* index into stores */
	int		 seq;		/* generation order: a total tie-break for sorting */
};

struct gen {
	struct rng		 rng;
	const struct profile	*pf;
	int			 as_of, start;	/* day numbers */
	int			*launch;	/* per menu item: launch day number */
	struct store_row	*stores;
	int			 nstores;
	struct member_row	*members;
	struct order_row	*orders;
	int			 norders, caporders;
};

static const struct profile *
profile_for(const char *brand_id)
{
	if (strcmp(brand_id, "a") == 0)
		return &profile_a;
	if (strcmp(brand_id, "b") == 0)
		return &profile_b;
	return &profile_generic;
}

static int
region_weight_total(const struct profile *pf)
{
	int total = 0;

	for (int i = 0; i < pf->nregions; i++)
		total += regions[i].weight;
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
		int count = 1 + extra * regions[r].weight / total;
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
static int
pick_birth_year(struct gen *g)
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
		w[i] = regions[i].weight;
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

/* ------------------------------------------------------------------ SQLite output */

struct stmts {
	sqlite3_stmt	*meta, *member, *store, *product, *order, *line;
};

static int
db_error(sqlite3 *db, const char *what, char **cause)
{
	*cause = xasprintf("demo data: %s: %s", what, sqlite3_errmsg(db));
	return -1;
}

/* Runs a fully bound insert and resets it for the next row. */
static int
step(sqlite3 *db, sqlite3_stmt *st, char **cause)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(db, "insert", cause);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int
prepare_all(sqlite3 *db, struct stmts *s, char **cause)
{
	static const char *const sql[] = {
		"INSERT INTO meta (key, value) VALUES (?, ?)",
		"INSERT INTO members (member_id, joined_at, birth_year, gender, region) "
		    "VALUES (?, ?, ?, ?, ?)",
		"INSERT INTO stores (store_id, name, region) VALUES (?, ?, ?)",
		"INSERT INTO products (product_id, name, category, is_new, is_signature, "
		    "launched_at) VALUES (?, ?, ?, ?, ?, ?)",
		"INSERT INTO orders (order_id, member_id, store_id, ordered_at) VALUES (?, ?, ?, ?)",
		"INSERT INTO order_lines (order_id, line_no, product_id, qty, unit_price) "
		    "VALUES (?, ?, ?, ?, ?)",
	};
	sqlite3_stmt **dst[] = { &s->meta, &s->member, &s->store, &s->product, &s->order,
	    &s->line };

	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, dst[i], NULL) != SQLITE_OK)
			return db_error(db, "prepare", cause);
	return 0;
}

static void
finalize_all(struct stmts *s)
{
	sqlite3_finalize(s->meta);
	sqlite3_finalize(s->member);
	sqlite3_finalize(s->store);
	sqlite3_finalize(s->product);
	sqlite3_finalize(s->order);
	sqlite3_finalize(s->line);
}

static int
put_meta(sqlite3 *db, struct stmts *s, const char *key, const char *value, char **cause)
{
	sqlite3_bind_text(s->meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->meta, 2, value, -1, SQLITE_TRANSIENT);
	return step(db, s->meta, cause);
}

static int
put_stores(sqlite3 *db, struct stmts *s, const struct gen *g, char **cause)
{
	int seen[NREGIONS] = { 0 };

	for (int i = 0; i < g->nstores; i++) {
		const struct region *r = &regions[g->stores[i].region];
		int nd = 0, k = seen[g->stores[i].region]++;
		char name[64];

		while (r->districts[nd] != NULL)
			nd++;
		/* "Gangnam", then "Gangnam 2" once every district of the region has a store */
		if (k < nd)
			snprintf(name, sizeof name, "%s", r->districts[k]);
		else
			snprintf(name, sizeof name, "%s %d", r->districts[k % nd], k / nd + 1);
		sqlite3_bind_int(s->store, 1, i + 1);
		sqlite3_bind_text(s->store, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s->store, 3, r->name, -1, SQLITE_STATIC);
		if (step(db, s->store, cause) != 0)
			return -1;
	}
	return 0;
}

static int
put_products(sqlite3 *db, struct stmts *s, const struct gen *g, char **cause)
{
	for (int i = 0; i < g->pf->nmenu; i++) {
		const struct menu_item *it = &g->pf->menu[i];

		sqlite3_bind_int(s->product, 1, i + 1);
		sqlite3_bind_text(s->product, 2, it->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->product, 3, it->category, -1, SQLITE_STATIC);
		sqlite3_bind_int(s->product, 4, it->is_new);
		sqlite3_bind_int(s->product, 5, it->is_signature);
		sqlite3_bind_text(s->product, 6, it->launched ? it->launched : ESTABLISHED, -1,
		    SQLITE_STATIC);
		if (step(db, s->product, cause) != 0)
			return -1;
	}
	return 0;
}

/* Gender and birth year are drawn here, at insert time, from the member's own stream
 * position: still deterministic because members are inserted in a fixed order. */
static int
put_members(sqlite3 *db, struct stmts *s, struct gen *g, char **cause)
{
	static const int gw[] = { 56, 39, 5 };
	static const char *const gender[] = { "F", "M", "U" };

	for (int i = 0; i < g->pf->members; i++) {
		const struct member_row *m = &g->members[i];
		int by = pick_birth_year(g);
		char ts[TS_LEN];

		format_time(ts, m->join_day, m->join_sec);
		sqlite3_bind_int(s->member, 1, i + 1);
		sqlite3_bind_text(s->member, 2, ts, -1, SQLITE_TRANSIENT);
		if (by == 0)
			sqlite3_bind_null(s->member, 3);
		else
			sqlite3_bind_int(s->member, 3, by);
		sqlite3_bind_text(s->member, 4, gender[rng_pick(&g->rng, gw, 3)], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(s->member, 5, regions[m->region].name, -1, SQLITE_STATIC);
		if (step(db, s->member, cause) != 0)
			return -1;
	}
	return 0;
}

/* A launched item for an order on day: the member's favourite for 45% of first lines,
 * otherwise by popularity (drinks first); items not yet launched are drawn again. */
static int
pick_line_item(struct gen *g, const struct member_row *m, int day, int line)
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

static int
put_lines(sqlite3 *db, struct stmts *s, struct gen *g, int order_id,
    const struct order_row *o, char **cause)
{
	static const int nw[] = { 62, 27, 9, 2 }, qw[] = { 86, 11, 3 };
	int nlines = 1 + rng_pick(&g->rng, nw, 4);

	for (int line = 1; line <= nlines; line++) {
		int it = pick_line_item(g, &g->members[o->member], o->day, line);

		sqlite3_bind_int(s->line, 1, order_id);
		sqlite3_bind_int(s->line, 2, line);
		sqlite3_bind_int(s->line, 3, it + 1);
		sqlite3_bind_int(s->line, 4, 1 + rng_pick(&g->rng, qw, 3));
		sqlite3_bind_int(s->line, 5, g->pf->menu[it].price);
		if (step(db, s->line, cause) != 0)
			return -1;
	}
	return 0;
}

/* Orders in time order, so order ids grow with ordered_at. */
static int
put_orders(sqlite3 *db, struct stmts *s, struct gen *g, char **cause)
{
	qsort(g->orders, (size_t)g->norders, sizeof *g->orders, order_cmp);
	for (int i = 0; i < g->norders; i++) {
		const struct order_row *o = &g->orders[i];
		char ts[TS_LEN];

		format_time(ts, o->day, o->sec);
		sqlite3_bind_int(s->order, 1, i + 1);
		sqlite3_bind_int(s->order, 2, o->member + 1);
		sqlite3_bind_int(s->order, 3, o->store + 1);
		sqlite3_bind_text(s->order, 4, ts, -1, SQLITE_TRANSIENT);
		if (step(db, s->order, cause) != 0 || put_lines(db, s, g, i + 1, o, cause) != 0)
			return -1;
	}
	return 0;
}

static int
put_all(sqlite3 *db, struct gen *g, const char *brand_id, unsigned seed, char **cause)
{
	struct stmts s = { 0 };
	char seedstr[16], now[32];
	int rc = -1;

	snprintf(seedstr, sizeof seedstr, "%u", seed);
	/* the data is declared current when made: tpcd measures its staleness from here */
	clock_iso8601(time(NULL), now);
	if (prepare_all(db, &s, cause) == 0 &&
	    put_meta(db, &s, "as_of", AS_OF, cause) == 0 &&
	    put_meta(db, &s, "seed", seedstr, cause) == 0 &&
	    put_meta(db, &s, "brand", brand_id, cause) == 0 &&
	    put_meta(db, &s, "data_time", now, cause) == 0 &&
	    put_meta(db, &s, "coverage_start", COVERAGE_START, cause) == 0 &&
	    put_stores(db, &s, g, cause) == 0 &&
	    put_products(db, &s, g, cause) == 0 &&
	    put_members(db, &s, g, cause) == 0 &&
	    put_orders(db, &s, g, cause) == 0)
		rc = 0;
	finalize_all(&s);
	return rc;
}

/* ------------------------------------------------------------------ entry point */

static void
gen_init(struct gen *g, const char *brand_id, unsigned seed)
{
	memset(g, 0, sizeof *g);
	g->rng.s = ((uint64_t)seed * 0x9e3779b97f4a7c15ULL) ^ hash_str(brand_id);
	g->pf = profile_for(brand_id);
	g->as_of = parse_day(AS_OF);
	g->start = g->as_of - (ORDER_DAYS - 1);
	g->launch = xcalloc((size_t)g->pf->nmenu, sizeof *g->launch);
	for (int i = 0; i < g->pf->nmenu; i++)
		g->launch[i] = parse_day(g->pf->menu[i].launched ?
		    g->pf->menu[i].launched : ESTABLISHED);
}

static void
gen_free(struct gen *g)
{
	free(g->launch);
	free(g->stores);
	free(g->members);
	free(g->orders);
}

/* Removes path and SQLite's side files; a missing file is fine. */
static int
remove_db(const char *path, char **cause)
{
	static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };

	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		int rc = unlink(p);

		if (rc != 0 && errno != ENOENT) {
			*cause = xasprintf("demo data: removing %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int
exec_sql(sqlite3 *db, const char *sql, const char *what, char **cause)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, what, cause);
	return 0;
}

/*
 * (Re)creates the brand database at path with deterministic demo data for brand_id.
 * Returns 0, or -1 and *cause (caller frees); a failed run leaves no file behind.
 */
int
demo_generate(const char *path, const char *brand_id, unsigned seed, char **cause)
{
	sqlite3 *db = NULL;
	struct gen g;
	int rc = -1;

	if (remove_db(path, cause) != 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL) != SQLITE_OK) {
		*cause = xasprintf("demo data: %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	gen_init(&g, brand_id, seed);
	gen_stores(&g);
	gen_members_and_orders(&g);
	if (exec_sql(db, source_sqlite_ddl, "schema", cause) == 0 &&
	    exec_sql(db, "BEGIN", "begin", cause) == 0 &&
	    put_all(db, &g, brand_id, seed, cause) == 0 &&
	    exec_sql(db, "COMMIT", "commit", cause) == 0 &&
	    exec_sql(db, "ANALYZE", "analyze", cause) == 0)
		rc = 0;
	gen_free(&g);
	sqlite3_close(db);
	if (rc != 0) {
		char *ignored = NULL;

		if (remove_db(path, &ignored) != 0)
			free(ignored);
	}
	return rc;
}
