-- age_group_analysis: per age group and gender, over all members: members, and over the
-- :window_days days ending at as_of: buyers (members with an order), orders and revenue.
-- Age = year(as_of) - birth_year; groups 10s (under 20, under-10s included), 20s, 30s,
-- 40s, 50s, 60+; 'unknown' when birth_year is NULL. buyer_rate = buyers / members in %.
-- The window measures are NULL when the window begins before the data's coverage start
-- (meta 'coverage_start', else the first order's day): orders before it are missing.
WITH
asof(d) AS (SELECT value FROM meta WHERE key = 'as_of'),
win(lo, hi, covered) AS (
  SELECT date(d, (1 - :window_days) || ' days'), date(d, '+1 day'),
         date(d, (1 - :window_days) || ' days') >= coverage.c
  FROM asof, coverage
),
mem AS (
  SELECT m.member_id, m.gender,
         CASE WHEN m.birth_year IS NULL THEN 'unknown'
              WHEN age < 20 THEN '10s'
              WHEN age < 30 THEN '20s'
              WHEN age < 40 THEN '30s'
              WHEN age < 50 THEN '40s'
              WHEN age < 60 THEN '50s'
              ELSE '60+' END AS age_group
  FROM (SELECT member_id, gender, birth_year,
               CAST(substr((SELECT d FROM asof), 1, 4) AS INTEGER) - birth_year AS age
        FROM members) m
),
per_member AS (
  -- ordered_at compared as text against bare dates keeps the orders_time index usable
  SELECT o.member_id, COUNT(*) AS orders,
         SUM((SELECT SUM(l.qty * l.unit_price) FROM order_lines l
              WHERE l.order_id = o.order_id)) AS revenue
  FROM orders o, win
  WHERE o.ordered_at >= win.lo AND o.ordered_at < win.hi
  GROUP BY o.member_id
)
SELECT mem.age_group                                        AS age_group,
       mem.gender                                           AS gender,
       COUNT(*)                                             AS members,
       CASE WHEN win.covered THEN COUNT(pm.member_id) END   AS buyers,
       CASE WHEN win.covered THEN coalesce(SUM(pm.orders), 0) END AS orders,
       CASE WHEN win.covered THEN coalesce(SUM(pm.revenue), 0) END AS revenue,
       CASE WHEN win.covered THEN ROUND(100.0 * COUNT(pm.member_id) / COUNT(*), 4) END
                                                            AS buyer_rate
FROM mem
CROSS JOIN win
LEFT JOIN per_member pm ON pm.member_id = mem.member_id
GROUP BY age_group, gender
ORDER BY age_group NULLS FIRST, gender NULLS FIRST
