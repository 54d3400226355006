-- user_segments: per calendar month with orders, every member who had joined by the end
-- of the month falls in exactly one segment:
--   new      joined during the month (whatever they ordered)
--   heavy    otherwise, >= :heavy_min_orders orders in the month
--   regular  >= :regular_min_orders orders
--   light    1 .. :regular_min_orders - 1 orders
--   dormant  no order in the month
-- All five segments are listed for every month (0 when empty). member_share is the
-- segment's percentage of the month's members.
-- Only months that lie wholly on or after the data's coverage start (meta
-- 'coverage_start', else the first order's day) are listed: in a month that begins
-- before it, a member's order count misses the orders before coverage start, so the
-- light / regular / heavy / dormant split would be a guess (too many "dormant").
WITH
months(month) AS (
  SELECT month FROM (SELECT DISTINCT substr(ordered_at, 1, 7) AS month FROM orders), coverage
  WHERE month || '-01' >= coverage.c
),
member_month AS (
  SELECT member_id, substr(ordered_at, 1, 7) AS month, COUNT(*) AS n
  FROM orders
  GROUP BY member_id, month
),
classified AS (
  SELECT mo.month,
         CASE WHEN substr(m.joined_at, 1, 7) = mo.month THEN 'new'
              WHEN mm.n IS NULL THEN 'dormant'
              WHEN mm.n >= :heavy_min_orders THEN 'heavy'
              WHEN mm.n >= :regular_min_orders THEN 'regular'
              ELSE 'light' END AS segment,
         coalesce(mm.n, 0) AS n
  FROM months mo
  JOIN members m ON substr(m.joined_at, 1, 7) <= mo.month
  LEFT JOIN member_month mm ON mm.member_id = m.member_id AND mm.month = mo.month
),
segments(segment) AS (VALUES ('new'), ('light'), ('regular'), ('heavy'), ('dormant')),
counts AS (
  SELECT month, segment, COUNT(*) AS members, SUM(n) AS orders
  FROM classified
  GROUP BY month, segment
),
totals AS (SELECT month, COUNT(*) AS members FROM classified GROUP BY month)
SELECT mo.month                                             AS month,
       s.segment                                            AS segment,
       coalesce(c.members, 0)                               AS members,
       coalesce(c.orders, 0)                                AS orders,
       ROUND(100.0 * coalesce(c.members, 0) / t.members, 4) AS member_share
FROM months mo
CROSS JOIN segments s
JOIN totals t ON t.month = mo.month
LEFT JOIN counts c ON c.month = mo.month AND c.segment = s.segment
ORDER BY month NULLS FIRST, segment NULLS FIRST
