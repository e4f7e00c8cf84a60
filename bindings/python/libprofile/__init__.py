"""libprofile — hotel guest preference profiles and service prompts.

Python binding of the libprofile C library (CFFI, out-of-line API mode).
Staff record what they observe of a guest (likes, dislikes, needs); a rule
book says which department must act on which event; firing a reservation
or check-in turns the profile into prompts on each department's work list.

Example::

    import datetime as dt
    import libprofile

    with libprofile.open("hotel.db") as db:
        # Found by e-mail, or created: the example can run twice.
        g, created = db.guests.get_or_add("Zhuang Wei", email="zw@example.com",
                                          phone="+853 6123 4567", language="zh",
                                          tier="gold", country="MAC")
        g.prefs["room.facing"] = "south"              # a like, by the front desk
        g.prefs.set("amenity.flower", "lily", observed_by="housekeeping",
                    note="asked twice")
        db.rules.load_file("examples/hotel.rules")
        for p in db.fire("check_in", guest=g.id, event_id="res-881",
                         room="1012", arrival=dt.date(2026, 11, 23),
                         departure=dt.date(2026, 11, 26), party=1):
            print(p.department, p.priority, p.text)
        for p in db.prompts.pending("housekeeping"):
            p.ack("mei")
            p.done("mei")

Objects:
    open(path, clock=None, readonly=False, map_size=0, max_map_size=0, timezone=None,
         utc_offset_minutes=0, business_day_end=None, complaint_cutoff=None,
         property=None)
         -> Database
    Database: .property, digest(), .guests (add, get_or_add, get, find, update), .stays (add, list),
        .rules (load, load_file, list), .prompts (pending, overdue, get,
        seq, since), fire(), preview(), subscribe(), now(), close(),
        journal(since=0, guest=None), journal_last_seq(), journal_trim(),
        .feedback (add, get, list, update, resolve, followup),
        quality_report(from_, to, daily=False) -> QualityReport (a dict;
        .html() is the dashboard page)
        backup(dest), compact(dest), retention_run(days, actor=None)
    A hotel chain (open(..., property="macau")): db.changes(after=0,
        max=1000) -> [Change (seq, origin, data)], changes_last(),
        apply(changes) -> ApplyReport (applied, duplicates, discarded,
        refused, own, waiting), chain_mark(origin), published(),
        set_published(seq), epoch(), rejoin(property); change_origin(data);
        db.sync(url, chain="grand", max=0, timeout_ms=None) -> SyncReport
        (pushed, pulled, apply) and db.syncer(url, chain) -> Sync (round,
        start, stop, stats, close), which need the optional extension
        libprofile._sync (SyncUnavailable without it)
    db.guests also: duplicates(), not_duplicate(), merge(), unmerge(),
        erase(), set_consent(); Duplicate, RetentionReport
    Feedback (a value record: kind, status, due, outcome...)
    JournalIterator of JournalEntry (seq, time, actor, op, guest, object,
        ref, fields)
    db.import_csv(path, progress=None), import_jsonl(), export_csv(path),
        export_jsonl(path), db.guests.export(id) -> dict (right of access);
        ImportReport (rows, created, updated, rejected, rejects: [ImportReject])
    Guest (attributes, .prefs, save()), GuestList (find's result, with
        .truncated), Prefs (MutableMapping), Pref, Stay,
    Prompt (ack, done, dismiss), Rule, Subscription

Conventions: ids are uuid.UUID (str accepted); times are aware datetimes
in, UTC datetimes out; dates are datetime.date; text is str (UTF-8 in C).

Errors are subclasses of Error, with .code (the library's PF_E* code) and
.message (its detail): NotFound (also KeyError), InvalidInput (also
ValueError), RuleSyntaxError (.line, .column), Exists, Corrupt, Full, Busy,
ReadOnly, PermissionDenied, VersionError,
IOFailure, OutOfMemory, SyncUnavailable (no libprofile._sync), and Closed for any
operation that reaches a database after it was closed.  Values already
read stay readable after close, like a row fetched from sqlite3: a Guest's
attributes and its preferences as last read, a Prompt's attributes, and
the value records Pref, Stay, Rule, Feedback and JournalEntry.
"""

from . import _native
from .database import Database, Guests, Prompts, Rules, Stays, open
from .errors import (Busy, Closed, Corrupt, Error, Exists, Full, InvalidInput,
                     IOFailure, NotFound, OutOfMemory, PermissionDenied,
                     ReadOnly, RuleSyntaxError, SyncUnavailable, VersionError)
from .guest import (FIND_LIMIT, PREF_KINDS, TIERS, Consent, Guest, GuestList, Pref,
                    PrefIterator, Prefs, Stay)
from .prompt import EVENT_KINDS, PRIORITIES, STATUSES, Prompt, Rule
from .journal import JournalEntry, JournalIterator
from .dataio import ImportReject, ImportReport
from .lifecycle import DUPLICATE_REASONS, Duplicate, RetentionReport
from .feedback import (FEEDBACK_KINDS, FEEDBACK_STATUSES, OUTCOMES, Feedback,
                       FeedbackBook)
from .report_html import QualityReport
from .chain import (CHAIN_AHEAD_MAX, CHANGES_MAX, ApplyReport, Change, Sync, SyncReport,
                    SyncStats, change_origin)
# _callbacks also registers the extern "Python" functions with cffi.
from ._callbacks import Subscription

# The version of the libprofile.h compiled against: the header is the
# project's one source of its version (tests/check_version.py).
__version__ = "%d.%d.%d" % (_native.lib.PF_VERSION_MAJOR, _native.lib.PF_VERSION_MINOR,
                            _native.lib.PF_VERSION_PATCH)

#: Version of the libprofile.h the binding was compiled against.
HEADER_VERSION = (_native.lib.PF_VERSION_MAJOR, _native.lib.PF_VERSION_MINOR,
                  _native.lib.PF_VERSION_PATCH)


def version() -> str:
    """Version string of the libprofile C library actually loaded."""
    ffi, lib = _native.ffi, _native.lib
    return ffi.string(lib.pf_version(ffi.NULL, ffi.NULL, ffi.NULL)).decode("ascii")


def _check_library() -> None:
    # A library whose (major, minor) differs from the compiled header may
    # lay out structs differently: refuse it rather than corrupt memory.
    v = _native.ffi.new("int[3]")
    _native.lib.pf_version(v, v + 1, v + 2)
    if (v[0], v[1]) != HEADER_VERSION[:2]:
        raise ImportError(
            f"libprofile: the binding was built for libprofile "
            f"{'.'.join(map(str, HEADER_VERSION))} but loaded {version()}; "
            "rebuild it (make python)")


_check_library()

__all__ = [
    "open", "version", "Database", "Guests", "Stays", "Rules", "Prompts",
    "Guest", "GuestList", "FIND_LIMIT", "Prefs", "PrefIterator", "Pref", "Stay",
    "Prompt", "Rule",
    "Subscription", "Consent", "TIERS", "PREF_KINDS", "PRIORITIES", "STATUSES",
    "EVENT_KINDS", "HEADER_VERSION", "JournalEntry", "JournalIterator",
    "ImportReport", "ImportReject",
    "Duplicate", "RetentionReport", "DUPLICATE_REASONS",
    "Feedback", "FeedbackBook", "FEEDBACK_KINDS", "FEEDBACK_STATUSES", "OUTCOMES",
    "QualityReport",
    "Change", "ApplyReport", "SyncReport", "SyncStats", "Sync", "change_origin",
    "CHANGES_MAX", "CHAIN_AHEAD_MAX", "SyncUnavailable",
    "Error", "NotFound", "Exists", "InvalidInput", "OutOfMemory", "IOFailure",
    "Corrupt", "Full", "Busy", "RuleSyntaxError", "VersionError", "ReadOnly",
    "PermissionDenied", "Closed",
]
