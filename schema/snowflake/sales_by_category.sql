SELECT TO_CHAR(o.ORDERED_AT, 'YYYY-MM')  AS MONTH,
       p.CATEGORY                        AS CATEGORY,
       SUM(l.QTY)                        AS QUANTITY,
       COUNT(DISTINCT o.ORDER_ID)        AS ORDERS,
       SUM(l.QTY * l.UNIT_PRICE)         AS REVENUE
FROM {{source_schema}}.ORDERS o
JOIN {{source_schema}}.ORDER_LINES l ON l.ORDER_ID = o.ORDER_ID
JOIN {{source_schema}}.PRODUCTS p ON p.PRODUCT_ID = l.PRODUCT_ID
GROUP BY MONTH, CATEGORY
