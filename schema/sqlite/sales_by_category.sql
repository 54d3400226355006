-- sales_by_category: per calendar month and product category: quantity sold, orders
-- containing the category, revenue (sum of qty * unit_price).
SELECT substr(o.ordered_at, 1, 7)     AS month,
       p.category                     AS category,
       SUM(l.qty)                     AS quantity,
       COUNT(DISTINCT o.order_id)     AS orders,
       SUM(l.qty * l.unit_price)      AS revenue
FROM orders o
JOIN order_lines l ON l.order_id = o.order_id
JOIN products p ON p.product_id = l.product_id
GROUP BY month, category
ORDER BY month NULLS FIRST, category NULLS FIRST
