WITH order_revenue AS (
  SELECT ORDER_ID, SUM(QTY * UNIT_PRICE) AS REVENUE
  FROM {{source_schema}}.ORDER_LINES
  GROUP BY ORDER_ID
)
SELECT TO_CHAR(o.ORDERED_AT, 'YYYY-MM')                                   AS MONTH,
       s.REGION                                                           AS REGION,
       COUNT(*)                                                           AS ORDERS,
       COUNT(DISTINCT o.MEMBER_ID)                                        AS BUYERS,
       COALESCE(SUM(r.REVENUE), 0)                                        AS REVENUE,
       ROUND(COALESCE(SUM(r.REVENUE), 0) * 1.0 / NULLIF(COUNT(*), 0), 4)  AS AVG_ORDER_VALUE
FROM {{source_schema}}.ORDERS o
JOIN {{source_schema}}.STORES s ON s.STORE_ID = o.STORE_ID
LEFT JOIN order_revenue r ON r.ORDER_ID = o.ORDER_ID
GROUP BY MONTH, REGION
