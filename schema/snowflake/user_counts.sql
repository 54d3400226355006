-- user_counts: see schema/sqlite/user_counts.sql (same interval-edge method, same
-- NULLs before coverage start + look-back). Order days are ORDERED_AT::DATE.
WITH days AS (
  SELECT DATEADD(day, 1 - ROW_NUMBER() OVER (ORDER BY SEQ4() NULLS FIRST), a.AS_OF) AS DAY
  FROM TABLE(GENERATOR(ROWCOUNT => {{history_days}}))
  CROSS JOIN {{analysis_schema}}.AS_OF a
),
order_days AS (
  SELECT DISTINCT MEMBER_ID, ORDERED_AT::DATE AS DAY FROM {{source_schema}}.ORDERS
),
runs AS (
  SELECT DAY,
         COALESCE(LEAD(DAY) OVER (PARTITION BY MEMBER_ID
                                  ORDER BY DAY NULLS FIRST), '9999-12-31'::DATE)
           AS NEXT_ORDER_DAY
  FROM order_days
),
edges AS (
  SELECT JOINED_AT::DATE AS DAY, 1 AS JOINED, 0 AS ACTIVE, 0 AS LIVE, 0 AS EVER
  FROM {{source_schema}}.MEMBERS
  UNION ALL SELECT DAY, 0, 1, 1, 0 FROM runs
  UNION ALL SELECT LEAST(DATEADD(day, {{active_days}}, DAY), NEXT_ORDER_DAY), 0, -1, 0, 0 FROM runs
  UNION ALL SELECT LEAST(DATEADD(day, {{dormant_days}}, DAY), NEXT_ORDER_DAY), 0, 0, -1, 0 FROM runs
  UNION ALL SELECT MIN(DAY), 0, 0, 0, 1 FROM order_days GROUP BY MEMBER_ID
  UNION ALL SELECT DAY, 0, 0, 0, 0 FROM days
),
running AS (
  SELECT DAY,
         SUM(JOINED) AS JOINED_TODAY,
         SUM(SUM(JOINED)) OVER (ORDER BY DAY NULLS FIRST
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS TOTAL,
         SUM(SUM(ACTIVE)) OVER (ORDER BY DAY NULLS FIRST
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ACTIVE,
         SUM(SUM(LIVE))   OVER (ORDER BY DAY NULLS FIRST
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS LIVE,
         SUM(SUM(EVER))   OVER (ORDER BY DAY NULLS FIRST
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS EVER
  FROM edges
  GROUP BY DAY
)
SELECT r.DAY                                                                   AS DAY,
       r.TOTAL                                                                 AS TOTAL_MEMBERS,
       r.JOINED_TODAY                                                          AS NEW_MEMBERS,
       IFF(r.DAY >= DATEADD(day, {{active_days}} - 1, c.COVERAGE_START), r.ACTIVE, NULL)
                                                                               AS ACTIVE_MEMBERS,
       IFF(r.DAY >= DATEADD(day, {{dormant_days}} - 1, c.COVERAGE_START), r.TOTAL - r.LIVE, NULL)
                                                                               AS DORMANT_MEMBERS,
       IFF(r.DAY >= DATEADD(day, {{dormant_days}} - 1, c.COVERAGE_START), r.EVER - r.LIVE, NULL)
                                                                               AS LAPSED_MEMBERS,
       IFF(r.DAY >= DATEADD(day, {{dormant_days}} - 1, c.COVERAGE_START), r.TOTAL - r.EVER, NULL)
                                                                               AS NEVER_ORDERED_MEMBERS
FROM running r
JOIN days d ON d.DAY = r.DAY
CROSS JOIN {{analysis_schema}}.COVERAGE c
