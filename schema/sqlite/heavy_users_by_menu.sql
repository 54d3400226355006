-- heavy_users_by_menu: per product bought in the :window_days days ending at as_of:
-- buyers (members who bought it), quantity, heavy_buyers (members who bought it in at
-- least :menu_heavy_min_orders distinct orders; two lines of one order count once), the
-- heavy buyers' share of buyers and their share of the product's quantity, in %.
-- The measures are NULL when the window begins before the data's coverage start (meta
-- 'coverage_start', else the first order's day): orders before it are missing.
WITH
asof(d) AS (SELECT value FROM meta WHERE key = 'as_of'),
win(lo, hi, covered) AS (
  SELECT date(d, (1 - :window_days) || ' days'), date(d, '+1 day'),
         date(d, (1 - :window_days) || ' days') >= coverage.c
  FROM asof, coverage
),
member_product AS (
  SELECT o.member_id, l.product_id,
         COUNT(DISTINCT o.order_id) AS orders, SUM(l.qty) AS qty
  FROM orders o
  JOIN order_lines l ON l.order_id = o.order_id, win
  WHERE o.ordered_at >= win.lo AND o.ordered_at < win.hi
  GROUP BY o.member_id, l.product_id
),
heavy AS (
  SELECT product_id, qty, orders >= :menu_heavy_min_orders AS is_heavy FROM member_product
)
SELECT p.product_id                                         AS product_id,
       p.name                                               AS product,
       p.category                                           AS category,
       CASE WHEN win.covered THEN COUNT(*) END              AS buyers,
       CASE WHEN win.covered THEN SUM(h.qty) END            AS quantity,
       CASE WHEN win.covered THEN SUM(h.is_heavy) END       AS heavy_buyers,
       CASE WHEN win.covered THEN ROUND(100.0 * SUM(h.is_heavy) / COUNT(*), 4) END
                                                            AS heavy_buyer_share,
       CASE WHEN win.covered THEN
         ROUND(100.0 * SUM(CASE WHEN h.is_heavy THEN h.qty ELSE 0 END) / SUM(h.qty), 4) END
                                                            AS heavy_quantity_share
FROM heavy h
JOIN products p ON p.product_id = h.product_id
CROSS JOIN win
GROUP BY p.product_id
ORDER BY product_id NULLS FIRST, product NULLS FIRST, category NULLS FIRST
