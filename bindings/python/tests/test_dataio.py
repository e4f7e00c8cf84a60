"""Export (right of access), bulk import with its report and progress,
export of all guests and the round trip back in, and external ids."""

import datetime as dt
import json
import os
import stat

import pytest

import libprofile
from conftest import T0


MIXED_CSV = (
    "\ufeffexternal_id,name,email,tier,tags,pref:room.floor,need:allergy.feathers\n"  # 1
    "X-1,Zhuang Wei,zw@example.com,gold,vip,10,feathers\n"                          # 2
    "X-2,,noname@example.com,,,,\n"                                                  # 3
    "X-3,Bad Mail,bad-mail,,,,\n"                                                    # 4
    "X-4,\"Dupont, Marie\",marie@example.com,silver,,\"3,\nquiet\",\n"              # 5-6
    "X-5,Bad \"Quote\",q@example.com,,,,\n"                                          # 7
    "X-6,Kenji Sato,kenji@example.com,diamond,,,\n"                                  # 8
    "X-7,Last One,last@example.com,,,,\n"                                            # 9
)


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(p)


def test_export_is_everything_about_the_guest(db, guest, rules, clock):
    guest.prefs.set("room.floor", "10", observed_by="front_desk", staff="li",
                    note="high floors only")
    guest.prefs.set("allergy.feathers", "feathers", kind="need",
                    observed_by="housekeeping")
    prompts = db.fire("check_in", guest=guest.id, event_id="res-1", room="1012",
                      arrival=dt.date(2026, 11, 23), departure=dt.date(2026, 11, 25))
    clock.now += dt.timedelta(minutes=5)
    prompts[0].ack("mei")

    data = db.guests.export(guest.id)
    assert data["format"] == "libprofile.guest-export"
    assert data["exported_at"] == "2026-11-23T09:05:00Z"
    g = data["guest"]
    assert g["id"] == str(guest.id)
    assert g["name"] == "Zhuang Wei" and g["tier"] == "gold"
    assert g["tags"] == ["advertising"] and g["consent"] == ["profiling"]
    assert g["external_id"] is None and g["birth_date"] is None
    assert g["created"] == "2026-11-23T09:00:00Z" and g["stays"] == 1
    prefs = {p["category"]: p for p in data["preferences"]}
    assert prefs["room.floor"]["observed_by"] == {"department": "front_desk", "staff": "li"}
    assert prefs["room.floor"]["note"] == "high floors only"
    assert prefs["allergy.feathers"]["kind"] == "need"
    assert data["stays"] == [{"arrival": "2026-11-23", "departure": "2026-11-25",
                              "property": None, "room": "1012", "party": 0}]
    texts = [p["text"] for p in data["prompts"]]
    assert "Assign a room on floor 10" in texts
    acked = [p for p in data["prompts"] if p["ack_by"] == "mei"]
    assert len(acked) == 1 and acked[0]["ack_at"] == "2026-11-23T09:05:00Z"
    assert data["feedback"] == []
    ops = [e["op"] for e in data["journal"]]
    assert ops[0] == "guest.put" and "prompt.ack" in ops
    assert [e["seq"] for e in data["journal"]] == sorted(e["seq"] for e in data["journal"])
    # The whole thing is plain JSON data.
    assert json.loads(json.dumps(data)) == data

    with pytest.raises(libprofile.NotFound):
        db.guests.export("7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11")
    with pytest.raises(ValueError):
        db.guests.export("not-a-uuid")


def test_import_csv_reports_bad_rows_and_reimport_is_idempotent(db, tmp_path, clock):
    path = write(tmp_path, "mixed.csv", MIXED_CSV)
    calls = []
    rep = db.import_csv(path, progress=lambda done, total: calls.append((done, total)),
                        batch_size=2)
    assert (rep.rows, rep.created, rep.updated, rep.rejected) == (7, 3, 0, 4)
    assert [r.line for r in rep.rejects] == [3, 4, 7, 8]
    reasons = {r.line: r.reason for r in rep.rejects}
    assert reasons[3] == "missing name"
    assert "not an address" in reasons[4]
    assert "quot" in reasons[7]
    assert "diamond" in reasons[8]
    assert rep.as_dict()["rejects"][0] == {"line": 3, "reason": "missing name"}
    assert calls[-1] == (7, 7)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    wei = db.guests.find("zw@example.com")[0]
    assert wei.external_id == "X-1" and wei.tier == "gold" and wei.tags == ["vip"]
    assert wei.prefs.get_pref("allergy.feathers").kind == "need"
    marie = db.guests.find("marie@example.com")[0]
    assert marie.name == "Dupont, Marie" and marie.prefs["room.floor"] == "3,\nquiet"
    before = db.export_jsonl(str(tmp_path / "a.jsonl"))
    assert before is None
    last = db.journal_last_seq()

    clock.now += dt.timedelta(hours=1)
    again = db.import_csv(path)
    assert (again.created, again.updated, again.rejected) == (0, 3, 4)
    db.export_jsonl(str(tmp_path / "b.jsonl"))
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert db.journal_last_seq() == last
    assert db.guests.get(wei.id).updated == T0


def test_progress_can_stop_or_fail_the_import(db, tmp_path):
    path = write(tmp_path, "five.csv",
                 "external_id,name\nF-1,One\nF-2,Two\nF-3,Three\nF-4,Four\nF-5,Five\n")
    rep = db.import_csv(path, progress=lambda done, total: True, batch_size=2)
    assert rep.rows == 2 and rep.created == 2
    assert db.guests.find("three") == []

    def boom(done, total):
        raise KeyboardInterrupt("operator pressed ^C")

    with pytest.raises(KeyboardInterrupt):
        db.import_csv(path, progress=boom, batch_size=3)
    # The batch before the exception (F-1..F-3) was committed; F-4 was not.
    assert len(db.guests.find("three")) == 1
    assert db.guests.find("four") == []
    with pytest.raises(TypeError):
        db.import_csv(path, progress=42)
    with pytest.raises(libprofile.NotFound):
        db.import_csv(str(tmp_path / "missing.csv"))
    with pytest.raises(libprofile.InvalidInput):
        db.import_csv(write(tmp_path, "bad.csv", "name,favourite\nA,B\n"))


def test_import_jsonl_and_export_round_trip(db, tmp_path, clock):
    lines = [
        {"external_id": "J-1", "name": "莊偉", "language": "zh", "tier": "vip",
         "birth_date": "1985-06-12", "consent": ["profiling", "marketing"],
         "prefs": {"room.floor": "10",
                   "room.pillow": {"value": "feather", "kind": "dislike", "note": "itchy"},
                   "access.hearing": "need:visual alarm"}},
        {"external_id": "J-2", "name": "Élodie Martin", "email": "elodie@example.fr",
         "tags": ["repeat_guest"], "consent": "none"},
    ]
    text = "\n".join(json.dumps(l, ensure_ascii=False) for l in lines)
    text += "\n{not json}\n{\"name\": \"X\", \"colour\": \"red\"}\n"
    rep = db.import_jsonl(write(tmp_path, "in.jsonl", text), department="reservations")
    assert (rep.created, rep.rejected) == (2, 2)
    assert [r.line for r in rep.rejects] == [3, 4]
    assert "unknown field 'colour'" in rep.rejects[1].reason

    wei = db.guests.find("莊")[0]
    assert wei.birth_date == dt.date(1985, 6, 12)
    assert wei.consent == libprofile.Consent.PROFILING | libprofile.Consent.MARKETING
    pillow = wei.prefs.get_pref("room.pillow")
    assert (pillow.kind, pillow.note, pillow.department) == ("dislike", "itchy", "reservations")
    assert wei.prefs.get_pref("access.hearing").kind == "need"

    for name in ("all.jsonl", "all.csv"):
        out = tmp_path / name
        (db.export_csv if name.endswith(".csv") else db.export_jsonl)(str(out))
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
        with libprofile.open(str(tmp_path / ("fresh-" + name)), clock=clock) as fresh:
            imp = fresh.import_csv if name.endswith(".csv") else fresh.import_jsonl
            r = imp(str(out))
            assert (r.created, r.rejected) == (2, 0)
            for g in (wei, db.guests.find("elodie@example.fr")[0]):
                h = fresh.guests.get(g.id)          # same ids
                for f in ("name", "email", "language", "tier", "tags", "birth_date",
                          "consent", "external_id"):
                    assert getattr(h, f) == getattr(g, f), f
                assert dict(h.prefs) == dict(g.prefs)
                assert ([(p.category, p.kind, p.note) for p in h.prefs.all()] ==
                        [(p.category, p.kind, p.note) for p in g.prefs.all()])


def test_external_id_attribute(db):
    g = db.guests.add("First", external_id="PMS-1")
    assert g.external_id == "PMS-1"
    with pytest.raises(libprofile.Exists):
        db.guests.add("Second", external_id="PMS-1")
    g.external_id = "PMS-2"
    g.save()
    assert db.guests.get(g.id).external_id == "PMS-2"
    assert db.guests.add("Third", external_id="PMS-1").external_id == "PMS-1"
    with pytest.raises(libprofile.InvalidInput):
        db.guests.add("Fourth", external_id="")
