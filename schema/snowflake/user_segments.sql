-- user_segments: see schema/sqlite/user_segments.sql; only months that begin on or
-- after the data's coverage start are listed.
WITH months AS (
  SELECT DISTINCT TO_CHAR(o.ORDERED_AT, 'YYYY-MM') AS MONTH
  FROM {{source_schema}}.ORDERS o
  CROSS JOIN {{analysis_schema}}.COVERAGE c
  WHERE DATE_TRUNC('month', o.ORDERED_AT)::DATE >= c.COVERAGE_START
),
member_month AS (
  SELECT MEMBER_ID, TO_CHAR(ORDERED_AT, 'YYYY-MM') AS MONTH, COUNT(*) AS N
  FROM {{source_schema}}.ORDERS
  GROUP BY MEMBER_ID, MONTH
),
classified AS (
  SELECT mo.MONTH,
         CASE WHEN TO_CHAR(m.JOINED_AT, 'YYYY-MM') = mo.MONTH THEN 'new'
              WHEN mm.N IS NULL THEN 'dormant'
              WHEN mm.N >= {{heavy_min_orders}} THEN 'heavy'
              WHEN mm.N >= {{regular_min_orders}} THEN 'regular'
              ELSE 'light' END AS SEGMENT,
         COALESCE(mm.N, 0) AS N
  FROM months mo
  JOIN {{source_schema}}.MEMBERS m ON TO_CHAR(m.JOINED_AT, 'YYYY-MM') <= mo.MONTH
  LEFT JOIN member_month mm ON mm.MEMBER_ID = m.MEMBER_ID AND mm.MONTH = mo.MONTH
),
segments AS (
  SELECT COLUMN1 AS SEGMENT FROM VALUES ('new'), ('light'), ('regular'), ('heavy'), ('dormant')
),
counts AS (
  SELECT MONTH, SEGMENT, COUNT(*) AS MEMBERS, SUM(N) AS ORDERS
  FROM classified
  GROUP BY MONTH, SEGMENT
),
totals AS (SELECT MONTH, COUNT(*) AS MEMBERS FROM classified GROUP BY MONTH)
SELECT mo.MONTH                                                          AS MONTH,
       s.SEGMENT                                                         AS SEGMENT,
       COALESCE(c.MEMBERS, 0)                                            AS MEMBERS,
       COALESCE(c.ORDERS, 0)                                             AS ORDERS,
       ROUND(100.0 * COALESCE(c.MEMBERS, 0) / NULLIF(t.MEMBERS, 0), 4)   AS MEMBER_SHARE
FROM months mo
CROSS JOIN segments s
JOIN totals t ON t.MONTH = mo.MONTH
LEFT JOIN counts c ON c.MONTH = mo.MONTH AND c.SEGMENT = s.SEGMENT
