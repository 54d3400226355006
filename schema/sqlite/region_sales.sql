-- region_sales: per calendar month and region of the store where the order was placed:
-- orders, distinct buyers, revenue (sum of qty * unit_price) and the mean order value.
WITH order_revenue AS (
  SELECT order_id, SUM(qty * unit_price) AS revenue FROM order_lines GROUP BY order_id
)
SELECT substr(o.ordered_at, 1, 7)                           AS month,
       s.region                                             AS region,
       COUNT(*)                                             AS orders,
       COUNT(DISTINCT o.member_id)                          AS buyers,
       coalesce(SUM(r.revenue), 0)                          AS revenue,
       ROUND(coalesce(SUM(r.revenue), 0) * 1.0 / COUNT(*), 4) AS avg_order_value
FROM orders o
JOIN stores s ON s.store_id = o.store_id
LEFT JOIN order_revenue r ON r.order_id = o.order_id
GROUP BY month, region
ORDER BY month NULLS FIRST, region NULLS FIRST
