-- hourly_sales: orders and revenue per ISO weekday (1 = Monday .. 7 = Sunday) and hour of
-- the order's local time, over all orders. The full 7 x 24 grid is returned (0 where no
-- orders) so heat maps need no gap filling.
WITH RECURSIVE
weekdays(w) AS (SELECT 1 UNION ALL SELECT w + 1 FROM weekdays WHERE w < 7),
hours(h) AS (SELECT 0 UNION ALL SELECT h + 1 FROM hours WHERE h < 23),
order_revenue AS (
  SELECT order_id, SUM(qty * unit_price) AS revenue FROM order_lines GROUP BY order_id
),
cells AS (
  -- strftime('%w') is 0 = Sunday; shift to ISO numbering
  SELECT (CAST(strftime('%w', o.ordered_at) AS INTEGER) + 6) % 7 + 1 AS w,
         CAST(substr(o.ordered_at, 12, 2) AS INTEGER)               AS h,
         COUNT(*)                                                   AS orders,
         coalesce(SUM(r.revenue), 0)                                AS revenue
  FROM orders o
  LEFT JOIN order_revenue r ON r.order_id = o.order_id
  GROUP BY w, h
)
SELECT weekdays.w                                            AS weekday,
       CASE weekdays.w WHEN 1 THEN 'Mon' WHEN 2 THEN 'Tue' WHEN 3 THEN 'Wed'
            WHEN 4 THEN 'Thu' WHEN 5 THEN 'Fri' WHEN 6 THEN 'Sat'
            ELSE 'Sun' END                                   AS weekday_name,
       hours.h                                               AS hour,
       coalesce(c.orders, 0)                                 AS orders,
       coalesce(c.revenue, 0)                                AS revenue
FROM weekdays
CROSS JOIN hours
LEFT JOIN cells c ON c.w = weekdays.w AND c.h = hours.h
ORDER BY weekday NULLS FIRST, weekday_name NULLS FIRST, hour NULLS FIRST
