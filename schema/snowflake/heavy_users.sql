-- heavy_users: see schema/sqlite/heavy_users.sql; only months that begin on or after
-- the data's coverage start are listed.
WITH order_revenue AS (
  SELECT ORDER_ID, SUM(QTY * UNIT_PRICE) AS REVENUE
  FROM {{source_schema}}.ORDER_LINES
  GROUP BY ORDER_ID
),
member_month AS (
  SELECT TO_CHAR(o.ORDERED_AT, 'YYYY-MM') AS MONTH, o.MEMBER_ID,
         COUNT(*) AS ORDERS, COALESCE(SUM(r.REVENUE), 0) AS REVENUE
  FROM {{source_schema}}.ORDERS o
  CROSS JOIN {{analysis_schema}}.COVERAGE c
  LEFT JOIN order_revenue r ON r.ORDER_ID = o.ORDER_ID
  WHERE DATE_TRUNC('month', o.ORDERED_AT)::DATE >= c.COVERAGE_START
  GROUP BY MONTH, o.MEMBER_ID
),
buckets AS (
  SELECT MONTH, LEAST(ORDERS, {{heavy_min_orders}}) AS FREQUENCY,
         COUNT(*) AS MEMBERS, SUM(ORDERS) AS ORDERS, SUM(REVENUE) AS REVENUE
  FROM member_month
  GROUP BY MONTH, FREQUENCY
),
totals AS (
  SELECT MONTH, SUM(MEMBERS) AS MEMBERS, SUM(ORDERS) AS ORDERS, SUM(REVENUE) AS REVENUE
  FROM buckets
  GROUP BY MONTH
)
SELECT b.MONTH                                                       AS MONTH,
       b.FREQUENCY                                                   AS FREQUENCY,
       IFF(b.FREQUENCY >= {{heavy_min_orders}}, b.FREQUENCY || '+', b.FREQUENCY::VARCHAR)
                                                                     AS BUCKET,
       b.MEMBERS                                                     AS MEMBERS,
       b.ORDERS                                                      AS ORDERS,
       b.REVENUE                                                     AS REVENUE,
       ROUND(100.0 * b.MEMBERS / NULLIF(t.MEMBERS, 0), 4)            AS MEMBER_SHARE,
       ROUND(100.0 * b.ORDERS / NULLIF(t.ORDERS, 0), 4)              AS ORDER_SHARE,
       ROUND(100.0 * b.REVENUE / NULLIF(t.REVENUE, 0), 4)            AS REVENUE_SHARE
FROM buckets b
JOIN totals t ON t.MONTH = b.MONTH
