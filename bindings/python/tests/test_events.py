"""Rule book, fire/preview and the prompt lifecycle."""

import datetime as dt
import uuid

import pytest

import libprofile
from libprofile._native import lib as _lib

from conftest import FLOOR_RULES, T0


def test_rules_load_and_list(db, rules):
    got = db.rules.list()
    assert [r.name for r in got] == ["floor-preference", "flowers", "sichuan-food"]
    assert isinstance(got[0], libprofile.Rule)
    assert got[0].source.startswith("rule floor-preference")
    assert "{pref room.floor}" in got[0].source


def test_rule_syntax_error_has_line_and_column(db, rules):
    bad = "rule a\n  on check_in\n  notify front_desk hihg \"x\"\n"
    with pytest.raises(libprofile.RuleSyntaxError) as ei:
        db.rules.load(bad, name="bad.rules")
    e = ei.value
    assert e.code == _lib.PF_ESYNTAX == -9
    assert (e.line, e.column) == (3, 21)
    assert e.message.startswith("bad.rules:3:21:")
    assert len(db.rules.list()) == 3           # the old book is intact


def test_empty_book_is_refused_and_clear_removes_all(db, rules):
    for text in ("", "# only a comment\n"):
        with pytest.raises(libprofile.RuleSyntaxError) as ei:
            db.rules.load(text, name="empty.rules")
        assert "the rule book defines no rules" in ei.value.message
        assert len(db.rules.list()) == 3           # the stored book is kept
    db.rules.clear()
    assert db.rules.list() == []
    assert [e.op for e in db.journal()][-1] == "rules.clear"


def test_load_file(db, tmp_path):
    f = tmp_path / "hotel.rules"
    f.write_text(FLOOR_RULES, encoding="utf-8")
    db.rules.load_file(f)                      # a PathLike
    assert len(db.rules.list()) == 3
    db.rules.load_file(str(f))
    with pytest.raises(libprofile.NotFound):
        db.rules.load_file(tmp_path / "missing.rules")
    f.write_text("rule x\n  on tuesday\n", encoding="utf-8")
    with pytest.raises(libprofile.RuleSyntaxError) as ei:
        db.rules.load_file(f)
    assert ei.value.line == 2 and str(f) in ei.value.message


def test_fire_returns_prompts(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    guest.prefs.set("amenity.flower", "lily", observed_by="housekeeping")
    ps = db.fire("check_in", guest=guest.id, event_id="res-881", room="1012", party=1)
    assert [(p.department, p.priority, p.text) for p in ps] == [
        ("front_desk", "high", "Assign a room on floor 10"),
        ("housekeeping", "normal", "Place fresh lily in room 1012"),
    ]
    p = ps[1]
    assert isinstance(p.id, uuid.UUID) and p.guest == guest.id
    assert p.event_id == "res-881" and p.rule == "flowers"
    assert p.status == "pending" and p.open
    assert p.created == T0 and p.due == T0 + dt.timedelta(hours=2)
    assert ps[0].due == T0 + dt.timedelta(hours=1)       # high: 1 hour by default
    assert p.ack_by is None and p.ack_at is None and p.seq > 0


def test_fire_accepts_guest_objects_str_ids_and_times(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    at = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ps = db.fire("reservation", guest=str(guest.id), event_id="r1", time=at)
    assert ps[0].created == at and ps[0].created.tzinfo == dt.timezone.utc
    assert db.fire("reservation", guest=guest, event_id="r2")[0].text == ps[0].text


def test_fire_is_idempotent_per_event_id(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    first = db.fire("check_in", guest=guest.id, event_id="res-1", room="1012")
    again = db.fire("check_in", guest=guest.id, event_id="res-1", room="1012")
    assert [p.id for p in again] == [p.id for p in first]
    assert len(db.prompts.pending("front_desk")) == 1
    other = db.guests.add("Someone Else")
    with pytest.raises(libprofile.Exists) as ei:
        db.fire("check_in", guest=other.id, event_id="res-1")
    assert ei.value.code == _lib.PF_EEXIST == -2


def test_fire_errors(db, rules, guest):
    with pytest.raises(libprofile.InvalidInput):
        db.fire("checkin", guest=guest.id, event_id="x")          # unknown kind
    with pytest.raises(libprofile.InvalidInput):
        db.fire("check_in", guest=guest.id, event_id="")
    with pytest.raises(libprofile.InvalidInput):
        db.fire("check_in", guest=guest.id, event_id="x",
                time=dt.datetime(2026, 11, 23, 9, 0))               # naive
    with pytest.raises(libprofile.InvalidInput):
        db.fire("check_in", guest=guest.id, event_id="x", party=-1)
    with pytest.raises(libprofile.NotFound):
        db.fire("check_in", guest=uuid.uuid4(), event_id="x")
    assert db.prompts.overdue(now=T0 + dt.timedelta(days=30)) == []


def test_preview_stores_nothing(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    seq = db.prompts.seq("front_desk")
    ps = db.preview("check_in", guest=guest.id, room="1012")
    assert [(p.department, p.text) for p in ps] == [("front_desk", "Assign a room on floor 10")]
    assert ps[0].id is None and ps[0].event_id is None and ps[0].status == "pending"
    assert db.prompts.pending("front_desk") == []
    assert db.prompts.seq("front_desk") == seq
    with pytest.raises(libprofile.InvalidInput):
        ps[0].ack("mei")                       # a preview prompt is not stored


def test_prompt_lifecycle(db, rules, guest, clock):
    guest.prefs["room.floor"] = "10"
    guest.prefs["amenity.flower"] = "lily"
    db.fire("check_in", guest=guest.id, event_id="res-2", room="1012")
    (p,) = db.prompts.pending("housekeeping")
    clock.now = T0 + dt.timedelta(minutes=3)
    assert p.ack("mei") is p
    assert (p.status, p.ack_by, p.ack_at) == ("acknowledged", "mei", clock.now)
    assert db.prompts.pending("housekeeping")[0].status == "acknowledged"
    with pytest.raises(libprofile.InvalidInput):
        p.ack("mei")                           # already acknowledged
    p.done("mei")
    assert (p.status, p.done_by) == ("done", "mei") and not p.open
    assert db.prompts.pending("housekeeping") == []
    with pytest.raises(libprofile.InvalidInput):
        p.done("mei")
    (q,) = db.prompts.pending("front_desk")
    q.dismiss("ana", "guest asked for a low floor this time")
    assert (q.status, q.done_by, q.dismiss_reason) == \
        ("dismissed", "ana", "guest asked for a low floor this time")
    assert db.prompts.get(q.id).status == "dismissed"


def test_prompt_get_overdue_seq_since(db, rules, guest, clock):
    guest.prefs["room.floor"] = "10"
    guest.prefs["amenity.flower"] = "lily"
    s0 = db.prompts.seq("housekeeping")
    ps = db.fire("check_in", guest=guest.id, event_id="res-3", room="1012")
    assert db.prompts.get(ps[0].id).text == ps[0].text
    assert db.prompts.get(str(ps[1].id)).department == "housekeeping"
    with pytest.raises(libprofile.NotFound):
        db.prompts.get(uuid.uuid4())
    assert db.prompts.overdue() == []
    clock.now = T0 + dt.timedelta(minutes=90)  # past the 1 h of the high prompt
    assert [p.department for p in db.prompts.overdue()] == ["front_desk"]
    assert db.prompts.overdue("housekeeping") == []
    later = T0 + dt.timedelta(hours=3)
    assert [p.department for p in db.prompts.overdue(now=later)] == ["front_desk", "housekeeping"]
    s1 = db.prompts.seq("housekeeping")
    assert s1 > s0
    assert [p.id for p in db.prompts.since("housekeeping", s0)] == [ps[1].id]
    assert db.prompts.since("housekeeping", s1) == []
    with pytest.raises(libprofile.InvalidInput):
        db.prompts.overdue(now=dt.datetime(2026, 11, 23))
    with pytest.raises(libprofile.InvalidInput):
        db.prompts.pending("Front Desk")


def test_needs_always_reach_staff_without_consent(db, rules):
    g = db.guests.add("Ingrid Solberg", consent=libprofile.Consent.NONE)
    g.prefs["room.floor"] = "10"
    g.prefs.set("allergy.peanuts", "severe", kind="need", observed_by="restaurant")
    ps = db.fire("check_in", guest=g.id, event_id="res-4", room="1012")
    assert [(p.department, p.priority, p.rule) for p in ps] == [("front_desk", "high", "need")]
    assert "allergy.peanuts" in ps[0].text


def test_fire_batch_matches_fire_and_is_all_or_nothing(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    other = db.guests.add("Ana Lima")
    other.prefs["dining.cuisine"] = "sichuan"
    evs = [dict(kind="check_in", guest=guest.id, event_id="b-1", room="1012"),
           dict(kind="check_in", guest=other, event_id="b-2", room="707", party=2),
           dict(kind="check_in", guest=guest.id, event_id="b-1", room="1012")]
    lists = db.fire_batch(evs)
    assert [[p.text for p in ps] for ps in lists] == [
        ["Assign a room on floor 10"], ["Suggest Sichuan dishes to Ana Lima"],
        ["Assign a room on floor 10"]]
    assert [p.id for p in lists[2]] == [p.id for p in lists[0]]   # fired once
    assert len(db.stays.list(guest.id)) == 1
    # Firing one of them alone now gives back the same prompts.
    assert [p.id for p in db.fire("check_in", guest=other, event_id="b-2")] == \
        [p.id for p in lists[1]]
    seq = db.journal_last_seq()
    with pytest.raises(libprofile.NotFound) as ei:
        db.fire_batch([dict(kind="check_in", guest=other, event_id="b-3"),
                       dict(kind="check_in", guest=uuid.uuid4(), event_id="b-4")])
    assert "events[1]" in str(ei.value)
    assert db.journal_last_seq() == seq            # b-3 was not stored either
    with pytest.raises(TypeError):
        db.fire_batch([dict(kind="check_in", guest=guest, event_id="x", rooom="1")])
    assert db.fire_batch([]) == []


def test_pending_page_walks_the_whole_list(db, rules):
    ids = []
    for i in range(23):
        g = db.guests.add("Guest %02d" % i)
        g.prefs["room.floor"] = str(i)
        ids.append(db.fire("check_in", guest=g, event_id="p-%d" % i)[0].id)
    whole = [p.id for p in db.prompts.pending("front_desk")]
    assert sorted(whole) == sorted(ids)
    got, last = [], None
    while True:
        page = db.prompts.pending_page("front_desk", after=last, limit=5)
        got += [p.id for p in page]
        if len(page) < 5:
            break
        last = page[-1]
    assert got == whole
    with pytest.raises(libprofile.InvalidInput):
        db.prompts.pending_page("front_desk", limit=0)
    with pytest.raises(libprofile.InvalidInput):
        db.prompts.pending_page("front_desk", limit=1001)


def test_nordahead_opens_and_reads(db_path, clock):
    d = libprofile.open(db_path, clock=clock)
    g = d.guests.add("Read Ahead")
    d.close()
    d = libprofile.open(db_path, clock=clock, readonly=True, nordahead=True)
    try:
        assert d.guests.get(g.id).name == "Read Ahead"
    finally:
        d.close()
