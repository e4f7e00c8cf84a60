"""db.journal(): the audit trail and change feed from Python."""

import datetime as dt
import uuid

import pytest

import libprofile
from conftest import T0


def test_entries_in_order_with_content(db, clock, rules):
    g = db.guests.add("Ana Lima", email="ana@example.com")
    clock.now += dt.timedelta(minutes=5)
    g.prefs.set("amenity.flower", "lily", observed_by="housekeeping", staff="mei")
    g.email = "lima@example.org"
    db.guests.update(g)

    it = db.journal()
    assert isinstance(it, libprofile.JournalIterator)
    entries = list(it)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.op for e in entries] == ["rules.load", "guest.put", "pref.set", "guest.put"]
    load, created, pref, update = entries
    assert load.ref == "test.rules" and load.fields == {"rules": "3"}
    assert load.guest is None
    assert isinstance(created, libprofile.JournalEntry)
    assert created.guest == g.id and isinstance(created.guest, uuid.UUID)
    assert created.time == T0 and created.time.tzinfo is not None
    assert created.fields["name"] == "Ana Lima"
    assert created.fields["email"] == "ana@example.com"
    assert pref.time == T0 + dt.timedelta(minutes=5)
    assert pref.actor == "housekeeping/mei"
    assert pref.ref == "amenity.flower"
    assert pref.fields["value"] == "lily"
    assert update.fields == {"email": "lima@example.org",
                             "email.old": "ana@example.com"}
    assert db.journal_last_seq() == 4


def test_since_guest_filter_and_follow(db, guest):
    other = db.guests.add("Bo Chen")
    guest.prefs["room.floor"] = "10"
    other.prefs["room.floor"] = "3"

    mine = list(db.journal(guest=guest.id))
    assert [e.seq for e in mine] == [1, 3]
    assert all(e.guest == guest.id for e in mine)
    assert [e.seq for e in db.journal(since=2)] == [3, 4]
    assert list(db.journal(since=1, guest=str(other.id)))[0].seq == 2

    # A follower keeps its iterator: new commits appear on the next pass.
    feed = db.journal(since=db.journal_last_seq())
    assert list(feed) == []
    guest.prefs["room.view"] = "sea"
    new = list(feed)
    assert [e.op for e in new] == ["pref.set"] and new[0].ref == "room.view"
    assert feed.last_seq == new[0].seq
    feed.close()
    assert list(feed) == []


def test_refire_and_rejected_calls_journal_nothing(db, guest, rules):
    guest.prefs["room.floor"] = "10"
    db.fire("check_in", guest=guest.id, event_id="res-1", room="1012",
            arrival=dt.date(2026, 11, 23), departure=dt.date(2026, 11, 25))
    ops = [e.op for e in db.journal(since=3)]
    assert ops == ["event.fire", "stay.add"]
    last = db.journal_last_seq()
    db.fire("check_in", guest=guest.id, event_id="res-1", room="1012",
            arrival=dt.date(2026, 11, 23), departure=dt.date(2026, 11, 25))
    with pytest.raises(libprofile.InvalidInput):
        db.guests.add("X", email="no-at-sign")
    with pytest.raises(libprofile.NotFound):
        del guest.prefs["no.such"]
    assert db.journal_last_seq() == last


def test_prompt_transitions_name_the_prompt(db, guest, rules):
    guest.prefs["room.floor"] = "10"
    (p,) = db.fire("reservation", guest=guest.id, event_id="res-2")
    p.ack("mei")
    p.dismiss("mei", "guest asked for another floor")
    ack, dismiss = list(db.journal(since=db.journal_last_seq() - 2))
    assert ack.op == "prompt.ack" and ack.object == p.id
    assert ack.actor == "front_desk/mei" and ack.ref == "res-2"
    assert dismiss.fields["reason"] == "guest asked for another floor"
    assert dismiss.fields["status.old"] == "acknowledged"


def test_trim_and_arguments(db, guest):
    guest.prefs["room.floor"] = "10"
    guest.prefs["room.view"] = "sea"
    assert db.journal_trim(3) == 2
    entries = list(db.journal())
    assert [e.seq for e in entries] == [3, 4]
    assert entries[-1].op == "journal.trim"
    assert entries[-1].fields == {"before_seq": "3", "removed": "2"}
    with pytest.raises(ValueError):
        db.journal(since=-1)
    with pytest.raises(TypeError):
        db.journal(since="3")
    with pytest.raises(libprofile.InvalidInput):
        db.journal(guest=uuid.UUID(int=0))


def test_closed_database_raises(db_path, clock):
    d = libprofile.open(db_path, clock=clock)
    d.guests.add("Ana Lima")
    it = d.journal()
    first = next(it)
    d.close()
    with pytest.raises(libprofile.Closed):
        next(it)
    assert first.op == "guest.put"      # entries are plain values
    it.close()
