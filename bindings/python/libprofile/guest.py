"""Guests, their preferences and stays.

A :class:`Guest` is a snapshot of one profile read from the database, plus
methods that write back (:meth:`Guest.save`).  ``guest.prefs`` is a live
:class:`Prefs` mapping: every read and write goes to the database.
:class:`Pref` and :class:`Stay` are plain value records.
"""

from __future__ import annotations

import datetime as _dt
import enum
import uuid
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, MutableMapping,
                    Optional)

from ._convert import (cstr, date_in, date_out, enum_name, id_in, pystr,
                       time_in, time_out)
from ._native import ffi, lib
from .errors import check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Consent", "Guest", "Pref", "Prefs", "PrefIterator", "Stay",
           "PREF_KINDS", "TIERS"]


class Consent(enum.IntFlag):
    """What a guest agreed to (``pf_guest.consent``).

    New guests have ``Consent.PROFILING``: prompts may be built from their
    observed likes and dislikes.  Without it only needs (allergies,
    accessibility) reach staff.
    """

    NONE = 0
    PROFILING = lib.PF_CONSENT_PROFILING
    MARKETING = lib.PF_CONSENT_MARKETING


#: Loyalty tiers, lowest first (``tier >= gold`` in a rule holds for the later ones).
TIERS = tuple(enum_name(lib.pf_tier_name, t) for t in
              (lib.PF_TIER_NONE, lib.PF_TIER_SILVER, lib.PF_TIER_GOLD,
               lib.PF_TIER_PLATINUM, lib.PF_TIER_VIP))

#: Preference kinds: "like", "dislike", "need".
PREF_KINDS = tuple(enum_name(lib.pf_pref_kind_name, k) for k in
                   (lib.PF_LIKE, lib.PF_DISLIKE, lib.PF_NEED))
_KIND_VALUE = {name: i for i, name in enumerate(PREF_KINDS)}


@dataclass(frozen=True)
class Pref:
    """One preference as stored on a profile (a value record)."""

    category: str                   #: "room.floor"
    value: str                      #: "10"
    kind: str                       #: "like", "dislike" or "need"
    department: str                 #: who observed it: "housekeeping"
    staff: Optional[str]
    note: Optional[str]
    count: int                      #: times this value was observed
    first_seen: Optional[_dt.datetime]
    last_seen: Optional[_dt.datetime]

    @classmethod
    def _from_c(cls, p: Any) -> "Pref":
        return cls(category=pystr(p.category), value=pystr(p.value),
                   kind=enum_name(lib.pf_pref_kind_name, p.kind),
                   department=pystr(p.department), staff=pystr(p.staff),
                   note=pystr(p.note), count=int(p.count),
                   first_seen=time_out(p.first_seen),
                   last_seen=time_out(p.last_seen))


@dataclass(frozen=True)
class Stay:
    """One stay of a guest (a value record)."""

    guest: uuid.UUID
    arrival: _dt.date
    departure: _dt.date
    room: Optional[str] = None
    property: Optional[str] = None
    party: int = 0                  #: people in the party; 0 = unknown

    @classmethod
    def _from_c(cls, guest: uuid.UUID, s: Any) -> "Stay":
        return cls(guest=guest, arrival=date_out(s.arrival),
                   departure=date_out(s.departure), room=pystr(s.room),
                   property=pystr(s.property), party=int(s.party))


# Profile fields a caller may change, in pf_guest order.  The rest
# (id, created, updated, stays) is maintained by the library.
_WRITABLE = ("name", "email", "phone", "language", "loyalty_no", "tier",
             "tags", "birth_date", "consent", "external_id")
_TEXT = ("email", "phone", "language", "loyalty_no", "external_id")


def _guest_data(g: Any) -> Dict[str, Any]:
    """Copy a library-owned pf_guest into a dict of Python values."""
    return {
        "id": uuid.UUID(bytes=bytes(ffi.buffer(g.id.b, 16))),
        "name": pystr(g.name),
        "email": pystr(g.email),
        "phone": pystr(g.phone),
        "language": pystr(g.language),
        "loyalty_no": pystr(g.loyalty_no),
        "tier": enum_name(lib.pf_tier_name, g.tier),
        "tags": [pystr(g.tags[i]) for i in range(g.tag_count)],
        "birth_date": date_out(g.birth_date),
        "consent": Consent(g.consent),
        "external_id": pystr(g.external_id),
        "created": time_out(g.created),
        "updated": time_out(g.updated),
        "stays": int(g.stays),
        "complaints_open": int(g.complaints_open),
        "complaints_total": int(g.complaints_total),
        "not_satisfied_at": time_out(g.not_satisfied_at),
    }


def _check_fields(fields: Dict[str, Any]) -> None:
    """Python-level type checks; the library checks lengths, UTF-8, words."""
    if not isinstance(fields["name"], str):
        raise TypeError("name must be a str")
    for f in _TEXT:
        v = fields[f]
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{f} must be a str or None, not {type(v).__name__}")
    if not isinstance(fields["tier"], str):
        raise TypeError("tier must be a str such as 'gold'")
    tags = fields["tags"]
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise TypeError("tags must be a list of str")
    if not isinstance(fields["consent"], int):
        raise TypeError("consent must be a Consent flag")


def _c_guest(fields: Dict[str, Any], gid: Optional[uuid.UUID], keep: List[Any]) -> Any:
    """A pf_guest for pf_guest_put; its strings live in `keep`."""
    _check_fields(fields)
    g = ffi.new("pf_guest *")
    keep.append(g)
    if gid is not None:
        ffi.memmove(g.id.b, gid.bytes, 16)
    g.name = cstr(fields["name"], "name", keep, required=True)
    for f in _TEXT:
        setattr(g, f, cstr(fields[f], f, keep))
    tier = ffi.new("pf_tier *")
    check(lib.pf_tier_parse(tier, cstr(fields["tier"], "tier", keep, required=True)))
    g.tier = tier[0]
    tags = list(fields["tags"])
    if tags:
        arr = ffi.new("const char *[]", [cstr(t, "tag", keep) for t in tags])
        keep.append(arr)
        g.tags = arr
    g.tag_count = len(tags)
    g.birth_date = date_in(fields["birth_date"], "birth_date")
    consent = int(fields["consent"])
    if consent < 0 or consent > 0xFFFFFFFF:
        raise invalid("consent is not a Consent flag")
    g.consent = consent
    return g


def _ro(name: str, doc: str) -> Any:
    def get(self: "Guest") -> Any:
        self._db._check_open()
        return self._data[name]
    return property(get, doc=doc)


def _rw(name: str, doc: str) -> Any:
    def get(self: "Guest") -> Any:
        self._db._check_open()
        return self._data[name]

    def set_(self: "Guest", value: Any) -> None:
        self._db._check_open()
        if name == "tags" and value is not None:
            value = list(value)
        if name == "consent":
            value = Consent(value)
        self._data[name] = value
    return property(get, set_, doc=doc)


class Guest:
    """A guest profile, as read from the database.

    Attributes (reading or writing any of them after the database was
    closed raises :class:`~libprofile.Closed`):

    ``id`` (uuid.UUID), ``name``, ``email``, ``phone``, ``language``,
    ``loyalty_no`` (str or None), ``tier`` (one of :data:`TIERS`), ``tags``
    (list of lower-case words), ``birth_date`` (datetime.date or None),
    ``consent`` (:class:`Consent`), ``external_id`` (the guest's unique id
    in another system, str or None); read-only: ``created`` and ``updated``
    (UTC datetimes), ``stays`` (int), ``complaints_open`` and
    ``complaints_total`` (ints, kept by ``db.feedback``),
    ``not_satisfied_at`` (UTC datetime of the last follow-up that found the
    guest not satisfied, or None).

    Change attributes, then :meth:`save` to write what changed.
    ``prefs`` is a live mapping of the guest's preferences.
    """

    __slots__ = ("_db", "_data", "_orig", "_prefs")

    id = _ro("id", "The guest's uuid.UUID.")
    created = _ro("created", "When the profile was created (UTC datetime).")
    updated = _ro("updated", "When the profile last changed (UTC datetime).")
    stays = _ro("stays", "Number of distinct stays recorded.")
    complaints_open = _ro("complaints_open", "Complaints not yet resolved or closed.")
    complaints_total = _ro("complaints_total", "Complaints ever recorded.")
    not_satisfied_at = _ro("not_satisfied_at", "When a follow-up last found the guest "
                           "not satisfied (UTC datetime), or None.")
    name = _rw("name", "Full name (required).")
    email = _rw("email", "E-mail address or None.")
    phone = _rw("phone", "Phone number or None.")
    language = _rw("language", "Language code such as 'zh' or 'pt-BR', or None.")
    loyalty_no = _rw("loyalty_no", "Loyalty programme number or None.")
    tier = _rw("tier", "Loyalty tier: one of libprofile.TIERS.")
    tags = _rw("tags", "List of lower-case tag words.")
    birth_date = _rw("birth_date", "datetime.date or None.")
    consent = _rw("consent", "Consent flags (libprofile.Consent).")
    external_id = _rw("external_id", "Unique id in another system (a PMS, an import "
                      "source) or None; re-imports match on it.")

    def __init__(self, db: "Database", data: Dict[str, Any]) -> None:
        self._db = db
        self._set_data(data)
        self._prefs: Optional[Prefs] = None

    def _set_data(self, data: Dict[str, Any]) -> None:
        self._data = data
        self._orig = {f: (list(data[f]) if f == "tags" else data[f]) for f in _WRITABLE}

    def _changed(self) -> Dict[str, Any]:
        return {f: self._data[f] for f in _WRITABLE if self._data[f] != self._orig[f]}

    @property
    def database(self) -> "Database":
        """The database this guest belongs to."""
        return self._db

    @property
    def prefs(self) -> "Prefs":
        """The guest's preferences, a live MutableMapping category -> value."""
        self._db._check_open()
        if self._prefs is None:
            self._prefs = Prefs(self)
        return self._prefs

    def save(self) -> "Guest":
        """Write the attributes changed since the guest was read, then
        re-read it (``updated`` moves).  Fields changed meanwhile by someone
        else and not by this object are kept.  Returns self."""
        self._db.guests.update(self)
        return self

    def refresh(self) -> "Guest":
        """Re-read the profile, dropping unsaved changes.  Returns self."""
        self._set_data(self._db.guests._load(self.id))
        return self

    def stay_list(self) -> List[Stay]:
        """This guest's stays in order of arrival (db.stays.list(self))."""
        return self._db.stays.list(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Guest):
            return NotImplemented
        return self._db is other._db and self._data["id"] == other._data["id"]

    def __hash__(self) -> int:
        return hash(self._data["id"])

    def __repr__(self) -> str:
        state = " (database closed)" if self._db.closed else ""
        return f"<Guest {self._data['id']} {self._data['name']!r}{state}>"


class PrefIterator:
    """Iterates over a guest's preference categories, as they were when the
    iteration started.  Raises Closed if the database is closed meanwhile."""

    __slots__ = ("_db", "_cats", "_pos")

    def __init__(self, db: "Database", cats: List[str]) -> None:
        self._db = db
        self._cats = cats
        self._pos = 0

    def __iter__(self) -> "PrefIterator":
        return self

    def __next__(self) -> str:
        self._db._check_open()
        if self._pos >= len(self._cats):
            raise StopIteration
        self._pos += 1
        return self._cats[self._pos - 1]


class Prefs(MutableMapping[str, str]):
    """A guest's preferences as a mapping category -> value, read from and
    written to the database on every access.

    ``prefs["room.floor"] = "10"`` records a *like* observed by the front
    desk; use :meth:`set` to say more (a dislike or need, who observed it,
    a note).  ``del prefs[c]`` removes one; :meth:`get_pref` and
    :meth:`all` give the full :class:`Pref` records.
    """

    __slots__ = ("_guest",)

    def __init__(self, guest: Guest) -> None:
        self._guest = guest

    @property
    def _db(self) -> "Database":
        return self._guest._db

    def set(self, category: str, value: str, kind: str = "like",
            observed_by: str = "front_desk", staff: Optional[str] = None,
            note: Optional[str] = None, time: Optional[_dt.datetime] = None) -> None:
        """Record that the guest has `value` in `category`.

        kind: "like", "dislike" or "need" (needs always reach staff).
        observed_by: the observing department (a lower-case word).
        time: an aware datetime; default now by the database clock.
        Observing the same value and kind again counts it; a different
        value or kind replaces it.
        """
        if kind not in _KIND_VALUE:
            raise invalid(f"kind {kind!r} is not one of {', '.join(PREF_KINDS)}")
        keep: List[Any] = []
        gid = id_in(self._guest.id, "guest")
        obs = ffi.new("pf_observation *")
        obs.version = lib.PF_OBSERVATION_VERSION
        obs.kind = _KIND_VALUE[kind]
        obs.department = cstr(observed_by, "observed_by", keep, required=True)
        obs.staff = cstr(staff, "staff", keep)
        obs.note = cstr(note, "note", keep)
        obs.time = time_in(time, "time")
        ccat = cstr(category, "category", keep, required=True)
        cval = cstr(value, "value", keep, required=True)
        db = self._db._acquire()
        try:
            rc = lib.pf_pref_set(db, gid, ccat, cval, obs)
            check(rc)
        finally:
            self._db._release()

    def get_pref(self, category: str) -> Pref:
        """The full record of one preference; NotFound (a KeyError) if the
        guest has none in `category`."""
        keep: List[Any] = []
        gid = id_in(self._guest.id, "guest")
        ccat = cstr(category, "category", keep, required=True)
        out = ffi.new("pf_pref **")
        db = self._db._acquire()
        try:
            rc = lib.pf_pref_get(out, db, gid, ccat)
            check(rc)
        finally:
            self._db._release()
        try:
            return Pref._from_c(out[0])
        finally:
            lib.pf_pref_free(out[0])

    def all(self) -> List[Pref]:
        """Every preference of the guest, sorted by category."""
        gid = id_in(self._guest.id, "guest")
        out = ffi.new("pf_pref_list **")
        db = self._db._acquire()
        try:
            rc = lib.pf_pref_list_get(out, db, gid)
            check(rc)
        finally:
            self._db._release()
        try:
            lst = out[0]
            return [Pref._from_c(lst.items[i]) for i in range(lst.count)]
        finally:
            lib.pf_pref_list_free(out[0])

    # MutableMapping
    def __getitem__(self, category: str) -> str:
        return self.get_pref(category).value

    def __setitem__(self, category: str, value: str) -> None:
        self.set(category, value)

    def __delitem__(self, category: str) -> None:
        keep: List[Any] = []
        gid = id_in(self._guest.id, "guest")
        ccat = cstr(category, "category", keep, required=True)
        db = self._db._acquire()
        try:
            rc = lib.pf_pref_del(db, gid, ccat)
            check(rc)
        finally:
            self._db._release()

    def __iter__(self) -> Iterator[str]:
        return PrefIterator(self._db, [p.category for p in self.all()])

    def __len__(self) -> int:
        return len(self.all())

    def __contains__(self, category: object) -> bool:
        if not isinstance(category, str):
            return False
        try:
            self.get_pref(category)
        except KeyError:
            return False
        return True

    def __repr__(self) -> str:
        if self._db.closed:
            return "<Prefs (database closed)>"
        return "<Prefs " + repr({p.category: p.value for p in self.all()}) + ">"
