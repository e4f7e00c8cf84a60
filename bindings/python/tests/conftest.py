"""Fixtures: a fresh database per test in pytest's tmp_path, with a clock
the test controls (like tests/helpers.h on the C side)."""

import datetime as dt
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))           # bindings/python
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

import libprofile  # noqa: E402

# 2026-11-23 09:00:00 UTC, as T0 in tests/helpers.h.
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A clock the test moves: clock.now += dt.timedelta(hours=2)."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "db")


@pytest.fixture
def db(db_path, clock):
    d = libprofile.open(db_path, clock=clock)
    yield d
    d.close()


@pytest.fixture
def guest(db):
    return db.guests.add("Zhuang Wei", email="zw@example.com", phone="+853 6123 4567",
                         language="zh", tier="gold", tags=["advertising"])


FLOOR_RULES = """
rule floor-preference
  on reservation, check_in
  when pref room.floor
  notify front_desk high "Assign a room on floor {pref room.floor}"

rule flowers
  on check_in
  when pref amenity.flower
  notify housekeeping normal within 2h "Place fresh {pref amenity.flower} in room {room}"

rule sichuan-food
  on check_in
  when pref dining.cuisine = sichuan
  notify restaurant normal "Suggest Sichuan dishes to {name}"
"""


@pytest.fixture
def rules(db):
    db.rules.load(FLOOR_RULES, name="test.rules")
    return db.rules


# Two properties of one chain (test_chain.py, test_sync.py).

@pytest.fixture
def macau(tmp_path, clock):
    d = libprofile.open(str(tmp_path / "macau"), clock=clock, property="macau")
    yield d
    d.close()


@pytest.fixture
def lisbon(tmp_path, clock):
    d = libprofile.open(str(tmp_path / "lisbon"), clock=clock, property="lisbon")
    yield d
    d.close()
