#!/usr/bin/python3
"""py_memory.py — does the Python binding leak?  A stress program, not a
timed test: `make bench` runs it and it prints its figures.

It makes 100,000 binding calls — guests.add, guests.get and fire in turn,
33,334 / 33,333 / 33,333 — and compares the process's resident memory
(VmRSS in /proc/self/status) after a warm-up with the figure at the end,
split into RssAnon (the heap: where a leak shows) and RssFile/RssShmem
(the database file LMDB maps; on tmpfs it counts as shared memory).

Two bounds, and why:
  * VmRSS may grow by 64 MiB.  What legitimately grows is the mapped
    database: pages written stay resident.  33k guests and 33k fired
    events (guest record and index keys, event record, two prompts and
    their queue keys each) measured 35 MiB here; 64 MiB leaves room for
    page-size and B-tree fill differences without hiding a leak of a few
    hundred bytes per call on top of it.
  * RssAnon may grow by 8 MiB.  Measured growth is ~0: everything the
    binding allocates per call is freed (C lists with their _free
    function, cffi buffers by refcount).  Leaking one pf_guest per get
    (a deliberate test) grew it by 16.6 MiB, so 8 MiB catches a leak of
    ~100 bytes per call while tolerating allocator noise.

Usage: py_memory.py [--iterations N] [--bound-mib M] [--anon-bound-mib M] [--db DIR]
Exit status 1 if either bound is exceeded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

import libprofile  # noqa: E402

RULES = """
rule floor
  on check_in
  when pref room.floor
  notify front_desk high "Assign a room on floor {pref room.floor}"
rule welcome
  on check_in
  notify kiosk low "Welcome, {name}"
"""


def status_kib() -> dict:
    """VmRSS and its parts (RssAnon: heap; RssFile, RssShmem: the mapped
    database file) from /proc/self/status, in KiB."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(rest.split()[0])
    if "VmRSS" not in out:
        raise RuntimeError("no VmRSS in /proc/self/status")
    return out


def main(argv: list) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=100_000)
    ap.add_argument("--bound-mib", type=float, default=64.0,
                    help="allowed VmRSS growth (default %(default)s)")
    ap.add_argument("--anon-bound-mib", type=float, default=8.0,
                    help="allowed RssAnon (heap) growth (default %(default)s)")
    ap.add_argument("--db", help="database directory (default: a temporary one)")
    args = ap.parse_args(argv)

    # On tmpfs the commits' fsyncs cost nothing: this measures memory, not
    # the disk (on /tmp of a real disk, the same run takes minutes).
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = tempfile.mkdtemp(prefix="py-memory-", dir=shm)
    path = args.db or os.path.join(tmp, "db")
    t0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    try:
        with libprofile.open(path, clock=lambda: t0, nometasync=True) as db:
            db.rules.load(RULES, name="bench.rules")
            g = db.guests.add("Warm Up", email="warm@example.com")
            g.prefs["room.floor"] = "7"

            # Warm up: caches, cffi type objects, the first map pages.
            for i in range(1000):
                db.guests.get(g.id)
                db.fire("check_in", guest=g.id, event_id=f"warm-{i}", room="701")
            gc.collect()
            before = status_kib()

            last = g.id  # only the newest id: a growing list would be our own "leak"
            for i in range(args.iterations):
                step = i % 3
                if step == 0:
                    last = db.guests.add(f"Guest {i}", email=f"g{i}@example.com").id
                elif step == 1:
                    db.guests.get(last)
                else:
                    db.fire("check_in", guest=last, event_id=f"ev-{i}", room="701")
            gc.collect()
            after = status_kib()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    growth = after["VmRSS"] - before["VmRSS"]
    bound = int(args.bound_mib * 1024)
    mib = lambda kib: f"{kib / 1024:.1f} MiB"  # noqa: E731
    print(f"py_memory: {args.iterations} calls (add/get/fire)")
    print(f"py_memory: RSS before {mib(before['VmRSS'])}, after {mib(after['VmRSS'])}, "
          f"growth {mib(growth)} (bound {args.bound_mib:g} MiB)")
    parts = [f"{k} {mib(after.get(k, 0) - before.get(k, 0))}"
             for k in ("RssAnon", "RssFile", "RssShmem") if k in after]
    print("py_memory: growth by kind: " + ", ".join(parts))
    anon = after.get("RssAnon", 0) - before.get("RssAnon", 0)
    failed = False
    if growth > bound:
        print("py_memory: FAIL: resident memory grew beyond the bound", file=sys.stderr)
        failed = True
    if anon > args.anon_bound_mib * 1024:
        print(f"py_memory: FAIL: the heap (RssAnon) grew by {mib(anon)}, more than "
              f"{args.anon_bound_mib:g} MiB", file=sys.stderr)
        failed = True
    if failed:
        return 1
    print("py_memory: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
