-- repurchase_metrics: members grouped by the month of their first order (cohort). A
-- member "returned within N days" when their second order (orders sorted by ordered_at,
-- then order_id) falls on a calendar day at most N days after the first order's day;
-- a second order on the same day counts (0 days). Windows: :repurchase_short_days,
-- :repurchase_mid_days, :repurchase_long_days. Rates are % of the cohort's buyers.
-- Recent cohorts have not been observed for the full window yet (see schema/README.md).
WITH
firsts AS (
  -- The second order's time is the second-smallest ordered_at of the member (orders
  -- with equal timestamps share the day, so the order_id tie-break cannot change it);
  -- one seek in orders_member per member instead of a window over all orders.
  SELECT substr(min(o.ordered_at), 1, 7) AS cohort,
         julianday(substr(min(o.ordered_at), 1, 10)) AS first_day,
         (SELECT julianday(substr(o2.ordered_at, 1, 10)) FROM orders o2
          WHERE o2.member_id = o.member_id
          ORDER BY o2.ordered_at LIMIT 1 OFFSET 1) AS second_day
  FROM orders o
  GROUP BY o.member_id
),
gaps AS (
  SELECT cohort, second_day - first_day AS gap      -- NULL: never came back
  FROM firsts
)
SELECT cohort                                                         AS cohort_month,
       COUNT(*)                                                       AS buyers,
       COUNT(CASE WHEN gap <= :repurchase_short_days THEN 1 END)      AS returned_short,
       COUNT(CASE WHEN gap <= :repurchase_mid_days THEN 1 END)        AS returned_mid,
       COUNT(CASE WHEN gap <= :repurchase_long_days THEN 1 END)       AS returned_long,
       ROUND(100.0 * COUNT(CASE WHEN gap <= :repurchase_short_days THEN 1 END) / COUNT(*), 4)
                                                                      AS rate_short,
       ROUND(100.0 * COUNT(CASE WHEN gap <= :repurchase_mid_days THEN 1 END) / COUNT(*), 4)
                                                                      AS rate_mid,
       ROUND(100.0 * COUNT(CASE WHEN gap <= :repurchase_long_days THEN 1 END) / COUNT(*), 4)
                                                                      AS rate_long
FROM gaps
GROUP BY cohort
ORDER BY cohort_month
