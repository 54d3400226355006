/*
 * demo_priv.h — what the demo generator's files share and nothing else includes: the
 * brand profiles (demo_profile.c), the generated rows and the draws on them
 * (demo_gen.c), which the SQLite writer (demo.c) turns into a brand database.
 */
#ifndef DEMO_PRIV_H
#define DEMO_PRIV_H

#include <stdint.h>

/* The data's "today": analyses are run as of this day; orders cover the year up to it. */
#define AS_OF		"2025-12-31"
#define ORDER_DAYS	365		/* orders from AS_OF - 364 days to AS_OF */
#define COVERAGE_START	"2025-01-01"	/* = AS_OF - (ORDER_DAYS - 1): the first ordered day */
#define JOIN_FROM	"2023-01-01"	/* first sign-ups */
#define ESTABLISHED	"2018-03-01"	/* launch day of a menu item with launched NULL */

/* ---- demo_profile.c: the brands' reference data ---- */

struct region {
	const char	*name;
	int		 weight;	/* share of members and stores (roughly population) */
	const char	*districts[10];	/* store locations, NULL-terminated */
};
#define NREGIONS	9		/* rows of demo_profile_regions[] */
extern const struct region demo_profile_regions[NREGIONS];

struct menu_item {
	const char	*name;
	const char	*category;
	int		 price;		/* KRW */
	int		 weight;	/* relative popularity once launched */
	int		 is_new;
	int		 is_signature;
	const char	*launched;	/* NULL: long established */
};

struct profile {
	int			 members;
	int			 stores;
	int			 nregions;	/* the first n of demo_profile_regions[] */
	double			 rate_scale;	/* monthly order rate multiplier */
	const struct menu_item	*menu;
	int			 nmenu;
};
const struct profile *demo_profile_for(const char *brand_id);

/* ---- demo_gen.c: the rows, drawn from one seeded stream ---- */

struct rng {
	uint64_t	 s;
};

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

/* "YYYY-MM-DD HH:MM:SS" (room to spare so the compiler can prove no truncation). */
#define TS_LEN 64

void	demo_gen_run(struct gen *, const char *brand_id, unsigned seed);
void	demo_gen_free(struct gen *);
void	demo_gen_sort_orders(struct gen *);
void	demo_gen_format_time(char out[TS_LEN], int day, int sec);
int	demo_gen_birth_year(struct gen *);
const char *demo_gen_gender(struct gen *);
int	demo_gen_lines(struct gen *);
int	demo_gen_line_item(struct gen *, const struct member_row *, int day, int line);
int	demo_gen_qty(struct gen *);

#endif
