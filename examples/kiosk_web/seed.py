#!/usr/bin/python3
"""seed.py -- a demo database and arrivals list for the kiosk page
(`make kiosk-web`).

    python3 examples/kiosk_web/seed.py DIR ARRIVALS.csv

Loads examples/hotel.rules, registers three guests with what the
departments noticed about them (some of it staff-only, such as a hearing
need), books each one under a reference arriving today, and writes the
arrivals list the kiosk reads.  Running it again changes nothing (guests
are matched on their e-mail, and firing a reservation id twice does the
work once).

Owns: the demo's data.  May call: the libprofile binding (through
desk.py's import of it) and the standard library.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desk import REPO, libprofile  # noqa: E402

GUESTS = [
    # name, contact fields, preferences (category, value, kind, department), reference, room
    ("Zhuang Wei", dict(email="zw@example.com", phone="+853 6123 4567", language="zh",
                        country="MAC", tier="gold"),
     [("room.floor", "10", "like", "front_desk"),
      ("dining.cuisine", "sichuan", "like", "restaurant"),
      ("access.hearing", "hard of hearing", "need", "front_desk")],
     "RES-88101", "1012"),
    ("Maria Rossi", dict(email="maria.rossi@example.it", phone="+39 347 555 0188",
                         language="it", country="ITA", tier="vip"),
     [("amenity.flower", "lily", "like", "housekeeping")],
     "RES-88102", "818"),
    ("João Santos", dict(email="joao.santos@example.pt", phone="+351 912 000 111",
                         language="pt", country="PRT", tier="silver"),
     [("room.facing", "sea", "like", "front_desk")],
     "RES-88103", "604"),
]


def seed(db_dir: str, arrivals_csv: str) -> None:
    with libprofile.open(db_dir) as db:
        db.rules.load_file(os.path.join(REPO, "examples", "hotel.rules"))
        today = db.now().date()
        rows = []
        for name, fields, prefs, ref, room in GUESTS:
            g, created = db.guests.get_or_add(name, **fields)
            if created:
                for cat, value, kind, dept in prefs:
                    g.prefs.set(cat, value, kind=kind, observed_by=dept)
            departure = today + dt.timedelta(days=3)
            db.fire("reservation", guest=g.id, event_id=ref, arrival=today,
                    departure=departure)
            rows.append((ref, room, today.isoformat(), departure.isoformat(), 1))
    with open(arrivals_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("reference", "room", "arrival", "departure", "party"))
        w.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: seed.py DIR ARRIVALS.csv")
    seed(sys.argv[1], sys.argv[2])
    print("Try: zw@example.com with RES-88101 (Chinese), joao.santos@example.pt with "
          "RES-88103 (Portuguese), maria.rossi@example.it with RES-88102")
