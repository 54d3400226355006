WITH sequenced AS (
  SELECT MEMBER_ID,
         DATEDIFF(day, ORDERED_AT::DATE,
                  LEAD(ORDERED_AT::DATE) OVER (PARTITION BY MEMBER_ID ORDER BY ORDERED_AT, ORDER_ID))
           AS DAYS                                      -- NULL after a member's last order
  FROM {{source_schema}}.ORDERS
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
buyers AS (
  SELECT m.REGION, COUNT(*) AS BUYERS, COUNT_IF(c.ORDERS >= 2) AS REPEAT_BUYERS
  FROM (SELECT MEMBER_ID, COUNT(*) AS ORDERS FROM {{source_schema}}.ORDERS GROUP BY MEMBER_ID) c
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = c.MEMBER_ID
  GROUP BY m.REGION
),
top_products AS (
  SELECT q.REGION, p.NAME,
         ROW_NUMBER() OVER (PARTITION BY q.REGION ORDER BY q.QTY DESC, q.PRODUCT_ID) AS RK
  FROM (SELECT m.REGION, l.PRODUCT_ID, SUM(l.QTY) AS QTY
        FROM {{source_schema}}.ORDERS o
        JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
        JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = o.MEMBER_ID
        GROUP BY m.REGION, l.PRODUCT_ID) q
  JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = q.PRODUCT_ID
  QUALIFY RK <= 3
),
tops AS (
  SELECT REGION,
         MAX(IFF(RK = 1, NAME, NULL)) AS TOP1_PRODUCT,
         MAX(IFF(RK = 2, NAME, NULL)) AS TOP2_PRODUCT,
         MAX(IFF(RK = 3, NAME, NULL)) AS TOP3_PRODUCT
  FROM top_products
  GROUP BY REGION
)
SELECT b.REGION                          AS REGION,
       b.BUYERS                          AS BUYERS,
       b.REPEAT_BUYERS                   AS REPEAT_BUYERS,
       COALESCE(c.INTERVALS, 0)          AS INTERVALS,
       ROUND(c.MEDIAN_DAYS, 4)           AS MEDIAN_DAYS,
       ROUND(c.MEAN_DAYS, 4)             AS MEAN_DAYS,
       t.TOP1_PRODUCT                    AS TOP1_PRODUCT,
       t.TOP2_PRODUCT                    AS TOP2_PRODUCT,
       t.TOP3_PRODUCT                    AS TOP3_PRODUCT
FROM buyers b
LEFT JOIN cycle c ON c.REGION = b.REGION
LEFT JOIN tops t ON t.REGION = b.REGION
