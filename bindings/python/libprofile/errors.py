"""Exceptions raised by libprofile.

Every failure of the C library becomes an instance of a subclass of
:class:`Error`, chosen from the library's return code in one place
(:data:`_CLASS_BY_CODE`, used by ``Error.__new__``).  ``Error(code, msg)``
therefore already gives the right subclass::

    >>> type(Error(-1, "pf_guest_get: no such guest")).__name__
    'NotFound'

Look-ups that find nothing raise :class:`NotFound`, which is also a
:class:`KeyError`; bad arguments raise :class:`InvalidInput`, which is also
a :class:`ValueError`, so ordinary Python handlers keep working.
"""

from __future__ import annotations

from typing import Optional

from ._native import ffi, lib

__all__ = [
    "Error", "NotFound", "Exists", "InvalidInput", "OutOfMemory", "IOFailure",
    "Corrupt", "Full", "Busy", "RuleSyntaxError", "VersionError", "ReadOnly",
    "Closed", "SyncUnavailable",
]


class Error(Exception):
    """Base class of every libprofile exception.

    Attributes:
        code: the library's ``PF_E*`` return code (a negative int), or None
            for errors found by the binding itself (:class:`Closed`).
        message: the library's detail (``pf_errmsg()``), e.g.
            ``"pf_guest_put: name is longer than 200 bytes"``.
    """

    code: Optional[int]
    message: str

    def __new__(cls, code: Optional[int] = None, message: str = "", *args, **kwargs):
        if cls is Error and code is not None:
            cls = _CLASS_BY_CODE.get(code, Error)
        # Exception.__new__, not super(): MemoryError's own __new__ refuses
        # subclasses created through another base.
        return Exception.__new__(cls)

    def __init__(self, code: Optional[int] = None, message: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        if self.message:
            return self.message
        if self.code is not None:
            return _strerror(self.code)
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class NotFound(Error, KeyError):
    """No such guest, preference, prompt or rule (``PF_ENOTFOUND``)."""


class Exists(Error):
    """Already exists, e.g. an event id fired for another guest (``PF_EEXIST``)."""


class InvalidInput(Error, ValueError):
    """A bad argument: empty, too long, not UTF-8, a naive datetime, a
    prompt transition that is not allowed... (``PF_EINVAL``)."""


class OutOfMemory(Error, MemoryError):
    """The library ran out of memory (``PF_ENOMEM``)."""


class IOFailure(Error):
    """The operating system failed a read or write (``PF_EIO``)."""


class Corrupt(Error):
    """A stored record failed validation (``PF_ECORRUPT``)."""


class Full(Error):
    """The disk is full: the map could not grow (``PF_EFULL``)."""


class Busy(Error):
    """The database is already open in this process, or too many readers
    (``PF_EBUSY``)."""


class VersionError(Error):
    """The database was written by a newer schema (``PF_EVERSION``)."""


class ReadOnly(Error):
    """A write on a database opened read-only (``PF_EREADONLY``)."""


class PermissionDenied(Error):
    """The operating system refused access to the database's files
    (``PF_EACCES``): open a read-only copy with ``readonly=True``, or fix
    the directory's permissions."""


class RuleSyntaxError(Error):
    """A rule book failed to parse (``PF_ESYNTAX``).

    Attributes:
        line, column: where, counting from 1 (0 when unknown).
    """

    line: int
    column: int

    def __init__(self, code: Optional[int] = None, message: str = "",
                 line: int = 0, column: int = 0) -> None:
        super().__init__(code, message)
        self.line = line
        self.column = column

    def __reduce__(self):  # keep line and column through pickle
        return (type(self), (self.code, self.message, self.line, self.column))


class Closed(Error):
    """The object's database was closed.  Raised by the binding, never by
    the library, so ``code`` is None."""


class SyncUnavailable(Error, ImportError):
    """Syncing was asked for but the optional extension libprofile._sync
    (libprofile-sync, over NATS) is not built; the message says how to
    build it.  Raised by the binding, so ``code`` is None."""


_CLASS_BY_CODE = {
    lib.PF_ENOTFOUND: NotFound,
    lib.PF_EEXIST: Exists,
    lib.PF_EINVAL: InvalidInput,
    lib.PF_ENOMEM: OutOfMemory,
    lib.PF_EIO: IOFailure,
    lib.PF_ECORRUPT: Corrupt,
    lib.PF_EFULL: Full,
    lib.PF_EBUSY: Busy,
    lib.PF_ESYNTAX: RuleSyntaxError,
    lib.PF_EVERSION: VersionError,
    lib.PF_EREADONLY: ReadOnly,
    lib.PF_EACCES: PermissionDenied,
}


def _strerror(code: int) -> str:
    return ffi.string(lib.pf_strerror(code)).decode("utf-8")


def check(rc: int) -> None:
    """Raise the exception for a failed library call (rc < 0).

    Must run on the thread that made the call, straight after it:
    pf_errmsg() is per thread and valid until that thread's next call.
    """
    if rc == 0:
        return
    msg = ffi.string(lib.pf_errmsg()).decode("utf-8", errors="replace")
    raise Error(rc, msg or _strerror(rc))


def invalid(message: str) -> InvalidInput:
    """An InvalidInput for a bad argument found by the binding itself."""
    return InvalidInput(lib.PF_EINVAL, message)
