-- new_members: one row per day of the :history_days days ending at as_of (days without
-- joins included, as 0): members who joined that day, and how many of them have placed
-- at least one order by as_of. ordered_members is NULL on days before the data's
-- coverage start (meta 'coverage_start', else the first order's day): whether those
-- members ordered before the data begins is unknown.
WITH RECURSIVE
asof(d) AS (SELECT value FROM meta WHERE key = 'as_of'),
days(day) AS (
  SELECT date(d, (1 - :history_days) || ' days') FROM asof
  UNION ALL
  SELECT date(day, '+1 day') FROM days WHERE day < (SELECT d FROM asof)
),
joins AS (
  SELECT substr(m.joined_at, 1, 10) AS day,
         COUNT(*) AS joined,
         SUM(EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.member_id)) AS ordered
  FROM members m
  GROUP BY day
)
SELECT days.day                                                  AS day,
       coalesce(j.joined, 0)                                     AS new_members,
       CASE WHEN days.day >= coverage.c THEN coalesce(j.ordered, 0) END AS ordered_members
FROM days
CROSS JOIN coverage
LEFT JOIN joins j ON j.day = days.day
ORDER BY day NULLS FIRST
