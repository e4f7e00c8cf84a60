"""The guest data lifecycle: duplicate suggestions, reversible merges,
erasure, consent changes, retention, backups and compacting copies.

Reached through ``db.guests`` (duplicates, not_duplicate, merge, unmerge,
erase, set_consent) and the Database (backup, compact, retention_run).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union

from ._convert import IdLike, cstr, id_in, id_out, path_cstr
from ._native import ffi, lib
from .errors import check, invalid
from .guest import Consent

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Duplicate", "RetentionReport", "DUPLICATE_REASONS"]

#: Reason names of a :class:`Duplicate`, in bit order.
DUPLICATE_REASONS: Tuple[Tuple[int, str], ...] = (
    (lib.PF_DUP_EMAIL, "email"),
    (lib.PF_DUP_PHONE, "phone"),
    (lib.PF_DUP_LOYALTY, "loyalty_no"),
    (lib.PF_DUP_NAME_BIRTH, "name_and_birth_date"),
    (lib.PF_DUP_SIMILAR_NAME, "similar_name"),
)


@dataclass(frozen=True)
class Duplicate:
    """A profile that looks like the same guest (a value record)."""

    guest: uuid.UUID
    score: int                 #: 0..100, higher is likelier
    reasons: Tuple[str, ...]   #: names from DUPLICATE_REASONS


@dataclass(frozen=True)
class RetentionReport:
    """What :meth:`Database.retention_run` did."""

    examined: int              #: profiles looked at
    anonymised: int            #: profiles anonymised by this run


def _call(db: "Database", fn: Any, *args: Any) -> None:
    ptr = db._acquire()
    try:
        check(fn(ptr, *args))
    finally:
        db._release()


def duplicates(db: "Database", guest: Any) -> List[Duplicate]:
    cid = id_in(guest, "guest")
    out = ffi.new("pf_duplicate_list **")
    ptr = db._acquire()
    try:
        check(lib.pf_guest_duplicates(out, ptr, cid))
    finally:
        db._release()
    try:
        lst = out[0]
        result = []
        for i in range(lst.count):
            d = lst.items[i]
            reasons = tuple(name for bit, name in DUPLICATE_REASONS if d.reasons & bit)
            gid = id_out(d.guest)
            assert gid is not None
            result.append(Duplicate(guest=gid, score=int(d.score), reasons=reasons))
        return result
    finally:
        lib.pf_duplicate_list_free(out[0])


def not_duplicate(db: "Database", a: Any, b: Any) -> None:
    _call(db, lib.pf_guest_not_duplicate, id_in(a, "a"), id_in(b, "b"))


def merge(db: "Database", keep: Any, duplicate: Any) -> uuid.UUID:
    out = ffi.new("pf_id *")
    ck, cd = id_in(keep, "keep"), id_in(duplicate, "duplicate")
    ptr = db._acquire()
    try:
        check(lib.pf_guest_merge(out, ptr, ck, cd))
    finally:
        db._release()
    mid = id_out(out)
    assert mid is not None
    return mid


def unmerge(db: "Database", merge_id: IdLike) -> None:
    _call(db, lib.pf_guest_unmerge, id_in(merge_id, "merge_id"))


def erase(db: "Database", guest: Any) -> None:
    _call(db, lib.pf_guest_erase, id_in(guest, "guest"))


_CONSENT_NAMES = {"profiling": Consent.PROFILING, "marketing": Consent.MARKETING,
                  "none": Consent.NONE}


def consent_value(consent: Union[Consent, int, str]) -> int:
    """Consent flags from a Consent, an int, or names like
    "profiling,marketing" / "none"."""
    if isinstance(consent, bool):
        raise TypeError("consent must be a Consent, an int or a str")
    if isinstance(consent, int):
        return int(consent)
    if isinstance(consent, str):
        value = 0
        for word in (w.strip() for w in consent.split(",")):
            if word not in _CONSENT_NAMES:
                raise invalid(f"unknown consent {word!r} (profiling, marketing, none)")
            value |= int(_CONSENT_NAMES[word])
        return value
    raise TypeError("consent must be a Consent, an int or a str")


def set_consent(db: "Database", guest: Any, consent: Union[Consent, int, str],
                actor: Optional[str]) -> None:
    value = consent_value(consent)
    if value < 0 or value > 0xFFFFFFFF:
        raise invalid(f"consent {value} is out of range")
    keep: List[Any] = []
    _call(db, lib.pf_guest_set_consent, id_in(guest, "guest"), value,
          cstr(actor, "actor", keep))


def copy(db: "Database", dest: Union[str, "os.PathLike[str]"], compact_copy: bool) -> None:
    keep: List[Any] = []
    fn = lib.pf_compact if compact_copy else lib.pf_backup
    _call(db, fn, path_cstr(dest, keep))


def retention_run(db: "Database", days: int, actor: Optional[str]) -> RetentionReport:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError("days must be an int")
    if days < 1 or days > 0xFFFFFFFF:
        raise invalid(f"days {days} is out of range (at least 1)")
    keep: List[Any] = []
    out = ffi.new("pf_retention_report *")
    _call(db, lambda ptr, *a: lib.pf_retention_run(out, ptr, *a), days,
          cstr(actor, "actor", keep))
    return RetentionReport(examined=int(out.examined), anonymised=int(out.anonymised))
