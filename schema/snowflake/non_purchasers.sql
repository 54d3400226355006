-- non_purchasers: see schema/sqlite/non_purchasers.sql. "Never bought" counts only
-- members whose answer is known despite the data's coverage start (KNOWN_NEW,
-- KNOWN_SIGNATURE), and the shares are of them. Every measure is NULL when the active
-- window begins before coverage start.
WITH actwin AS (
  SELECT IFF(DATEADD(day, 1 - {{active_days}}, a.AS_OF) >= c.COVERAGE_START, 1, 0) AS COVERED
  FROM {{analysis_schema}}.AS_OF a
  CROSS JOIN {{analysis_schema}}.COVERAGE c
),
launch AS (
  -- 1 when every product of the kind launched on or after coverage start (or there is
  -- none): no product is sold before its LAUNCHED_AT, so all its sales are in the data
  SELECT IFF(COALESCE(MIN(IFF(p.IS_NEW = 1, p.LAUNCHED_AT, NULL)), '9999-12-31'::DATE)
               >= MAX(c.COVERAGE_START), 1, 0) AS NEW_COVERED,
         IFF(COALESCE(MIN(IFF(p.IS_SIGNATURE = 1, p.LAUNCHED_AT, NULL)), '9999-12-31'::DATE)
               >= MAX(c.COVERAGE_START), 1, 0) AS SIGNATURE_COVERED
  FROM {{source_schema}}.PRODUCTS p
  CROSS JOIN {{analysis_schema}}.COVERAGE c
),
active AS (
  SELECT DISTINCT o.MEMBER_ID
  FROM {{source_schema}}.ORDERS o
  CROSS JOIN {{analysis_schema}}.AS_OF a
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
known AS (
  -- per active member: the answer is known (1) or not (0), and what was bought (0/1)
  SELECT a.MEMBER_ID,
         COALESCE(b.ANY_NEW, 0) AS ANY_NEW,
         COALESCE(b.ANY_SIGNATURE, 0) AS ANY_SIGNATURE,
         IFF(COALESCE(b.ANY_NEW, 0) = 1 OR m.JOINED_AT::DATE >= c.COVERAGE_START
             OR l.NEW_COVERED = 1, 1, 0) AS KNOWN_NEW,
         IFF(COALESCE(b.ANY_SIGNATURE, 0) = 1 OR m.JOINED_AT::DATE >= c.COVERAGE_START
             OR l.SIGNATURE_COVERED = 1, 1, 0) AS KNOWN_SIGNATURE
  FROM active a
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = a.MEMBER_ID
  LEFT JOIN bought b ON b.MEMBER_ID = a.MEMBER_ID
  CROSS JOIN {{analysis_schema}}.COVERAGE c
  CROSS JOIN launch l
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
         k.KNOWN_NEW,
         k.KNOWN_SIGNATURE,
         IFF(k.KNOWN_NEW = 1 AND k.ANY_NEW = 0, 1, 0) AS NEVER_NEW,
         IFF(k.KNOWN_SIGNATURE = 1 AND k.ANY_SIGNATURE = 0, 1, 0) AS NEVER_SIGNATURE
  FROM known k
  JOIN {{source_schema}}.MEMBERS m ON m.MEMBER_ID = k.MEMBER_ID
  CROSS JOIN {{analysis_schema}}.AS_OF d
)
SELECT f.REGION                                                             AS REGION,
       f.AGE_GROUP                                                          AS AGE_GROUP,
       IFF(MAX(w.COVERED) = 1, COUNT(*), NULL)                              AS ACTIVE_MEMBERS,
       IFF(MAX(w.COVERED) = 1, SUM(f.NEVER_NEW), NULL)                      AS NEVER_NEW,
       IFF(MAX(w.COVERED) = 1, SUM(f.NEVER_SIGNATURE), NULL)                AS NEVER_SIGNATURE,
       IFF(MAX(w.COVERED) = 1,
           ROUND(100.0 * SUM(f.NEVER_NEW) / NULLIF(SUM(f.KNOWN_NEW), 0), 4), NULL)
                                                                            AS NEVER_NEW_SHARE,
       IFF(MAX(w.COVERED) = 1,
           ROUND(100.0 * SUM(f.NEVER_SIGNATURE) / NULLIF(SUM(f.KNOWN_SIGNATURE), 0), 4), NULL)
                                                                            AS NEVER_SIGNATURE_SHARE,
       IFF(MAX(w.COVERED) = 1, SUM(f.KNOWN_NEW), NULL)                      AS KNOWN_NEW,
       IFF(MAX(w.COVERED) = 1, SUM(f.KNOWN_SIGNATURE), NULL)                AS KNOWN_SIGNATURE
FROM flagged f
CROSS JOIN actwin w
GROUP BY f.REGION, f.AGE_GROUP
