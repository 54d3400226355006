-- repurchase_metrics: see schema/sqlite/repurchase_metrics.sql. A rate is NULL until
-- every buyer of the cohort has had the whole window observed by as_of. Members who
-- joined before the data's coverage start are not in the cohort (their first order on
-- record need not be their first) but counted in UNKNOWN_FIRST_BUYERS.
WITH sequenced AS (
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
  -- GAP and OBSERVED are NULL outside the cohort, so only cohort members count below
  SELECT TO_CHAR(s.DAY, 'YYYY-MM') AS COHORT,
         IFF(m.JOINED_AT::DATE >= c.COVERAGE_START, 1, 0) AS FIRST_KNOWN,
         IFF(m.JOINED_AT::DATE >= c.COVERAGE_START,
             DATEDIFF(day, s.DAY, s.NEXT_ORDER_DAY), NULL) AS GAP,   -- NULL: no return
         IFF(m.JOINED_AT::DATE >= c.COVERAGE_START,
             DATEDIFF(day, s.DAY, a.AS_OF), NULL) AS OBSERVED
  FROM sequenced s
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = s.MEMBER_ID
  CROSS JOIN {{analysis_schema}}.AS_OF a
  CROSS JOIN {{analysis_schema}}.COVERAGE c
  WHERE s.RN = 1
),
counts AS (
  SELECT COHORT,
         COUNT_IF(FIRST_KNOWN = 1)                           AS BUYERS,
         COUNT_IF(GAP <= {{repurchase_short_days}})          AS RETURNED_SHORT,
         COUNT_IF(GAP <= {{repurchase_mid_days}})            AS RETURNED_MID,
         COUNT_IF(GAP <= {{repurchase_long_days}})           AS RETURNED_LONG,
         COUNT_IF(OBSERVED >= {{repurchase_short_days}})     AS MATURED_SHORT,
         COUNT_IF(OBSERVED >= {{repurchase_mid_days}})       AS MATURED_MID,
         COUNT_IF(OBSERVED >= {{repurchase_long_days}})      AS MATURED_LONG,
         COUNT_IF(FIRST_KNOWN = 0)                           AS UNKNOWN_FIRST
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
                                                                              AS RATE_LONG,
       UNKNOWN_FIRST                                                          AS UNKNOWN_FIRST_BUYERS
FROM counts
