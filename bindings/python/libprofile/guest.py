"""Guests, their preferences and stays.

A :class:`Guest` is a snapshot of one profile read from the database, plus
methods that write back (:meth:`Guest.save`).  ``guest.prefs`` is a live
:class:`Prefs` mapping: while the database is open every read and write
goes to the database.  Like a row fetched from sqlite3, what was read stays
readable after the database is closed (the profile's attributes, and the
preferences as last read or written through the object); only operations
that reach the database raise :class:`~libprofile.Closed`.
:class:`Pref` and :class:`Stay` are plain value records.
"""

from __future__ import annotations

import datetime as _dt
import enum
import uuid
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, MutableMapping,
                    Optional, Tuple)

from ._convert import (cstr, date_in, date_out, enum_name, id_in, pystr,
                       time_in, time_out)
from ._native import ffi, lib
from .errors import Error, check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Consent", "Guest", "GuestList", "Pref", "Prefs", "PrefIterator",
           "Stay", "PREF_KINDS", "TIERS", "FIND_LIMIT"]

#: Most guests ``db.guests.find()`` returns (``PF_FIND_LIMIT``).
FIND_LIMIT = lib.PF_FIND_LIMIT


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


# Profile fields a caller may change, in pf_guest order, with their
# pf_guest_update() mask bits.  The rest (id, created, updated, stays...)
# is maintained by the library.
_MASK = {
    "name": lib.PF_GUEST_NAME,
    "email": lib.PF_GUEST_EMAIL,
    "phone": lib.PF_GUEST_PHONE,
    "language": lib.PF_GUEST_LANGUAGE,
    "loyalty_no": lib.PF_GUEST_LOYALTY_NO,
    "birth_date": lib.PF_GUEST_BIRTH_DATE,
    "tier": lib.PF_GUEST_TIER,
    "tags": lib.PF_GUEST_TAGS,
    "consent": lib.PF_GUEST_CONSENT,
    "external_id": lib.PF_GUEST_EXTERNAL_ID,
    "country": lib.PF_GUEST_COUNTRY,
}
_WRITABLE = tuple(_MASK)
_TEXT = ("email", "phone", "language", "loyalty_no", "external_id", "country")


def _guest_data(g: Any) -> Dict[str, Any]:
    """Copy a library-owned pf_guest into a dict of Python values."""
    prefs = [Pref._from_c(g.prefs[i]) for i in range(g.pref_count)]
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
        "country": pystr(g.country),
        "created": time_out(g.created),
        "updated": time_out(g.updated),
        "stays": int(g.stays),
        "complaints_open": int(g.complaints_open),
        "complaints_total": int(g.complaints_total),
        "not_satisfied_at": time_out(g.not_satisfied_at),
        # The snapshot Prefs serves after close (see Prefs).
        "prefs": {p.category: p for p in prefs},
    }


def _check_field(name: str, value: Any) -> None:
    """Python-level type check of one writable field; the library checks
    lengths, UTF-8, words and codes."""
    if name == "name":
        if not isinstance(value, str):
            raise TypeError("name must be a str")
    elif name in _TEXT:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    elif name == "tier":
        if not isinstance(value, str):
            raise TypeError("tier must be a str such as 'gold'")
    elif name == "tags":
        if isinstance(value, str) or not all(isinstance(t, str) for t in value):
            raise TypeError("tags must be a list of str")
    elif name == "consent":
        if not isinstance(value, int):
            raise TypeError("consent must be a Consent flag")


def _set_field(g: Any, name: str, value: Any, keep: List[Any]) -> None:
    """Store one writable field into the pf_guest `g`; strings live in `keep`."""
    _check_field(name, value)
    if name == "name":
        g.name = cstr(value, "name", keep, required=True)
    elif name in _TEXT:
        setattr(g, name, cstr(value, name, keep))
    elif name == "tier":
        tier = ffi.new("pf_tier *")
        check(lib.pf_tier_parse(tier, cstr(value, "tier", keep, required=True)))
        g.tier = tier[0]
    elif name == "tags":
        tags = list(value)
        if tags:
            arr = ffi.new("const char *[]", [cstr(t, "tag", keep) for t in tags])
            keep.append(arr)
            g.tags = arr
        else:
            g.tags = ffi.NULL
        g.tag_count = len(tags)
    elif name == "birth_date":
        g.birth_date = date_in(value, "birth_date")
    elif name == "consent":
        consent = int(value)
        if consent < 0 or consent > 0xFFFFFFFF:
            raise invalid("consent is not a Consent flag")
        g.consent = consent
    else:  # pragma: no cover - _WRITABLE and this function agree
        raise AssertionError(name)


def _c_guest(fields: Dict[str, Any], gid: Optional[uuid.UUID], keep: List[Any]) -> Any:
    """A complete pf_guest (every writable field) for pf_guest_put or
    pf_guest_get_or_put; its strings live in `keep`."""
    g = ffi.new("pf_guest *")
    g.version = lib.PF_GUEST_VERSION
    keep.append(g)
    if gid is not None:
        ffi.memmove(g.id.b, gid.bytes, 16)
    for name in _WRITABLE:
        _set_field(g, name, fields[name], keep)
    return g


def _c_update(fields: Dict[str, Any], keep: List[Any]) -> Tuple[Any, int]:
    """(pf_guest, mask) for pf_guest_update: only `fields` are set and
    named in the mask.  Unknown or read-only names are a TypeError."""
    g = ffi.new("pf_guest *")
    g.version = lib.PF_GUEST_VERSION
    keep.append(g)
    mask = 0
    for name, value in fields.items():
        if name not in _MASK:
            raise TypeError(f"update: {name!r} is not a writable profile field "
                            f"(one of {', '.join(_WRITABLE)})")
        _set_field(g, name, value, keep)
        mask |= _MASK[name]
    return g, mask


# Attributes read the values copied out when the guest was read, so they
# work after the database is closed; setting one changes only this object
# until save().
def _ro(name: str, doc: str) -> Any:
    def get(self: "Guest") -> Any:
        return self._data[name]
    return property(get, doc=doc)


def _rw(name: str, doc: str) -> Any:
    def get(self: "Guest") -> Any:
        return self._data[name]

    def set_(self: "Guest", value: Any) -> None:
        if name == "tags" and value is not None:
            value = list(value)
        if name == "consent":
            value = Consent(value)
        self._data[name] = value
    return property(get, set_, doc=doc)


class Guest:
    """A guest profile, as read from the database.

    Attributes: ``id`` (uuid.UUID), ``name``, ``email``, ``phone``,
    ``language``, ``loyalty_no`` (str or None), ``tier`` (one of
    :data:`TIERS`), ``tags`` (list of lower-case words), ``birth_date``
    (datetime.date or None), ``consent`` (:class:`Consent`),
    ``external_id`` (the guest's unique id in another system, str or
    None), ``country`` (ISO 3166-1 alpha-3 code such as "MAC", or None);
    read-only: ``created`` and ``updated`` (UTC datetimes), ``stays``
    (int), ``complaints_open`` and ``complaints_total`` (ints, kept by
    ``db.feedback``), ``not_satisfied_at`` (UTC datetime of the last
    follow-up that found the guest not satisfied, or None).

    Change attributes, then :meth:`save` to write what changed: only
    those fields, in one transaction (``pf_guest_update``), so fields
    another process changed meanwhile are kept.  ``prefs`` is a live
    mapping of the guest's preferences.

    The attributes are values copied out of the database: they stay
    readable (and settable, locally) after the database is closed, like a
    row fetched from sqlite3.  Only what reaches the database —
    :meth:`save`, :meth:`refresh`, :meth:`stay_list`, writing ``prefs`` —
    raises :class:`~libprofile.Closed` then.
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
    country = _rw("country", "Where the guest comes from: an ISO 3166-1 alpha-3 code "
                  "(three upper-case letters, e.g. 'MAC', 'PRT'), or None.")

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
        """The guest's preferences, a live MutableMapping category -> value
        (after close: the preferences as last read or written through this
        object, read-only; see :class:`Prefs`)."""
        if self._prefs is None:
            self._prefs = Prefs(self)
        return self._prefs

    def save(self) -> "Guest":
        """Write the attributes changed since the guest was read — only
        those, atomically — then re-read it (``updated`` moves).  Fields
        changed meanwhile by someone else and not by this object are kept.
        Returns self.  Raises Closed after the database was closed."""
        self._db.guests.update(self)
        return self

    def refresh(self) -> "Guest":
        """Re-read the profile (and the preferences snapshot), dropping
        unsaved changes.  Returns self."""
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


class GuestList(List[Guest]):
    """The guests ``db.guests.find()`` returned: a list, plus ``truncated``.

    ``truncated`` is True when more guests matched than the list holds
    (:data:`FIND_LIMIT`, 100): say "more than 100 matches, refine the
    search" rather than show a partial list as if it were complete.
    """

    truncated: bool

    def __init__(self, guests: Any = (), truncated: bool = False) -> None:
        super().__init__(guests)
        self.truncated = bool(truncated)

    def __repr__(self) -> str:
        more = ", truncated=True" if self.truncated else ""
        return f"GuestList({list.__repr__(self)}{more})"


class PrefIterator:
    """Iterates over a guest's preference categories, as they were when the
    iteration started (read then: closing the database meanwhile does not
    stop it)."""

    __slots__ = ("_cats", "_pos")

    def __init__(self, cats: List[str]) -> None:
        self._cats = cats
        self._pos = 0

    def __iter__(self) -> "PrefIterator":
        return self

    def __next__(self) -> str:
        if self._pos >= len(self._cats):
            raise StopIteration
        self._pos += 1
        return self._cats[self._pos - 1]


class Prefs(MutableMapping[str, str]):
    """A guest's preferences as a mapping category -> value.

    While the database is open every read and write goes to the database.
    ``prefs["room.floor"] = "10"`` records a *like* observed by the front
    desk; use :meth:`set` to say more (a dislike or need, who observed it,
    a note).  ``del prefs[c]`` removes one; :meth:`get_pref` and
    :meth:`all` give the full :class:`Pref` records.

    After the database is closed, reads (``prefs[c]``, :meth:`get_pref`,
    :meth:`all`, ``len``, ``in``, iteration) answer from a snapshot: the
    preferences read with the guest (``get``, ``find``, ``refresh``...),
    updated by every read and write made through this object since.
    Writes (:meth:`set`, ``prefs[c] = v``, ``del prefs[c]``) raise
    :class:`~libprofile.Closed`.
    """

    __slots__ = ("_guest",)

    def __init__(self, guest: Guest) -> None:
        self._guest = guest

    @property
    def _db(self) -> "Database":
        return self._guest._db

    @property
    def _snapshot(self) -> Dict[str, Pref]:
        return self._guest._data["prefs"]

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
            check(lib.pf_pref_set(db, gid, ccat, cval, obs))
        finally:
            self._db._release()
        # The stored record (count, first_seen...) for the snapshot.
        self._read(category, required=False)

    def _read(self, category: str, required: bool) -> Optional[Pref]:
        """Read one preference from the database and record what was found
        in the snapshot.  None if there is none, or NotFound if
        `required`."""
        keep: List[Any] = []
        gid = id_in(self._guest.id, "guest")
        ccat = cstr(category, "category", keep, required=True)
        out = ffi.new("pf_pref **")
        db = self._db._acquire()
        try:
            rc = lib.pf_pref_get(out, db, gid, ccat)
            if rc == lib.PF_ENOTFOUND:
                self._snapshot.pop(category, None)
                if not required:
                    return None
            check(rc)
        finally:
            self._db._release()
        try:
            pref = Pref._from_c(out[0])
        finally:
            lib.pf_pref_free(out[0])
        self._snapshot[category] = pref
        return pref

    def get_pref(self, category: str) -> Pref:
        """The full record of one preference; NotFound (a KeyError) if the
        guest has none in `category`."""
        if not self._db.closed:
            pref = self._read(category, required=True)
            assert pref is not None
            return pref
        try:
            return self._snapshot[category]
        except KeyError:
            raise Error(lib.PF_ENOTFOUND, f"guest {self._guest.id} has no preference "
                        f"{category!r} (as last read; the database is closed)") from None

    def all(self) -> List[Pref]:
        """Every preference of the guest, sorted by category."""
        if self._db.closed:
            return sorted(self._snapshot.values(), key=lambda p: p.category)
        gid = id_in(self._guest.id, "guest")
        out = ffi.new("pf_pref_list **")
        db = self._db._acquire()
        try:
            check(lib.pf_pref_list_get(out, db, gid))
        finally:
            self._db._release()
        try:
            lst = out[0]
            prefs = [Pref._from_c(lst.items[i]) for i in range(lst.count)]
        finally:
            lib.pf_pref_list_free(out[0])
        self._guest._data["prefs"] = {p.category: p for p in prefs}
        return prefs

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
            if rc == 0 or rc == lib.PF_ENOTFOUND:
                self._snapshot.pop(category, None)
            check(rc)
        finally:
            self._db._release()

    def __iter__(self) -> Iterator[str]:
        return PrefIterator([p.category for p in self.all()])

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
        state = " (database closed)" if self._db.closed else ""
        return ("<Prefs " + repr({p.category: p.value for p in self.all()}) +
                state + ">")
