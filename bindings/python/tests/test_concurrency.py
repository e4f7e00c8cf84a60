"""Two processes on one database: updates of different fields never undo
each other (issue 9, item 3), and racing get_or_add calls for the same new
guest make one profile (item 4).  Workers: _workers.py."""

import multiprocessing

import _workers

import libprofile

# spawn, not fork: a pf_db must not be used after fork(), and a fresh
# interpreter per worker is what two kiosks are.
CTX = multiprocessing.get_context("spawn")
TIMEOUT = 120


def run_workers(target, args_list, barrier_parties, results_expected):
    barrier = CTX.Barrier(barrier_parties, timeout=TIMEOUT)
    results = CTX.Queue()
    procs = [CTX.Process(target=target, args=(*args, barrier, results))
             for args in args_list]
    for p in procs:
        p.start()
    got = [results.get(timeout=TIMEOUT) for _ in range(results_expected)]
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    return got


def test_concurrent_updates_of_different_fields_both_survive(db_path):
    rounds = 150
    with libprofile.open(db_path) as db:
        gid = db.guests.add("Name start", loyalty_no="LX-start").id
    got = run_workers(_workers.update_field,
                      [(db_path, gid, "name", "Name ", rounds),
                       (db_path, gid, "loyalty_no", "LX-", rounds)],
                      2, 2)
    lost = {field: n for field, n, _ in got}
    assert lost == {"name": 0, "loyalty_no": 0}, \
        f"writes undone by the other process's update: {lost}"
    with libprofile.open(db_path) as db:
        g = db.guests.get(gid)
        assert g.name == f"Name {rounds - 1}"
        assert g.loyalty_no == f"LX-{rounds - 1}"


def test_racing_get_or_add_makes_one_profile(db_path):
    rounds = 40
    libprofile.open(db_path).close()
    got = run_workers(_workers.get_or_add_race,
                      [(db_path, rounds), (db_path, rounds)], 2, 2 * rounds)
    by_round = {}
    for r, gid, created in got:
        by_round.setdefault(r, []).append((gid, created))
    assert len(by_round) == rounds
    with libprofile.open(db_path) as db:
        for r, pair in sorted(by_round.items()):
            ids = {gid for gid, _ in pair}
            assert len(ids) == 1, f"round {r}: two profiles {ids}"
            assert sorted(c for _, c in pair) == [False, True], f"round {r}: {pair}"
            assert [g.id for g in db.guests.find(f"race{r}@example.com")] == list(ids)
