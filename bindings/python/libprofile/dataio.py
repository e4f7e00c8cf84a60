"""Export and bulk import.

``db.guests.export(id)`` returns everything held about one guest (the right
of access) as a dict: the parsed JSON of ``pf_guest_export_json``.
``db.import_csv(path)`` / ``db.import_jsonl(path)`` load guests and their
preferences (formats in libprofile.h, ``pf_import_csv``) and return an
:class:`ImportReport` listing each rejected row with its line and reason;
``db.export_csv(path)`` / ``db.export_jsonl(path)`` write every guest in
the same formats.

The progress callback, ``progress(done, total)``, runs after each batch
commits; returning a true value stops the import there (what was committed
stays).  If it raises, the import stops the same way and the exception is
raised from ``import_csv`` once the library has returned.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union

from ._convert import cstr, id_in, path_cstr, pystr
from ._native import ffi, lib
from .errors import check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

__all__ = ["ImportReject", "ImportReport"]

ProgressFn = Callable[[int, int], Any]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


@dataclass(frozen=True)
class ImportReject:
    """A row the import left out: its line in the file and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did.  ``rows == created + updated + rejected``;
    ``updated`` counts rows that matched a stored guest (by external_id or
    id), whether or not anything changed.  ``rejects`` are in line order."""

    rows: int
    created: int
    updated: int
    rejected: int
    rejects: List[ImportReject] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        """The report as plain data (for JSON or logging)."""
        return {"rows": self.rows, "created": self.created,
                "updated": self.updated, "rejected": self.rejected,
                "rejects": [{"line": r.line, "reason": r.reason}
                            for r in self.rejects]}


class _Progress:
    """What the progress payload handle points at."""

    __slots__ = ("fn", "error")

    def __init__(self, fn: ProgressFn) -> None:
        self.fn = fn
        self.error: Optional[BaseException] = None


@ffi.def_extern()
def _pf_py_progress(done: int, total: int, payload: Any) -> int:
    box = ffi.from_handle(payload)
    try:
        return 1 if box.fn(int(done), int(total)) else 0
    except BaseException as e:  # noqa: BLE001 - nothing may cross C
        box.error = e
        return 1


def export_guest(db: "Database", guest: Any) -> Dict[str, Any]:
    """Everything held about one guest, as a dict (see pf_guest_export_json
    in libprofile.h for the keys)."""
    cid = id_in(guest, "guest")
    out = ffi.new("char **")
    ptr = db._acquire()
    try:
        check(lib.pf_guest_export_json(out, ptr, cid))
    finally:
        db._release()
    try:
        text = ffi.string(out[0]).decode("utf-8")
    finally:
        lib.pf_string_free(out[0])
    return json.loads(text)


def import_file(db: "Database", path: PathLike, *, csv: bool,
                progress: Optional[ProgressFn] = None, batch_size: int = 0,
                department: Optional[str] = None) -> ImportReport:
    """Run pf_import_csv / pf_import_jsonl and copy the report."""
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable(done, total)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise TypeError("batch_size must be an int")
    if batch_size < 0 or batch_size > 0xFFFFFFFF:
        raise invalid("batch_size must be between 0 (the default, 1000) and 2**32-1")
    keep: List[Any] = []
    opts = ffi.new("pf_import_options *")
    opts.version = lib.PF_IMPORT_OPTIONS_VERSION
    opts.batch_size = batch_size
    opts.department = cstr(department, "department", keep)
    box = None
    if progress is not None:
        box = _Progress(progress)
        handle = ffi.new_handle(box)
        keep.append(handle)
        opts.progress = lib._pf_py_progress
        opts.payload = handle
    cpath = path_cstr(path, keep)
    out = ffi.new("pf_import_report **")
    fn = lib.pf_import_csv if csv else lib.pf_import_jsonl
    ptr = db._acquire()
    try:
        rc = fn(out, ptr, cpath, opts)
    finally:
        db._release()
    try:
        if box is not None and box.error is not None:
            raise box.error
        check(rc)
        rep = out[0]
        rejects = [ImportReject(int(rep.rejects[i].line), pystr(rep.rejects[i].reason) or "")
                   for i in range(rep.reject_count)]
        return ImportReport(rows=int(rep.rows), created=int(rep.created),
                            updated=int(rep.updated), rejected=int(rep.rejected),
                            rejects=rejects)
    finally:
        if out[0] != ffi.NULL:
            lib.pf_import_report_free(out[0])


def export_file(db: "Database", path: PathLike, *, csv: bool) -> None:
    """Run pf_export_csv / pf_export_jsonl."""
    keep: List[Any] = []
    cpath = path_cstr(path, keep)
    ptr = db._acquire()
    try:
        check((lib.pf_export_csv if csv else lib.pf_export_jsonl)(ptr, cpath))
    finally:
        db._release()
