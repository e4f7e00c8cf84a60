"""Values already read stay readable after the database is closed (issue 9,
item 5), like a row fetched from sqlite3; only what reaches the database
raises Closed (test_lifecycle.py lists those)."""

import datetime as dt
import uuid

import pytest

import libprofile

from conftest import T0


@pytest.fixture
def maria(db):
    return db.guests.add("Maria Rossi", email="maria@example.it", phone="+39 06 5555 0114",
                         language="it", loyalty_no="LX-150888", tier="platinum",
                         tags=["press", "returning"], birth_date=dt.date(1958, 3, 8),
                         external_id="CRM-0031", country="ITA")


def test_guest_attributes_after_close(db, maria):
    found = db.guests.find("maria@example.it")
    got, created = db.guests.get_or_add("Maria Rossi", email="maria@example.it")
    assert not created
    db.close()
    for g in (maria, found[0], got):
        assert isinstance(g.id, uuid.UUID) and g.id == maria.id
        assert (g.name, g.email, g.phone, g.language, g.loyalty_no) == \
            ("Maria Rossi", "maria@example.it", "+39 06 5555 0114", "it", "LX-150888")
        assert (g.tier, g.tags, g.birth_date) == \
            ("platinum", ["press", "returning"], dt.date(1958, 3, 8))
        assert (g.external_id, g.country) == ("CRM-0031", "ITA")
        assert g.consent == libprofile.Consent.PROFILING
        assert g.created == T0 and g.updated == T0 and g.stays == 0
        assert (g.complaints_open, g.complaints_total, g.not_satisfied_at) == (0, 0, None)
    assert found == [maria] and hash(found[0]) == hash(maria)
    assert "Maria Rossi" in repr(maria) and "closed" in repr(maria)
    # A local change is allowed; writing it is not.
    maria.email = "rossi@example.it"
    assert maria.email == "rossi@example.it"
    with pytest.raises(libprofile.Closed):
        maria.save()
    assert maria.email == "rossi@example.it"


def test_prefs_snapshot_after_close(db, maria, clock):
    maria.prefs.set("amenity.flower", "lily", observed_by="housekeeping", note="asked twice")
    maria.prefs["room.floor"] = "8"
    maria.prefs["room.bed"] = "twin"
    del maria.prefs["room.bed"]
    other = db.guests.get(maria.id)            # read with its preferences
    stale = db.guests.get(maria.id)
    clock.now = T0 + dt.timedelta(hours=1)
    maria.prefs["room.floor"] = "8"            # seen again: count 2
    it = iter(maria.prefs)
    db.close()

    prefs = maria.prefs                        # the property itself works
    assert prefs["room.floor"] == "8" and prefs.get_pref("room.floor").count == 2
    assert prefs.get_pref("room.floor").last_seen == T0 + dt.timedelta(hours=1)
    p = prefs.get_pref("amenity.flower")
    assert (p.value, p.department, p.note) == ("lily", "housekeeping", "asked twice")
    assert dict(prefs) == {"amenity.flower": "lily", "room.floor": "8"}
    assert list(prefs) == ["amenity.flower", "room.floor"] and len(prefs) == 2
    assert "room.floor" in prefs and "room.bed" not in prefs
    assert [x.category for x in prefs.all()] == ["amenity.flower", "room.floor"]
    with pytest.raises(libprofile.NotFound):
        prefs["room.bed"]
    assert prefs.get("room.bed") is None
    assert list(it) == ["amenity.flower", "room.floor"]   # read before close
    assert "room.floor" in repr(prefs) and "closed" in repr(prefs)
    # A guest read from the database carries the preferences of that moment.
    assert dict(other.prefs) == {"amenity.flower": "lily", "room.floor": "8"}
    assert stale.prefs.get_pref("room.floor").count == 1
    for write in (lambda: prefs.set("room.floor", "2"),
                  lambda: prefs.__setitem__("room.floor", "2"),
                  lambda: prefs.__delitem__("room.floor"),
                  lambda: prefs.update({"room.view": "sea"})):
        with pytest.raises(libprofile.Closed):
            write()
    assert prefs["room.floor"] == "8"


def test_prompt_after_close(db, rules, maria):
    maria.prefs["room.floor"] = "8"
    maria.prefs["amenity.flower"] = "lily"
    fired = db.fire("check_in", guest=maria, event_id="res-1", room="818",
                    arrival=dt.date(2026, 11, 23), departure=dt.date(2026, 11, 25))
    pending = db.prompts.pending("housekeeping")
    pending[0].ack("mei")
    preview = db.preview("check_in", guest=maria, room="818")
    db.close()
    by_dept = {p.department: p for p in fired}
    p = by_dept["front_desk"]
    assert (p.text, p.department, p.priority, p.status) == \
        ("Assign a room on floor 8", "front_desk", "high", "pending")
    assert p.guest == maria.id and p.event_id == "res-1" and p.rule == "floor-preference"
    assert isinstance(p.id, uuid.UUID) and p.seq >= 1 and p.open
    assert p.created == T0 and p.due > T0 and p.ack_by is None
    h = pending[0]
    assert (h.text, h.status, h.ack_by, h.ack_at) == \
        ("Place fresh lily in room 818", "acknowledged", "mei", T0)
    assert h.id == by_dept["housekeeping"].id
    assert {x.text for x in preview} >= {"Assign a room on floor 8"}
    assert preview[0].id is None
    assert "closed" in repr(p)
    for op in (lambda: h.done("mei"), lambda: p.ack("lina"),
               lambda: p.dismiss("lina", "left"), p.refresh):
        with pytest.raises(libprofile.Closed):
            op()
    assert h.status == "acknowledged"          # unchanged by the refused calls
