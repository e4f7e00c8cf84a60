"""The open database and its collections: guests, stays, rules, prompts."""

from __future__ import annotations

import collections
import datetime as _dt
import os
import threading
import uuid
import weakref
from typing import (Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple, Union)

from ._callbacks import ClockBox, ClockFn, Subscription
from ._convert import (IdLike, cstr, date_in, id_in, id_out, path_cstr, pystr,
                       time_in, time_out, to_uuid)
from ._native import ffi, lib
from .errors import Closed, Error, RuleSyntaxError, check, invalid
from .feedback import FeedbackBook, business_minute, quality_report as _quality_report
from .guest import Consent, Guest, GuestList, Stay, _c_guest, _c_update, _guest_data
from .dataio import ImportReport, ProgressFn, export_file, export_guest, import_file
from .journal import JournalIterator, journal_last_seq, journal_trim
from . import chain as _chain
from .chain import ApplyReport, Change, Sync, SyncReport
from . import lifecycle as _lifecycle
from .lifecycle import Duplicate, RetentionReport
from .prompt import PRIORITIES, Prompt, Rule, prompt_from_c, prompts_from_list

__all__ = ["Database", "Guests", "Stays", "Rules", "Prompts", "open"]

PathLike = Union[str, "os.PathLike[str]"]

# How many callback exceptions a Database remembers (oldest dropped first).
CALLBACK_ERRORS_KEPT = 100


def _party(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("party must be an int")
    if value < 0 or value > 0xFFFFFFFF:
        raise invalid(f"party {value} is out of range")
    return value


class Database:
    """An open libprofile database (one LMDB environment directory).

    Use :func:`libprofile.open`.  A Database is a context manager.  After
    :meth:`close`, every method of it, and every operation of an object
    read from it that reaches the database (saving a Guest, writing its
    prefs, a prompt's ack/done/dismiss/refresh, a journal iterator's next
    entry), raises :class:`~libprofile.Closed`; values already read into
    Guest and Prompt objects stay readable.  It may be shared by threads (the
    library releases the GIL during calls); :meth:`close` waits for calls
    in flight.

    Attributes: ``guests`` (:class:`Guests`), ``stays`` (:class:`Stays`),
    ``rules`` (:class:`Rules`), ``prompts`` (:class:`Prompts`),
    ``feedback`` (:class:`~libprofile.FeedbackBook`),
    ``callback_errors`` (the latest exceptions raised by subscribers or by
    the clock, newest last, at most 100).
    """

    def __init__(self, path: PathLike, clock: Optional[ClockFn] = None,
                 readonly: bool = False, map_size: int = 0,
                 nometasync: bool = False, timezone: Optional[str] = None,
                 utc_offset_minutes: int = 0, business_day_end: Any = None,
                 complaint_cutoff: Any = None, max_map_size: int = 0,
                 nordahead: bool = False,
                 property: Optional[str] = None) -> None:
        self._ptr: Any = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._tls = threading.local()
        self._subs: List[Subscription] = []
        # Open Sync objects (chain.py), closed before the database is.
        self._syncs: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._clock_handle: Any = None
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        self.callback_errors: Deque[BaseException] = collections.deque(
            maxlen=CALLBACK_ERRORS_KEPT)
        self.guests = Guests(self)
        self.stays = Stays(self)
        self.rules = Rules(self)
        self.prompts = Prompts(self)
        self.feedback = FeedbackBook(self)

        for label, size in (("map_size", map_size), ("max_map_size", max_map_size)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise invalid(f"{label} must be a non-negative int")
        keep: List[Any] = []
        opts = ffi.new("pf_options *")
        check(lib.pf_options_init(opts, lib.PF_OPTIONS_VERSION))
        opts.map_size = map_size
        opts.max_map_size = max_map_size
        opts.flags = ((lib.PF_OPEN_READONLY if readonly else 0) |
                      (lib.PF_OPEN_NOMETASYNC if nometasync else 0) |
                      (lib.PF_OPEN_NORDAHEAD if nordahead else 0))
        # The hotel's business day (complaint due times): see feedback.py.
        opts.timezone = cstr(timezone, "timezone", keep)
        # The property's name in a hotel chain: stored by the first writable
        # open that gives it, refused afterwards under another name.
        opts.property = cstr(property, "property", keep)
        if isinstance(utc_offset_minutes, bool) or not isinstance(utc_offset_minutes, int):
            raise TypeError("utc_offset_minutes must be an int")
        if not -18 * 60 <= utc_offset_minutes <= 18 * 60:
            raise invalid("utc_offset_minutes must be within 18 hours of UTC")
        opts.utc_offset_minutes = utc_offset_minutes
        opts.business_day_end = business_minute(business_day_end, "business_day_end", False)
        opts.complaint_cutoff = business_minute(complaint_cutoff, "complaint_cutoff", True)
        if clock is not None:
            if not callable(clock):
                raise TypeError("clock must be a callable returning a datetime "
                                "or epoch seconds")
            self._clock_handle = ffi.new_handle(ClockBox(clock, self))
            opts.clock = lib._pf_py_clock
            opts.clock_payload = self._clock_handle
        out = ffi.new("pf_db **")
        check(lib.pf_open(out, path_cstr(path, keep), opts))
        self._ptr = out[0]

    # ---------------------------------------------------------- lifecycle
    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._ptr is None

    def _check_open(self) -> None:
        if self._ptr is None:
            raise Closed(None, f"libprofile: database {self.path!r} is closed")

    def _acquire(self) -> Any:
        """Start a library call: the pf_db pointer, which stays valid until
        the matching _release() (close() waits for it)."""
        if getattr(self._tls, "in_clock", 0):
            raise Error(None, "libprofile: the clock must not use the database")
        with self._lock:
            if self._ptr is None:
                raise Closed(None, f"libprofile: database {self.path!r} is closed")
            self._active += 1
        self._tls.depth = getattr(self._tls, "depth", 0) + 1
        return self._ptr

    def _release(self) -> None:
        self._tls.depth -= 1
        self._unpin()

    def _pin(self) -> Any:
        """Keep the pf_db pointer valid beyond one call, for an object that
        holds it (a Sync, whose C thread uses it): as _acquire(), but not
        counted as a call in progress on this thread.  close() closes
        those objects first; each calls _unpin()."""
        with self._lock:
            if self._ptr is None:
                raise Closed(None, f"libprofile: database {self.path!r} is closed")
            self._active += 1
            return self._ptr

    def _unpin(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self._idle.notify_all()

    def close(self) -> None:
        """Close the database.  Closing twice is a no-op.  Not allowed from
        inside a subscriber or the clock (they run inside a library call)."""
        if getattr(self._tls, "depth", 0):
            raise Error(None, "libprofile: cannot close the database from "
                        "inside a callback")
        for s in list(self._syncs):
            s.close()
        with self._lock:
            ptr, self._ptr = self._ptr, None
            if ptr is None:
                return
            while self._active:
                self._idle.wait()
        lib.pf_close(ptr)
        for sub in self._subs:
            sub.active = False
        self._subs = []
        self._clock_handle = None

    def __enter__(self) -> "Database":
        self._check_open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._ptr is not None and not self._active:
                lib.pf_close(self._ptr)
                self._ptr = None
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<libprofile.Database {self.path!r} {state}>"

    # ---------------------------------------------------------- time
    def now(self) -> _dt.datetime:
        """The current time by this database's clock (UTC datetime)."""
        db = self._acquire()
        try:
            t = lib.pf_now(db)
        finally:
            self._release()
        return time_out(t) or _dt.datetime.fromtimestamp(0, _dt.timezone.utc)

    # ---------------------------------------------------------- events
    def _event(self, kind: str, guest: Any, event_id: Optional[str],
               room: Optional[str], arrival: Optional[_dt.date],
               departure: Optional[_dt.date], party: int,
               property: Optional[str], time: Optional[_dt.datetime],
               keep: List[Any]) -> Any:
        ev = ffi.new("pf_event *")
        ev.version = lib.PF_EVENT_VERSION
        k = ffi.new("pf_event_kind *")
        check(lib.pf_event_kind_parse(k, cstr(kind, "kind", keep, required=True)))
        ev.kind = k[0]
        ev.id = cstr(event_id, "event_id", keep)
        ffi.memmove(ev.guest.b, to_uuid(guest, "guest").bytes, 16)
        ev.property = cstr(property, "property", keep)
        ev.room = cstr(room, "room", keep)
        ev.arrival = date_in(arrival, "arrival")
        ev.departure = date_in(departure, "departure")
        ev.party = _party(party)
        ev.time = time_in(time, "time")
        return ev

    def fire(self, kind: str, *, guest: Union[IdLike, Guest], event_id: str,
             room: Optional[str] = None, arrival: Optional[_dt.date] = None,
             departure: Optional[_dt.date] = None, party: int = 0,
             property: Optional[str] = None,
             time: Optional[_dt.datetime] = None) -> List[Prompt]:
        """Fire an event and return the prompts it made.

        kind: "reservation", "check_in", "check_out" or "room_change".
        event_id: your reservation or transaction id; firing the same id
        again stores nothing and returns the prompts made the first time.
        A check-in with arrival and departure also records the stay.
        Subscribers run after the commit; an exception in one is reported
        (see ``callback_errors``) and does not stop the others.
        """
        if event_id is None:
            raise invalid("fire: event_id is required")
        keep: List[Any] = []
        ev = self._event(kind, guest, event_id, room, arrival, departure,
                         party, property, time, keep)
        return self._prompt_call(lib.pf_fire, ev)

    _FIRE_KEYS = ("kind", "guest", "event_id", "room", "arrival", "departure",
                  "party", "property", "time")

    def fire_batch(self, events: Sequence[Mapping[str, Any]]) -> List[List[Prompt]]:
        """Fire several events in one transaction and one disk sync (a
        PMS replaying the morning's arrivals).  Each event is a mapping
        with fire()'s arguments (``kind``, ``guest``, ``event_id`` and the
        optional ones) and is fired exactly as fire() would fire it;
        returns one list of prompts per event, in order.  All or nothing:
        on an error nothing is stored and the message names the event
        (``events[3]: ...``)."""
        keep: List[Any] = []
        evs = ffi.new("pf_event[]", max(len(events), 1))
        for i, e in enumerate(events):
            unknown = set(e) - set(self._FIRE_KEYS)
            if unknown:
                raise TypeError("fire_batch: events[%d] has unknown key(s) %s"
                                % (i, ", ".join(sorted(unknown))))
            if e.get("event_id") is None:
                raise invalid("fire_batch: events[%d]: event_id is required" % i)
            if "kind" not in e or "guest" not in e:
                raise invalid("fire_batch: events[%d]: kind and guest are required" % i)
            ev = self._event(e["kind"], e["guest"], e["event_id"], e.get("room"),
                             e.get("arrival"), e.get("departure"), e.get("party", 0),
                             e.get("property"), e.get("time"), keep)
            evs[i] = ev[0]
        n = len(events)
        out = ffi.new("pf_prompt_list *[]", max(n, 1))
        db = self._acquire()
        try:
            check(lib.pf_fire_batch(out, db, evs, n))
        finally:
            self._release()
        try:
            return [prompts_from_list(self, out[i]) for i in range(n)]
        finally:
            for i in range(n):
                lib.pf_prompt_list_free(out[i])

    def preview(self, kind: str, *, guest: Union[IdLike, Guest],
                event_id: Optional[str] = None, room: Optional[str] = None,
                arrival: Optional[_dt.date] = None,
                departure: Optional[_dt.date] = None, party: int = 0,
                property: Optional[str] = None,
                time: Optional[_dt.datetime] = None) -> List[Prompt]:
        """The prompts fire() would make, computed without storing anything
        (their ``id`` is None).  Works on a read-only database."""
        keep: List[Any] = []
        ev = self._event(kind, guest, event_id, room, arrival, departure,
                         party, property, time, keep)
        return self._prompt_call(lib.pf_preview, ev)

    def _prompt_call(self, fn: Any, *args: Any) -> List[Prompt]:
        """Call a function returning a pf_prompt_list; copy and free it."""
        out = ffi.new("pf_prompt_list **")
        db = self._acquire()
        try:
            check(fn(out, db, *args))
        finally:
            self._release()
        try:
            return prompts_from_list(self, out[0])
        finally:
            lib.pf_prompt_list_free(out[0])

    # ---------------------------------------------------------- subscriptions
    def subscribe(self, department: Optional[str],
                  fn: Callable[[Prompt], Any]) -> Subscription:
        """Call ``fn(prompt)`` for every new prompt routed to `department`
        (None: every department) that this Database fires, after the
        commit.  Returns a Subscription; call it to unsubscribe."""
        if not callable(fn):
            raise TypeError("fn must be callable")
        if getattr(self._tls, "depth", 0):
            raise Error(None, "libprofile: cannot subscribe from inside a callback")
        sub = Subscription(self, department, fn)
        keep: List[Any] = []
        sub._cdept = cstr(department, "department", keep)
        sub.active = True
        db = self._acquire()
        try:
            rc = lib.pf_subscribe(db, sub._cdept, lib._pf_py_prompt, sub._handle)
            if rc == 0:
                self._subs.append(sub)
            else:
                sub.active = False
            check(rc)
        finally:
            self._release()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription; a no-op if it is no longer active."""
        if getattr(self._tls, "depth", 0):
            raise Error(None, "libprofile: cannot unsubscribe from inside a callback")
        db = self._acquire()
        try:
            if not sub.active or sub not in self._subs:
                return
            rc = lib.pf_unsubscribe(db, sub._cdept, lib._pf_py_prompt, sub._handle)
            if rc == 0:
                sub.active = False
                self._subs.remove(sub)
            check(rc)
        finally:
            self._release()

    # ---------------------------------------------------------- feedback
    def quality_report(self, from_: Union[_dt.date, _dt.datetime],
                       to: Union[_dt.date, _dt.datetime], daily: bool = False) -> dict:
        """Service-quality figures per department and overall, as a dict
        (see :func:`libprofile.feedback.quality_report`).  Dates are whole
        local days of the hotel, `to` included.  With ``daily=True`` the
        figures of each day are there too, and ``.html()`` returns the
        dashboard page (as ``frontdesk report --html`` writes it)."""
        return _quality_report(self, from_, to, daily)

    # ---------------------------------------------------------- journal
    def journal(self, since: int = 0,
                guest: Optional[Union[IdLike, Guest]] = None) -> JournalIterator:
        """The journal entries with seq > `since`, oldest first, of one
        guest when `guest` is given: a JournalIterator of JournalEntry."""
        return JournalIterator(self, since, guest)

    def journal_last_seq(self) -> int:
        """Sequence number of the newest journal entry (0: none yet)."""
        return journal_last_seq(self)

    # ---------------------------------------------- bulk import / export
    def import_csv(self, path: PathLike, progress: Optional[ProgressFn] = None,
                   batch_size: int = 0, department: Optional[str] = None) -> ImportReport:
        """Load guests and preferences from a CSV file (format: libprofile.h,
        pf_import_csv).  Bad rows are left out and listed in the report's
        ``rejects`` with their line; re-running is idempotent for rows with
        an external_id or id.  ``progress(done, total)`` runs after each
        batch; a true return value stops the import."""
        return import_file(self, path, csv=True, progress=progress,
                           batch_size=batch_size, department=department)

    def import_jsonl(self, path: PathLike, progress: Optional[ProgressFn] = None,
                     batch_size: int = 0, department: Optional[str] = None) -> ImportReport:
        """As import_csv(), from a JSON Lines file (one object per line)."""
        return import_file(self, path, csv=False, progress=progress,
                           batch_size=batch_size, department=department)

    def export_csv(self, path: PathLike) -> None:
        """Write every guest and their preferences to `path` as CSV, in the
        format import_csv() reads (mode 0600, replaced only when complete)."""
        export_file(self, path, csv=True)

    def export_jsonl(self, path: PathLike) -> None:
        """As export_csv(), as JSON Lines."""
        export_file(self, path, csv=False)

    def journal_trim(self, before_seq: int) -> int:
        """Delete journal entries with seq < before_seq, recording that in
        a "journal.trim" entry; returns how many were removed.  The
        journal keeps everything unless this is called."""
        return journal_trim(self, before_seq)

    # ---------------------------------------------------------- data lifecycle
    def digest(self) -> bytes:
        """A digest (32 bytes, SHA-256) of the state the properties of a chain
        share: profiles, preferences, stays, feedback.  Equal digests mean the
        same shared state (see pf_digest in libprofile.h for what counts)."""
        ptr = self._acquire()
        try:
            out = ffi.new("unsigned char[]", lib.PF_DIGEST_SIZE)
            check(lib.pf_digest(out, ptr))
            return bytes(ffi.buffer(out, lib.PF_DIGEST_SIZE))
        finally:
            self._release()

    # ---------------------------------------------------------- hotel chain
    def changes(self, after: int = 0, max: int = 1000) -> List[Change]:
        """This property's own changes with a sequence number above `after`,
        oldest first, at most `max` (1 to CHANGES_MAX): a list of
        :class:`~libprofile.Change` (seq, origin, data; ``bytes(change)``
        is the data another property's :meth:`apply` takes).  Every change
        to the shared state (profiles, preferences, stays, feedback, merges,
        erasures) is recorded in the transaction that makes it, but only by
        a database with a property name: InvalidInput without one."""
        return _chain.changes(self, after, max)

    def changes_last(self) -> int:
        """Sequence number of this property's newest change (0: none yet).
        InvalidInput without a property name."""
        return _chain.changes_last(self)

    def apply(self, changes: Iterable[Any]) -> ApplyReport:
        """Apply other properties' changes (bytes, or Change objects; in any
        order, duplicates allowed, at most CHANGES_MAX) in one transaction,
        all or nothing.  The result depends only on the set of changes
        applied, never on their order: a change whose predecessors at its
        origin have not arrived waits until they do.  Returns an
        :class:`~libprofile.ApplyReport` (applied, duplicates, discarded,
        refused, own, waiting).  Raises Corrupt for bytes that are not a
        change (nothing is applied), InvalidInput without a property name."""
        return _chain.apply(self, changes)

    def chain_mark(self, origin: str) -> int:
        """The sequence number up to which `origin`'s changes have been
        applied here (this property's last change for its own name; 0 for
        a property never heard of)."""
        return _chain.chain_mark(self, origin)

    def published(self) -> int:
        """A transport's cursor, stored in the database: the sequence number
        up to which this property's changes have been published."""
        return _chain.published(self)

    def set_published(self, seq: int) -> None:
        """Move the published cursor (see :meth:`published`); InvalidInput
        beyond :meth:`changes_last`."""
        _chain.set_published(self, seq)

    def epoch(self) -> int:
        """The rejoin epoch (0 until the first :meth:`rejoin`)."""
        return _chain.epoch(self)

    def rejoin(self, property: str) -> None:
        """Make this database, restored from another property's backup, the
        database of `property` (a property away for longer than the
        transport keeps messages, or one that lost its own database).  The
        shared state and high-water marks are kept, `property`'s own
        sequence continues after the highest of its changes applied here,
        and the epoch is incremented so the transport reads the chain's
        stream again.  The database must be opened writable without
        ``property=``; afterwards :attr:`property` is `property`."""
        _chain.rejoin(self, property)

    def sync(self, url: str, chain: str = "grand", max: int = 0,
             timeout_ms: Optional[int] = None) -> SyncReport:
        """One round of libprofile-sync with the NATS server at `url`
        ("nats://127.0.0.1:4222") for the hotel chain `chain`: publish this
        property's unpublished changes (at most `max`; 0 = CHANGES_MAX),
        then fetch and apply every other property's new ones.  Returns a
        :class:`~libprofile.SyncReport` (pushed, pulled, apply).
        `timeout_ms` bounds the connect and each request (None: 2000).

        Needs the optional extension ``libprofile._sync``
        (SyncUnavailable says how to build it) and a database with a
        property name (InvalidInput otherwise).  A server that cannot be
        reached raises IOFailure naming it; nothing is lost, the next
        round catches up.  For repeated or background rounds keep one
        connection with :meth:`syncer`."""
        return _chain.sync(self, url, chain, max, timeout_ms)

    def syncer(self, url: str, chain: str = "grand", timeout_ms: Optional[int] = None,
               max_age: int = 0, replicas: int = 0) -> Sync:
        """A :class:`~libprofile.Sync` connected to `url` for `chain`:
        ``round()``, ``start(interval_ms)`` / ``stop()`` (rounds in a
        background thread), ``stats()``, ``close()``.  `max_age` (seconds;
        0 = 30 days) and `replicas` apply when this call creates the
        chain's stream.  Closing the database closes it first."""
        return Sync(self, url, chain, timeout_ms=timeout_ms, max_age=max_age,
                    replicas=replicas)

    def backup(self, dest: PathLike) -> None:
        """A consistent hot copy into directory `dest` (new or empty),
        while other processes keep writing.  Restore by opening the copy.
        After an erasure, use :meth:`compact` instead (see its doc)."""
        _lifecycle.copy(self, dest, compact_copy=False)

    def compact(self, dest: PathLike) -> None:
        """Copy every live record into a fresh database in directory
        `dest` (new or empty).  Nothing of erased guests survives in the
        copy: the last step of an erasure is to swap it in."""
        _lifecycle.copy(self, dest, compact_copy=True)

    def retention_run(self, days: int, actor: Optional[str] = None) -> RetentionReport:
        """Anonymise profiles with no stay (or, without stays, created)
        more than `days` days ago: name "[anonymised]", contacts, birth
        date, tags and preferences removed; stays and counters kept.
        Returns a RetentionReport (examined, anonymised)."""
        return _lifecycle.retention_run(self, days, actor)


class Guests:
    """``db.guests``: create, read, find and update guest profiles."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _load(self, gid: Any) -> dict:
        cid = id_in(gid, "id")
        out = ffi.new("pf_guest **")
        db = self._db._acquire()
        try:
            check(lib.pf_guest_get(out, db, cid))
        finally:
            self._db._release()
        try:
            data = _guest_data(out[0])
        finally:
            lib.pf_guest_free(out[0])
        data["id"] = to_uuid(gid)  # returned records do not carry the key
        return data

    def add(self, name: str, *, email: Optional[str] = None,
            phone: Optional[str] = None, language: Optional[str] = None,
            loyalty_no: Optional[str] = None, tier: str = "none",
            tags: Any = (), birth_date: Optional[_dt.date] = None,
            consent: Union[Consent, int] = Consent.PROFILING,
            external_id: Optional[str] = None,
            country: Optional[str] = None) -> Guest:
        """Create a guest and return it as stored.  ``external_id`` (the
        guest's id in another system) is unique: reusing one raises
        :class:`~libprofile.Exists`.  ``country`` is an ISO 3166-1 alpha-3
        code ("MAC").  To create a guest only if it is not already there,
        use :meth:`get_or_add`."""
        keep: List[Any] = []
        g = _c_guest({"name": name, "email": email, "phone": phone,
                      "language": language, "loyalty_no": loyalty_no,
                      "tier": tier, "tags": tags, "birth_date": birth_date,
                      "consent": consent, "external_id": external_id,
                      "country": country}, None, keep)
        db = self._db._acquire()
        try:
            check(lib.pf_guest_put(db, g))
        finally:
            self._db._release()
        return self.get(id_out(g.id))

    def get_or_add(self, name: str, *, email: Optional[str] = None,
                   phone: Optional[str] = None, external_id: Optional[str] = None,
                   language: Optional[str] = None, loyalty_no: Optional[str] = None,
                   tier: str = "none", tags: Any = (),
                   birth_date: Optional[_dt.date] = None,
                   consent: Union[Consent, int] = Consent.PROFILING,
                   country: Optional[str] = None) -> Tuple[Guest, bool]:
        """Find the guest with this external id, e-mail or phone, or create
        it, atomically: returns ``(guest, created)`` like Django's
        ``get_or_create``.

        The match uses the first of ``external_id``, ``email`` (ignoring
        case) and ``phone`` (its digits) that is given, and only that one.
        An existing guest is returned unchanged (the other arguments are
        not applied; set attributes and :meth:`Guest.save` for that) and
        ``created`` is False.  Otherwise a guest is created from every
        argument, as :meth:`add` would, and ``created`` is True.

        The look-up and the creation happen in one write transaction, so
        two processes (two kiosks) checking in the same new guest at once
        end with one profile.

        Raises InvalidInput if none of external_id, email and phone is
        given (or a field is invalid, as for add), Exists if several
        guests share that e-mail or phone (choose one with :meth:`find`
        and use its id).
        """
        keep: List[Any] = []
        g = _c_guest({"name": name, "email": email, "phone": phone,
                      "language": language, "loyalty_no": loyalty_no,
                      "tier": tier, "tags": tags, "birth_date": birth_date,
                      "consent": consent, "external_id": external_id,
                      "country": country}, None, keep)
        out = ffi.new("pf_guest **")
        created = ffi.new("int *")
        db = self._db._acquire()
        try:
            check(lib.pf_guest_get_or_put(out, created, db, g))
        finally:
            self._db._release()
        try:
            data = _guest_data(out[0])
        finally:
            lib.pf_guest_free(out[0])
        return Guest(self._db, data), bool(created[0])

    def get(self, id: Union[IdLike, Guest]) -> Guest:
        """The guest with this id (uuid.UUID or its text); NotFound (also
        a KeyError) if there is none."""
        return Guest(self._db, self._load(id))

    __getitem__ = get

    def find(self, query: str) -> GuestList:
        """Guests by e-mail, phone, loyalty number or name prefix, exact
        contact matches first.  No match is an empty list.

        Returns a :class:`~libprofile.GuestList` (a list) of at most
        ``libprofile.FIND_LIMIT`` (100) guests; its ``truncated`` is True
        when more guests matched: ask for a narrower query."""
        keep: List[Any] = []
        cq = cstr(query, "query", keep, required=True)
        out = ffi.new("pf_guest_list **")
        db = self._db._acquire()
        try:
            check(lib.pf_guest_find(out, db, cq))
        finally:
            self._db._release()
        try:
            lst = out[0]
            return GuestList((Guest(self._db, _guest_data(lst.items[i]))
                              for i in range(lst.count)), truncated=lst.truncated)
        finally:
            lib.pf_guest_list_free(out[0])

    def export(self, id: Union[IdLike, Guest]) -> Dict[str, Any]:
        """Everything held about the guest (right of access) as a dict:
        profile, preferences with who observed them, stays, prompts,
        feedback and journal entries (keys: libprofile.h,
        pf_guest_export_json).  Times are ISO 8601 UTC strings."""
        return export_guest(self._db, id)

    def update(self, guest: Union[IdLike, Guest], **fields: Any) -> Guest:
        """Change some profile fields atomically and return the guest as
        stored afterwards.

        `guest` is a :class:`Guest` (its attributes changed since it was
        read are written, with `fields` on top, and the object is re-read
        in place) or an id (only `fields` are written; a fresh Guest is
        returned).  `fields` are keyword arguments named like Guest's
        writable attributes: ``db.guests.update(gid, email="x@example.com",
        country="PRT")``; None clears an optional field.

        Only the named fields change, in one transaction
        (``pf_guest_update``): a field another process changed meanwhile
        keeps its new value.  Nothing changed is a re-read.  Raises
        TypeError for an unknown or read-only field, NotFound, Exists
        (an external_id that belongs to another guest), InvalidInput.
        """
        if isinstance(guest, Guest):
            if guest._db is not self._db:
                raise invalid("update: the guest belongs to another database")
            gid = guest._data["id"]
            changed = guest._changed()
            changed.update(fields)
        else:
            gid = to_uuid(guest, "guest")
            changed = dict(fields)
        self._db._check_open()
        if changed:
            keep: List[Any] = []
            g, mask = _c_update(changed, keep)
            cid = id_in(gid, "guest")
            db = self._db._acquire()
            try:
                check(lib.pf_guest_update(db, cid, g, mask))
            finally:
                self._db._release()
        data = self._load(gid)
        if isinstance(guest, Guest):
            guest._set_data(data)
            return guest
        return Guest(self._db, data)

    def duplicates(self, guest: Union[IdLike, Guest]) -> List[Duplicate]:
        """Profiles that look like the same guest, highest score first:
        a list of Duplicate (guest, score 0..100, reasons)."""
        return _lifecycle.duplicates(self._db, guest)

    def not_duplicate(self, a: Union[IdLike, Guest], b: Union[IdLike, Guest]) -> None:
        """Mark two profiles as different guests: never suggested again."""
        _lifecycle.not_duplicate(self._db, a, b)

    def merge(self, keep: Union[IdLike, Guest], duplicate: Union[IdLike, Guest]) -> uuid.UUID:
        """Merge `duplicate` into `keep` (preferences, stays, prompts,
        feedback); returns the merge id for :meth:`unmerge`."""
        return _lifecycle.merge(self._db, keep, duplicate)

    def unmerge(self, merge_id: IdLike) -> None:
        """Undo a merge: both profiles back as they were."""
        _lifecycle.unmerge(self._db, merge_id)

    def erase(self, guest: Union[IdLike, Guest]) -> None:
        """Right to be forgotten: remove the profile and tombstone its
        prompts, feedback and journal entries.  Follow with
        ``db.compact(dest)`` and swap the directories."""
        _lifecycle.erase(self._db, guest)

    def set_consent(self, guest: Union[IdLike, Guest], consent: Union[Consent, int, str],
                    actor: Optional[str] = None) -> None:
        """Change a guest's consent (Consent flags, or "profiling",
        "marketing", "profiling,marketing", "none"); journaled."""
        _lifecycle.set_consent(self._db, guest, consent, actor)


class Stays:
    """``db.stays``: record and list stays."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, guest: Union[IdLike, Guest], arrival: _dt.date,
            departure: _dt.date, room: Optional[str] = None,
            property: Optional[str] = None, party: int = 0) -> Stay:
        """Record a stay (the same arrival again updates it).  Returns it."""
        keep: List[Any] = []
        gid = to_uuid(guest, "guest")
        s = ffi.new("pf_stay *")
        s.version = lib.PF_STAY_VERSION
        ffi.memmove(s.guest.b, gid.bytes, 16)
        s.property = cstr(property, "property", keep)
        s.room = cstr(room, "room", keep)
        if arrival is None or departure is None:
            raise invalid("stays.add: arrival and departure are required")
        s.arrival = date_in(arrival, "arrival")
        s.departure = date_in(departure, "departure")
        s.party = _party(party)
        db = self._db._acquire()
        try:
            check(lib.pf_stay_add(db, s))
        finally:
            self._db._release()
        return Stay(guest=gid, arrival=arrival, departure=departure, room=room,
                    property=property, party=party)

    def add_many(self, stays: "Iterable[Stay]") -> int:
        """Record many stays in one transaction (pf_stay_add_batch): each
        as ``add`` would, one durable commit for all.  Atomic: if one
        fails nothing is stored, and the exception's ``index`` is the
        position of the stay that failed (None when no single stay did).
        Returns how many stays were given."""
        keep: List[Any] = []
        items = list(stays)
        n = len(items)
        arr = ffi.new("pf_stay[]", max(n, 1))
        for i, st in enumerate(items):
            if not isinstance(st, Stay):
                raise TypeError(f"stays.add_many: item {i} is not a Stay")
            if st.arrival is None or st.departure is None:
                raise invalid(f"stays.add_many: item {i}: arrival and departure are required")
            s = arr[i]
            s.version = lib.PF_STAY_VERSION
            ffi.memmove(s.guest.b, to_uuid(st.guest, "guest").bytes, 16)
            s.property = cstr(st.property, "property", keep)
            s.room = cstr(st.room, "room", keep)
            s.arrival = date_in(st.arrival, "arrival")
            s.departure = date_in(st.departure, "departure")
            s.party = _party(st.party)
        failed = ffi.new("size_t *")
        db = self._db._acquire()
        try:
            try:
                check(lib.pf_stay_add_batch(db, arr, n, failed))
            except Error as e:
                e.index = failed[0] if failed[0] < n else None  # type: ignore[attr-defined]
                raise
        finally:
            self._db._release()
        return n

    def list(self, guest: Union[IdLike, Guest]) -> List[Stay]:
        """All stays of a guest in order of arrival."""
        gid = to_uuid(guest, "guest")
        cid = id_in(gid, "guest")
        out = ffi.new("pf_stay_list **")
        db = self._db._acquire()
        try:
            check(lib.pf_stay_list_get(out, db, cid))
        finally:
            self._db._release()
        try:
            lst = out[0]
            return [Stay._from_c(gid, lst.items[i]) for i in range(lst.count)]
        finally:
            lib.pf_stay_list_free(out[0])


class Rules:
    """``db.rules``: the stored rule book."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _syntax(rc: int, err: Any) -> None:
        if rc == lib.PF_ESYNTAX:
            raise RuleSyntaxError(rc, ffi.string(err.message).decode("utf-8", "replace"),
                                  err.line, err.column)
        check(rc)

    def load(self, text: str, name: Optional[str] = None) -> None:
        """Replace the rule book with `text`, all or nothing.  `name` labels
        error messages.  Raises RuleSyntaxError (with .line and .column)."""
        keep: List[Any] = []
        ctext = cstr(text, "text", keep, required=True)
        cname = cstr(name, "name", keep)
        err = ffi.new("pf_rule_error *")
        db = self._db._acquire()
        try:
            rc = lib.pf_rules_load(db, cname, ctext, len(ctext) - 1, err)
            self._syntax(rc, err)
        finally:
            self._db._release()

    def load_file(self, path: PathLike) -> None:
        """Read a rule book file and load it; error messages name the path."""
        keep: List[Any] = []
        cpath = path_cstr(path, keep)
        err = ffi.new("pf_rule_error *")
        db = self._db._acquire()
        try:
            rc = lib.pf_rules_load_file(db, cpath, err)
            self._syntax(rc, err)
        finally:
            self._db._release()

    def clear(self) -> None:
        """Remove every rule (journaled as ``rules.clear``).

        :meth:`load` refuses a book that defines no rule, so that an empty
        or truncated upload cannot stop every prompt by accident; this is
        the deliberate way to do it.
        """
        db = self._db._acquire()
        try:
            check(lib.pf_rules_clear(db))
        finally:
            self._db._release()

    def list(self) -> List[Rule]:
        """The stored rules in rule-book order."""
        out = ffi.new("pf_rule_list **")
        db = self._db._acquire()
        try:
            check(lib.pf_rules_list(out, db))
        finally:
            self._db._release()
        try:
            lst = out[0]
            return [Rule(pystr(lst.items[i].name), pystr(lst.items[i].source))
                    for i in range(lst.count)]
        finally:
            lib.pf_rule_list_free(out[0])


class Prompts:
    """``db.prompts``: departments' work lists and the prompt feed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def pending(self, department: str) -> List[Prompt]:
        """Open prompts (pending, acknowledged) of a department, earliest
        due first, then highest priority."""
        keep: List[Any] = []
        return self._db._prompt_call(lib.pf_prompts_pending,
                                     cstr(department, "department", keep, required=True))

    def pending_page(self, department: str, after: Optional[Prompt] = None,
                     limit: int = 50) -> List[Prompt]:
        """One page of pending(): at most `limit` (1..1000) open prompts
        after `after`, the last prompt of the previous page (None: from
        the start).  Fewer than `limit` means the list ends there."""
        keep: List[Any] = []
        cafter = ffi.NULL
        if after is not None:
            if after.id is None:
                raise invalid("pending_page: after is a preview prompt (it has no id)")
            cafter = ffi.new("pf_prompt *")
            ffi.memmove(cafter.id.b, after.id.bytes, 16)
            cafter.due = time_in(after.due, "after.due")
            cafter.priority = PRIORITIES.index(after.priority)
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise TypeError("limit must be an int")
        if limit < 1:
            raise invalid("pending_page: limit %d is not 1..1000" % limit)
        return self._db._prompt_call(lib.pf_prompts_pending_page,
                                     cstr(department, "department", keep, required=True),
                                     cafter, limit)

    def overdue(self, department: Optional[str] = None,
                now: Optional[_dt.datetime] = None) -> List[Prompt]:
        """Open prompts due before `now` (default: the database clock), of
        one department or of all, earliest first."""
        keep: List[Any] = []
        return self._db._prompt_call(lib.pf_prompts_overdue,
                                     cstr(department, "department", keep),
                                     time_in(now, "now"))

    def get(self, id: IdLike) -> Prompt:
        """One prompt by id; NotFound (also a KeyError) if there is none."""
        cid = id_in(id, "id")
        out = ffi.new("pf_prompt **")
        db = self._db._acquire()
        try:
            check(lib.pf_prompt_get(out, db, cid))
        finally:
            self._db._release()
        try:
            return prompt_from_c(self._db, out[0])
        finally:
            lib.pf_prompt_free(out[0])

    __getitem__ = get

    def seq(self, department: str) -> int:
        """Sequence number of the newest prompt routed to `department` (0 if
        none).  Cheap: poll it to notice prompts fired by other processes."""
        keep: List[Any] = []
        cdept = cstr(department, "department", keep, required=True)
        out = ffi.new("uint64_t *")
        db = self._db._acquire()
        try:
            check(lib.pf_prompts_seq(out, db, cdept))
        finally:
            self._db._release()
        return int(out[0])

    def since(self, department: str, seq: int) -> List[Prompt]:
        """Prompts routed to `department` with a sequence number above
        `seq`, in sequence order, whatever their status."""
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise invalid("since: seq must be a non-negative int")
        keep: List[Any] = []
        return self._db._prompt_call(lib.pf_prompts_since,
                                     cstr(department, "department", keep, required=True),
                                     seq)


def _property_name(self: Database) -> Optional[str]:
    """This property's name in its hotel chain (open(property=...)), or None."""
    ptr = self._acquire()
    try:
        out = ffi.new("const char **")
        check(lib.pf_property(out, ptr))
        return None if out[0] == ffi.NULL else ffi.string(out[0]).decode()
    finally:
        self._release()


# Set after the class body: inside it, the name would hide the builtin
# `property` from the decorators that follow it.
Database.property = property(_property_name)  # type: ignore[attr-defined]


def open(path: PathLike, clock: Optional[ClockFn] = None, readonly: bool = False,
         map_size: int = 0, nometasync: bool = False, timezone: Optional[str] = None,
         utc_offset_minutes: int = 0, business_day_end: Any = None,
         complaint_cutoff: Any = None, max_map_size: int = 0,
         nordahead: bool = False,
         property: Optional[str] = None) -> Database:
    """Open (creating it unless `readonly`) the database in directory `path`.

    clock: a callable returning the current time as an aware datetime or
        epoch seconds (tests use it); default the system clock.
    readonly: writes raise ReadOnly.
    map_size: initial map size in bytes (0 = 64 MiB; it grows by itself).
    max_map_size: the map stops growing here and writes raise Full
        (nothing stored changes); 0 = 1 TiB.
    nometasync: skip the meta-page fsync (kiosks): a crash may lose the
        last commit, never corrupt.
    nordahead: no kernel readahead (kiosks reading a few random profiles
        of a large database keep only the pages they touch resident).
    property: this property's name in a hotel chain ("macau"): stored by
        the first writable open that gives it; opening under another name
        raises InvalidInput.  None uses the stored name, or none
        (Database.property tells which).
    timezone: the hotel's IANA time zone ("Asia/Macau"), or None with
        utc_offset_minutes (east of UTC; default 0): complaints are due by
        the end of the local business day.
    business_day_end: when the business day ends, a datetime.time or
        minutes since midnight (None: 23:59).
    complaint_cutoff: complaints recorded at or after this local time are
        due at noon the next day (None: 22:00; -1 or False: no cut-off).

    Raises Busy if this process already has `path` open, VersionError if it
    was written by a newer schema, NotFound if readonly and nothing is
    there.
    """
    return Database(path, clock=clock, readonly=readonly, map_size=map_size,
                    nometasync=nometasync, timezone=timezone,
                    utc_offset_minutes=utc_offset_minutes,
                    business_day_end=business_day_end, complaint_cutoff=complaint_cutoff,
                    max_map_size=max_map_size, nordahead=nordahead, property=property)
