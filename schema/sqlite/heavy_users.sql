-- heavy_users: per calendar month, the distribution of members by their number of orders
-- in that month. frequency is the order count, capped at :heavy_min_orders: that top
-- bucket (labelled e.g. '8+') holds the heavy users, so its order_share / revenue_share
-- are the heavy users' share of the month's orders and revenue. Only members with at
-- least one order in the month are counted; shares are % of the month's totals.
-- Only months that lie wholly on or after the data's coverage start (meta
-- 'coverage_start', else the first order's day) are listed: in a month that begins
-- before it a member's order count misses the orders before coverage start, which
-- would move members into lower buckets.
WITH
order_revenue AS (
  SELECT order_id, SUM(qty * unit_price) AS revenue FROM order_lines GROUP BY order_id
),
member_month AS (
  SELECT substr(o.ordered_at, 1, 7) AS month, o.member_id,
         COUNT(*) AS orders, coalesce(SUM(r.revenue), 0) AS revenue
  FROM orders o
  LEFT JOIN order_revenue r ON r.order_id = o.order_id
  GROUP BY month, o.member_id
),
buckets AS (
  SELECT month, min(orders, :heavy_min_orders) AS frequency,
         COUNT(*) AS members, SUM(orders) AS orders, SUM(revenue) AS revenue
  FROM member_month, coverage
  WHERE month || '-01' >= coverage.c             -- per member and month: far fewer rows
  GROUP BY month, frequency
),
totals AS (
  SELECT month, SUM(members) AS members, SUM(orders) AS orders, SUM(revenue) AS revenue
  FROM buckets
  GROUP BY month
)
SELECT b.month                                              AS month,
       b.frequency                                          AS frequency,
       CASE WHEN b.frequency >= :heavy_min_orders THEN b.frequency || '+'
            ELSE CAST(b.frequency AS TEXT) END              AS bucket,
       b.members                                            AS members,
       b.orders                                             AS orders,
       b.revenue                                            AS revenue,
       ROUND(100.0 * b.members / t.members, 4)              AS member_share,
       ROUND(100.0 * b.orders / t.orders, 4)                AS order_share,
       ROUND(100.0 * b.revenue / t.revenue, 4)              AS revenue_share
FROM buckets b
JOIN totals t ON t.month = b.month
ORDER BY month NULLS FIRST, frequency NULLS FIRST, bucket NULLS FIRST
