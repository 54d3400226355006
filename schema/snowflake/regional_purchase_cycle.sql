-- regional_purchase_cycle: see schema/sqlite/regional_purchase_cycle.sql; the cycle
-- uses only orders on or after the data's coverage start.
WITH covered AS (
  -- orders on or after coverage start: a gap from an earlier one may span missing orders
  SELECT o.MEMBER_ID, o.ORDER_ID, o.ORDERED_AT
  FROM {{source_schema}}.ORDERS o
  CROSS JOIN {{analysis_schema}}.COVERAGE c
  WHERE o.ORDERED_AT::DATE >= c.COVERAGE_START
),
sequenced AS (
  SELECT MEMBER_ID,
         DATEDIFF(day, ORDERED_AT::DATE,
                  LEAD(ORDERED_AT::DATE) OVER (PARTITION BY MEMBER_ID
                                              ORDER BY ORDERED_AT NULLS FIRST, ORDER_ID NULLS FIRST))
           AS DAYS                                      -- NULL after a member's last order
  FROM covered
),
gaps AS (
  SELECT m.REGION, s.DAYS
  FROM sequenced s
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = s.MEMBER_ID
  WHERE s.DAYS IS NOT NULL
),
cycle AS (
  -- MEDIAN averages the two middle values of an even count, as the SQLite query does
  SELECT REGION, COUNT(*) AS INTERVALS, MEDIAN(DAYS) AS MEDIAN_DAYS, AVG(DAYS) AS MEAN_DAYS
  FROM gaps
  GROUP BY REGION
),
member_cycle AS (
  -- a member's mean gap telescopes to (last day - first day) / (orders - 1)
  SELECT m.REGION,
         DATEDIFF(day, MIN(o.ORDERED_AT::DATE), MAX(o.ORDERED_AT::DATE))::FLOAT / (COUNT(*) - 1)
           AS MEAN_GAP
  FROM covered o
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = o.MEMBER_ID
  GROUP BY o.MEMBER_ID, m.REGION
  HAVING COUNT(*) >= 2
),
member_medians AS (
  -- the typical member's cycle: heavy users count once, not once per gap
  SELECT REGION, MEDIAN(MEAN_GAP) AS MEMBER_MEDIAN_DAYS
  FROM member_cycle
  GROUP BY REGION
),
buyers AS (
  SELECT m.REGION, COUNT(*) AS BUYERS, COUNT_IF(c.COVERED_ORDERS >= 2) AS REPEAT_BUYERS
  FROM (SELECT o.MEMBER_ID, COUNT_IF(o.ORDERED_AT::DATE >= cv.COVERAGE_START) AS COVERED_ORDERS
        FROM {{source_schema}}.ORDERS o
        CROSS JOIN {{analysis_schema}}.COVERAGE cv
        GROUP BY o.MEMBER_ID) c
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = c.MEMBER_ID
  GROUP BY m.REGION
),
top_products AS (
  SELECT q.REGION, p.NAME,
         ROW_NUMBER() OVER (PARTITION BY q.REGION
                            ORDER BY q.QTY DESC NULLS LAST, q.PRODUCT_ID NULLS FIRST) AS RK,
         ROW_NUMBER() OVER (PARTITION BY q.REGION
                            ORDER BY q.REVENUE DESC NULLS LAST, q.PRODUCT_ID NULLS FIRST)
           AS RK_REVENUE
  FROM (SELECT m.REGION, l.PRODUCT_ID, SUM(l.QTY) AS QTY, SUM(l.QTY * l.UNIT_PRICE) AS REVENUE
        FROM {{source_schema}}.ORDERS o
        JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
        JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = o.MEMBER_ID
        GROUP BY m.REGION, l.PRODUCT_ID) q
  JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = q.PRODUCT_ID
  QUALIFY RK <= 3 OR RK_REVENUE <= 3
),
tops AS (
  SELECT REGION,
         MAX(IFF(RK = 1, NAME, NULL)) AS TOP1_PRODUCT,
         MAX(IFF(RK = 2, NAME, NULL)) AS TOP2_PRODUCT,
         MAX(IFF(RK = 3, NAME, NULL)) AS TOP3_PRODUCT,
         MAX(IFF(RK_REVENUE = 1, NAME, NULL)) AS TOP1_REVENUE_PRODUCT,
         MAX(IFF(RK_REVENUE = 2, NAME, NULL)) AS TOP2_REVENUE_PRODUCT,
         MAX(IFF(RK_REVENUE = 3, NAME, NULL)) AS TOP3_REVENUE_PRODUCT
  FROM top_products
  GROUP BY REGION
)
SELECT b.REGION                          AS REGION,
       b.BUYERS                          AS BUYERS,
       b.REPEAT_BUYERS                   AS REPEAT_BUYERS,
       COALESCE(c.INTERVALS, 0)          AS INTERVALS,
       ROUND(c.MEDIAN_DAYS, 4)           AS MEDIAN_DAYS,
       ROUND(c.MEAN_DAYS, 4)             AS MEAN_DAYS,
       ROUND(mm.MEMBER_MEDIAN_DAYS, 4)   AS MEMBER_MEDIAN_DAYS,
       t.TOP1_PRODUCT                    AS TOP1_PRODUCT,
       t.TOP2_PRODUCT                    AS TOP2_PRODUCT,
       t.TOP3_PRODUCT                    AS TOP3_PRODUCT,
       t.TOP1_REVENUE_PRODUCT            AS TOP1_REVENUE_PRODUCT,
       t.TOP2_REVENUE_PRODUCT            AS TOP2_REVENUE_PRODUCT,
       t.TOP3_REVENUE_PRODUCT            AS TOP3_REVENUE_PRODUCT
FROM buyers b
LEFT JOIN cycle c ON c.REGION = b.REGION
LEFT JOIN member_medians mm ON mm.REGION = b.REGION
LEFT JOIN tops t ON t.REGION = b.REGION
