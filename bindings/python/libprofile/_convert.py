"""Conversions between Python values and the C types of libprofile.h.

Strings go in as UTF-8 (a NUL character or a lone surrogate is refused
here, because C would silently cut the string or the encoder would fail
deep inside a call) and come back decoded strictly.  Ids are uuid.UUID;
times are aware datetimes in and UTC datetimes out; dates are
datetime.date <-> YYYYMMDD.
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from typing import Any, List, Optional, Union

from ._native import ffi
from .errors import invalid

IdLike = Union[uuid.UUID, str]

_UTC = _dt.timezone.utc


def cstr(value: Optional[str], field: str, keep: List[Any],
         required: bool = False) -> Any:
    """A NUL-terminated UTF-8 copy of `value` (ffi.NULL for None), kept
    alive by appending it to `keep` for as long as the caller holds it."""
    if value is None:
        if required:
            raise invalid(f"{field} is required")
        return ffi.NULL
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise invalid(f"{field} contains a NUL character")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise invalid(f"{field} is not valid Unicode text: {e.reason}") from None
    buf = ffi.new("char[]", data)
    keep.append(buf)
    return buf


def path_cstr(path: Union[str, os.PathLike], keep: List[Any]) -> Any:
    """A file system path as C string (bytes paths pass through)."""
    p = os.fspath(path)
    if isinstance(p, str):
        p = os.fsencode(p)
    if b"\0" in p:
        raise invalid("path contains a NUL character")
    buf = ffi.new("char[]", p)
    keep.append(buf)
    return buf


def pystr(ptr: Any) -> Optional[str]:
    """Decode a C string owned by the library; NULL gives None."""
    if ptr == ffi.NULL:
        return None
    return ffi.string(ptr).decode("utf-8")


def to_uuid(value: Any, field: str = "id") -> uuid.UUID:
    """Accept a uuid.UUID, its text form, or an object with an ``id``
    attribute holding one (a Guest or a Prompt)."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise invalid(f"{field} {value!r} is not a UUID") from None
    inner = getattr(value, "id", None)
    if isinstance(inner, uuid.UUID):
        return inner
    raise TypeError(f"{field} must be a uuid.UUID or str, not {type(value).__name__}")


def id_in(value: Any, field: str = "id") -> Any:
    """A freshly allocated ``pf_id *`` holding `value`."""
    u = to_uuid(value, field)
    p = ffi.new("pf_id *")
    ffi.memmove(p.b, u.bytes, 16)
    return p


def id_out(cid: Any) -> Optional[uuid.UUID]:
    """A uuid.UUID from a pf_id (by value or pointer); the zero id is None."""
    raw = bytes(ffi.buffer(cid.b, 16))
    if raw == bytes(16):
        return None
    return uuid.UUID(bytes=raw)


def date_in(value: Optional[_dt.date], field: str) -> int:
    """YYYYMMDD for a datetime.date; 0 for None."""
    if value is None:
        return 0
    if isinstance(value, _dt.datetime) or not isinstance(value, _dt.date):
        raise TypeError(f"{field} must be a datetime.date, not {type(value).__name__}")
    return value.year * 10000 + value.month * 100 + value.day


def date_out(value: int) -> Optional[_dt.date]:
    """A datetime.date from YYYYMMDD; 0 gives None."""
    if value == 0:
        return None
    return _dt.date(value // 10000, value // 100 % 100, value % 100)


def time_in(value: Optional[_dt.datetime], field: str) -> int:
    """Seconds since the epoch for an aware datetime; 0 (= "now") for None.
    Naive datetimes are refused: their time zone would be a guess."""
    if value is None:
        return 0
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{field} must be a datetime.datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid(f"{field} is a naive datetime; give it a time zone "
                      "(e.g. datetime.timezone.utc)")
    return int(value.timestamp() // 1)


def time_out(value: int) -> Optional[_dt.datetime]:
    """An aware UTC datetime from seconds since the epoch; 0 gives None."""
    if value == 0:
        return None
    return _dt.datetime.fromtimestamp(value, _UTC)


def enum_name(fn: Any, value: int) -> str:
    """The library's name for an enum value (pf_tier_name and friends)."""
    p = fn(value)
    if p == ffi.NULL:  # pragma: no cover - only with a corrupt record
        return str(value)
    return ffi.string(p).decode("ascii")
