WITH sequenced AS (
  SELECT MEMBER_ID,
         ORDERED_AT::DATE AS DAY,
         LEAD(ORDERED_AT::DATE) OVER (PARTITION BY MEMBER_ID ORDER BY ORDERED_AT, ORDER_ID) AS NEXT_ORDER_DAY,
         ROW_NUMBER() OVER (PARTITION BY MEMBER_ID ORDER BY ORDERED_AT, ORDER_ID) AS RN
  FROM {{source_schema}}.ORDERS
),
firsts AS (
  SELECT TO_CHAR(DAY, 'YYYY-MM') AS COHORT,
         DATEDIFF(day, DAY, NEXT_ORDER_DAY) AS GAP          -- NULL: never came back
  FROM sequenced
  WHERE RN = 1
)
SELECT COHORT                                                                  AS COHORT_MONTH,
       COUNT(*)                                                                AS BUYERS,
       COUNT_IF(GAP <= {{repurchase_short_days}})                              AS RETURNED_SHORT,
       COUNT_IF(GAP <= {{repurchase_mid_days}})                                AS RETURNED_MID,
       COUNT_IF(GAP <= {{repurchase_long_days}})                               AS RETURNED_LONG,
       ROUND(100.0 * COUNT_IF(GAP <= {{repurchase_short_days}}) / NULLIF(COUNT(*), 0), 4) AS RATE_SHORT,
       ROUND(100.0 * COUNT_IF(GAP <= {{repurchase_mid_days}}) / NULLIF(COUNT(*), 0), 4)   AS RATE_MID,
       ROUND(100.0 * COUNT_IF(GAP <= {{repurchase_long_days}}) / NULLIF(COUNT(*), 0), 4)  AS RATE_LONG
FROM firsts
GROUP BY COHORT
