SELECT TO_CHAR(o.ORDERED_AT, 'YYYY-MM')  AS MONTH,
       COUNT(DISTINCT o.MEMBER_ID)       AS MAU,
       COUNT(*)                          AS ORDERS
FROM {{source_schema}}.ORDERS o
GROUP BY MONTH
