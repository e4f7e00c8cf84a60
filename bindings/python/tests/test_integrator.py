"""examples/integrator.py against its sample data."""

import csv
import os
import subprocess
import sys

import libprofile

from conftest import REPO

SCRIPT = os.path.join(REPO, "examples", "integrator.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def test_integrator_prints_every_department(tmp_path):
    r = run("--db", str(tmp_path / "db"))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Imported 32 guests" in out
    assert "Check-ins on 2026-11-23: 29" in out
    for dept in ("front_desk", "housekeeping", "restaurant", "concierge",
                 "management", "kiosk"):
        assert f"== {dept}:" in out, dept
    assert "Suggest Sichuan dishes to Zhuang Wei" in out
    assert "Set out chili-oil sauce in a small dish" in out
    assert "guest is hard of hearing" in out
    assert "Welcome back, Zhuang Wei: stay number 2" in out
    assert "VIP arriving: greet Priya Raman" in out
    assert "王芳" in out and "Élodie Martin" in out
    # Ana Beatriz Souza withdrew consent: her parking need still shows.
    assert "parking.car" in out

    # A second run on the same database updates guests instead of adding
    # them, and firing the same check-ins again makes nothing new.
    again = run("--db", str(tmp_path / "db"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.split("\n== Check-ins")[1] == out.split("\n== Check-ins")[1]

    # One profile per CRM row, found by get_or_add on the CRM's id (kept as
    # external_id), with the export's country as the profile's country.
    with open(os.path.join(REPO, "examples", "data", "guests.csv"), newline="",
              encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with libprofile.open(str(tmp_path / "db"), readonly=True) as db:
        for row in rows:
            found = db.guests.find(row["email"])
            assert len(found) == 1, row["email"]
            g = found[0]
            assert (g.external_id, g.name, g.country) == \
                (row["external_id"], row["name"], row["country"])
            assert row["country"].lower() not in g.tags


def test_integrator_temporary_db_and_errors(tmp_path):
    r = run()
    assert r.returncode == 0, r.stderr
    assert "== kiosk:" in r.stdout
    bad = tmp_path / "bad.rules"
    bad.write_text("rule x\n  on someday\n", encoding="utf-8")
    r = run("--rules", str(bad))
    assert r.returncode == 1 and "bad.rules:2" in r.stderr
