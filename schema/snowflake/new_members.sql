-- new_members: see schema/sqlite/new_members.sql; ORDERED_MEMBERS is NULL before the
-- data's coverage start.
WITH days AS (
  SELECT DATEADD(day, 1 - ROW_NUMBER() OVER (ORDER BY SEQ4() NULLS FIRST), a.AS_OF) AS DAY
  FROM TABLE(GENERATOR(ROWCOUNT => {{history_days}}))
  CROSS JOIN {{analysis_schema}}.AS_OF a
),
buyers AS (SELECT DISTINCT MEMBER_ID FROM {{source_schema}}.ORDERS),
joins AS (
  SELECT m.JOINED_AT::DATE AS DAY,
         COUNT(*) AS JOINED,
         COUNT(b.MEMBER_ID) AS ORDERED
  FROM {{source_schema}}.MEMBERS m
  LEFT JOIN buyers b ON b.MEMBER_ID = m.MEMBER_ID
  GROUP BY DAY
)
SELECT d.DAY                                                          AS DAY,
       COALESCE(j.JOINED, 0)                                          AS NEW_MEMBERS,
       IFF(d.DAY >= c.COVERAGE_START, COALESCE(j.ORDERED, 0), NULL)   AS ORDERED_MEMBERS
FROM days d
CROSS JOIN {{analysis_schema}}.COVERAGE c
LEFT JOIN joins j ON j.DAY = d.DAY
