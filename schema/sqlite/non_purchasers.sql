-- non_purchasers: among active members (an order in the :active_days days ending at
-- as_of), per member region and age group: how many have never (up to as_of) bought a
-- product flagged is_new, and how many never bought one flagged is_signature, with their
-- % of the group's active members. Age groups as in age_group_analysis.
WITH
asof(d) AS (SELECT value FROM meta WHERE key = 'as_of'),
active AS (
  SELECT DISTINCT o.member_id
  FROM orders o, asof
  WHERE o.ordered_at >= date(asof.d, (1 - :active_days) || ' days')
    AND o.ordered_at < date(asof.d, '+1 day')
),
-- NOT EXISTS stops at a member's first matching line, cheaper than collecting every
-- product each active member ever bought.
flags AS (
  SELECT a.member_id,
         NOT EXISTS (SELECT 1 FROM orders o
                     JOIN order_lines l ON l.order_id = o.order_id
                     JOIN products p ON p.product_id = l.product_id
                     WHERE o.member_id = a.member_id AND p.is_new = 1) AS never_new,
         NOT EXISTS (SELECT 1 FROM orders o
                     JOIN order_lines l ON l.order_id = o.order_id
                     JOIN products p ON p.product_id = l.product_id
                     WHERE o.member_id = a.member_id AND p.is_signature = 1) AS never_signature
  FROM active a
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
         f.never_new,
         f.never_signature
  FROM flags f
  JOIN (SELECT member_id, region, birth_year,
               CAST(substr((SELECT d FROM asof), 1, 4) AS INTEGER) - birth_year AS age
        FROM members) m ON m.member_id = f.member_id
)
SELECT region                                               AS region,
       age_group                                            AS age_group,
       COUNT(*)                                             AS active_members,
       SUM(never_new)                                       AS never_new,
       SUM(never_signature)                                 AS never_signature,
       ROUND(100.0 * SUM(never_new) / COUNT(*), 4)          AS never_new_share,
       ROUND(100.0 * SUM(never_signature) / COUNT(*), 4)    AS never_signature_share
FROM flagged
GROUP BY region, age_group
ORDER BY region NULLS FIRST, age_group NULLS FIRST
