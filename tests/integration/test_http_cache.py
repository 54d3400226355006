"""HTTP caching and zero-copy serving: 304 on a matching ETag, gzip only when asked and
decoding to the identity bytes, ETags that change exactly when an aggregate's content
does, and a slow client whose body, referenced straight from LMDB's map, stays whole
while two publishes and their colour flips happen under it."""

import gzip
import http.client
import json
import os
import shutil
import socket
import sqlite3
import tempfile

from harness import (demo_workdir as demo_copy, DEADLINE, Tpcd, check, eq, make_demo, run_tests, test, wait_for)
import harness





@test
def test_etag_304_gzip_and_cache_headers():
    with Tpcd(workdir=demo_copy(), refresh_interval=600).start() as t:
        path = "/v1/brands/a/aggregates/user_counts"
        conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=DEADLINE)
        plain = t.get(path, conn=conn)
        eq(plain.status, 200)
        etag = plain.header("ETag")
        check(etag and etag.startswith('"') and etag.endswith('"'), etag)
        check(plain.header("Content-Encoding") is None, "identity unless asked")
        check("Accept-Encoding" in plain.header("Vary"), plain.header("Vary"))
        cc = plain.header("Cache-Control")
        # revalidated every time (ETag/304): nothing outlives a rollback or a refresh
        eq(cc, "private, no-cache")
        check(plain.header("Last-Modified").endswith(" GMT"), plain.header("Last-Modified"))
        check(plain.header("Age") is not None, "Age")
        # same connection (keep-alive): a conditional request
        r = t.get(path, {"If-None-Match": etag}, conn=conn)
        eq(r.status, 304, "If-None-Match with the current ETag")
        eq(r.body, b"", "304 has no body")
        eq(r.header("ETag"), etag)
        r = t.get(path, {"If-None-Match": '"0000", %s' % etag}, conn=conn)
        eq(r.status, 304, "ETag in a list")
        r = t.get(path, {"If-None-Match": '"00000000000000000000000000000000"'}, conn=conn)
        eq(r.status, 200, "a stale ETag gets the body")
        # gzip when asked, and it decodes to exactly the identity bytes
        z = t.get(path, {"Accept-Encoding": "gzip, deflate"}, conn=conn)
        eq(z.status, 200)
        eq(z.header("Content-Encoding"), "gzip")
        eq(gzip.decompress(z.body), plain.body, "gzip body decodes to the identity body")
        check(len(z.body) < len(plain.body), "compressed")
        check(z.header("ETag") != etag, "each representation has its own ETag")
        eq(t.get(path, {"Accept-Encoding": "gzip", "If-None-Match": z.header("ETag")},
                 conn=conn).status, 304)
        eq(t.get(path, {"Accept-Encoding": "gzip;q=0"}, conn=conn).header(
            "Content-Encoding"), None, "q=0 refuses gzip")
        eq(json.loads(plain.body)["aggregate"], "user_counts")
        conn.close()


@test
def test_etag_changes_exactly_when_content_changes():
    work = demo_copy()
    with Tpcd(workdir=work).start() as t:
        paths = {n: "/v1/brands/a/aggregates/%s" % n
                 for n in ("mau_users", "heavy_users_by_menu", "sales_by_category")}
        before = {n: t.get(p).header("ETag") for n, p in paths.items()}
        gen = t.status()["generation"]
        s = t.refresh_and_wait()
        eq(s["generation"], gen, "an unchanged source publishes nothing")
        eq({n: t.get(p).header("ETag") for n, p in paths.items()}, before,
           "ETags after a refresh that changed nothing")
        # rename one product: menu-level aggregates change, order counts do not
        db = sqlite3.connect(os.path.join(work, "source", "brand_a.db"))
        pid = db.execute("SELECT product_id FROM order_lines GROUP BY product_id "
                         "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        db.execute("UPDATE products SET name = name || ' (renamed)' WHERE product_id = ?",
                   (pid,))
        db.commit()
        db.close()
        s = t.refresh_and_wait()
        eq(s["generation"], gen + 1, "published")
        after = {n: t.get(p).header("ETag") for n, p in paths.items()}
        check(after["heavy_users_by_menu"] != before["heavy_users_by_menu"],
              "the menu aggregate changed, and so did its ETag")
        eq(after["mau_users"], before["mau_users"], "mau_users content unchanged")
        eq(after["sales_by_category"], before["sales_by_category"],
           "sales_by_category content unchanged")
        body = t.get_json(paths["heavy_users_by_menu"])
        check(any("(renamed)" in str(r) for r in body["rows"]), "new content served")




def slow_get(port, path, token):
    """Opens a connection with a tiny receive buffer and sends a GET; returns the socket
    and the response head. The body is left unread, in the kernel and in tpcd."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" %
               (path, token)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    return s, head.decode()


@test
def test_slow_client_keeps_a_whole_body_across_publishes():
    work = demo_copy()
    # three copies: a body well past the kernel's socket buffers (tcp_wmem max 4 MiB)
    catalog = harness.big_catalog(work, 3)
    with Tpcd(workdir=work, catalog=catalog,
              extra="http:\n  timeout: 300\n").start() as t:
        path = "/v1/brands/a/aggregates/order_lines"
        whole = t.get(path).body
        check(len(whole) > 4 << 20, "a body larger than the socket buffers (%d)" %
              len(whole))
        gen = t.status()["generation"]
        s, head = slow_get(t.port, path, harness.ADMIN_TOKEN)
        check(" 200 " in head.split("\r\n")[0], head)
        length = int([h.split(":")[1] for h in head.split("\r\n")
                      if h.lower().startswith("content-length")][0])
        eq(length, len(whole))
        got = bytearray()
        for _ in range(2048):			# byte by byte, at first
            got += s.recv(1)
        db = sqlite3.connect(os.path.join(work, "source", "brand_a.db"))
        # three publishes: LMDB frees the old colour's pages in the second and could hand
        # them out again in the third, had the slow client's read view not pinned them
        for i in (1, 2, 3):
            db.execute("UPDATE order_lines SET qty = qty + 1 WHERE rowid = ?", (i,))
            db.commit()
            st = t.refresh_and_wait()
            eq(st["generation"], gen + i, "publish %d" % i)
            for _ in range(1024):
                got += s.recv(1)
        db.close()
        while len(got) < length:
            chunk = s.recv(65536)
            check(chunk, "connection closed after %d of %d bytes" % (len(got), length))
            got += chunk
        s.close()
        got = bytes(got)
        diff = next((i for i in range(len(whole)) if got[i] != whole[i]), None)
        check(got == whole, "the slow client's body differs from its snapshot at byte %s"
              % diff)
        fresh = t.get_json(path)
        eq(fresh["generation"], gen + 3)
        check(fresh["rows"] != json.loads(whole)["rows"], "the store moved on meanwhile")


if __name__ == "__main__":
    run_tests()
