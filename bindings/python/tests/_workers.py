"""Worker processes for the concurrency tests (test_concurrency.py).

They run under the multiprocessing "spawn" start method: each is a fresh
interpreter that imports this module and opens the database itself (a
pf_db must never be used after fork()).  sys.path, which spawn passes on,
already holds bindings/python and this directory.
"""

import libprofile


def update_field(path, gid, field, prefix, rounds, barrier, results):
    """Change one field of guest `gid` `rounds` times, each time through a
    fresh Guest object and save().  Before each change, check that the
    field still holds what this worker last wrote: another worker's
    update of a *different* field must not have put an older value back.
    Puts (field, number of lost writes, last value written) on `results`."""
    lost = 0
    last = None
    with libprofile.open(path) as db:
        barrier.wait()
        for i in range(rounds):
            g = db.guests.get(gid)
            if last is not None and getattr(g, field) != last:
                lost += 1
            last = f"{prefix}{i}"
            setattr(g, field, last)
            g.save()
    results.put((field, lost, last))


def get_or_add_race(path, rounds, barrier, results):
    """For each round, wait for the other worker, then get_or_add the same
    new e-mail.  Puts (round, guest id, created) on `results`."""
    with libprofile.open(path) as db:
        for r in range(rounds):
            barrier.wait()
            g, created = db.guests.get_or_add(f"Race Guest {r}",
                                              email=f"race{r}@example.com")
            results.put((r, g.id, created))
