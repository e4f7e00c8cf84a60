"""db.guests.update (partial, atomic), get_or_add, find's truncation flag
and the country field (issue 9, items 3 and 4)."""

import datetime as dt

import pytest

import libprofile
from libprofile._native import lib as _lib

from conftest import T0


# ------------------------------------------------------------------ update
def test_update_by_id_changes_only_the_named_fields(db, guest, clock):
    clock.now = T0 + dt.timedelta(minutes=3)
    g = db.guests.update(guest.id, email="wei@example.mo", country="MAC", tags=[])
    assert isinstance(g, libprofile.Guest) and g is not guest
    assert (g.email, g.country, g.tags) == ("wei@example.mo", "MAC", [])
    assert (g.name, g.phone, g.language, g.tier) == \
        ("Zhuang Wei", "+853 6123 4567", "zh", "gold")
    assert g.updated == clock.now
    assert db.guests.update(str(guest.id), phone=None).phone is None   # None clears
    assert db.guests.get(guest.id).email == "wei@example.mo"


def test_update_a_guest_object_with_fields_on_top(db, guest):
    stale = db.guests.get(guest.id)
    db.guests.update(guest.id, language="pt")          # someone else's change
    stale.tier = "vip"
    assert db.guests.update(stale, loyalty_no="LX-1") is stale
    assert (stale.tier, stale.loyalty_no, stale.language) == ("vip", "LX-1", "pt")
    assert stale.refresh().language == "pt"            # not put back to "zh"


def test_update_journal_records_only_the_changed_fields(db, guest):
    seq = db.journal_last_seq()
    guest.country = "MAC"
    guest.save()
    entries = list(db.journal(since=seq))
    assert [e.op for e in entries] == ["guest.put"]
    assert entries[0].fields == {"country": "MAC", "country.old": None}


def test_update_nothing_changed_is_a_reread(db, guest):
    before = guest.updated
    assert guest.save().updated == before
    assert db.guests.update(guest.id).id == guest.id


def test_update_errors(db, guest):
    import uuid
    with pytest.raises(TypeError, match="writable"):
        db.guests.update(guest.id, created=T0)
    with pytest.raises(TypeError, match="writable"):
        db.guests.update(guest.id, nickname="Wei")
    with pytest.raises(TypeError):
        db.guests.update(guest.id, tags="press")
    with pytest.raises(libprofile.InvalidInput):
        db.guests.update(guest.id, name="")
    with pytest.raises(libprofile.InvalidInput, match="country"):
        db.guests.update(guest.id, country="Macau")
    with pytest.raises(libprofile.NotFound):
        db.guests.update(uuid.uuid4(), name="Nobody")
    other = db.guests.add("Ana Lima", external_id="PMS-1")
    with pytest.raises(libprofile.Exists):
        db.guests.update(guest.id, external_id="PMS-1")
    assert db.guests.get(guest.id).external_id is None and other.external_id == "PMS-1"
    assert db.guests.get(guest.id).name == "Zhuang Wei"        # nothing stored


# ------------------------------------------------------------- get_or_add
def test_get_or_add_creates_then_finds(db):
    g, created = db.guests.get_or_add("Zhuang Wei", email="zw@example.com",
                                      phone="+853 6123 4567", language="zh",
                                      tier="gold", tags=["advertising"], country="MAC",
                                      birth_date=dt.date(1980, 2, 2))
    assert created and isinstance(g, libprofile.Guest)
    assert (g.name, g.email, g.language, g.tier, g.tags, g.country, g.birth_date) == \
        ("Zhuang Wei", "zw@example.com", "zh", "gold", ["advertising"], "MAC",
         dt.date(1980, 2, 2))
    assert db.guests.get(g.id) == g
    # Again, by e-mail in another case: the stored guest, unchanged.
    h, created = db.guests.get_or_add("Z. Wei", email="ZW@Example.com", tier="vip")
    assert not created and h == g
    assert (h.name, h.tier) == ("Zhuang Wei", "gold")
    assert [x.id for x in db.guests.find("zw@example.com")] == [g.id]


def test_get_or_add_matches_on_the_first_key_given(db):
    a = db.guests.add("Ana Lima", email="ana@example.com", phone="+351 21 000 0001",
                      external_id="PMS-7")
    # external_id decides: a new id means a new guest, even with Ana's e-mail.
    b, created = db.guests.get_or_add("Ana L.", external_id="PMS-8", email="ana@example.com")
    assert created and b != a and b.external_id == "PMS-8"
    c, created = db.guests.get_or_add("Ana", external_id="PMS-7", email="new@example.com")
    assert not created and c == a and c.email == "ana@example.com"
    # by phone digits when neither external_id nor e-mail is given
    d, created = db.guests.get_or_add("Ana", phone="351210000001")
    assert not created and d == a


def test_get_or_add_errors(db):
    with pytest.raises(libprofile.InvalidInput, match="external_id, email or phone"):
        db.guests.get_or_add("Only A Name")
    with pytest.raises(libprofile.InvalidInput):
        db.guests.get_or_add("Bad", email="new@example.com", country="mac")
    assert db.guests.find("new@example.com") == []
    db.guests.add("Twin One", email="twins@example.com")
    db.guests.add("Twin Two", email="twins@example.com")
    with pytest.raises(libprofile.Exists) as ei:
        db.guests.get_or_add("Twin", email="twins@example.com")
    assert ei.value.code == _lib.PF_EEXIST and "more than one" in str(ei.value)
    with pytest.raises(TypeError):
        db.guests.get_or_add(42, email="x@example.com")


# ------------------------------------------------------------------ find
def test_find_reports_truncation(db):
    limit = libprofile.FIND_LIMIT
    assert limit == _lib.PF_FIND_LIMIT == 100
    for i in range(limit):
        db.guests.add(f"Tanaka {i:03d}")
    found = db.guests.find("tanaka")
    assert isinstance(found, libprofile.GuestList) and isinstance(found, list)
    assert len(found) == limit and found.truncated is False
    db.guests.add("Tanaka Extra")
    found = db.guests.find("tanaka")
    assert len(found) == limit and found.truncated is True
    assert "truncated=True" in repr(found)
    none = db.guests.find("nobody")
    assert none == [] and none.truncated is False


# ---------------------------------------------------------------- country
def test_country_round_trip(db):
    g = db.guests.add("Maria Rossi", country="ITA")
    assert g.country == "ITA" and db.guests.get(g.id).country == "ITA"
    assert db.guests.add("No Country").country is None
    g.country = "PRT"
    assert g.save().country == "PRT"
    g.country = None
    assert g.save().country is None
    assert db.guests.export(g.id)["guest"].get("country") is None
    with pytest.raises(libprofile.InvalidInput, match="country"):
        db.guests.add("X", country="IT")
    with pytest.raises(TypeError):
        db.guests.add("X", country=380)
