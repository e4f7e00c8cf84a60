"""Complaints, compliments and suggestions, and service-quality figures.

``db.feedback`` (:class:`FeedbackBook`) records feedback against a guest
and moves it along its workflow; :func:`quality_report` (as
``db.quality_report(from_, to)``) returns the figures a manager watches.

A complaint is due by the end of the hotel's business day (the "sunset
rule", in the time zone given to :func:`libprofile.open`), and recording
it sends a prompt to the department concerned and to management.
Resolving it sends a call-back prompt to the front office; recording the
call's outcome closes the loop.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from ._convert import (IdLike, cstr, date_in, date_out, enum_name, id_in, id_out,
                       pystr, time_in, time_out, to_uuid)
from ._native import ffi, lib
from .errors import check, invalid
from .report_html import QualityReport

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Feedback", "FeedbackBook", "FEEDBACK_KINDS", "FEEDBACK_STATUSES",
           "OUTCOMES", "QualityReport", "quality_report"]

#: Feedback kinds: "complaint", "compliment", "suggestion".
FEEDBACK_KINDS = tuple(enum_name(lib.pf_feedback_kind_name, k) for k in
                       (lib.PF_FEEDBACK_COMPLAINT, lib.PF_FEEDBACK_COMPLIMENT,
                        lib.PF_FEEDBACK_SUGGESTION))
#: Workflow states: "open", "in_progress", "resolved", "closed_unresolved".
FEEDBACK_STATUSES = tuple(enum_name(lib.pf_feedback_status_name, s) for s in
                          (lib.PF_FEEDBACK_OPEN, lib.PF_FEEDBACK_IN_PROGRESS,
                           lib.PF_FEEDBACK_RESOLVED, lib.PF_FEEDBACK_CLOSED_UNRESOLVED))
#: Follow-up outcomes: "none" (no call yet), "satisfied", "not_satisfied".
OUTCOMES = tuple(enum_name(lib.pf_outcome_name, o) for o in
                 (lib.PF_OUTCOME_NONE, lib.PF_OUTCOME_SATISFIED,
                  lib.PF_OUTCOME_NOT_SATISFIED))

_PREF_KINDS = {"like": lib.PF_LIKE, "dislike": lib.PF_DISLIKE, "need": lib.PF_NEED}


def _pick(value: str, names: Sequence[str], field: str) -> int:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    try:
        return names.index(value)
    except ValueError:
        raise invalid(f"{field} {value!r} is not one of {', '.join(names)}") from None


@dataclass(frozen=True)
class Feedback:
    """One complaint, compliment or suggestion, as stored (a value record).

    Re-read it (``db.feedback.get(f.id)``) to see later changes; the
    workflow methods of :class:`FeedbackBook` return the new state.
    """

    id: uuid.UUID
    guest: uuid.UUID
    stay: Optional[_dt.date]             #: arrival date of the stay concerned
    kind: str                            #: one of FEEDBACK_KINDS
    department: str                      #: the department concerned
    category: str                        #: "room", "food", "noise", ...
    text: str
    severity: int                        #: 1 (minor) .. 3 (serious)
    recorded_by: str
    recorded_at: _dt.datetime
    status: str                          #: one of FEEDBACK_STATUSES
    due: Optional[_dt.datetime]          #: complaints: the sunset due time
    resolution: Optional[str]
    resolved_by: Optional[str]
    resolved_at: Optional[_dt.datetime]
    followup_prompt: Optional[uuid.UUID]  #: the call-back prompt, once resolved
    outcome: str                         #: one of OUTCOMES
    outcome_by: Optional[str]
    outcome_at: Optional[_dt.datetime]

    @property
    def open(self) -> bool:
        """True while open or in progress."""
        return self.status in ("open", "in_progress")

    @property
    def satisfied(self) -> Optional[bool]:
        """The follow-up's answer: True, False, or None before the call."""
        return None if self.outcome == "none" else self.outcome == "satisfied"

    @classmethod
    def _from_c(cls, f: Any) -> "Feedback":
        return cls(id=id_out(f.id), guest=id_out(f.guest), stay=date_out(f.stay),
                   kind=enum_name(lib.pf_feedback_kind_name, f.kind),
                   department=pystr(f.department), category=pystr(f.category),
                   text=pystr(f.text), severity=int(f.severity),
                   recorded_by=pystr(f.recorded_by), recorded_at=time_out(f.recorded_at),
                   status=enum_name(lib.pf_feedback_status_name, f.status),
                   due=time_out(f.due), resolution=pystr(f.resolution),
                   resolved_by=pystr(f.resolved_by), resolved_at=time_out(f.resolved_at),
                   followup_prompt=id_out(f.followup_prompt),
                   outcome=enum_name(lib.pf_outcome_name, f.outcome),
                   outcome_by=pystr(f.outcome_by), outcome_at=time_out(f.outcome_at))


def _learn(value: Any, keep: List[Any]) -> Any:
    """A ``pf_pref *`` from learn=: a dict with category, value, kind and
    optionally note, or a tuple (kind, category, value[, note])."""
    if value is None:
        return ffi.NULL
    if isinstance(value, dict):
        unknown = set(value) - {"category", "value", "kind", "note"}
        if unknown:
            raise invalid(f"learn: unknown keys {sorted(unknown)}")
        kind, category = value.get("kind", "like"), value.get("category")
        val, note = value.get("value"), value.get("note")
    elif isinstance(value, (tuple, list)) and len(value) in (3, 4):
        kind, category, val = value[0], value[1], value[2]
        note = value[3] if len(value) == 4 else None
    else:
        raise TypeError("learn must be a dict or a (kind, category, value[, note]) tuple")
    p = ffi.new("pf_pref *")
    p.kind = _PREF_KINDS[tuple(_PREF_KINDS)[_pick(kind, tuple(_PREF_KINDS), "learn kind")]]
    p.category = cstr(category, "learn category", keep, required=True)
    p.value = cstr(val, "learn value", keep, required=True)
    p.note = cstr(note, "learn note", keep)
    keep.append(p)
    return p


class FeedbackBook:
    """``db.feedback``: record feedback and move it along its workflow."""

    def __init__(self, db: "Database") -> None:
        self._db = db

    def _call(self, fn: Any, *args: Any) -> None:
        db = self._db._acquire()
        try:
            check(fn(db, *args))
        finally:
            self._db._release()

    def add(self, guest: Union[IdLike, Any], kind: str, department: str, category: str,
            text: str, severity: int = 1, recorded_by: Optional[str] = None,
            stay: Optional[_dt.date] = None, learn: Any = None,
            recorded_at: Optional[_dt.datetime] = None) -> Feedback:
        """Record feedback and return it as stored.

        kind: "complaint", "compliment" or "suggestion".  recorded_by (the
        staff member) is required.  stay: the arrival date of one of the
        guest's stays.  learn: a preference to record on the profile in
        the same transaction, e.g. ``("need", "allergy.feathers", "yes")``
        or ``{"kind": "dislike", "category": "room.location",
        "value": "near lift"}``.  recorded_at: when it was said, if
        earlier than now.

        A complaint gets its sunset due time and prompts to the department
        and to management at once.
        """
        if isinstance(severity, bool) or not isinstance(severity, int):
            raise TypeError("severity must be an int (1, 2 or 3)")
        if not -2**31 <= severity < 2**31:
            raise invalid(f"severity {severity} is not 1, 2 or 3")
        keep: List[Any] = []
        f = ffi.new("pf_feedback *")
        f.version = lib.PF_FEEDBACK_VERSION
        ffi.memmove(f.guest.b, to_uuid(guest, "guest").bytes, 16)
        f.kind = _pick(kind, FEEDBACK_KINDS, "kind")
        f.department = cstr(department, "department", keep, required=True)
        f.category = cstr(category, "category", keep, required=True)
        f.text = cstr(text, "text", keep, required=True)
        f.severity = severity
        f.recorded_by = cstr(recorded_by, "recorded_by", keep, required=True)
        f.stay = date_in(stay, "stay")
        f.recorded_at = time_in(recorded_at, "recorded_at")
        self._call(lib.pf_feedback_add, f, _learn(learn, keep))
        return self.get(id_out(f.id))

    def get(self, id: IdLike) -> Feedback:
        """One feedback by id; NotFound (also a KeyError) if there is none."""
        out = ffi.new("pf_feedback **")
        self._call(lambda db, *a: lib.pf_feedback_get(out, db, *a), id_in(id, "id"))
        try:
            return Feedback._from_c(out[0])
        finally:
            lib.pf_feedback_free(out[0])

    __getitem__ = get

    def list(self, guest: Union[IdLike, Any, None] = None,
             status: Optional[str] = None,
             kind: Optional[str] = None) -> List[Feedback]:
        """Feedback of one guest (or of all), oldest first, optionally
        only in one status and/or of one kind."""
        cg = ffi.NULL if guest is None else id_in(to_uuid(guest, "guest"), "guest")
        q = ffi.new("pf_feedback_query *")
        q.version = lib.PF_FEEDBACK_QUERY_VERSION
        q.status = (lib.PF_FEEDBACK_ANY if status is None
                    else _pick(status, FEEDBACK_STATUSES, "status"))
        q.kind = lib.PF_FEEDBACK_ANY if kind is None else _pick(kind, FEEDBACK_KINDS, "kind")
        out = ffi.new("pf_feedback_list **")
        self._call(lambda db, *a: lib.pf_feedback_list_get(out, db, *a), cg, q)
        try:
            lst = out[0]
            return [Feedback._from_c(lst.items[i]) for i in range(lst.count)]
        finally:
            lib.pf_feedback_list_free(out[0])

    def update(self, id: Union[IdLike, Feedback], status: str, staff: str,
               note: Optional[str] = None) -> Feedback:
        """Move feedback to "in_progress" (from open) or "closed_unresolved"
        (from open or in progress; `note` is kept as the reason).  Any
        other move raises InvalidInput and changes nothing."""
        fid = to_uuid(id, "id")
        keep: List[Any] = []
        self._call(lib.pf_feedback_update, id_in(fid), _pick(status, FEEDBACK_STATUSES, "status"),
                   cstr(staff, "staff", keep, required=True), cstr(note, "note", keep))
        return self.get(fid)

    def resolve(self, id: Union[IdLike, Feedback], staff: str, resolution: str) -> Feedback:
        """Resolve open or in-progress feedback.  A complaint's prompts are
        marked done and a call-back prompt goes to the front office, due
        at the end of the next business day."""
        fid = to_uuid(id, "id")
        keep: List[Any] = []
        self._call(lib.pf_feedback_resolve, id_in(fid),
                   cstr(staff, "staff", keep, required=True),
                   cstr(resolution, "resolution", keep, required=True))
        return self.get(fid)

    def followup(self, id: Union[IdLike, Feedback], staff: str, satisfied: bool) -> Feedback:
        """Record the call-back's outcome for a resolved complaint (once).
        ``satisfied=False`` marks the guest's profile (not_satisfied_at)."""
        if not isinstance(satisfied, bool):
            raise TypeError("satisfied must be a bool")
        fid = to_uuid(id, "id")
        keep: List[Any] = []
        self._call(lib.pf_feedback_followup, id_in(fid),
                   cstr(staff, "staff", keep, required=True),
                   lib.PF_OUTCOME_SATISFIED if satisfied else lib.PF_OUTCOME_NOT_SATISFIED)
        return self.get(fid)


# ------------------------------------------------------------ quality report

_ROW_COUNTS = ("prompts", "done_on_time", "done_late", "never_done", "not_yet_due",
               "complaints", "resolved", "resolved_by_due", "unresolved", "followups",
               "not_satisfied", "compliments", "suggestions")
_ROW_RATES = ("omission_rate", "on_time_rate", "unresolved_rate", "dissatisfaction_rate",
              "per_100_stays")


def _row(r: Any) -> Dict[str, Any]:
    d: Dict[str, Any] = {name: int(getattr(r, name)) for name in _ROW_COUNTS}
    for name in _ROW_RATES:
        v = float(getattr(r, name))
        d[name] = None if v < 0 else v          # no denominator
    m = int(r.median_resolve_seconds)
    d["median_resolve_seconds"] = None if m < 0 else m
    return d


def _bound(db: "Database", value: Any, field: str, end: bool) -> int:
    """Epoch seconds for an aware datetime, or for a date taken as a local
    day of the hotel: its start, or (end=True) the start of the next day."""
    if isinstance(value, _dt.datetime):
        return time_in(value, field)
    if isinstance(value, _dt.date):
        day = value + _dt.timedelta(days=1) if end else value
        out = ffi.new("pf_time *")
        cdb = db._acquire()
        try:
            check(lib.pf_day_start(out, cdb, date_in(day, field)))
        finally:
            db._release()
        return int(out[0])
    raise TypeError(f"{field} must be a datetime.date or an aware datetime.datetime")


def quality_report(db: "Database", from_: Union[_dt.date, _dt.datetime],
                   to: Union[_dt.date, _dt.datetime],
                   daily: bool = False) -> QualityReport:
    """Service-quality figures over a range, as a dict (a
    :class:`~libprofile.report_html.QualityReport`, whose ``html()`` draws
    the dashboard page).

    from_/to: aware datetimes ([from_, to)), or dates taken as whole days
    in the hotel's time zone, `to` included (so ``(date(2026, 11, 1),
    date(2026, 11, 30))`` is November).

    daily: also report each hotel day of the range (dates only), under
    "days": ``[{"day": date, "stays", "overall", "departments"}, ...]``,
    one pf_quality_report_get() per day (each is one pass over the stored
    prompts, feedback and stays: ask for days, not years).  The dashboard's
    trend is drawn from them.

    Returns ``{"from", "to" (UTC datetimes), "stays" (arrivals in the
    range), "overall": row, "departments": {name: row}}``; a row holds the
    counts prompts, done_on_time, done_late, never_done, not_yet_due,
    complaints, resolved, resolved_by_due, unresolved, followups,
    not_satisfied, compliments, suggestions; the rates omission_rate,
    on_time_rate, unresolved_rate, dissatisfaction_rate (0..1) and
    per_100_stays; and median_resolve_seconds.  A rate (or the median)
    without a denominator is None.  libprofile.h (pf_quality_row) defines
    each figure.
    """
    start = _bound(db, from_, "from_", False)
    end = _bound(db, to, "to", True)
    report = QualityReport(_report(db, start, end))
    if daily:
        if isinstance(from_, _dt.datetime) or isinstance(to, _dt.datetime):
            raise TypeError("daily=True needs from_ and to as datetime.date")
        report["days"] = []
        day = from_
        while day <= to:
            r = _report(db, _bound(db, day, "from_", False), _bound(db, day, "to", True))
            report["days"].append({"day": day, "stays": r["stays"], "overall": r["overall"],
                                   "departments": r["departments"]})
            day += _dt.timedelta(days=1)
    return report


def _report(db: "Database", start: int, end: int) -> Dict[str, Any]:
    """One pf_quality_report_get() over [start, end), copied into a dict."""
    out = ffi.new("pf_quality_report **")
    cdb = db._acquire()
    try:
        check(lib.pf_quality_report_get(out, cdb, start, end))
    finally:
        db._release()
    try:
        r = out[0]
        return {
            "from": _dt.datetime.fromtimestamp(getattr(r, "from"), _dt.timezone.utc),
            "to": _dt.datetime.fromtimestamp(r.to, _dt.timezone.utc),
            "stays": int(r.stays),
            "overall": _row(r.overall),
            "departments": {pystr(r.departments[i].department): _row(r.departments[i])
                            for i in range(r.count)},
        }
    finally:
        lib.pf_quality_report_free(out[0])


def business_minute(value: Any, field: str, allow_none_marker: bool) -> int:
    """A minute of the day for pf_options from a datetime.time or an int
    (None: the library default; -1 / False: "none", where allowed)."""
    if value is None:
        return 0
    if allow_none_marker and (value is False or (type(value) is int and value == -1)):
        return -1
    if isinstance(value, _dt.time):
        minute = value.hour * 60 + value.minute
    elif isinstance(value, int) and not isinstance(value, bool):
        minute = value
    else:
        raise TypeError(f"{field} must be a datetime.time or minutes since midnight")
    if not 1 <= minute <= 1439:
        raise invalid(f"{field} must be between 00:01 and 23:59 (got minute {minute})")
    return minute
