"""Opening, closing, use after close, and every exception type."""

import os
import pydoc
import shutil
import subprocess
import threading
import time

import pytest

import libprofile
from libprofile._native import lib as _lib


def test_context_manager_closes(db_path):
    with libprofile.open(db_path) as db:
        assert not db.closed and "open" in repr(db)
    assert db.closed and "closed" in repr(db)
    db.close()                                 # twice is fine


def test_use_after_close_raises_closed(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    ps = db.fire("check_in", guest=guest.id, event_id="e1")
    prefs = guest.prefs
    sub = db.subscribe(None, print)
    db.close()
    # Everything that reaches the database raises Closed.
    actions = [
        lambda: db.guests.get(guest.id), lambda: db.guests.add("X"),
        lambda: db.guests.get_or_add("X", email="x@example.com"),
        lambda: db.guests.find("x"), lambda: db.guests.update(guest.id, name="Y"),
        lambda: db.stays.list(guest.id),
        lambda: db.rules.list(), lambda: db.prompts.pending("front_desk"),
        lambda: db.fire("check_in", guest=guest.id, event_id="e2"),
        lambda: db.preview("check_in", guest=guest.id), lambda: db.now(),
        guest.save, guest.refresh, guest.stay_list,
        lambda: prefs.set("room.floor", "2"),
        lambda: prefs.__setitem__("room.floor", "2"),
        lambda: prefs.__delitem__("room.floor"),
        lambda: ps[0].ack("mei"), lambda: ps[0].done("mei"),
        lambda: ps[0].dismiss("mei", "no"), ps[0].refresh,
        sub.unsubscribe, lambda: db.subscribe(None, print),
        db.__enter__,
    ]
    for action in actions:
        with pytest.raises(libprofile.Closed) as ei:
            action()
        assert ei.value.code is None and isinstance(ei.value, libprofile.Error)
    assert "closed" in repr(guest) and "closed" in repr(ps[0]) and "closed" in repr(prefs)


def test_close_waits_for_calls_in_flight(db, rules, guest):
    guest.prefs["room.floor"] = "10"
    entered, release = threading.Event(), threading.Event()

    def slow(p):
        entered.set()
        release.wait(5)

    db.subscribe(None, slow)
    t = threading.Thread(target=db.fire, args=("check_in",),
                         kwargs={"guest": guest.id, "event_id": "e1"})
    t.start()
    assert entered.wait(5)
    closer = threading.Thread(target=db.close)
    closer.start()
    time.sleep(0.1)
    assert closer.is_alive()                   # waiting for the fire to finish
    release.set()
    t.join(5)
    closer.join(5)
    assert db.closed


def test_busy_when_opened_twice(db, db_path):
    with pytest.raises(libprofile.Busy) as ei:
        libprofile.open(db_path)
    assert ei.value.code == _lib.PF_EBUSY == -8


def test_readonly(db_path, tmp_path):
    with libprofile.open(db_path) as db:
        gid = db.guests.add("Reader").id
    with libprofile.open(db_path, readonly=True) as db:
        g = db.guests.get(gid)
        assert g.name == "Reader"
        with pytest.raises(libprofile.ReadOnly) as ei:
            db.guests.add("Writer")
        assert ei.value.code == _lib.PF_EREADONLY == -11
        assert db.preview("check_in", guest=g.id) == []
    with pytest.raises(libprofile.NotFound):
        libprofile.open(tmp_path / "nothing-here", readonly=True)


def test_corrupt_database(tmp_path):
    d = tmp_path / "junk"
    d.mkdir()
    (d / "data.mdb").write_bytes(b"this is not an LMDB file " * 400)
    with pytest.raises(libprofile.Corrupt) as ei:
        libprofile.open(d)
    assert ei.value.code == _lib.PF_ECORRUPT == -6


@pytest.mark.skipif(shutil.which("mdb_load") is None, reason="needs lmdb-utils")
def test_newer_schema_is_a_version_error(db_path):
    libprofile.open(db_path).close()
    dump = ("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
            " " + b"schema".hex() + "\n " + (_lib.PF_SCHEMA_VERSION + 1).to_bytes(8, "big").hex()
            + "\nDATA=END\n")
    subprocess.run(["mdb_load", "-s", "meta", db_path], input=dump.encode(), check=True)
    with pytest.raises(libprofile.VersionError) as ei:
        libprofile.open(db_path)
    assert ei.value.code == _lib.PF_EVERSION == -10
    assert "schema version" in str(ei.value)


@pytest.mark.parametrize("code,cls,also", [
    (_lib.PF_ENOTFOUND, libprofile.NotFound, KeyError),
    (_lib.PF_EEXIST, libprofile.Exists, None),
    (_lib.PF_EINVAL, libprofile.InvalidInput, ValueError),
    (_lib.PF_ENOMEM, libprofile.OutOfMemory, MemoryError),
    (_lib.PF_EIO, libprofile.IOFailure, None),
    (_lib.PF_ECORRUPT, libprofile.Corrupt, None),
    (_lib.PF_EFULL, libprofile.Full, None),
    (_lib.PF_EBUSY, libprofile.Busy, None),
    (_lib.PF_ESYNTAX, libprofile.RuleSyntaxError, None),
    (_lib.PF_EVERSION, libprofile.VersionError, None),
    (_lib.PF_EREADONLY, libprofile.ReadOnly, None),
    (_lib.PF_EACCES, libprofile.PermissionDenied, None),
])
def test_error_class_is_chosen_from_the_code(code, cls, also):
    e = libprofile.Error(code, "detail")
    assert type(e) is cls and e.code == code and str(e) == "detail"
    if also is not None:
        assert isinstance(e, also)
    assert str(libprofile.Error(code)) != ""   # falls back to pf_strerror
    assert type(libprofile.Error(-999, "x")) is libprofile.Error


def test_version_and_docs():
    assert libprofile.version() == "%d.%d.%d" % libprofile.HEADER_VERSION
    text = pydoc.render_doc(libprofile, renderer=pydoc.plaintext)
    assert "libprofile.open(" in text and "NotFound" in text
    for name in libprofile.__all__:
        obj = getattr(libprofile, name)
        if callable(obj):
            assert obj.__doc__, name


def test_directory_is_created_private(tmp_path):
    p = tmp_path / "new" / "db"
    os.makedirs(p.parent)
    libprofile.open(p).close()
    assert (os.stat(p).st_mode & 0o777) == 0o700
