"""desk.py -- the kiosk page's only contact with libprofile: finding a
booking, the welcome screen, and the check-in.

Owns: what a guest may see.  Every value handed out of this file is a
screen model (Welcome, Confirmation) built here from guest-facing data
only: the texts of prompts for the ``kiosk`` department, the room, and
per-department *counts* of the other prompts -- never their texts, which
are staff notes ("hard of hearing", allergies, complaints).  pages.py and
server.py render and send these models and never see a prompt.

May call: the libprofile Python binding (bindings/python) and the
standard library.  Nothing else in examples/kiosk_web/ imports libprofile.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
_IN_TREE = os.path.join(REPO, "bindings", "python")
# The binding built in this checkout (`make python`) wins over an installed
# one, so that the example always runs against the library beside it.
if glob.glob(os.path.join(_IN_TREE, "libprofile", "_libprofile*.so")):
    sys.path.insert(0, _IN_TREE)

import libprofile  # noqa: E402

KIOSK_DEPT = "kiosk"
# Who the kiosk is in the journal when it marks its own prompts done.
KIOSK_ACTOR = "kiosk"


class NoBooking(Exception):
    """The contact and reference do not make a booking that can check in
    here.  Deliberately one exception for every reason (no such contact,
    several guests share it, wrong reference, not arriving today), carrying
    no detail, so that nothing can tell an unknown e-mail from a wrong
    reference."""


@dataclass(frozen=True)
class Arrival:
    """One line of the arrivals list: what the hotel's booking system
    knows of a booking that the profile database does not (the room it
    assigned and the dates)."""

    reference: str
    room: str
    arrival: dt.date
    departure: dt.date
    party: int = 0


@dataclass(frozen=True)
class Booking:
    """A guest proven to hold a booking: who, and which arrival."""

    guest: object          # uuid.UUID; kept opaque outside this file
    arrival: Arrival
    language: Optional[str]

    @property
    def checkin_id(self) -> str:
        """The check-in's event id, derived from the booking alone, so that
        every tap, every kiosk and a reload fire the same id and
        pf_fire()'s idempotency makes the check-in happen once."""
        return f"{self.arrival.reference}/kiosk-check-in"


@dataclass(frozen=True)
class Welcome:
    """The welcome screen: guest-facing texts only."""

    texts: Tuple[str, ...]            # kiosk prompts' texts, in rule-book order
    text_language: Optional[str]      # the rule book's tag used, None: default text
    guest_language: Optional[str]     # the profile's tag, to pick the page's words
    room: str


@dataclass(frozen=True)
class Confirmation:
    """What the guest reads after checking in: which teams were told and
    how many notes each got, never what the notes say."""

    room: str
    teams: Tuple[Tuple[str, int], ...] = field(default_factory=tuple)  # (department, count)

    @property
    def notes(self) -> int:
        return sum(n for _, n in self.teams)


def normalise_reference(text: str) -> str:
    """Booking references as guests type them: case and blanks ignored."""
    return re.sub(r"\s+", "", text or "").upper()


def read_arrivals(path: str) -> Dict[str, Arrival]:
    """The arrivals list, a CSV file with the header
    ``reference,room,arrival,departure[,party]`` (dates YYYY-MM-DD), as a
    booking system exports it.  Raises ValueError naming the line (never
    its contents) for a bad row."""
    out: Dict[str, Arrival] = {}
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        missing = {"reference", "room", "arrival", "departure"} - set(rows.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: the header lacks {', '.join(sorted(missing))}")
        for row in rows:
            try:
                ref = normalise_reference(row["reference"])
                a = Arrival(ref, row["room"].strip(),
                            dt.date.fromisoformat(row["arrival"].strip()),
                            dt.date.fromisoformat(row["departure"].strip()),
                            int(row.get("party") or 0))
                if not ref or not a.room or a.departure < a.arrival:
                    raise ValueError
            except (ValueError, TypeError, AttributeError):
                raise ValueError(f"{path}:{rows.line_num}: bad arrival line") from None
            out[ref] = a
    return out


def _is_contact_of(guest: "libprofile.Guest", contact: str) -> bool:
    """True if `contact` is this guest's booking e-mail (any case) or phone
    (its digits).  A name never matches: typing someone's name must not
    open their welcome screen (as in examples/kiosk.c)."""
    if "@" in contact:
        return bool(guest.email) and guest.email.lower() == contact.lower()
    digits = re.sub(r"\D", "", contact)
    return bool(digits) and bool(guest.phone) and re.sub(r"\D", "", guest.phone) == digits


class Desk:
    """The kiosk's view of one database and the day's arrivals list.

    Safe to share between the server's threads: the binding's Database is
    thread-safe, and the arrivals list is read-only once loaded.
    """

    def __init__(self, db: "libprofile.Database", arrivals: Dict[str, Arrival]) -> None:
        self.db = db
        self.arrivals = arrivals

    def find_booking(self, contact: str, reference: str) -> Booking:
        """The booking that `contact` (e-mail or phone) and `reference`
        name together, or NoBooking.  The pair holds when exactly one guest
        has that contact, the hotel made a reservation under `reference`
        for that guest (an ``event.fire`` of kind reservation in the
        guest's journal), and the reference is on the arrivals list."""
        contact = (contact or "").strip()
        ref = normalise_reference(reference)
        if not contact or not ref or len(contact) > 200 or len(ref) > 100:
            raise NoBooking()
        try:
            hits = [g for g in self.db.guests.find(contact) if _is_contact_of(g, contact)]
        except libprofile.InvalidInput:
            raise NoBooking() from None
        if len(hits) != 1:
            raise NoBooking()
        guest = hits[0]
        arrival = self.arrivals.get(ref)
        if arrival is None or not self._reserved(guest.id, ref):
            raise NoBooking()
        return Booking(guest.id, arrival, guest.language)

    def _reserved(self, guest: object, ref: str) -> bool:
        """Whether a reservation was fired for `guest` under `ref`."""
        with self.db.journal(guest=guest) as entries:
            for e in entries:
                if (e.op == "event.fire" and e.fields.get("kind") == "reservation"
                        and normalise_reference(e.ref or "") == ref):
                    return True
        return False

    def _event(self, b: Booking) -> dict:
        a = b.arrival
        return dict(guest=b.guest, room=a.room, arrival=a.arrival,
                    departure=a.departure, party=a.party)

    def welcome(self, b: Booking) -> Welcome:
        """The welcome screen from pf_preview: nothing is stored.  Only
        kiosk prompts are kept; the rest of the preview is dropped here."""
        prompts = self.db.preview("check_in", **self._event(b))
        mine = [p for p in prompts if p.department == KIOSK_DEPT]
        langs = [p.language for p in mine if p.language]
        return Welcome(tuple(p.text for p in mine), langs[0] if langs else None,
                       b.language, b.arrival.room)

    def check_in(self, b: Booking) -> Confirmation:
        """Fire the check-in under the booking's own event id.  Firing it
        again (a second tap, another kiosk, a reload) stores nothing and
        returns the first prompts, so the confirmation is the same.  The
        kiosk's own prompts have just been shown on screen, so they are
        marked done rather than left waiting in a "kiosk" work list that
        no person reads (as examples/kiosk.c does)."""
        prompts = self.db.fire("check_in", event_id=b.checkin_id, **self._event(b))
        teams: Dict[str, int] = {}
        for p in prompts:
            if p.department == KIOSK_DEPT:
                if p.status in ("pending", "acknowledged"):
                    try:
                        p.done(KIOSK_ACTOR)
                    except libprofile.Error:
                        pass   # the check-in has committed; the list is cosmetic
            else:
                teams[p.department] = teams.get(p.department, 0) + 1
        return Confirmation(b.arrival.room, tuple(teams.items()))
