-- views.sql: the TEMP views every SQLite query of schema/sqlite/ may read, created by the
-- SQLite source on its own read-only connection before the brand's read transaction
-- (daemon/source_sqlite.c, compiled in). TEMP: they live in the connection's temp schema
-- and end with it; nothing is written to the source file, which is the customer's.
--
-- coverage(c): the data's coverage start, 'YYYY-MM-DD': meta 'coverage_start', else the
-- first order's day. Orders before it are not in the data, so a measure whose window
-- reaches before it would be a guess (each query says what it does then).
CREATE TEMP VIEW coverage(c) AS
  SELECT coalesce((SELECT value FROM meta WHERE key = 'coverage_start'),
                  (SELECT substr(min(ordered_at), 1, 10) FROM orders));
