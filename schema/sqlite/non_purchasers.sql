-- non_purchasers: among active members (an order in the :active_days days ending at
-- as_of), per member region and age group: how many have never (up to as_of) bought a
-- product flagged is_new, and how many never bought one flagged is_signature, with their
-- % of the group's members whose answer is known. Age groups as in age_group_analysis.
-- Orders before the data's coverage start (meta 'coverage_start', else the first
-- order's day) are not in the data, so "never bought" is only known for a member who
-- bought one in the data, joined on or after coverage start (no order precedes joining),
-- or when every product of the kind launched on or after coverage start (none is sold
-- before its launched_at). known_new / known_signature count those members; the others
-- are in neither never_* count nor the shares' denominators. Every measure is NULL when
-- the active window begins before coverage start (who is active would be a guess).
WITH
asof(d) AS (SELECT value FROM meta WHERE key = 'as_of'),
actwin(covered) AS (
  SELECT date(asof.d, (1 - :active_days) || ' days') >= coverage.c FROM asof, coverage
),
-- 1 when every product of the kind launched on or after coverage start (or there is none)
launch(new_covered, signature_covered) AS (
  SELECT coalesce(min(CASE WHEN is_new = 1 THEN launched_at END), '9999-12-31') >= coverage.c,
         coalesce(min(CASE WHEN is_signature = 1 THEN launched_at END), '9999-12-31')
           >= coverage.c
  FROM products, coverage
),
active AS (
  SELECT DISTINCT o.member_id
  FROM orders o, asof
  WHERE o.ordered_at >= date(asof.d, (1 - :active_days) || ' days')
    AND o.ordered_at < date(asof.d, '+1 day')
),
-- EXISTS stops at a member's first matching line, cheaper than collecting every
-- product each active member ever bought; MATERIALIZED so that each runs once per
-- member although flags reads the result four times.
bought AS MATERIALIZED (
  SELECT a.member_id,
         EXISTS (SELECT 1 FROM orders o
                 JOIN order_lines l ON l.order_id = o.order_id
                 JOIN products p ON p.product_id = l.product_id
                 WHERE o.member_id = a.member_id AND p.is_new = 1) AS any_new,
         EXISTS (SELECT 1 FROM orders o
                 JOIN order_lines l ON l.order_id = o.order_id
                 JOIN products p ON p.product_id = l.product_id
                 WHERE o.member_id = a.member_id AND p.is_signature = 1) AS any_signature
  FROM active a
),
flags AS (
  SELECT b.member_id,
         b.any_new OR j.covered OR launch.new_covered                 AS known_new,
         b.any_signature OR j.covered OR launch.signature_covered     AS known_signature,
         NOT b.any_new AND (j.covered OR launch.new_covered)           AS never_new,
         NOT b.any_signature AND (j.covered OR launch.signature_covered) AS never_signature
  FROM bought b
  JOIN (SELECT m.member_id, substr(m.joined_at, 1, 10) >= coverage.c AS covered
        FROM members m, coverage) j ON j.member_id = b.member_id
  CROSS JOIN launch
),
flagged AS (
  SELECT m.region,
         CASE WHEN m.birth_year IS NULL THEN 'unknown'
              WHEN age < 20 THEN '10s'
              WHEN age < 30 THEN '20s'
              WHEN age < 40 THEN '30s'
              WHEN age < 50 THEN '40s'
              WHEN age < 60 THEN '50s'
              ELSE '60+' END AS age_group,
         f.known_new,
         f.known_signature,
         f.never_new,
         f.never_signature
  FROM flags f
  JOIN (SELECT member_id, region, birth_year,
               CAST(substr((SELECT d FROM asof), 1, 4) AS INTEGER) - birth_year AS age
        FROM members) m ON m.member_id = f.member_id
)
SELECT region                                                          AS region,
       age_group                                                       AS age_group,
       CASE WHEN w.covered THEN COUNT(*) END                           AS active_members,
       CASE WHEN w.covered THEN SUM(never_new) END                     AS never_new,
       CASE WHEN w.covered THEN SUM(never_signature) END               AS never_signature,
       CASE WHEN w.covered THEN ROUND(100.0 * SUM(never_new) / SUM(known_new), 4) END
                                                                       AS never_new_share,
       CASE WHEN w.covered THEN
         ROUND(100.0 * SUM(never_signature) / SUM(known_signature), 4) END
                                                                       AS never_signature_share,
       CASE WHEN w.covered THEN SUM(known_new) END                     AS known_new,
       CASE WHEN w.covered THEN SUM(known_signature) END               AS known_signature
FROM flagged
CROSS JOIN actwin w
GROUP BY region, age_group
ORDER BY region NULLS FIRST, age_group NULLS FIRST
