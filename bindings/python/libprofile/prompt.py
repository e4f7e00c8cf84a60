"""Prompts — instructions routed to hotel departments — and stored rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._convert import cstr, enum_name, id_out, pystr, time_out
from ._native import ffi, lib
from .errors import check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Prompt", "Rule", "PRIORITIES", "STATUSES", "EVENT_KINDS"]

#: Prompt priorities, lowest first.
PRIORITIES = tuple(enum_name(lib.pf_priority_name, p) for p in
                   (lib.PF_PRIORITY_LOW, lib.PF_PRIORITY_NORMAL,
                    lib.PF_PRIORITY_HIGH, lib.PF_PRIORITY_URGENT))
#: Prompt statuses: "pending", "acknowledged", "done", "dismissed".
STATUSES = tuple(enum_name(lib.pf_prompt_status_name, s) for s in
                 (lib.PF_PROMPT_PENDING, lib.PF_PROMPT_ACKNOWLEDGED,
                  lib.PF_PROMPT_DONE, lib.PF_PROMPT_DISMISSED))
#: Event kinds accepted by Database.fire() and preview().
EVENT_KINDS = tuple(enum_name(lib.pf_event_kind_name, k) for k in
                    (lib.PF_EVENT_RESERVATION, lib.PF_EVENT_CHECK_IN,
                     lib.PF_EVENT_CHECK_OUT, lib.PF_EVENT_ROOM_CHANGE))


@dataclass(frozen=True)
class Rule:
    """One rule of the stored rule book (a value record)."""

    name: str
    source: str     #: the rule's text, from `rule` to its last line


def _prompt_data(p: Any) -> Dict[str, Any]:
    """Copy a library-owned pf_prompt into a dict of Python values."""
    return {
        "id": id_out(p.id),
        "guest": id_out(p.guest),
        # Stored events always have an id; a preview may have none ("").
        "event_id": pystr(p.event_id) or None,
        "department": pystr(p.department),
        "rule": pystr(p.rule),
        "priority": enum_name(lib.pf_priority_name, p.priority),
        "text": pystr(p.text),
        "status": enum_name(lib.pf_prompt_status_name, p.status),
        "created": time_out(p.created),
        "due": time_out(p.due),
        "ack_by": pystr(p.ack_by),
        "ack_at": time_out(p.ack_at),
        "done_by": pystr(p.done_by),
        "done_at": time_out(p.done_at),
        "dismiss_reason": pystr(p.dismiss_reason),
        "seq": int(p.seq),
        "language": pystr(p.language),
    }


def prompt_from_c(db: "Database", p: Any) -> "Prompt":
    """A Prompt copied out of a pf_prompt (which the caller frees)."""
    return Prompt(db, _prompt_data(p))


def prompts_from_list(db: "Database", lst: Any) -> List["Prompt"]:
    """Prompts copied out of a pf_prompt_list (which the caller frees)."""
    return [Prompt(db, _prompt_data(lst.items[i])) for i in range(lst.count)]


# Attributes read the values copied out of the database: they work after
# the database is closed.
def _ro(name: str, doc: str) -> Any:
    def get(self: "Prompt") -> Any:
        return self._data[name]
    return property(get, doc=doc)


class Prompt:
    """One instruction to a department, as read from the database.

    Attributes (read-only values copied out of the database, so they stay
    readable after it is closed): ``id`` (uuid.UUID, None for a
    preview), ``guest`` (uuid.UUID), ``event_id``, ``department``,
    ``rule``, ``priority`` (one of :data:`PRIORITIES`), ``text``,
    ``status`` (one of :data:`STATUSES`), ``created``, ``due`` (UTC
    datetimes), ``ack_by``/``ack_at``, ``done_by``/``done_at``,
    ``dismiss_reason`` (None until set), ``seq`` (position in the
    department's feed), ``language`` (the rule book's language tag the
    text is in, e.g. 'zh', for a guest-facing prompt rendered in the
    guest's language; None for the default text).

    :meth:`ack`, :meth:`done` and :meth:`dismiss` change the stored prompt
    and then re-read this object; they, and :meth:`refresh`, raise
    :class:`~libprofile.Closed` after the database was closed.
    """

    __slots__ = ("_db", "_data")

    id = _ro("id", "The prompt's uuid.UUID; None for a preview prompt.")
    guest = _ro("guest", "The guest's uuid.UUID.")
    event_id = _ro("event_id", "The id of the event that made it (None in a preview without one).")
    department = _ro("department", "The department that must act.")
    rule = _ro("rule", "The rule that made it ('need' for an unrouted need).")
    priority = _ro("priority", "'low', 'normal', 'high' or 'urgent'.")
    text = _ro("text", "The rendered instruction.")
    status = _ro("status", "'pending', 'acknowledged', 'done' or 'dismissed'.")
    created = _ro("created", "When it was made (UTC datetime).")
    due = _ro("due", "When it must be done by (UTC datetime).")
    ack_by = _ro("ack_by", "Who acknowledged it, or None.")
    ack_at = _ro("ack_at", "When it was acknowledged, or None.")
    done_by = _ro("done_by", "Who completed or dismissed it, or None.")
    done_at = _ro("done_at", "When it was completed or dismissed, or None.")
    dismiss_reason = _ro("dismiss_reason", "Why it was dismissed, or None.")
    seq = _ro("seq", "Its sequence number in the department's feed.")
    language = _ro("language", "The language tag of the text ('zh', 'pt-BR') when it is "
                   "in the guest's language; None for the rule's default text.")

    def __init__(self, db: "Database", data: Dict[str, Any]) -> None:
        self._db = db
        self._data = data

    @property
    def database(self) -> "Database":
        """The database this prompt belongs to."""
        return self._db

    def _stored_id(self, what: str) -> Any:
        self._db._check_open()
        if self._data["id"] is None:
            raise invalid(f"Prompt.{what}: a preview prompt is not stored")
        p = ffi.new("pf_id *")
        ffi.memmove(p.b, self._data["id"].bytes, 16)
        return p

    def _transition(self, fn: Any, what: str, *args: Optional[str]) -> "Prompt":
        pid = self._stored_id(what)
        keep: List[Any] = []
        cargs = [cstr(a, name, keep, required=True)
                 for a, name in zip(args, ("staff", "reason"))]
        db = self._db._acquire()
        try:
            check(fn(db, pid, *cargs))
        finally:
            self._db._release()
        return self.refresh()

    def ack(self, staff: str) -> "Prompt":
        """`staff` has seen this pending prompt.  Returns self, updated."""
        return self._transition(lib.pf_prompt_ack, "ack", staff)

    def done(self, staff: str) -> "Prompt":
        """`staff` carried it out.  Returns self, updated."""
        return self._transition(lib.pf_prompt_done, "done", staff)

    def dismiss(self, staff: str, reason: str) -> "Prompt":
        """It will not be carried out, and why.  Returns self, updated."""
        return self._transition(lib.pf_prompt_dismiss, "dismiss", staff, reason)

    def refresh(self) -> "Prompt":
        """Re-read the stored prompt.  Returns self."""
        self._stored_id("refresh")
        self._data = self._db.prompts.get(self._data["id"])._data
        return self

    @property
    def open(self) -> bool:
        """True while pending or acknowledged."""
        return self.status in ("pending", "acknowledged")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prompt):
            return NotImplemented
        return self._db is other._db and self._data == other._data

    def __hash__(self) -> int:
        return hash((self._data["id"], self._data["text"]))

    def __repr__(self) -> str:
        d = self._data
        pid = str(d["id"])[:8] if d["id"] else "preview"
        state = " (database closed)" if self._db.closed else ""
        return (f"<Prompt {pid} {d['department']} {d['priority']} {d['status']} "
                f"{d['text']!r}{state}>")
