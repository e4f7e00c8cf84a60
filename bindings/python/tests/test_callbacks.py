"""db.subscribe() and the Python clock."""

import contextlib
import datetime as dt
import sys
import threading

import pytest

import libprofile

from conftest import T0


@contextlib.contextmanager
def unraisable():
    """Collect what reaches sys.unraisablehook.  (Set inside the test:
    pytest installs its own hook for each test phase.)"""
    seen = []
    old, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        yield seen
    finally:
        sys.unraisablehook = old


def test_subscribe_by_department_and_unsubscribe(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    guest.prefs["amenity.flower"] = "lily"
    front, every = [], []
    sub = db.subscribe("front_desk", front.append)
    assert isinstance(sub, libprofile.Subscription) and sub.active
    db.subscribe(None, every.append)
    ps = db.fire("check_in", guest=guest.id, event_id="e1", room="1012")
    assert [p.id for p in front] == [ps[0].id]
    assert [p.id for p in every] == [p.id for p in ps]
    assert isinstance(front[0], libprofile.Prompt) and front[0].text == "Assign a room on floor 10"
    sub()                                      # calling it unsubscribes
    assert not sub.active
    sub.unsubscribe()                          # twice is a no-op
    db.fire("check_in", guest=guest.id, event_id="e2", room="1012")
    assert len(front) == 1 and len(every) == 4


def test_callback_sees_the_committed_prompt(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    seen = []
    db.subscribe("front_desk", lambda p: seen.append(db.prompts.get(p.id).status))
    db.fire("check_in", guest=guest.id, event_id="e1")
    assert seen == ["pending"]


def test_exception_in_callback_is_reported_not_fatal(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    guest.prefs["amenity.flower"] = "lily"
    after = []

    def broken(p):
        raise RuntimeError("subscriber bug: " + p.department)

    db.subscribe(None, broken)
    db.subscribe(None, after.append)
    with unraisable() as hooked:
        ps = db.fire("check_in", guest=guest.id, event_id="e1", room="1012")
    assert len(ps) == 2                        # the fire still succeeded
    assert len(db.prompts.pending("front_desk")) == 1
    assert len(after) == 2                     # the next subscriber still ran
    errors = list(db.callback_errors)
    assert [str(e) for e in errors] == ["subscriber bug: front_desk",
                                        "subscriber bug: housekeeping"]
    assert [type(h.exc_value) for h in hooked] == [RuntimeError, RuntimeError]
    assert hooked[0].exc_traceback is not None


def test_no_subscribe_or_close_inside_a_callback(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    caught = []

    def meddle(p):
        for action in (lambda: db.subscribe(None, print), db.close):
            try:
                action()
            except libprofile.Error as e:
                caught.append(str(e))

    db.subscribe(None, meddle)
    with unraisable() as hooked:
        assert len(db.fire("check_in", guest=guest.id, event_id="e1")) == 1
    assert len(caught) == 2 and "inside a callback" in caught[0]
    assert not db.closed and hooked == []


def test_subscription_context_manager_and_bad_arguments(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    got = []
    with db.subscribe("front_desk", got.append) as sub:
        db.fire("check_in", guest=guest.id, event_id="e1")
    assert not sub.active and len(got) == 1
    with pytest.raises(TypeError):
        db.subscribe("front_desk", "not callable")
    with pytest.raises(libprofile.InvalidInput):
        db.subscribe("Front Desk", got.append)


def test_clock_may_return_epoch_seconds(tmp_path):
    with libprofile.open(tmp_path / "db", clock=lambda: 1795424400) as db:
        assert db.now() == T0
        assert db.guests.add("A").created == T0


def test_failing_clock_is_reported_and_system_time_used(tmp_path):
    calls = []

    def clock():
        calls.append(1)
        raise OSError("ntp is down")

    with pytest.warns(RuntimeWarning, match="ntp is down"):
        with libprofile.open(tmp_path / "db", clock=clock) as db:
            now = db.now()
            assert calls
            assert abs((now - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 60
            assert isinstance(db.callback_errors[-1], OSError)


def test_naive_clock_is_reported(tmp_path):
    with pytest.warns(RuntimeWarning, match="naive"):
        with libprofile.open(tmp_path / "db", clock=lambda: dt.datetime(2026, 1, 1)) as db:
            db.now()
            assert isinstance(db.callback_errors[-1], libprofile.InvalidInput)


def test_clock_must_not_use_the_database(tmp_path):
    box = {}

    def clock():
        if "db" in box:
            box["db"].guests.find("x")        # refused: would deadlock a write
        return T0

    with pytest.warns(RuntimeWarning, match="must not use the database"):
        with libprofile.open(tmp_path / "db", clock=clock) as db:
            box["db"] = db
            db.now()


def test_threads_share_a_database(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    errors = []

    def work(n):
        try:
            for i in range(25):
                db.fire("check_in", guest=guest.id, event_id=f"t{n}-{i}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(db.prompts.pending("front_desk")) == 100
