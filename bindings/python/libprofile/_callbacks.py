"""C callbacks implemented in Python (cffi ``extern "Python"``).

The library calls two kinds of Python code: the clock given to
``libprofile.open(clock=...)`` and the functions given to
``Database.subscribe()``.  Each is registered with a ``ffi.new_handle()``
payload that leads back to a small Python object; the Database keeps the
handle alive for as long as the library may call it.

Exceptions cannot cross C frames, so:
  - a subscriber's exception is stored in ``db.callback_errors`` and then
    left to cffi, which hands it to ``sys.unraisablehook`` (printed with
    its traceback by default; pytest turns it into a warning).  pf_fire()
    has already committed when subscribers run, and still returns its
    prompts;
  - a clock that raises or returns something that is not a time is
    reported the same way (stored, and a RuntimeWarning), and the system
    clock is used for that reading.
"""

from __future__ import annotations

import datetime as _dt
import time as _time
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._native import ffi, lib
from .errors import Error
from .prompt import Prompt, _prompt_data

if TYPE_CHECKING:  # pragma: no cover
    from .database import Database

ClockFn = Callable[[], Union[_dt.datetime, int, float]]


class ClockBox:
    """What the clock payload handle points at."""

    __slots__ = ("fn", "db_ref", "__weakref__")

    def __init__(self, fn: ClockFn, db: "Database") -> None:
        self.fn = fn
        # Weak: the Database holds the handle that holds this box.
        self.db_ref = weakref.ref(db)

    def read(self) -> int:
        db = self.db_ref()
        if db is not None:
            db._tls.in_clock = getattr(db._tls, "in_clock", 0) + 1
        try:
            value = self.fn()
            if isinstance(value, _dt.datetime):
                if value.tzinfo is None or value.utcoffset() is None:
                    raise Error(lib.PF_EINVAL, "libprofile: the clock returned a "
                                "naive datetime; return an aware one")
                return int(value.timestamp() // 1)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return int(value // 1)
            raise TypeError("libprofile: the clock must return a datetime or "
                            f"epoch seconds, not {type(value).__name__}")
        except BaseException as e:  # noqa: BLE001 - nothing may cross C
            if db is not None:
                db.callback_errors.append(e)
            try:
                warnings.warn(f"libprofile: clock failed ({e!r}); the system "
                              "clock was used instead", RuntimeWarning)
            except BaseException:  # noqa: BLE001 - e.g. -W error
                pass
            return int(_time.time())
        finally:
            if db is not None:
                db._tls.in_clock -= 1


class Subscription:
    """A registered ``db.subscribe(department, fn)``.

    Call it (or :meth:`unsubscribe`) to stop the deliveries; it is also a
    context manager that unsubscribes on exit.
    """

    def __init__(self, db: "Database", department: Optional[str],
                 fn: Callable[["Prompt"], Any]) -> None:
        self.department = department
        self.fn = fn
        self.active = False
        self._db_ref = weakref.ref(db)
        self._handle = ffi.new_handle(self)
        self._cdept: Any = ffi.NULL

    def deliver(self, cprompt: Any) -> None:
        db = self._db_ref()
        if db is None or not self.active:
            return
        try:
            self.fn(Prompt(db, _prompt_data(cprompt)))
        except BaseException as e:  # noqa: BLE001
            db.callback_errors.append(e)
            raise  # cffi passes it on to sys.unraisablehook

    def unsubscribe(self) -> None:
        """Stop delivering prompts to fn.  Raises Closed if the database is
        closed; unsubscribing twice is a no-op."""
        db = self._db_ref()
        if db is None:
            return
        db.unsubscribe(self)

    __call__ = unsubscribe

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<Subscription {self.department or '*'} {self.fn!r} {state}>"


@ffi.def_extern()
def _pf_py_clock(payload: Any) -> int:
    return ffi.from_handle(payload).read()


@ffi.def_extern()
def _pf_py_prompt(cprompt: Any, payload: Any) -> None:
    ffi.from_handle(payload).deliver(cprompt)
