-- repurchase_metrics: see schema/sqlite/repurchase_metrics.sql. A rate is NULL until
-- every buyer of the cohort has had the whole window observed by as_of.
WITH asof AS (
  -- as_of: the source's META row, as SQLite's meta.as_of (not CURRENT_DATE())
  SELECT TO_DATE(VALUE) AS AS_OF FROM {{source_schema}}.META WHERE KEY = 'as_of'
),
sequenced AS (
  SELECT MEMBER_ID,
         ORDERED_AT::DATE AS DAY,
         LEAD(ORDERED_AT::DATE) OVER (PARTITION BY MEMBER_ID
                                      ORDER BY ORDERED_AT NULLS FIRST, ORDER_ID NULLS FIRST)
           AS NEXT_ORDER_DAY,
         ROW_NUMBER() OVER (PARTITION BY MEMBER_ID
                            ORDER BY ORDERED_AT NULLS FIRST, ORDER_ID NULLS FIRST) AS RN
  FROM {{source_schema}}.ORDERS
),
firsts AS (
  SELECT TO_CHAR(s.DAY, 'YYYY-MM') AS COHORT,
         DATEDIFF(day, s.DAY, s.NEXT_ORDER_DAY) AS GAP,     -- NULL: never came back
         DATEDIFF(day, s.DAY, a.AS_OF) AS OBSERVED
  FROM sequenced s
  CROSS JOIN asof a
  WHERE s.RN = 1
),
counts AS (
  SELECT COHORT,
         COUNT(*)                                            AS BUYERS,
         COUNT_IF(GAP <= {{repurchase_short_days}})          AS RETURNED_SHORT,
         COUNT_IF(GAP <= {{repurchase_mid_days}})            AS RETURNED_MID,
         COUNT_IF(GAP <= {{repurchase_long_days}})           AS RETURNED_LONG,
         COUNT_IF(OBSERVED >= {{repurchase_short_days}})     AS MATURED_SHORT,
         COUNT_IF(OBSERVED >= {{repurchase_mid_days}})       AS MATURED_MID,
         COUNT_IF(OBSERVED >= {{repurchase_long_days}})      AS MATURED_LONG
  FROM firsts
  GROUP BY COHORT
)
SELECT COHORT                                                                 AS COHORT_MONTH,
       BUYERS                                                                 AS BUYERS,
       RETURNED_SHORT                                                         AS RETURNED_SHORT,
       RETURNED_MID                                                           AS RETURNED_MID,
       RETURNED_LONG                                                          AS RETURNED_LONG,
       MATURED_SHORT                                                          AS MATURED_SHORT,
       MATURED_MID                                                            AS MATURED_MID,
       MATURED_LONG                                                           AS MATURED_LONG,
       IFF(MATURED_SHORT = BUYERS, ROUND(100.0 * RETURNED_SHORT / NULLIF(BUYERS, 0), 4), NULL)
                                                                              AS RATE_SHORT,
       IFF(MATURED_MID = BUYERS, ROUND(100.0 * RETURNED_MID / NULLIF(BUYERS, 0), 4), NULL)
                                                                              AS RATE_MID,
       IFF(MATURED_LONG = BUYERS, ROUND(100.0 * RETURNED_LONG / NULLIF(BUYERS, 0), 4), NULL)
                                                                              AS RATE_LONG
FROM counts
