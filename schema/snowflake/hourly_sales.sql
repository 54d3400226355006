WITH weekdays AS (
  SELECT ROW_NUMBER() OVER (ORDER BY SEQ4() NULLS FIRST) AS W FROM TABLE(GENERATOR(ROWCOUNT => 7))
),
hours AS (
  SELECT ROW_NUMBER() OVER (ORDER BY SEQ4() NULLS FIRST) - 1 AS H FROM TABLE(GENERATOR(ROWCOUNT => 24))
),
order_revenue AS (
  SELECT ORDER_ID, SUM(QTY * UNIT_PRICE) AS REVENUE
  FROM {{source_schema}}.ORDER_LINES
  GROUP BY ORDER_ID
),
cells AS (
  SELECT DAYOFWEEKISO(o.ORDERED_AT) AS W,
         HOUR(o.ORDERED_AT)         AS H,
         COUNT(*)                   AS ORDERS,
         COALESCE(SUM(r.REVENUE), 0) AS REVENUE
  FROM {{source_schema}}.ORDERS o
  LEFT JOIN order_revenue r ON r.ORDER_ID = o.ORDER_ID
  GROUP BY W, H
)
SELECT wd.W                                                            AS WEEKDAY,
       DECODE(wd.W, 1, 'Mon', 2, 'Tue', 3, 'Wed', 4, 'Thu', 5, 'Fri', 6, 'Sat', 'Sun')
                                                                       AS WEEKDAY_NAME,
       hr.H                                                            AS HOUR,
       COALESCE(c.ORDERS, 0)                                           AS ORDERS,
       COALESCE(c.REVENUE, 0)                                          AS REVENUE
FROM weekdays wd
CROSS JOIN hours hr
LEFT JOIN cells c ON c.W = wd.W AND c.H = hr.H
