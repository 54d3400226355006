-- heavy_users_by_menu: see schema/sqlite/heavy_users_by_menu.sql; the measures are NULL
-- when the window begins before the data's coverage start.
WITH win AS (
  SELECT IFF(DATEADD(day, 1 - {{window_days}}, a.AS_OF) >= c.COVERAGE_START, 1, 0) AS COVERED
  FROM {{analysis_schema}}.AS_OF a
  CROSS JOIN {{analysis_schema}}.COVERAGE c
),
member_product AS (
  SELECT o.MEMBER_ID, l.PRODUCT_ID,
         COUNT(DISTINCT o.ORDER_ID) AS ORDERS, SUM(l.QTY) AS QTY
  FROM {{source_schema}}.ORDERS o
  JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
  CROSS JOIN {{analysis_schema}}.AS_OF a
  WHERE o.ORDERED_AT >= DATEADD(day, 1 - {{window_days}}, a.AS_OF)
    AND o.ORDERED_AT < DATEADD(day, 1, a.AS_OF)
  GROUP BY o.MEMBER_ID, l.PRODUCT_ID
)
SELECT p.PRODUCT_ID                                                                AS PRODUCT_ID,
       p.NAME                                                                      AS PRODUCT,
       p.CATEGORY                                                                  AS CATEGORY,
       IFF(MAX(w.COVERED) = 1, COUNT(*), NULL)                                     AS BUYERS,
       IFF(MAX(w.COVERED) = 1, SUM(mp.QTY), NULL)                                  AS QUANTITY,
       IFF(MAX(w.COVERED) = 1, COUNT_IF(mp.ORDERS >= {{menu_heavy_min_orders}}), NULL)
                                                                                   AS HEAVY_BUYERS,
       IFF(MAX(w.COVERED) = 1,
           ROUND(100.0 * COUNT_IF(mp.ORDERS >= {{menu_heavy_min_orders}}) / NULLIF(COUNT(*), 0), 4),
           NULL)                                                                   AS HEAVY_BUYER_SHARE,
       IFF(MAX(w.COVERED) = 1,
           ROUND(100.0 * SUM(IFF(mp.ORDERS >= {{menu_heavy_min_orders}}, mp.QTY, 0)) / NULLIF(SUM(mp.QTY), 0), 4),
           NULL)                                                                   AS HEAVY_QUANTITY_SHARE
FROM member_product mp
JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = mp.PRODUCT_ID
CROSS JOIN win w
GROUP BY p.PRODUCT_ID, p.NAME, p.CATEGORY
