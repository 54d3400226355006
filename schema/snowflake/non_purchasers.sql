WITH asof AS (
  -- as_of: the source's META row, as SQLite's meta.as_of (not CURRENT_DATE())
  SELECT TO_DATE(VALUE) AS AS_OF FROM {{source_schema}}.META WHERE KEY = 'as_of'
),
active AS (
  SELECT DISTINCT o.MEMBER_ID
  FROM {{source_schema}}.ORDERS o
  CROSS JOIN asof a
  WHERE o.ORDERED_AT >= DATEADD(day, 1 - {{active_days}}, a.AS_OF)
    AND o.ORDERED_AT < DATEADD(day, 1, a.AS_OF)
),
bought AS (
  SELECT o.MEMBER_ID, MAX(p.IS_NEW) AS ANY_NEW, MAX(p.IS_SIGNATURE) AS ANY_SIGNATURE
  FROM {{source_schema}}.ORDERS o
  JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
  JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = l.PRODUCT_ID
  JOIN active a ON a.MEMBER_ID = o.MEMBER_ID
  GROUP BY o.MEMBER_ID
),
flagged AS (
  SELECT m.REGION,
         CASE WHEN m.BIRTH_YEAR IS NULL THEN 'unknown'
              WHEN YEAR(d.AS_OF) - m.BIRTH_YEAR < 20 THEN '10s'
              WHEN YEAR(d.AS_OF) - m.BIRTH_YEAR < 30 THEN '20s'
              WHEN YEAR(d.AS_OF) - m.BIRTH_YEAR < 40 THEN '30s'
              WHEN YEAR(d.AS_OF) - m.BIRTH_YEAR < 50 THEN '40s'
              WHEN YEAR(d.AS_OF) - m.BIRTH_YEAR < 60 THEN '50s'
              ELSE '60+' END AS AGE_GROUP,
         IFF(COALESCE(b.ANY_NEW, 0) = 0, 1, 0) AS NEVER_NEW,
         IFF(COALESCE(b.ANY_SIGNATURE, 0) = 0, 1, 0) AS NEVER_SIGNATURE
  FROM active a
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = a.MEMBER_ID
  LEFT JOIN bought b ON b.MEMBER_ID = a.MEMBER_ID
  CROSS JOIN asof d
)
SELECT REGION                                                          AS REGION,
       AGE_GROUP                                                       AS AGE_GROUP,
       COUNT(*)                                                        AS ACTIVE_MEMBERS,
       SUM(NEVER_NEW)                                                  AS NEVER_NEW,
       SUM(NEVER_SIGNATURE)                                            AS NEVER_SIGNATURE,
       ROUND(100.0 * SUM(NEVER_NEW) / NULLIF(COUNT(*), 0), 4)          AS NEVER_NEW_SHARE,
       ROUND(100.0 * SUM(NEVER_SIGNATURE) / NULLIF(COUNT(*), 0), 4)    AS NEVER_SIGNATURE_SHARE
FROM flagged
GROUP BY REGION, AGE_GROUP
