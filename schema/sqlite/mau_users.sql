-- mau_users: per calendar month of the order's local time, the distinct members who
-- placed at least one order (MAU) and the number of orders.
SELECT substr(o.ordered_at, 1, 7)   AS month,
       COUNT(DISTINCT o.member_id)  AS mau,
       COUNT(*)                     AS orders
FROM orders o
GROUP BY month
ORDER BY month NULLS FIRST
