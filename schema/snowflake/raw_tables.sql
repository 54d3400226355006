-- The raw tables of one brand in Snowflake: what the dynamic tables of schema/snowflake/
-- read, the Snowflake twin of schema/source_sqlite.sql (same tables, same columns, same
-- meaning: see schema/README.md). Rendered like the templates: {{source_schema}} is the
-- brand's source schema in upper case (e.g. BRAND_A); run it once per brand, before
-- `tpcd --print-ddl`'s dynamic tables.
--
-- Money: KRW has no minor unit, so prices are whole won, NUMBER(12,0) (scale 0, up to
-- 999 999 999 999 KRW a unit); revenue (QTY * UNIT_PRICE, summed) is computed as
-- NUMBER(38,0), exact, and reaches tpcd as an integer like the SQLite source's.
-- Times: TIMESTAMP_NTZ holding Asia/Seoul wall-clock time, as the SQLite text does; no
-- time zone conversion happens anywhere.
-- Dynamic tables need change tracking on their sources for incremental refresh, and
-- Time Travel (DATA_RETENTION_TIME_IN_DAYS > 0) for any refresh.

CREATE SCHEMA IF NOT EXISTS {{source_schema}};

-- as_of (YYYY-MM-DD: the reference day of every analysis, the same row the SQLite
-- source reads, so both sources agree on "today"; the loader advances it, normally once
-- a day after the day's orders are in), coverage_start (YYYY-MM-DD: the first day whose
-- orders are all present; absent: the first order's day), brand, seed.
CREATE TABLE IF NOT EXISTS {{source_schema}}.META (
  KEY   VARCHAR NOT NULL PRIMARY KEY,
  VALUE VARCHAR NOT NULL
) CHANGE_TRACKING = TRUE;

CREATE TABLE IF NOT EXISTS {{source_schema}}.MEMBERS (
  MEMBER_ID  NUMBER(38,0) NOT NULL PRIMARY KEY,
  JOINED_AT  TIMESTAMP_NTZ NOT NULL,
  BIRTH_YEAR NUMBER(4,0),                           -- NULL: unknown
  GENDER     VARCHAR(1) NOT NULL,                   -- 'F', 'M' or 'U'
  REGION     VARCHAR NOT NULL
) CHANGE_TRACKING = TRUE;

CREATE TABLE IF NOT EXISTS {{source_schema}}.STORES (
  STORE_ID NUMBER(38,0) NOT NULL PRIMARY KEY,
  NAME     VARCHAR NOT NULL,
  REGION   VARCHAR NOT NULL
) CHANGE_TRACKING = TRUE;

CREATE TABLE IF NOT EXISTS {{source_schema}}.PRODUCTS (
  PRODUCT_ID   NUMBER(38,0) NOT NULL PRIMARY KEY,
  NAME         VARCHAR NOT NULL,
  CATEGORY     VARCHAR NOT NULL,
  IS_NEW       NUMBER(1,0) NOT NULL DEFAULT 0,      -- 0 or 1
  IS_SIGNATURE NUMBER(1,0) NOT NULL DEFAULT 0,      -- 0 or 1
  LAUNCHED_AT  DATE NOT NULL
) CHANGE_TRACKING = TRUE;

CREATE TABLE IF NOT EXISTS {{source_schema}}.ORDERS (
  ORDER_ID   NUMBER(38,0) NOT NULL PRIMARY KEY,
  MEMBER_ID  NUMBER(38,0) NOT NULL REFERENCES {{source_schema}}.MEMBERS (MEMBER_ID),
  STORE_ID   NUMBER(38,0) NOT NULL REFERENCES {{source_schema}}.STORES (STORE_ID),
  ORDERED_AT TIMESTAMP_NTZ NOT NULL
) CHANGE_TRACKING = TRUE;

-- Snowflake does not enforce PRIMARY KEY, REFERENCES or CHECK-like rules (QTY > 0,
-- UNIT_PRICE >= 0): the loader must, as the SQLite schema's CHECKs do.
CREATE TABLE IF NOT EXISTS {{source_schema}}.ORDER_LINES (
  ORDER_ID   NUMBER(38,0) NOT NULL REFERENCES {{source_schema}}.ORDERS (ORDER_ID),
  LINE_NO    NUMBER(38,0) NOT NULL,
  PRODUCT_ID NUMBER(38,0) NOT NULL REFERENCES {{source_schema}}.PRODUCTS (PRODUCT_ID),
  QTY        NUMBER(9,0) NOT NULL,                  -- > 0
  UNIT_PRICE NUMBER(12,0) NOT NULL,                 -- KRW, whole won (scale 0), >= 0
  PRIMARY KEY (ORDER_ID, LINE_NO)
) CHANGE_TRACKING = TRUE;
