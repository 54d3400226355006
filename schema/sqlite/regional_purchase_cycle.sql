-- regional_purchase_cycle: per member region (regions with at least one buyer), over all
-- orders: buyers, repeat_buyers (2+ orders), intervals (gaps between a member's
-- consecutive orders, sorted by ordered_at then order_id), the median and mean interval
-- in whole calendar days (same day = 0; NULL when the region has no interval; the median
-- of an even count is the mean of the two middle values), member_median_days (the typical
-- member's cycle: the median over repeat buyers of each one's mean gap, so heavy users
-- do not dominate as they do the pooled median), and the region's three products with
-- the largest quantity and the three with the largest revenue (ties: lower product_id
-- first; NULL if fewer).
-- The cycle (repeat_buyers, intervals, the medians and mean) uses only orders on or
-- after the data's coverage start (meta 'coverage_start', else the first order's day):
-- before it orders are missing, so a gap from an earlier order could span orders that
-- are not in the data. buyers and the products count every order on record.
WITH
-- 'YYYY-MM-DD HH:MM:SS' >= 'YYYY-MM-DD' as text: on or after that day, no substr needed
covered AS (
  SELECT member_id, ordered_at, order_id, julianday(substr(ordered_at, 1, 10)) AS day
  FROM orders
  WHERE ordered_at >= (SELECT c FROM coverage)
),
sequenced AS (
  SELECT member_id, day,
         LEAD(day) OVER (PARTITION BY member_id
                         ORDER BY ordered_at NULLS FIRST, order_id NULLS FIRST) AS next_day
  FROM covered
),
-- Gaps are whole days, so everything else comes from a per-region histogram of gap
-- lengths, far smaller than the ~100k gaps. The k-th smallest gap is the first length
-- whose running count reaches k; the median is the mean of the ((n+1)/2)-th and
-- ((n+2)/2)-th smallest (integer division: the same one when n is odd).
histogram AS (
  SELECT m.region, s.next_day - s.day AS days, COUNT(*) AS c
  FROM sequenced s
  JOIN members m ON m.member_id = s.member_id
  WHERE s.next_day IS NOT NULL
  GROUP BY m.region, days
),
running AS (
  SELECT region, days,
         SUM(c) OVER (PARTITION BY region ORDER BY days NULLS FIRST) AS upto,
         SUM(c) OVER (PARTITION BY region) AS n
  FROM histogram
),
medians AS (
  SELECT region,
         (min(CASE WHEN upto >= (n + 1) / 2 THEN days END) +
          min(CASE WHEN upto >= (n + 2) / 2 THEN days END)) / 2.0 AS median
  FROM running
  GROUP BY region
),
means AS (
  SELECT region, SUM(c) AS intervals, SUM(days * c) / SUM(c) AS mean
  FROM histogram
  GROUP BY region
),
-- A member's mean gap telescopes to (last day - first day) / (orders - 1).
member_cycle AS (
  SELECT m.region, (max(o.day) - min(o.day)) / (COUNT(*) - 1) AS mean_gap
  FROM covered o
  JOIN members m ON m.member_id = o.member_id
  GROUP BY o.member_id, m.region
  HAVING COUNT(*) >= 2
),
member_ranked AS (
  SELECT region, mean_gap,
         ROW_NUMBER() OVER (PARTITION BY region ORDER BY mean_gap NULLS FIRST) AS rn,
         COUNT(*) OVER (PARTITION BY region) AS n
  FROM member_cycle
),
member_medians AS (
  SELECT region, AVG(mean_gap) AS median
  FROM member_ranked
  WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
  GROUP BY region
),
buyers AS (
  SELECT m.region, COUNT(*) AS buyers, SUM(c.covered_orders >= 2) AS repeat_buyers
  FROM (SELECT member_id,
               SUM(ordered_at >= (SELECT c FROM coverage)) AS covered_orders
        FROM orders GROUP BY member_id) c
  JOIN members m ON m.member_id = c.member_id
  GROUP BY m.region
),
top_products AS (
  SELECT q.region, p.name,
         ROW_NUMBER() OVER (PARTITION BY q.region
                            ORDER BY q.qty DESC NULLS LAST, q.product_id NULLS FIRST) AS rk,
         ROW_NUMBER() OVER (PARTITION BY q.region
                            ORDER BY q.revenue DESC NULLS LAST, q.product_id NULLS FIRST)
           AS rk_revenue
  FROM (SELECT m.region, l.product_id, SUM(l.qty) AS qty,
               SUM(l.qty * l.unit_price) AS revenue
        -- CROSS JOIN pins the join order: scanning order_lines once beats the
        -- planner's members -> orders -> order_lines index walk
        FROM order_lines l
        CROSS JOIN orders o ON o.order_id = l.order_id
        CROSS JOIN members m ON m.member_id = o.member_id
        GROUP BY m.region, l.product_id) q
  JOIN products p ON p.product_id = q.product_id
)
SELECT b.region                                             AS region,
       b.buyers                                             AS buyers,
       b.repeat_buyers                                      AS repeat_buyers,
       coalesce(mn.intervals, 0)                            AS intervals,
       ROUND(md.median, 4)                                  AS median_days,
       ROUND(mn.mean, 4)                                    AS mean_days,
       ROUND(mm.median, 4)                                  AS member_median_days,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk = 1) AS top1_product,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk = 2) AS top2_product,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk = 3) AS top3_product,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk_revenue = 1)
                                                            AS top1_revenue_product,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk_revenue = 2)
                                                            AS top2_revenue_product,
       (SELECT name FROM top_products t WHERE t.region = b.region AND t.rk_revenue = 3)
                                                            AS top3_revenue_product
FROM buyers b
LEFT JOIN medians md ON md.region = b.region
LEFT JOIN member_medians mm ON mm.region = b.region
LEFT JOIN means mn ON mn.region = b.region
ORDER BY region NULLS FIRST
