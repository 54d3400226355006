"""The integration path under valgrind (memcheck): the normal build of tpcd serves,
refreshes, reloads and stops; valgrind must report no error and no definite leak."""

import os
import re
import shutil
import signal
import stat
import tempfile

import harness
from harness import ROOT, Tpcd, check, eq, make_demo, run_tests, test, wait_for

SMALL = (("c", "brand_c"),)


@test
def test_serve_refresh_reload_stop_under_valgrind():
    valgrind = shutil.which("valgrind")
    check(valgrind, "valgrind is installed (make deps)")
    work = tempfile.mkdtemp(prefix="tpcd-vg-")
    make_demo(os.path.join(work, "source"), brands=SMALL)
    vlog = os.path.join(work, "valgrind.log")
    wrapper = os.path.join(work, "tpcd-valgrind")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s --quiet --error-exitcode=99 --leak-check=full "
                "--errors-for-leak-kinds=definite --log-file=%s %s \"$@\"\n" %
                (valgrind, vlog, os.path.join(ROOT, "build", "tpcd")))
    os.chmod(wrapper, stat.S_IRWXU)
    saved = harness.TPCD
    harness.TPCD = wrapper
    t = Tpcd(workdir=work, brands=SMALL)
    try:
        t.start()
        for name in ("mau_users", "regional_purchase_cycle", "user_counts"):
            eq(t.get("/v1/brands/c/aggregates/%s" % name).status, 200)
            eq(t.get("/v1/brands/c/aggregates/%s?format=msgpack" % name).status, 200)
            eq(t.get("/v1/brands/c/aggregates/%s" % name,
                     {"Accept-Encoding": "gzip"}).status, 200)
        eq(t.get("/v1/brands/zz/aggregates/x").status, 404)
        eq(t.get("/v1/brands/c/aggregates", {"Authorization": "Bearer nope"}).status, 401)
        eq(t.get("/metrics").status, 200)
        t.refresh_and_wait()
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: done" in t.read_log(), "the reload")
        eq(t.get("/v1/brands/c/aggregates/mau_users").status, 200)
        rc = t.stop()
        report = open(vlog).read()
        eq(rc, 0, "exit code (99 = valgrind found errors):\n" + report[-3000:])
        check(not re.search(r"Invalid (read|write)|uninitialised|definitely lost", report),
              report[-3000:])
    finally:
        harness.TPCD = saved
        t.close()


if __name__ == "__main__":
    run_tests()
