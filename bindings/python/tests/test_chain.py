"""A hotel chain without a network: one property's change feed
(db.changes) applied at another (db.apply), in any order, with
duplicates, until both hold the same shared state (equal digests)."""

import datetime as dt
import random

import pytest

import libprofile



def record_zhuang_wei(db):
    """The Macau scene: a guest, three preferences, a stay."""
    g = db.guests.add("Zhuang Wei", email="zw@example.com", tier="gold", language="zh")
    g.prefs.set("amenity.flower", "lily", observed_by="housekeeping")
    g.prefs.set("room.floor", "10", observed_by="front_desk")
    g.prefs.set("dining.condiment", "chili_oil", observed_by="restaurant",
                note="in a small dish")
    db.stays.add(g, dt.date(2026, 3, 10), dt.date(2026, 3, 14), room="1012",
                 property="MFM1")
    return g


# ---------------------------------------------------------------- the feed

def test_a_database_without_a_property_has_no_change_feed(db):
    db.guests.add("Chan Tai Man")
    for call in (lambda: db.changes(), db.changes_last, lambda: db.apply([]),
                 db.published):
        with pytest.raises(libprofile.InvalidInput, match="property"):
            call()


def test_a_new_property_has_made_no_changes(macau):
    assert macau.changes_last() == 0
    assert macau.changes() == []
    assert macau.published() == 0
    assert macau.epoch() == 0
    assert macau.chain_mark("lisbon") == 0


def test_changes_come_oldest_first_with_their_sequence_numbers(macau):
    record_zhuang_wei(macau)
    changes = macau.changes()
    n = macau.changes_last()
    assert n >= 5                                  # guest, three prefs, stay
    assert [c.seq for c in changes] == list(range(1, n + 1))
    for c in changes:
        assert isinstance(c, libprofile.Change) and c.origin == "macau"
        assert isinstance(c.data, bytes) and bytes(c) == c.data and len(c) > 0
        assert libprofile.change_origin(c.data) == ("macau", c.seq)
    assert [c.seq for c in macau.changes(after=2, max=2)] == [3, 4]
    assert macau.changes(after=n) == []
    assert macau.chain_mark("macau") == n


@pytest.mark.parametrize("bad", [0, -1, libprofile.CHANGES_MAX + 1])
def test_changes_max_is_checked(macau, bad):
    with pytest.raises(libprofile.InvalidInput):
        macau.changes(max=bad)


def test_change_origin_refuses_what_is_not_a_change():
    with pytest.raises(libprofile.Corrupt):
        libprofile.change_origin(b"not a change")


# ---------------------------------------------------------------- applying

def test_apply_in_shuffled_order_with_duplicates_gives_equal_digests(macau, lisbon):
    g = record_zhuang_wei(macau)
    changes = [bytes(c) for c in macau.changes()]
    n = len(changes)
    rng = random.Random(20261123)
    delivery = changes + rng.sample(changes, k=n // 2)     # some twice
    rng.shuffle(delivery)
    # In several calls, as a transport delivers them.
    totals = dict(applied=0, duplicates=0, waiting=0)
    for i in range(0, len(delivery), 3):
        r = lisbon.apply(delivery[i:i + 3])
        assert isinstance(r, libprofile.ApplyReport)
        assert r.refused == 0 and r.own == 0 and r.discarded == 0
        totals["applied"] += r.applied
        totals["duplicates"] += r.duplicates
    assert totals["applied"] == n
    assert lisbon.chain_mark("macau") == n
    assert lisbon.digest() == macau.digest()
    at_lisbon = lisbon.guests.get(g.id)
    assert at_lisbon.name == "Zhuang Wei"
    assert at_lisbon.prefs["amenity.flower"] == "lily"
    assert at_lisbon.prefs["room.floor"] == "10"
    assert at_lisbon.stays == 1
    # Lisbon applied Macau's changes; it made none of its own.
    assert lisbon.changes_last() == 0


def test_a_change_waits_for_its_predecessors(macau, lisbon):
    record_zhuang_wei(macau)
    changes = macau.changes()
    last = changes[-1]
    r = lisbon.apply([last])
    assert (r.applied, r.waiting) == (0, 1)
    assert lisbon.chain_mark("macau") == 0
    r = lisbon.apply(changes[:-1])
    assert r.applied == len(changes)               # the waiting one too
    assert r.waiting == 0
    assert lisbon.chain_mark("macau") == len(changes)
    assert lisbon.digest() == macau.digest()


def test_applying_again_is_a_no_op(macau, lisbon):
    record_zhuang_wei(macau)
    changes = macau.changes()
    lisbon.apply(changes)
    d = lisbon.digest()
    r = lisbon.apply(changes)
    assert (r.applied, r.duplicates) == (0, len(changes))
    assert lisbon.digest() == d


def test_own_changes_have_no_effect(macau):
    record_zhuang_wei(macau)
    d = macau.digest()
    r = macau.apply(macau.changes())
    assert r.own == macau.changes_last() and r.applied == 0
    assert macau.digest() == d


def test_both_directions_converge(macau, lisbon, clock):
    g = record_zhuang_wei(macau)
    lisbon.apply(macau.changes())
    # Both desks change the same guest at the same moment.
    macau.guests.get(g.id).prefs.set("room.floor", "12", observed_by="front_desk")
    lisbon.guests.get(g.id).prefs.set("room.floor", "3", observed_by="front_desk")
    lisbon.guests.get(g.id).prefs.set("pillow.type", "buckwheat", observed_by="housekeeping")
    clock.now += dt.timedelta(minutes=5)
    from_macau = macau.changes(after=lisbon.chain_mark("macau"))
    from_lisbon = lisbon.changes()
    lisbon.apply(from_macau)
    macau.apply(list(reversed(from_lisbon)))
    assert macau.digest() == lisbon.digest()
    assert macau.guests.get(g.id).prefs["pillow.type"] == "buckwheat"
    floor = macau.guests.get(g.id).prefs["room.floor"]
    assert floor in ("12", "3") and lisbon.guests.get(g.id).prefs["room.floor"] == floor


def test_a_change_that_does_not_decode_applies_nothing(macau, lisbon):
    record_zhuang_wei(macau)
    changes = [bytes(c) for c in macau.changes()]
    d = lisbon.digest()
    with pytest.raises(libprofile.Corrupt):
        lisbon.apply(changes[:2] + [b"\x00garbage"] + changes[2:])
    assert lisbon.digest() == d
    assert lisbon.chain_mark("macau") == 0


def test_apply_takes_bytes_and_changes_only(lisbon):
    with pytest.raises(TypeError, match=r"changes\[0\]"):
        lisbon.apply(["text"])
    assert lisbon.apply([]) == libprofile.ApplyReport()


def test_the_published_cursor_is_stored(macau, tmp_path, clock):
    record_zhuang_wei(macau)
    n = macau.changes_last()
    macau.set_published(n - 1)
    assert macau.published() == n - 1
    with pytest.raises(libprofile.InvalidInput):
        macau.set_published(n + 1)
    macau.close()
    with libprofile.open(str(tmp_path / "macau"), clock=clock) as again:
        assert again.property == "macau" and again.published() == n - 1


def test_rejoin_from_another_propertys_backup(macau, lisbon, tmp_path, clock):
    g = record_zhuang_wei(macau)
    lisbon.apply(macau.changes())
    lisbon.guests.get(g.id).prefs.set("pillow.type", "buckwheat", observed_by="housekeeping")
    lisbon_last = lisbon.changes_last()
    macau.apply(lisbon.changes())
    # Lisbon loses its database; it starts again from Macau's backup.
    copy = str(tmp_path / "copy")
    macau.backup(copy)
    lisbon.close()
    with libprofile.open(copy, clock=clock) as restored:
        restored.rejoin("lisbon")
        assert restored.property == "lisbon"
        assert restored.epoch() == 1
        assert restored.changes_last() == lisbon_last
        assert restored.digest() == macau.digest()
        restored.guests.get(g.id).prefs.set("room.floor", "11", observed_by="front_desk")
        assert [c.seq for c in restored.changes()] == [lisbon_last + 1]


def test_after_close_the_chain_calls_raise_closed(macau):
    macau.close()
    for call in (lambda: macau.changes(), macau.changes_last, lambda: macau.apply([]),
                 lambda: macau.chain_mark("lisbon"), lambda: macau.rejoin("lisbon")):
        with pytest.raises(libprofile.Closed):
            call()
