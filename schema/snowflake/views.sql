-- views.sql: the views every Snowflake query of schema/snowflake/ may read, in the
-- brand's analysis schema. tpcd --print-ddl (daemon/ddl.c, compiled in) prints them,
-- placeholders filled like the queries', before the dynamic tables that read them.
-- schema/sqlite/views.sql is the SQLite twin.
--
-- AS_OF: the reference day, the source's META row as_of (as SQLite's meta.as_of), not
-- CURRENT_DATE(): the loader advances it when a day's orders are complete.
CREATE OR REPLACE VIEW {{analysis_schema}}.AS_OF AS
SELECT TO_DATE(VALUE) AS AS_OF FROM {{source_schema}}.META WHERE KEY = 'as_of';

-- COVERAGE: the data's coverage start: META's coverage_start row, else the first order's
-- day. Orders before it are not in the data.
CREATE OR REPLACE VIEW {{analysis_schema}}.COVERAGE AS
SELECT COALESCE(MAX(IFF(m.KEY = 'coverage_start', TO_DATE(m.VALUE), NULL)),
                MAX(f.FIRST_DAY)) AS COVERAGE_START
FROM {{source_schema}}.META m
CROSS JOIN (SELECT MIN(ORDERED_AT)::DATE AS FIRST_DAY FROM {{source_schema}}.ORDERS) f;
