-- views.sql: the views every Snowflake query of schema/snowflake/ may read, in the
-- brand's analysis schema. tpcd --print-ddl (daemon/ddl.c, compiled in) prints them,
-- placeholders filled like the queries', before the dynamic tables that read them.
--
-- COVERAGE: the data's coverage start: META's coverage_start row, else the first order's
-- day. Orders before it are not in the data (schema/sqlite/views.sql is the SQLite twin).
CREATE OR REPLACE VIEW {{analysis_schema}}.COVERAGE AS
SELECT COALESCE(MAX(IFF(m.KEY = 'coverage_start', TO_DATE(m.VALUE), NULL)),
                MAX(f.FIRST_DAY)) AS COVERAGE_START
FROM {{source_schema}}.META m
CROSS JOIN (SELECT MIN(ORDERED_AT)::DATE AS FIRST_DAY FROM {{source_schema}}.ORDERS) f;
