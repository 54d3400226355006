-- repurchase_metrics: members grouped by the month of their first order (cohort). A
-- member "returned within N days" when their second order (orders sorted by ordered_at,
-- then order_id) falls on a calendar day at most N days after the first order's day;
-- a second order on the same day counts (0 days). Windows: :repurchase_short_days,
-- :repurchase_mid_days, :repurchase_long_days. matured_*: buyers whose N-day window after
-- their first order has fully elapsed by as_of (first day + N <= as_of). A rate is % of
-- the cohort's buyers, and NULL while any buyer's window is still open: a rate over an
-- incomplete window would understate the cohort. returned_* count the returns so far.
-- A member who joined before the data's coverage start (meta 'coverage_start', else the
-- first order's day) may have ordered before it, so their first order on record need not
-- be their first: they are not in the cohort (buyers, returned_*, matured_*, rates) but
-- counted in unknown_first_buyers under the month of their first order on record.
WITH
firsts AS (
  -- The second order's time is the second-smallest ordered_at of the member (orders
  -- with equal timestamps share the day, so the order_id tie-break cannot change it);
  -- one seek in orders_member per member instead of a window over all orders.
  SELECT substr(min(o.ordered_at), 1, 7) AS cohort,
         julianday(substr(min(o.ordered_at), 1, 10)) AS first_day,
         (SELECT julianday(substr(o2.ordered_at, 1, 10)) FROM orders o2
          WHERE o2.member_id = o.member_id
          ORDER BY o2.ordered_at NULLS FIRST LIMIT 1 OFFSET 1) AS second_day,
         (SELECT substr(m.joined_at, 1, 10) FROM members m
          WHERE m.member_id = o.member_id) >= (SELECT c FROM coverage) AS first_known
  FROM orders o
  GROUP BY o.member_id
),
gaps AS (
  -- gap and observed are NULL for members outside the cohort, so only cohort members
  -- count below
  SELECT cohort,
         first_known,
         CASE WHEN first_known THEN second_day - first_day END AS gap,  -- NULL: no return
         CASE WHEN first_known THEN
           julianday((SELECT value FROM meta WHERE key = 'as_of')) - first_day END
                                                                   AS observed
  FROM firsts
),
counts AS (
  SELECT cohort,
         COUNT(CASE WHEN first_known THEN 1 END)                   AS buyers,
         COUNT(CASE WHEN gap <= :repurchase_short_days THEN 1 END) AS returned_short,
         COUNT(CASE WHEN gap <= :repurchase_mid_days THEN 1 END)   AS returned_mid,
         COUNT(CASE WHEN gap <= :repurchase_long_days THEN 1 END)  AS returned_long,
         COUNT(CASE WHEN observed >= :repurchase_short_days THEN 1 END) AS matured_short,
         COUNT(CASE WHEN observed >= :repurchase_mid_days THEN 1 END)   AS matured_mid,
         COUNT(CASE WHEN observed >= :repurchase_long_days THEN 1 END)  AS matured_long,
         COUNT(CASE WHEN NOT first_known THEN 1 END)               AS unknown_first
  FROM gaps
  GROUP BY cohort
)
SELECT cohort                                                         AS cohort_month,
       buyers                                                         AS buyers,
       returned_short                                                 AS returned_short,
       returned_mid                                                   AS returned_mid,
       returned_long                                                  AS returned_long,
       matured_short                                                  AS matured_short,
       matured_mid                                                    AS matured_mid,
       matured_long                                                   AS matured_long,
       CASE WHEN matured_short = buyers THEN ROUND(100.0 * returned_short / buyers, 4) END
                                                                      AS rate_short,
       CASE WHEN matured_mid = buyers THEN ROUND(100.0 * returned_mid / buyers, 4) END
                                                                      AS rate_mid,
       CASE WHEN matured_long = buyers THEN ROUND(100.0 * returned_long / buyers, 4) END
                                                                      AS rate_long,
       unknown_first                                                  AS unknown_first_buyers
FROM counts
ORDER BY cohort_month NULLS FIRST
