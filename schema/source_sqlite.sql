-- Raw tables of one brand for the embedded SQLite source (one database file per brand,
-- <source.dir>/<brand schema>.db). The aggregate queries in schema/sqlite/ read only these.
-- Times are local (Asia/Seoul) wall-clock text 'YYYY-MM-DD HH:MM:SS'; money is integer KRW.
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,          -- 'as_of' (YYYY-MM-DD: the day the analyses are "run"), 'seed', 'brand',
                                   -- 'coverage_start' (YYYY-MM-DD: the first day whose orders
                                   -- are all in the data; absent: the first order's day),
                                   -- 'data_time' (ISO 8601, UTC unless a zone is given: the
                                   -- time the data describes; absent: the newest order)
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  member_id  INTEGER PRIMARY KEY,
  joined_at  TEXT NOT NULL,
  birth_year INTEGER,                               -- NULL: unknown
  gender     TEXT NOT NULL CHECK (gender IN ('F','M','U')),
  region     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stores (
  store_id INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  region   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
  product_id   INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  category     TEXT NOT NULL,
  is_new       INTEGER NOT NULL DEFAULT 0 CHECK (is_new IN (0,1)),
  is_signature INTEGER NOT NULL DEFAULT 0 CHECK (is_signature IN (0,1)),
  launched_at  TEXT NOT NULL                        -- YYYY-MM-DD
);
CREATE TABLE IF NOT EXISTS orders (
  order_id   INTEGER PRIMARY KEY,
  member_id  INTEGER NOT NULL REFERENCES members(member_id),
  store_id   INTEGER NOT NULL REFERENCES stores(store_id),
  ordered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
  order_id   INTEGER NOT NULL REFERENCES orders(order_id),
  line_no    INTEGER NOT NULL,
  product_id INTEGER NOT NULL REFERENCES products(product_id),
  qty        INTEGER NOT NULL CHECK (qty > 0),
  unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, line_no)
);
CREATE INDEX IF NOT EXISTS orders_member ON orders(member_id, ordered_at);
CREATE INDEX IF NOT EXISTS orders_time ON orders(ordered_at);
