"""A hotel chain: the change feed, the apply step, and (with the optional
extension ``libprofile._sync``) one round of libprofile-sync over NATS.

Reached through the Database: ``changes()``, ``changes_last()``,
``apply()``, ``chain_mark()``, ``published()`` / ``set_published()``,
``epoch()``, ``rejoin()`` and ``sync()`` / ``syncer()``.  A change is an
opaque byte string made by the C library (pf_changes_read); what it holds,
and how conflicting changes resolve the same way at every property, is
described in libprofile.h, section "A hotel chain".

``libprofile._sync`` is built only where libprofile-sync (and so NATS's
C client) is installed; ``import libprofile`` never needs it, and only
``sync()`` / ``syncer()`` say so when it is missing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Tuple, Union

from ._convert import cstr
from ._native import ffi, lib
from .errors import Closed, SyncUnavailable, check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["Change", "ApplyReport", "SyncReport", "SyncStats", "Sync", "change_origin",
           "CHANGES_MAX", "CHAIN_AHEAD_MAX"]

#: Most changes one changes() call returns and one apply() call takes.
CHANGES_MAX: int = lib.PF_CHANGES_MAX
#: A remote stamp more than this many seconds ahead of the local clock is
#: refused (ApplyReport.refused) until the local clock catches up.
CHAIN_AHEAD_MAX: int = lib.PF_CHAIN_AHEAD_MAX

ChangeLike = Union["Change", bytes, bytearray, memoryview]


@dataclass(frozen=True)
class Change:
    """One change of this property, as :meth:`Database.changes` returns it
    (a value record).  ``bytes(change)`` is its data: hand that to another
    property's :meth:`Database.apply` (which also takes the Change)."""

    seq: int          #: its sequence number at its origin (1, 2, 3...)
    origin: str       #: the property that made it
    data: bytes       #: the opaque change, as the C library encoded it

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ApplyReport:
    """What :meth:`Database.apply` did with the changes it was given
    (pf_apply_report)."""

    applied: int = 0      #: new changes applied (and waiting ones they released)
    duplicates: int = 0   #: already applied: no effect
    discarded: int = 0    #: about an erased guest: no effect
    refused: int = 0      #: stamped too far ahead (CHAIN_AHEAD_MAX): kept back
    own: int = 0          #: this property's own changes: no effect
    waiting: int = 0      #: kept until the changes before them arrive

    @classmethod
    def _from_c(cls, r: Any) -> "ApplyReport":
        return cls(int(r.applied), int(r.duplicates), int(r.discarded),
                   int(r.refused), int(r.own), int(r.waiting))


@dataclass(frozen=True)
class SyncReport:
    """What one round of :meth:`Database.sync` did (pf_sync_counts)."""

    pushed: int           #: own changes published (acknowledged by the server)
    pulled: int           #: messages fetched from the chain's stream
    apply: ApplyReport    #: what applying the pulled messages did

    @property
    def applied(self) -> int:
        """Shorthand for ``apply.applied``."""
        return self.apply.applied


@dataclass(frozen=True)
class SyncStats:
    """Totals of a :class:`Sync` since it was opened (pf_sync_stats)."""

    rounds: int
    failed_rounds: int
    pushed: int
    pulled: int
    applied: int
    last_error: int       #: PF_E* code of the last failed round, 0 if none


def _uint(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < 0 or value > 0xFFFFFFFFFFFFFFFF:
        raise invalid(f"{name} {value} is out of range")
    return value


def _u64_call(db: "Database", fn: Any, *args: Any) -> int:
    out = ffi.new("uint64_t *")
    ptr = db._acquire()
    try:
        check(fn(out, ptr, *args))
    finally:
        db._release()
    return int(out[0])


def change_origin(data: ChangeLike) -> Tuple[str, int]:
    """(origin property, sequence number) of a change, read from its bytes
    without a database: how a transport names the message.  Raises
    Corrupt when `data` is not a change."""
    buf = _data(data, "data")
    origin = ffi.new("char[]", lib.PF_PROPERTY_MAX + 1)
    seq = ffi.new("uint64_t *")
    src = ffi.from_buffer(buf)
    check(lib.pf_change_origin(origin, seq, src, len(buf)))
    return ffi.string(origin).decode("ascii"), int(seq[0])


def _data(item: Any, name: str) -> bytes:
    if isinstance(item, Change):
        return item.data
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError(f"{name} must be bytes or a Change, not {type(item).__name__}")


def changes(db: "Database", after: int = 0, max: int = 1000) -> List[Change]:
    """See :meth:`Database.changes`."""
    after = _uint(after, "after")
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError("max must be an int")
    if not 1 <= max <= CHANGES_MAX:
        raise invalid(f"changes: max {max} is not 1..{CHANGES_MAX}")
    out = ffi.new("pf_change_list **")
    ptr = db._acquire()
    try:
        check(lib.pf_changes_read(out, ptr, after, max))
        name = ffi.new("const char **")
        check(lib.pf_property(name, ptr))
        origin = "" if name[0] == ffi.NULL else ffi.string(name[0]).decode("ascii")
    finally:
        db._release()
    try:
        lst = out[0]
        return [Change(int(lst.items[i].seq), origin,
                       bytes(ffi.buffer(lst.items[i].data, lst.items[i].len)))
                for i in range(lst.count)]
    finally:
        lib.pf_change_list_free(out[0])


def apply(db: "Database", items: Iterable[ChangeLike]) -> ApplyReport:
    """See :meth:`Database.apply`."""
    datas = [_data(item, f"changes[{i}]") for i, item in enumerate(items)]
    n = len(datas)
    if n > CHANGES_MAX:
        raise invalid(f"apply: {n} changes is more than {CHANGES_MAX} in one call")
    arr = ffi.new("pf_change[]", max(n, 1))
    keep = []
    for i, d in enumerate(datas):
        buf = ffi.from_buffer(d)
        keep.append(buf)
        arr[i].seq = 0
        arr[i].data = buf
        arr[i].len = len(d)
    report = ffi.new("pf_apply_report *")
    ptr = db._acquire()
    try:
        check(lib.pf_changes_apply(ptr, arr, n, report))
    finally:
        db._release()
    return ApplyReport._from_c(report)


def changes_last(db: "Database") -> int:
    """See :meth:`Database.changes_last`."""
    return _u64_call(db, lib.pf_changes_last)


def chain_mark(db: "Database", origin: str) -> int:
    """See :meth:`Database.chain_mark`."""
    keep: List[Any] = []
    return _u64_call(db, lib.pf_chain_mark, cstr(origin, "origin", keep, required=True))


def published(db: "Database") -> int:
    """See :meth:`Database.published`."""
    return _u64_call(db, lib.pf_chain_published)


def set_published(db: "Database", seq: int) -> None:
    """See :meth:`Database.set_published`."""
    seq = _uint(seq, "seq")
    ptr = db._acquire()
    try:
        check(lib.pf_chain_set_published(ptr, seq))
    finally:
        db._release()


def epoch(db: "Database") -> int:
    """See :meth:`Database.epoch`."""
    return _u64_call(db, lib.pf_chain_epoch)


def rejoin(db: "Database", property: str) -> None:
    """See :meth:`Database.rejoin`."""
    keep: List[Any] = []
    cprop = cstr(property, "property", keep, required=True)
    ptr = db._acquire()
    try:
        check(lib.pf_chain_rejoin(ptr, cprop))
    finally:
        db._release()


# ------------------------------------------------------------ libprofile-sync

_SYNC_MISSING = (
    "libprofile: syncing needs the optional extension libprofile._sync, which "
    "is not built{why}.  It links libprofile-sync (libprofile/sync/, which needs "
    "NATS's C client: Debian package libnats-dev): run `make` at the top of the "
    "source tree, which builds build/libprofile-sync.so and then the extension "
    "(`make python`), or build bindings/python/build_ffi_sync.py against an "
    "installed libprofile-sync.")


def _sync_module() -> Any:
    """The compiled libprofile._sync, or SyncUnavailable saying how to get it."""
    try:
        from . import _sync  # type: ignore[attr-defined]
    except ImportError as e:
        raise SyncUnavailable(None, _SYNC_MISSING.format(why=f" ({e})")) from None
    return _sync


def _timeout(timeout_ms: Optional[int]) -> int:
    if timeout_ms is None:
        return 0
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
        raise TypeError("timeout_ms must be an int")
    if not 1 <= timeout_ms <= 0x7FFFFFFF:
        raise invalid(f"timeout_ms {timeout_ms} must be a positive number of milliseconds")
    return timeout_ms


class Sync:
    """A replicator between one Database and one NATS server, for one chain
    (pf_sync).  Made by :meth:`Database.syncer`; a context manager.

    :meth:`round` runs one bounded round in the calling thread;
    :meth:`start` runs rounds in a background thread of the C library
    until :meth:`stop` (or :meth:`close`, or the database's close).
    Used by one thread at a time, except :meth:`stats`.
    """

    def __init__(self, db: "Database", url: str, chain: str,
                 timeout_ms: Optional[int] = None, max_age: int = 0,
                 replicas: int = 0) -> None:
        self._ptr: Any = None
        self._lock = threading.Lock()
        self._running = False
        self._db = db
        mod = _sync_module()
        self._mod = mod
        self.url = url
        self.chain = chain
        keep: List[Any] = []
        curl = cstr(url, "url", keep, required=True)
        cchain = cstr(chain, "chain", keep, required=True)
        opts = mod.ffi.new("pf_sync_options *")
        opts.version = mod.lib.PF_SYNC_OPTIONS_VERSION
        opts.timeout_ms = _timeout(timeout_ms)
        opts.max_age = _uint(max_age, "max_age")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise invalid("replicas must be a non-negative int")
        opts.replicas = replicas
        out = mod.ffi.new("pf_sync **")
        # The Sync pins the database (close() closes the Sync first): the C
        # replicator keeps the pf_db pointer, and its thread uses it.
        ptr = db._pin()
        try:
            check(mod.lib.pf_sync_open(out, ptr, curl, cchain, opts))
        except BaseException:
            db._unpin()
            raise
        self._ptr = out[0]
        db._syncs.add(self)

    def _check(self) -> Any:
        if self._ptr is None:
            raise Closed(None, f"libprofile: the sync with {self.url!r} is closed")
        return self._ptr

    def round(self, max: int = 0) -> SyncReport:
        """One bounded round: publish this property's unpublished changes
        (at most `max`, 0 = CHANGES_MAX), then fetch and apply what the
        stream holds for it.  Raises IOFailure when the server is away or
        times out (nothing is lost: the next round catches up)."""
        if isinstance(max, bool) or not isinstance(max, int) or max < 0:
            raise invalid("max must be a non-negative int")
        mod = self._mod
        counts = mod.ffi.new("pf_sync_counts *")
        with self._lock:
            check(mod.lib.pf_sync_round(self._check(), max, counts))
        return SyncReport(int(counts.pushed), int(counts.pulled),
                          ApplyReport._from_c(counts.apply))

    def start(self, interval_ms: int = 1000) -> None:
        """Run rounds in a background thread, whenever this property has new
        changes and every `interval_ms` (1 to 60000) to pull."""
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int):
            raise TypeError("interval_ms must be an int")
        with self._lock:
            check(self._mod.lib.pf_sync_start(self._check(), interval_ms))
            self._running = True

    def stop(self) -> None:
        """Stop the background thread and wait for it (a no-op if none runs)."""
        with self._lock:
            check(self._mod.lib.pf_sync_stop(self._check()))
            self._running = False

    def stats(self) -> SyncStats:
        """Totals since the Sync was made (background rounds too)."""
        mod = self._mod
        st = mod.ffi.new("pf_sync_stats *")
        check(mod.lib.pf_sync_stats_get(self._check(), st))
        return SyncStats(int(st.rounds), int(st.failed_rounds), int(st.pushed),
                         int(st.pulled), int(st.applied), int(st.last_error))

    def close(self) -> None:
        """Stop the thread if it runs, drain the connection, and free it.
        Closing twice is a no-op."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr is None:
            return
        self._mod.lib.pf_sync_close(ptr)
        self._running = False
        self._db._syncs.discard(self)
        self._db._unpin()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __enter__(self) -> "Sync":
        self._check()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else ("running" if self._running else "open")
        return f"<libprofile.Sync {self.url!r} chain={self.chain!r} {state}>"


def sync(db: "Database", url: str, chain: str = "grand", max: int = 0,
         timeout_ms: Optional[int] = None) -> SyncReport:
    """See :meth:`Database.sync`."""
    with Sync(db, url, chain, timeout_ms=timeout_ms) as s:
        return s.round(max)
