-- user_counts: one row per day of the :history_days days ending at as_of.
--   total_members   members who joined on or before the day
--   new_members     members who joined on the day
--   active_members  members with an order in the :active_days days ending on the day
--   dormant_members members joined by the day with no order in the :dormant_days days
--                   ending on the day: lapsed_members + never_ordered_members
--   lapsed_members  dormant members with an order on record before that window
--   never_ordered_members  dormant members with no order on record by the day
-- Orders before the data's coverage start (meta 'coverage_start', else the first order's
-- day) are not in the data, so a count whose look-back window reaches before it would be
-- a guess: active_members is NULL until coverage start + :active_days - 1, the dormant
-- counts until coverage start + :dormant_days - 1.
-- Rescanning a window per day would read 30-90 days of orders 365 times. Instead each
-- member's orders become non-overlapping intervals [order day, min(order day + N days,
-- next order day)) during which the member counts as active (N = :active_days) or not
-- dormant (N = :dormant_days); the running sum of the +1/-1 interval edges is the number
-- of members covered on a day. Two orders on one day give an empty interval (+1 and -1
-- on the same day). Days are integer day numbers (julianday truncated) so the edge
-- arithmetic is integer addition rather than date() calls; date(n + 0.5) turns one
-- back into 'YYYY-MM-DD'.
WITH RECURSIVE
asof(d) AS (SELECT CAST(julianday(value) AS INTEGER) FROM meta WHERE key = 'as_of'),
cov(c) AS (SELECT CAST(julianday(c) AS INTEGER) FROM coverage),
days(dn) AS (
  SELECT d - :history_days + 1 FROM asof
  UNION ALL
  SELECT dn + 1 FROM days WHERE dn < (SELECT d FROM asof)
),
order_days AS (
  SELECT DISTINCT member_id, CAST(julianday(substr(ordered_at, 1, 10)) AS INTEGER) AS dn
  FROM orders
),
runs AS MATERIALIZED (
  SELECT dn,
         coalesce(LEAD(dn) OVER (PARTITION BY member_id
                                 ORDER BY dn NULLS FIRST), 1000000000) AS next_dn
  FROM order_days
),
-- Edges are counted per day first, so the running sums below see a few rows per day
-- rather than one row per interval edge.
-- ever: +1 on a member's first order day (members with an order on record so far)
edges(dn, joined, active, live, ever) AS (
  SELECT CAST(julianday(substr(joined_at, 1, 10)) AS INTEGER), COUNT(*), 0, 0, 0
    FROM members GROUP BY 1
  UNION ALL SELECT dn, 0, COUNT(*), COUNT(*), 0 FROM runs GROUP BY 1
  UNION ALL SELECT min(dn + :active_days, next_dn), 0, -COUNT(*), 0, 0 FROM runs GROUP BY 1
  UNION ALL SELECT min(dn + :dormant_days, next_dn), 0, 0, -COUNT(*), 0 FROM runs GROUP BY 1
  UNION ALL SELECT first_dn, 0, 0, 0, COUNT(*)
    FROM (SELECT min(dn) AS first_dn FROM order_days GROUP BY member_id) GROUP BY 1
  UNION ALL SELECT dn, 0, 0, 0, 0 FROM days       -- every calendar day gets a row
),
running AS (
  SELECT dn,
         SUM(joined)                         AS joined_today,
         SUM(SUM(joined)) OVER (ORDER BY dn NULLS FIRST) AS total,
         SUM(SUM(active)) OVER (ORDER BY dn NULLS FIRST) AS active,
         SUM(SUM(live))   OVER (ORDER BY dn NULLS FIRST) AS live,
         SUM(SUM(ever))   OVER (ORDER BY dn NULLS FIRST) AS ever
  FROM edges
  GROUP BY dn
)
SELECT date(r.dn + 0.5)                                                AS day,
       r.total                                                         AS total_members,
       r.joined_today                                                  AS new_members,
       CASE WHEN r.dn >= cov.c + :active_days - 1 THEN r.active END    AS active_members,
       CASE WHEN r.dn >= cov.c + :dormant_days - 1 THEN r.total - r.live END
                                                                       AS dormant_members,
       CASE WHEN r.dn >= cov.c + :dormant_days - 1 THEN r.ever - r.live END
                                                                       AS lapsed_members,
       CASE WHEN r.dn >= cov.c + :dormant_days - 1 THEN r.total - r.ever END
                                                                       AS never_ordered_members
FROM running r
JOIN days ON days.dn = r.dn
CROSS JOIN cov
ORDER BY day NULLS FIRST
