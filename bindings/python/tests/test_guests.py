"""db.guests, Guest objects, Prefs and stays."""

import datetime as dt
import uuid

import pytest

import libprofile
from libprofile._native import lib as _lib

from conftest import T0


def test_add_get_round_trip(db):
    g = db.guests.add("Maria Rossi", email="maria@example.it", phone="+39 06 5555 0114",
                      language="it", loyalty_no="LX-150888", tier="platinum",
                      tags=["press", "returning"], birth_date=dt.date(1958, 3, 8),
                      consent=libprofile.Consent.PROFILING | libprofile.Consent.MARKETING)
    assert isinstance(g.id, uuid.UUID) and g.id.version == 4
    h = db.guests.get(g.id)
    assert h == g and h is not g
    assert (h.name, h.email, h.phone, h.language, h.loyalty_no) == \
        ("Maria Rossi", "maria@example.it", "+39 06 5555 0114", "it", "LX-150888")
    assert h.tier == "platinum"
    assert h.tags == ["press", "returning"]
    assert h.birth_date == dt.date(1958, 3, 8)
    assert h.consent == libprofile.Consent.PROFILING | libprofile.Consent.MARKETING
    assert h.created == T0 and h.updated == T0
    assert h.created.tzinfo == dt.timezone.utc
    assert h.stays == 0


def test_defaults_and_str_ids(db):
    g = db.guests.add("Only A Name")
    assert g.email is None and g.phone is None and g.birth_date is None
    assert g.tier == "none" and g.tags == []
    assert g.consent == libprofile.Consent.PROFILING
    assert db.guests.get(str(g.id)).id == g.id
    assert db.guests[g.id].name == "Only A Name"
    assert db.guests.get(g).id == g.id          # an object with .id works too


@pytest.mark.parametrize("name,query", [
    ("莊偉", "莊"),
    ("Élodie Martin", "élo"),
    ("Élodie Martin", "ELO"),
    ("Jürgen Becker", "jür"),
    ("Zhuang Wei", "wei"),
])
def test_unicode_names_round_trip_and_find(db, name, query):
    g = db.guests.add(name)
    back = db.guests.get(g.id)
    assert back.name == name
    assert isinstance(back.name, str)
    assert [x.id for x in db.guests.find(query)] == [g.id]


def test_find_by_contacts(db, guest):
    assert [g.id for g in db.guests.find("ZW@example.com")] == [guest.id]
    assert [g.id for g in db.guests.find("85361234567")] == [guest.id]
    assert [g.id for g in db.guests.find("zhu")] == [guest.id]
    assert db.guests.find("nobody@example.com") == []
    found = db.guests.find("zw@example.com")[0]
    assert isinstance(found, libprofile.Guest) and found.tags == ["advertising"]


def test_get_unknown_is_not_found_and_key_error(db):
    with pytest.raises(libprofile.NotFound) as ei:
        db.guests.get(uuid.uuid4())
    assert isinstance(ei.value, KeyError)
    assert ei.value.code == _lib.PF_ENOTFOUND == -1
    assert "pf_guest_get" in ei.value.message
    with pytest.raises(KeyError):
        db.guests[str(uuid.uuid4())]


def test_save_writes_changed_fields_only(db, guest, clock):
    a = db.guests.get(guest.id)
    b = db.guests.get(guest.id)
    clock.now = T0 + dt.timedelta(minutes=5)
    a.email = "wei@example.mo"
    a.tags.append("vip_lounge")              # in-place changes count too
    a.save()
    assert a.updated == clock.now
    b.phone = "+853 6000 0000"                 # b never saw a's change
    db.guests.update(b)
    now = db.guests.get(guest.id)
    assert now.email == "wei@example.mo"       # kept: b did not change it
    assert now.tags == ["advertising", "vip_lounge"]
    assert now.phone == "+853 6000 0000"
    assert db.guests.find("zw@example.com") == []   # the old e-mail index is gone
    assert [g.id for g in db.guests.find("wei@example.mo")] == [guest.id]


def test_refresh_drops_unsaved_changes(db, guest):
    guest.name = "Someone Else"
    guest.refresh()
    assert guest.name == "Zhuang Wei"


@pytest.mark.parametrize("kwargs,fragment", [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Ok", "tier": "diamond"}, "diamond"),
    ({"name": "Ok", "tags": ["Not A Word"]}, "tag"),
    ({"name": "Ok", "email": "no-at-sign"}, "email"),
])
def test_invalid_input_from_the_library(db, kwargs, fragment):
    with pytest.raises(libprofile.InvalidInput) as ei:
        db.guests.add(**kwargs)
    assert isinstance(ei.value, ValueError)
    assert ei.value.code == _lib.PF_EINVAL == -3
    assert fragment in str(ei.value)
    assert db.guests.find("Ok") == []          # nothing stored


@pytest.mark.parametrize("kwargs", [
    {"name": "Nul\0Byte"},
    {"name": "Lone \udc80 surrogate"},
])
def test_invalid_text_refused_by_the_binding(db, kwargs):
    with pytest.raises(libprofile.InvalidInput):
        db.guests.add(**kwargs)


def test_wrong_types_are_type_errors(db, guest):
    with pytest.raises(TypeError):
        db.guests.add(42)
    with pytest.raises(TypeError):
        db.guests.add("X", birth_date="1990-01-01")
    with pytest.raises(TypeError):
        db.guests.add("X", tags="press")       # a str is not a list of tags
    with pytest.raises(TypeError):
        db.guests.get(12345)


def test_bad_uuid_text(db):
    with pytest.raises(libprofile.InvalidInput):
        db.guests.get("not-a-uuid")


def test_stays_add_and_list(db, guest):
    db.stays.add(guest, dt.date(2026, 11, 20), dt.date(2026, 11, 23), room="1012",
                 property="MFM1", party=2)
    s = db.stays.add(guest.id, dt.date(2025, 5, 1), dt.date(2025, 5, 3))
    assert s.arrival == dt.date(2025, 5, 1)
    db.stays.add(str(guest.id), dt.date(2026, 11, 20), dt.date(2026, 11, 24), room="1014")
    stays = db.stays.list(guest)
    assert [x.arrival for x in stays] == [dt.date(2025, 5, 1), dt.date(2026, 11, 20)]
    assert stays[1].departure == dt.date(2026, 11, 24) and stays[1].room == "1014"
    assert stays[1].guest == guest.id
    assert guest.refresh().stays == 2          # same arrival counted once
    assert guest.stay_list() == stays


def test_stay_errors(db, guest):
    with pytest.raises(libprofile.InvalidInput):         # departs before arriving
        db.stays.add(guest, dt.date(2026, 11, 23), dt.date(2026, 11, 22))
    with pytest.raises(TypeError):
        db.stays.add(guest, dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc),
                     dt.date(2026, 11, 24))
    with pytest.raises(libprofile.NotFound):
        db.stays.add(uuid.uuid4(), dt.date(2026, 11, 23), dt.date(2026, 11, 24))
    with pytest.raises(libprofile.NotFound):
        db.stays.list(uuid.uuid4())
    assert db.stays.list(guest) == []


def test_stays_add_many(db, guest):
    other = db.guests.add("Batch Other")
    n = db.stays.add_many([
        libprofile.Stay(guest=guest.id, arrival=dt.date(2025, 1, 1),
                        departure=dt.date(2025, 1, 4), room="12"),
        libprofile.Stay(guest=other.id, arrival=dt.date(2025, 2, 1),
                        departure=dt.date(2025, 2, 2), party=2),
        libprofile.Stay(guest=guest.id, arrival=dt.date(2025, 1, 1),
                        departure=dt.date(2025, 1, 5)),          # same arrival: an update
    ])
    assert n == 3
    assert [(s.arrival, s.departure) for s in db.stays.list(guest)] == \
        [(dt.date(2025, 1, 1), dt.date(2025, 1, 5))]
    assert guest.refresh().stays == 1
    assert db.stays.list(other)[0].party == 2
    assert db.stays.add_many([]) == 0


def test_stays_add_many_is_atomic(db, guest):
    good = libprofile.Stay(guest=guest.id, arrival=dt.date(2025, 1, 1),
                           departure=dt.date(2025, 1, 4))
    ghost = libprofile.Stay(guest=uuid.uuid4(), arrival=dt.date(2025, 3, 1),
                            departure=dt.date(2025, 3, 2))
    with pytest.raises(libprofile.NotFound) as e:
        db.stays.add_many([good, ghost])
    assert e.value.index == 1
    assert "stays[1]" in str(e.value)
    bad = libprofile.Stay(guest=guest.id, arrival=dt.date(2025, 3, 2),
                          departure=dt.date(2025, 3, 1))
    with pytest.raises(libprofile.InvalidInput) as e:
        db.stays.add_many([good, good, bad])
    assert e.value.index == 2
    assert db.stays.list(guest) == []
    assert guest.refresh().stays == 0
    with pytest.raises(TypeError):
        db.stays.add_many([good, "not a stay"])
