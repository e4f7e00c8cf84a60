"""Duplicates, merge/unmerge, erasure, consent, retention, backup and
compaction through the Python binding."""

import datetime as dt
import os
import uuid

import pytest

import libprofile

from conftest import T0


def _file_bytes(directory):
    with open(os.path.join(directory, "data.mdb"), "rb") as f:
        return f.read()


def test_duplicates_and_not_duplicate_mark(db):
    a = db.guests.add("Maria Santos", email="maria@example.com", phone="+351 912 345 678")
    b = db.guests.add("Maria Santso", phone="351912345678")
    c = db.guests.add("Other", email="MARIA@example.com")
    found = db.guests.duplicates(a)
    assert [d.guest for d in found] == [b.id, c.id]
    assert found[0].reasons == ("phone", "similar_name") and found[0].score == 90
    assert found[1].reasons == ("email",) and found[1].score == 80
    assert isinstance(found[0], libprofile.Duplicate)

    db.guests.not_duplicate(a, c.id)
    assert [d.guest for d in db.guests.duplicates(a.id)] == [b.id]
    assert [d.guest for d in db.guests.duplicates(c)] == []
    with pytest.raises(libprofile.InvalidInput):
        db.guests.not_duplicate(a, a)
    with pytest.raises(libprofile.NotFound):
        db.guests.duplicates(uuid.uuid4())


def test_merge_then_unmerge_restores_both(db, rules):
    keep = db.guests.add("Grace Ho", email="grace@example.com")
    dup = db.guests.add("Grace Ho", phone="+852 9123 4567", birth_date=dt.date(1980, 2, 2))
    keep.prefs.set("room.floor", "3", observed_by="front_desk")
    dup.prefs.set("amenity.flower", "orchid", observed_by="housekeeping")
    dup.prefs.set("room.floor", "3", observed_by="housekeeping")
    db.stays.add(dup, dt.date(2025, 6, 1), dt.date(2025, 6, 4), room="12")
    prompts = db.fire("reservation", guest=dup, event_id="res-1")
    before_keep, before_dup = db.guests.get(keep.id), db.guests.get(dup.id)

    merge_id = db.guests.merge(keep, dup)
    assert isinstance(merge_id, uuid.UUID)
    merged = db.guests.get(keep.id)
    assert dict(merged.prefs) == {"amenity.flower": "orchid", "room.floor": "3"}
    assert merged.phone == "+852 9123 4567" and merged.stays == 1
    assert merged.prefs.get_pref("room.floor").count == 2
    assert db.prompts.get(prompts[0].id).guest == keep.id
    with pytest.raises(libprofile.NotFound):
        db.guests.get(dup.id)

    db.guests.unmerge(merge_id)
    after_keep, after_dup = db.guests.get(keep.id), db.guests.get(dup.id)
    for before, after in ((before_keep, after_keep), (before_dup, after_dup)):
        for attr in ("name", "email", "phone", "birth_date", "stays", "updated"):
            assert getattr(before, attr) == getattr(after, attr)
        assert dict(before.prefs) == dict(after.prefs)
    assert [s.room for s in db.stays.list(dup)] == ["12"]
    assert db.prompts.get(prompts[0].id).guest == dup.id
    with pytest.raises(libprofile.NotFound):
        db.guests.unmerge(merge_id)
    with pytest.raises(libprofile.InvalidInput):
        db.guests.merge(keep, keep)
    with pytest.raises(libprofile.NotFound):
        db.guests.merge(keep, uuid.uuid4())
    ops = [e.op for e in db.journal(guest=keep.id)]
    assert "guest.merge" in ops and "guest.unmerge" in ops


def test_erase_then_compact_removes_personal_bytes(db, db_path, tmp_path, rules):
    g = db.guests.add("Xiomara Quintanilla", email="xiomara.q@example.org",
                      phone="+1 415 555 0199")
    other = db.guests.add("Bartholomew Keeping", email="bart@example.com")
    g.prefs.set("room.floor", "7", observed_by="front_desk", note="Xiomara asked")
    db.fire("check_in", guest=g, event_id="ci-1")
    assert b"xiomara.q@example.org" in _file_bytes(db_path)

    db.guests.erase(g.id)
    with pytest.raises(libprofile.NotFound):
        db.guests.get(g.id)
    assert db.guests.find("xiomara.q@example.org") == []
    dest = tmp_path / "compacted"
    db.compact(dest)
    data = _file_bytes(dest)
    for secret in (b"xiomara", b"Xiomara", b"Quintanilla", b"14155550199", b"415 555"):
        assert secret not in data
    assert b"bart@example.com" in data
    with libprofile.open(str(dest)) as copy:
        assert copy.guests.get(other.id).name == "Bartholomew Keeping"
    with pytest.raises(libprofile.Exists):
        db.compact(dest)                      # not empty any more


def test_backup_is_a_working_copy(db, tmp_path, guest):
    guest.prefs["room.floor"] = "9"
    dest = tmp_path / "backup"
    db.backup(str(dest))
    assert oct(os.stat(dest / "data.mdb").st_mode & 0o777) == "0o600"
    with libprofile.open(str(dest), readonly=True) as copy:
        g = copy.guests.get(guest.id)
        assert g.email == "zw@example.com" and g.prefs["room.floor"] == "9"
    with pytest.raises(libprofile.Exists):
        db.backup(str(dest))


def test_set_consent_is_journaled(db, guest):
    db.guests.set_consent(guest, "profiling,marketing", actor="front_desk/luca")
    assert db.guests.get(guest.id).consent == (libprofile.Consent.PROFILING |
                                                libprofile.Consent.MARKETING)
    db.guests.set_consent(guest.id, libprofile.Consent.NONE)
    entries = [e for e in db.journal(guest=guest.id) if e.op == "guest.consent"]
    assert [(e.fields["consent.old"], e.fields["consent"]) for e in entries] == [
        ("profiling", "profiling,marketing"), ("profiling,marketing", "none")]
    assert entries[0].actor == "front_desk/luca"
    with pytest.raises(libprofile.InvalidInput):
        db.guests.set_consent(guest, "everything")
    with pytest.raises(libprofile.InvalidInput):
        db.guests.set_consent(guest, 8)


def test_retention_run_anonymises_old_profiles(db, clock):
    clock.now = T0 - dt.timedelta(days=400)
    old = db.guests.add("Old Guest", email="old@example.com")
    recent = db.guests.add("Recent Guest", email="recent@example.com")
    clock.now = T0
    old.prefs["room.floor"] = "2"
    db.stays.add(old, dt.date(2025, 1, 1), dt.date(2025, 1, 5))
    db.stays.add(recent, dt.date(2026, 10, 1), dt.date(2026, 10, 5))

    report = db.retention_run(365, actor="system/retention")
    assert report == libprofile.RetentionReport(examined=2, anonymised=1)
    g = db.guests.get(old.id)
    assert g.name == "[anonymised]" and g.email is None and dict(g.prefs) == {}
    assert g.stays == 1 and len(db.stays.list(old)) == 1
    assert db.guests.get(recent.id).email == "recent@example.com"
    assert db.retention_run(365).anonymised == 0
    with pytest.raises(libprofile.InvalidInput):
        db.retention_run(0)
    with pytest.raises(TypeError):
        db.retention_run("30")
