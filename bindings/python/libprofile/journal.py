"""The journal: one entry per change, in commit order (audit trail and
change feed).  ``db.journal(since=0, guest=None)`` returns a
:class:`JournalIterator` of :class:`JournalEntry` records."""

from __future__ import annotations

import datetime as _dt
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Optional

from ._convert import id_in, id_out, pystr, time_out
from ._native import ffi, lib
from .errors import check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["JournalEntry", "JournalIterator"]


def _seq_arg(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < 0 or value > 0xFFFFFFFFFFFFFFFF:
        raise invalid(f"{name} {value} is out of range")
    return value


@dataclass(frozen=True)
class JournalEntry:
    """One recorded change (a value record; stays readable after close).

    ``fields`` maps each changed field to its new value as text (None:
    the field was removed); old values appear as ``"<field>.old"``.
    """

    seq: int                          #: 1, 2, 3... in commit order
    time: _dt.datetime                #: when, UTC
    op: str                           #: "guest.put", "pref.set", "prompt.done"...
    actor: Optional[str] = None       #: "department" or "department/staff"
    guest: Optional[uuid.UUID] = None
    object: Optional[uuid.UUID] = None  #: prompt, feedback or merge id
    ref: Optional[str] = None         #: event id, category, rule book name...
    fields: Dict[str, Optional[str]] = field(default_factory=dict)


def _entry(e: Any) -> JournalEntry:
    """Copy a library-owned pf_journal_entry."""
    fields: Dict[str, Optional[str]] = {}
    for i in range(e.field_count):
        f = e.fields[i]
        fields[pystr(f.name) or ""] = pystr(f.value)
    return JournalEntry(
        seq=int(e.seq),
        time=time_out(e.time) or _dt.datetime.fromtimestamp(0, _dt.timezone.utc),
        op=pystr(e.op) or "",
        actor=pystr(e.actor),
        guest=id_out(e.guest),
        object=id_out(e.object),
        ref=pystr(e.ref),
        fields=fields,
    )


class JournalIterator:
    """Entries with ``seq > since`` (of one guest when ``guest`` is given),
    oldest first.  Reads in batches of short read transactions, so a slow
    consumer never holds the database back.

    Exhausting it is not final: iterating again later yields the entries
    committed since, which is how a change feed follows the journal.
    ``last_seq`` is the sequence number of the last entry yielded (or
    ``since``), to resume from in another process.  Closing the database
    makes further iteration raise Closed.  Use as a context manager or call
    :meth:`close` to free it early.
    """

    def __init__(self, db: "Database", since: int = 0,
                 guest: Any = None) -> None:
        self._db = db
        self._it: Any = None
        self._lock = threading.Lock()
        self.last_seq = _seq_arg(since, "since")
        cguest = id_in(guest, "guest") if guest is not None else ffi.NULL
        out = ffi.new("pf_journal_iterator **")
        ptr = db._acquire()
        try:
            check(lib.pf_journal_iter(out, ptr, self.last_seq, cguest))
        finally:
            db._release()
        self._it = out[0]

    def __iter__(self) -> "JournalIterator":
        return self

    def __next__(self) -> JournalEntry:
        with self._lock:
            if self._it is None:
                raise StopIteration
            out = ffi.new("const pf_journal_entry **")
            ptr = self._db._acquire()
            try:
                rc = lib.pf_journal_next(out, self._it)
                if rc == lib.PF_ITEROVER:
                    raise StopIteration
                check(rc)
                # The entry lives until the next call: copy it now.
                entry = _entry(out[0])
            finally:
                self._db._release()
            self.last_seq = entry.seq
            return entry

    def close(self) -> None:
        """Free the iterator; iterating afterwards yields nothing."""
        with self._lock:
            it, self._it = self._it, None
        if it is not None:
            lib.pf_journal_iterator_free(it)

    def __enter__(self) -> "JournalIterator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<libprofile.JournalIterator after seq {self.last_seq}>"


def journal_last_seq(db: "Database") -> int:
    """Sequence number of the newest entry ever written (0: none)."""
    out = ffi.new("uint64_t *")
    ptr = db._acquire()
    try:
        check(lib.pf_journal_last_seq(out, ptr))
    finally:
        db._release()
    return int(out[0])


def journal_trim(db: "Database", before_seq: int) -> int:
    """Delete the entries with seq < before_seq (the deletion is itself
    journalled as "journal.trim").  Returns how many were removed."""
    before = _seq_arg(before_seq, "before_seq")
    out = ffi.new("uint64_t *")
    ptr = db._acquire()
    try:
        check(lib.pf_journal_trim(ptr, before, out))
    finally:
        db._release()
    return int(out[0])
