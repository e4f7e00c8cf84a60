"""Complaints, follow-ups and the quality report through the Python binding."""

import datetime as dt
import uuid

import pytest

import libprofile

from conftest import T0

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)


@pytest.fixture
def macau(db_path, clock):
    d = libprofile.open(db_path, clock=clock, timezone="Asia/Macau")
    yield d
    d.close()


def test_complaint_is_due_by_sunset_and_prompts_two_departments(macau, clock):
    g = macau.guests.add("Zhuang Wei", email="zw@example.com")
    # 15:30Z is 23:30 in Macau: after the 22:00 cut-off -> noon local next
    # day = 04:00Z on the 24th.
    clock.now = T0 + dt.timedelta(hours=6, minutes=30)
    f = macau.feedback.add(g, "complaint", "housekeeping", "noise", "Room too noisy",
                           severity=2, recorded_by="lina")
    assert isinstance(f, libprofile.Feedback) and isinstance(f.id, uuid.UUID)
    assert (f.kind, f.status, f.severity, f.guest) == ("complaint", "open", 2, g.id)
    assert f.recorded_at == clock.now
    assert f.due == dt.datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert f.open and f.satisfied is None
    hk = macau.prompts.pending("housekeeping")
    mg = macau.prompts.pending("management")
    assert len(hk) == 1 and len(mg) == 1
    assert hk[0].rule == "complaint" and hk[0].priority == "high"
    assert hk[0].due == f.due and mg[0].due == f.due
    assert hk[0].event_id == f"feedback:{f.id}"
    assert mg[0].text.startswith("Duty manager: complaint to housekeeping from Zhuang Wei")
    g.refresh()
    assert (g.complaints_open, g.complaints_total) == (1, 1)


def test_resolve_then_followup_not_satisfied_marks_the_guest(db, clock):
    g = db.guests.add("Maria Rossi")
    f = db.feedback.add(g.id, "complaint", "restaurant", "food", "Cold soup",
                        recorded_by="chen")
    clock.now = T0 + 2 * H
    f = db.feedback.resolve(f, "chen", "Soup replaced")
    assert (f.status, f.resolution, f.resolved_by) == ("resolved", "Soup replaced", "chen")
    assert f.resolved_at == T0 + 2 * H
    assert db.prompts.pending("restaurant") == []        # done by the resolution
    (call,) = db.prompts.pending("front_office")
    assert call.id == f.followup_prompt and call.rule == "followup"
    assert call.text == ("Call Maria Rossi back to confirm they are satisfied: "
                         "food complaint resolved \u2014 Soup replaced")
    # The end of the next business day (UTC by default): 24 Nov 23:59.
    assert call.due == dt.datetime(2026, 11, 24, 23, 59, tzinfo=UTC)

    clock.now = T0 + 20 * H
    f = db.feedback.followup(f.id, "ana", satisfied=False)
    assert (f.outcome, f.outcome_by, f.satisfied) == ("not_satisfied", "ana", False)
    assert db.prompts.get(f.followup_prompt).status == "done"
    g.refresh()
    assert g.not_satisfied_at == T0 + 20 * H
    assert (g.complaints_open, g.complaints_total) == (0, 1)


def test_feedback_learns_a_need_and_a_dislike(db):
    g = db.guests.add("Maria Rossi")
    db.feedback.add(g, "complaint", "housekeeping", "room",
                    "Feather pillow caused an allergy", severity=3, recorded_by="mei",
                    learn=("need", "allergy.feathers", "pillows and duvet"))
    db.feedback.add(g, "complaint", "front_desk", "noise", "Next to the lift",
                    recorded_by="lina",
                    learn={"kind": "dislike", "category": "room.location",
                           "value": "near lift", "note": "kept awake"})
    need = g.prefs.get_pref("allergy.feathers")
    assert (need.kind, need.value, need.department, need.staff) == \
        ("need", "pillows and duvet", "housekeeping", "mei")
    assert need.note == "Feather pillow caused an allergy"     # the feedback's text
    dislike = g.prefs.get_pref("room.location")
    assert (dislike.kind, dislike.value, dislike.note) == ("dislike", "near lift", "kept awake")
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.add(g, "complaint", "front_desk", "noise", "x", recorded_by="lina",
                        learn=("wish", "room.location", "x"))
    assert len(db.feedback.list(g)) == 2         # the refused one stored nothing


def test_invalid_transitions_raise_and_change_nothing(db):
    g = db.guests.add("Zhuang Wei")
    f = db.feedback.add(g, "complaint", "housekeeping", "room", "Dusty", recorded_by="mei")
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.followup(f, "ana", satisfied=True)      # not resolved yet
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.update(f, "resolved", "mei")            # resolve() is the way
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.update(f, "finished", "mei")            # no such status
    assert db.feedback.get(f.id) == f
    f2 = db.feedback.update(f, "in_progress", "mei", note="cleaner called")
    assert f2.status == "in_progress"
    f3 = db.feedback.update(f2, "closed_unresolved", "mei", note="guest left")
    assert (f3.status, f3.resolution) == ("closed_unresolved", "guest left")
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.resolve(f3, "mei", "too late")
    assert db.feedback.get(f.id) == f3
    with pytest.raises(libprofile.NotFound):
        db.feedback.get(uuid.uuid4())
    with pytest.raises(KeyError):
        db.feedback[uuid.uuid4()]
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.add(g, "complaint", "housekeeping", "room", "x", severity=4,
                        recorded_by="mei")
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.add(g, "complaint", "housekeeping", "room", "x")   # no recorded_by
    with pytest.raises(TypeError):
        db.feedback.followup(f, "ana", satisfied="yes")


def test_list_by_guest_and_status(db, clock):
    a = db.guests.add("Guest A")
    b = db.guests.add("Guest B")
    x = db.feedback.add(a, "complaint", "restaurant", "food", "first", recorded_by="chen",
                        recorded_at=T0 - 3 * H)
    db.feedback.add(b, "compliment", "restaurant", "food", "second", recorded_by="chen",
                    recorded_at=T0 - 2 * H)
    y = db.feedback.add(a, "suggestion", "front_desk", "other", "third", recorded_by="lina")
    db.feedback.resolve(x, "chen", "ok")
    assert [f.text for f in db.feedback.list(a)] == ["first", "third"]
    assert [f.text for f in db.feedback.list()] == ["first", "second", "third"]
    assert [f.id for f in db.feedback.list(a, status="open")] == [y.id]
    assert [f.id for f in db.feedback.list(status="resolved")] == [x.id]
    assert db.feedback.list(uuid.uuid4()) == []
    assert [f.text for f in db.feedback.list(kind="compliment")] == ["second"]
    assert [f.id for f in db.feedback.list(a, status="open", kind="complaint")] == []
    assert [f.id for f in db.feedback.list(a, status="open", kind="suggestion")] == [y.id]
    with pytest.raises(libprofile.InvalidInput):
        db.feedback.list(kind="praise")


def test_quality_report_as_a_dict(macau, clock):
    # One day in Macau, 23 November local = [22 Nov 16:00Z, 23 Nov 16:00Z).
    g = macau.guests.add("Zhuang Wei")
    macau.stays.add(g, dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    clock.now = T0                                     # 17:00 local
    c1 = macau.feedback.add(g, "complaint", "housekeeping", "room", "Dusty",
                            recorded_by="mei")         # due 23:59 local = 15:59Z
    c2 = macau.feedback.add(g, "complaint", "restaurant", "food", "Cold",
                            recorded_by="chen")
    clock.now = T0 + H                                 # c1 resolved in 1 h, on time
    macau.feedback.resolve(c1, "mei", "Cleaned")
    clock.now = T0 + 3 * H                             # c2 resolved in 3 h, on time
    macau.feedback.resolve(c2, "chen", "Replaced")
    macau.feedback.followup(c2, "ana", satisfied=False)
    clock.now = T0 + 10 * H                            # the next day, 03:00 local
    r = macau.quality_report(dt.date(2026, 11, 23), dt.date(2026, 11, 23))
    assert r["from"] == dt.datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert r["to"] == dt.datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert r["stays"] == 1
    o = r["overall"]
    # Prompts: 2 complaint prompts each (department + management), all done
    # on time by the resolutions; 2 follow-ups (front_office): c2's done by
    # the call at T0+3h, c1's still open and due tomorrow: not yet due.
    assert (o["prompts"], o["done_on_time"], o["done_late"], o["never_done"],
            o["not_yet_due"]) == (6, 5, 0, 0, 1)
    assert o["omission_rate"] == 0.0
    assert (o["complaints"], o["resolved"], o["resolved_by_due"]) == (2, 2, 2)
    assert o["on_time_rate"] == 1.0 and o["unresolved_rate"] == 0.0
    assert o["median_resolve_seconds"] == (3600 + 10800) // 2
    assert (o["followups"], o["not_satisfied"], o["dissatisfaction_rate"]) == (1, 1, 1.0)
    assert o["per_100_stays"] == 200.0
    assert set(r["departments"]) == {"front_office", "housekeeping", "management",
                                     "restaurant"}
    hk = r["departments"]["housekeeping"]
    assert hk["complaints"] == 1 and hk["median_resolve_seconds"] == 3600
    assert hk["dissatisfaction_rate"] is None            # no follow-up yet
    assert r["departments"]["management"]["on_time_rate"] is None   # no complaints
    with pytest.raises(libprofile.InvalidInput):
        macau.quality_report(dt.date(2026, 11, 23), dt.date(2026, 11, 22))
    with pytest.raises(TypeError):
        macau.quality_report("2026-11-23", dt.date(2026, 11, 23))


def test_open_with_business_day_options(tmp_path, clock):
    with pytest.raises(libprofile.InvalidInput):
        libprofile.open(str(tmp_path / "x"), timezone="Mars/Olympus")
    assert not (tmp_path / "x").exists()
    with pytest.raises(libprofile.InvalidInput):
        libprofile.open(str(tmp_path / "y"), business_day_end=dt.time(0, 0))
    # UTC+1, business day ending 18:00, no cut-off.
    with libprofile.open(str(tmp_path / "z"), clock=clock, utc_offset_minutes=60,
                         business_day_end=dt.time(18, 0), complaint_cutoff=-1) as d:
        g = d.guests.add("Guest")
        f = d.feedback.add(g, "complaint", "front_desk", "staff", "Slow check-in",
                           recorded_by="lina")           # 10:00 local
        assert f.due == dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
