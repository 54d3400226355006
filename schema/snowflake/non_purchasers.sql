WITH active AS (
  SELECT DISTINCT MEMBER_ID
  FROM {{source_schema}}.ORDERS
  WHERE ORDERED_AT >= DATEADD(day, 1 - {{active_days}}, CURRENT_DATE())
    AND ORDERED_AT < DATEADD(day, 1, CURRENT_DATE())
),
bought AS (
  SELECT o.MEMBER_ID, MAX(p.IS_NEW) AS ANY_NEW, MAX(p.IS_SIGNATURE) AS ANY_SIGNATURE
  FROM {{source_schema}}.ORDERS o
  JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
  JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = l.PRODUCT_ID
  WHERE o.MEMBER_ID IN (SELECT MEMBER_ID FROM active)
  GROUP BY o.MEMBER_ID
),
flagged AS (
  SELECT m.REGION,
         CASE WHEN m.BIRTH_YEAR IS NULL THEN 'unknown'
              WHEN YEAR(CURRENT_DATE()) - m.BIRTH_YEAR < 20 THEN '10s'
              WHEN YEAR(CURRENT_DATE()) - m.BIRTH_YEAR < 30 THEN '20s'
              WHEN YEAR(CURRENT_DATE()) - m.BIRTH_YEAR < 40 THEN '30s'
              WHEN YEAR(CURRENT_DATE()) - m.BIRTH_YEAR < 50 THEN '40s'
              WHEN YEAR(CURRENT_DATE()) - m.BIRTH_YEAR < 60 THEN '50s'
              ELSE '60+' END AS AGE_GROUP,
         IFF(COALESCE(b.ANY_NEW, 0) = 0, 1, 0) AS NEVER_NEW,
         IFF(COALESCE(b.ANY_SIGNATURE, 0) = 0, 1, 0) AS NEVER_SIGNATURE
  FROM active a
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = a.MEMBER_ID
  LEFT JOIN bought b ON b.MEMBER_ID = a.MEMBER_ID
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
