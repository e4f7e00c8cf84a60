"""guest.prefs: the MutableMapping and Prefs.set/get_pref."""

import collections.abc
import datetime as dt

import pytest

import libprofile

from conftest import T0


def test_setitem_records_a_like_by_the_front_desk(db, guest):
    guest.prefs["room.facing"] = "west"
    p = guest.prefs.get_pref("room.facing")
    assert isinstance(p, libprofile.Pref)
    assert (p.value, p.kind, p.department, p.staff, p.note, p.count) == \
        ("west", "like", "front_desk", None, None, 1)
    assert p.first_seen == p.last_seen == T0
    assert guest.prefs["room.facing"] == "west"


def test_set_with_observer_kind_and_counting(db, guest, clock):
    guest.prefs.set("amenity.flower", "lily", observed_by="housekeeping",
                    staff="mei", note="asked twice")
    clock.now = T0 + dt.timedelta(days=1)
    guest.prefs.set("amenity.flower", "lily", observed_by="housekeeping")
    p = guest.prefs.get_pref("amenity.flower")
    assert p.count == 2 and p.first_seen == T0 and p.last_seen == clock.now
    assert p.note == "asked twice"             # kept: no new note given
    guest.prefs.set("amenity.flower", "rose", observed_by="concierge")
    p = guest.prefs.get_pref("amenity.flower")
    assert (p.value, p.count, p.department) == ("rose", 1, "concierge")
    guest.prefs.set("access.hearing", "hard of hearing", kind="need")
    guest.prefs.set("pillow.type", "feather", kind="dislike", observed_by="housekeeping")
    assert guest.prefs.get_pref("access.hearing").kind == "need"
    assert guest.prefs.get_pref("pillow.type").kind == "dislike"


def test_explicit_observation_time(db, guest):
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    guest.prefs.set("room.floor", "10", time=when)
    assert guest.prefs.get_pref("room.floor").first_seen == when
    with pytest.raises(libprofile.InvalidInput):
        guest.prefs.set("room.floor", "11", time=dt.datetime(2026, 1, 2))   # naive


def test_mapping_protocol(db, guest):
    prefs = guest.prefs
    assert isinstance(prefs, collections.abc.MutableMapping)
    prefs["room.floor"] = "10"
    prefs["dining.cuisine"] = "sichuan"
    prefs["amenity.flower"] = "lily"
    assert len(prefs) == 3
    assert list(prefs) == ["amenity.flower", "dining.cuisine", "room.floor"]   # sorted
    assert dict(prefs.items()) == {"amenity.flower": "lily", "dining.cuisine": "sichuan",
                                   "room.floor": "10"}
    assert "room.floor" in prefs and "room.bed" not in prefs
    assert prefs.get("room.bed") is None
    del prefs["room.floor"]
    assert "room.floor" not in prefs and len(prefs) == 2
    with pytest.raises(KeyError):
        del prefs["room.floor"]
    with pytest.raises(libprofile.NotFound):
        prefs["room.floor"]
    assert [p.category for p in prefs.all()] == ["amenity.flower", "dining.cuisine"]
    # the same data through a fresh Guest object
    assert dict(db.guests.get(guest.id).prefs) == dict(prefs)


def test_iterator_is_a_class(db, guest):
    guest.prefs["room.floor"] = "10"
    it = iter(guest.prefs)
    assert isinstance(it, libprofile.PrefIterator)
    assert iter(it) is it
    assert next(it) == "room.floor"
    with pytest.raises(StopIteration):
        next(it)


def test_bad_preferences(db, guest):
    with pytest.raises(libprofile.InvalidInput) as ei:
        guest.prefs["Room.Floor"] = "10"
    assert "category" in str(ei.value)
    with pytest.raises(libprofile.InvalidInput):
        guest.prefs.set("room.floor", "10", kind="love")
    with pytest.raises(libprofile.InvalidInput):
        guest.prefs.set("room.floor", "10", observed_by="Front Desk")
    with pytest.raises(libprofile.InvalidInput):
        guest.prefs["room.floor"] = ""
    assert len(guest.prefs) == 0               # nothing was stored
