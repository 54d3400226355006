-- age_group_analysis: see schema/sqlite/age_group_analysis.sql; the window measures are
-- NULL when the window begins before the data's coverage start.
WITH win AS (
  SELECT IFF(DATEADD(day, 1 - {{window_days}}, a.AS_OF) >= c.COVERAGE_START, 1, 0) AS COVERED
  FROM {{analysis_schema}}.AS_OF a
  CROSS JOIN {{analysis_schema}}.COVERAGE c
),
mem AS (
  SELECT m.MEMBER_ID, m.GENDER,
         CASE WHEN m.BIRTH_YEAR IS NULL THEN 'unknown'
              WHEN YEAR(a.AS_OF) - m.BIRTH_YEAR < 20 THEN '10s'
              WHEN YEAR(a.AS_OF) - m.BIRTH_YEAR < 30 THEN '20s'
              WHEN YEAR(a.AS_OF) - m.BIRTH_YEAR < 40 THEN '30s'
              WHEN YEAR(a.AS_OF) - m.BIRTH_YEAR < 50 THEN '40s'
              WHEN YEAR(a.AS_OF) - m.BIRTH_YEAR < 60 THEN '50s'
              ELSE '60+' END AS AGE_GROUP
  FROM {{source_schema}}.MEMBERS m
  CROSS JOIN {{analysis_schema}}.AS_OF a
),
order_revenue AS (
  SELECT ORDER_ID, SUM(QTY * UNIT_PRICE) AS REVENUE
  FROM {{source_schema}}.ORDER_LINES
  GROUP BY ORDER_ID
),
per_member AS (
  SELECT o.MEMBER_ID, COUNT(*) AS ORDERS, COALESCE(SUM(r.REVENUE), 0) AS REVENUE
  FROM {{source_schema}}.ORDERS o
  LEFT JOIN order_revenue r ON r.ORDER_ID = o.ORDER_ID
  CROSS JOIN {{analysis_schema}}.AS_OF a
  WHERE o.ORDERED_AT >= DATEADD(day, 1 - {{window_days}}, a.AS_OF)
    AND o.ORDERED_AT < DATEADD(day, 1, a.AS_OF)
  GROUP BY o.MEMBER_ID
)
SELECT mem.AGE_GROUP                                                   AS AGE_GROUP,
       mem.GENDER                                                      AS GENDER,
       COUNT(*)                                                        AS MEMBERS,
       IFF(MAX(w.COVERED) = 1, COUNT(pm.MEMBER_ID), NULL)              AS BUYERS,
       IFF(MAX(w.COVERED) = 1, COALESCE(SUM(pm.ORDERS), 0), NULL)      AS ORDERS,
       IFF(MAX(w.COVERED) = 1, COALESCE(SUM(pm.REVENUE), 0), NULL)     AS REVENUE,
       IFF(MAX(w.COVERED) = 1,
           ROUND(100.0 * COUNT(pm.MEMBER_ID) / NULLIF(COUNT(*), 0), 4), NULL)
                                                                       AS BUYER_RATE
FROM mem
CROSS JOIN win w
LEFT JOIN per_member pm ON pm.MEMBER_ID = mem.MEMBER_ID
GROUP BY mem.AGE_GROUP, mem.GENDER
