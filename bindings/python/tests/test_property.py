"""A property's name in a hotel chain: open(path, property=...) stores it
once; reopening under another name is refused; Database.property reads it."""
import pytest

import libprofile


def test_a_database_has_no_property_until_named(db_path):
    with libprofile.open(db_path) as db:
        assert db.property is None
    with libprofile.open(db_path, property="macau") as db:
        assert db.property == "macau"


def test_the_name_is_kept_and_another_refused(db_path):
    with libprofile.open(db_path, property="macau") as db:
        gid = db.guests.add("Chan Tai Man").id
    with libprofile.open(db_path) as db:
        assert db.property == "macau"
    with pytest.raises(libprofile.InvalidInput, match="belongs to property 'macau'"):
        libprofile.open(db_path, property="lisbon")
    with libprofile.open(db_path, readonly=True) as db:
        assert db.property == "macau"
        assert db.guests.get(gid).name == "Chan Tai Man"


@pytest.mark.parametrize("name", ["", "Macau", "grand hotel", "x" * 33])
def test_malformed_names_are_refused(tmp_path, name):
    path = tmp_path / "db"
    with pytest.raises(libprofile.InvalidInput, match="property"):
        libprofile.open(str(path), property=name)
    assert not path.exists()


def test_digest_is_equal_for_a_backup_and_follows_shared_changes(db_path, tmp_path, clock):
    copy = str(tmp_path / "copy")
    with libprofile.open(db_path, clock=clock, property="macau") as db:
        g = db.guests.add("Chan Tai Man", email="chan@example.mo")
        g.prefs.set("room.floor", "10", observed_by="front_desk")
        db.backup(copy)
        d = db.digest()
        assert isinstance(d, bytes) and len(d) == 32
    with libprofile.open(copy, clock=clock) as b:
        assert b.digest() == d
        b.guests.get(g.id).prefs.set("amenity.flower", "lily", observed_by="housekeeping")
        assert b.digest() != d
