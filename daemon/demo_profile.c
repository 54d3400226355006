/*
 * demo_profile.c — the reference data of the demo brands: regions and their districts,
 * each brand's menu (prices, popularity, launches) and size. Brand "a" is a big coffee
 * chain, "b" a smaller tea-and-dessert chain, any other brand id a small generic one.
 * Data only: nothing here draws a random number or writes a row.
 */
#include <string.h>

#include "demo_priv.h"

/* Ordered by weight: a profile with n regions uses the first n. */
const struct region demo_profile_regions[] = {
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
#define MENU(m) (m), (int)(sizeof(m) / sizeof((m)[0]))
static const struct profile profile_a = { 5000, 60, 9, 2.0, MENU(menu_a) };
static const struct profile profile_b = { 2000, 24, 6, 1.8, MENU(menu_b) };
static const struct profile profile_generic = { 400, 8, 4, 1.3, MENU(menu_generic) };

const struct profile *
demo_profile_for(const char *brand_id)
{
	if (strcmp(brand_id, "a") == 0)
		return &profile_a;
	if (strcmp(brand_id, "b") == 0)
		return &profile_b;
	return &profile_generic;
}
