"""db.sync: libprofile-sync over a real NATS server (tests/natsd.py, on a
free loopback port, stopped by its pid) between "macau" and "lisbon".

These need the optional extension libprofile._sync.  Where libprofile-sync
is not built at all (build/libprofile-sync.so missing) they are skipped;
where it is built, a missing extension or nats-server is a failure."""

import importlib
import os

import pytest

import libprofile

from conftest import REPO
import natsd

SYNC_LIB = os.path.join(REPO, "build", "libprofile-sync.so")


def _have_sync():
    try:
        importlib.import_module("libprofile._sync")
        return True
    except ImportError:
        return False


HAVE_SYNC = _have_sync()
needs_sync = pytest.mark.skipif(
    not HAVE_SYNC and not os.path.exists(SYNC_LIB),
    reason="libprofile-sync is not built (build/libprofile-sync.so), so neither is "
           "libprofile._sync")


@pytest.fixture
def server(tmp_path):
    if not HAVE_SYNC:
        pytest.fail(f"{SYNC_LIB} is built but libprofile._sync is not: run `make python`")
    if not natsd.available():
        pytest.fail("nats-server is not installed (Debian package nats-server)")
    with natsd.NatsServer(tmp_path) as s:
        yield s



@needs_sync
def test_a_preference_recorded_in_macau_reaches_lisbon(server, macau, lisbon):
    g = macau.guests.add("Zhuang Wei", email="zw@example.com", tier="gold")
    g.prefs.set("amenity.flower", "lily", observed_by="housekeeping")
    made = macau.changes_last()

    r = macau.sync(server.url, chain="grand", timeout_ms=5000)
    assert isinstance(r, libprofile.SyncReport)
    assert r.pushed == made
    assert macau.published() == made
    r = lisbon.sync(server.url, chain="grand", timeout_ms=5000)
    assert r.pushed == 0
    assert r.pulled == made and r.apply.applied == made and r.applied == made
    assert lisbon.guests.get(g.id).prefs["amenity.flower"] == "lily"
    assert lisbon.digest() == macau.digest()

    # Nothing new: a round moves nothing; Macau sees no own changes pulled
    # as new ones.
    r = lisbon.sync(server.url, chain="grand", timeout_ms=5000)
    assert (r.pushed, r.apply.applied) == (0, 0)
    r = macau.sync(server.url, chain="grand", timeout_ms=5000)
    assert (r.pushed, r.apply.applied) == (0, 0)

    # And back: Lisbon's note reaches Macau.
    lisbon.guests.get(g.id).prefs.set("pillow.type", "buckwheat", observed_by="housekeeping")
    assert lisbon.sync(server.url, chain="grand", timeout_ms=5000).pushed == 1
    r = macau.sync(server.url, chain="grand", timeout_ms=5000)
    assert r.apply.applied == 1
    assert macau.guests.get(g.id).prefs["pillow.type"] == "buckwheat"
    assert macau.digest() == lisbon.digest()


@needs_sync
def test_a_syncer_keeps_its_connection_and_counts(server, macau, lisbon):
    g = macau.guests.add("Maria Rossi", email="maria.rossi@example.it")
    with macau.syncer(server.url, chain="grand", timeout_ms=5000) as m, \
            lisbon.syncer(server.url, chain="grand", timeout_ms=5000) as s:
        assert m.round().pushed == macau.changes_last()
        assert s.round().applied == macau.changes_last()
        st = s.stats()
        assert isinstance(st, libprofile.SyncStats)
        assert st.rounds == 1 and st.failed_rounds == 0
        assert st.applied == macau.changes_last() and st.last_error == 0
    assert lisbon.guests.get(g.id).name == "Maria Rossi"
    with pytest.raises(libprofile.Closed):
        m.round()


@needs_sync
def test_background_rounds_publish_new_changes(server, macau, lisbon, clock):
    # The library's thread calls into the database, and so into the
    # Python clock of the fixture, from a thread Python did not start.
    import time
    with macau.syncer(server.url, chain="grand", timeout_ms=5000) as m:
        m.start(interval_ms=50)
        g = macau.guests.add("Zhuang Wei", email="zw@example.com")
        g.prefs.set("room.floor", "10", observed_by="front_desk")
        deadline = time.monotonic() + 20
        while m.stats().pushed < macau.changes_last() and time.monotonic() < deadline:
            time.sleep(0.05)
        m.stop()
        assert m.stats().pushed == macau.changes_last()
        assert macau.published() == macau.changes_last()
        with pytest.raises(libprofile.InvalidInput):
            m.start(interval_ms=0)
    r = lisbon.sync(server.url, chain="grand", timeout_ms=5000)
    assert r.applied == macau.changes_last()
    assert lisbon.guests.get(g.id).prefs["room.floor"] == "10"


@needs_sync
def test_closing_the_database_closes_its_syncer(server, tmp_path, clock):
    db = libprofile.open(str(tmp_path / "macau"), clock=clock, property="macau")
    s = db.syncer(server.url, chain="grand", timeout_ms=5000)
    db.close()
    with pytest.raises(libprofile.Closed):
        s.round()


@needs_sync
def test_a_database_without_a_property_refuses_to_sync(server, db):
    db.guests.add("Chan Tai Man")
    with pytest.raises(libprofile.InvalidInput, match="property"):
        db.sync(server.url, chain="grand", timeout_ms=5000)


@needs_sync
def test_an_unreachable_server_is_a_clear_error_and_loses_nothing(tmp_path, macau, lisbon):
    if not HAVE_SYNC:
        pytest.fail(f"{SYNC_LIB} is built but libprofile._sync is not: run `make python`")
    g = macau.guests.add("Zhuang Wei", email="zw@example.com")
    g.prefs.set("room.floor", "10", observed_by="front_desk")
    made = macau.changes_last()
    url = natsd.unused_url()
    with pytest.raises(libprofile.IOFailure) as e:
        macau.sync(url, chain="grand", timeout_ms=1000)
    assert url.split("//")[1] in str(e.value) or "127.0.0.1" in str(e.value)
    assert macau.changes_last() == made and macau.published() == 0
    assert len(macau.changes()) == made
    # Once a server is there, the next round publishes everything.
    if not natsd.available():
        pytest.fail("nats-server is not installed (Debian package nats-server)")
    with natsd.NatsServer(tmp_path) as server:
        assert macau.sync(server.url, chain="grand", timeout_ms=5000).pushed == made
        assert lisbon.sync(server.url, chain="grand", timeout_ms=5000).applied == made
    assert lisbon.guests.get(g.id).prefs["room.floor"] == "10"


@needs_sync
@pytest.mark.parametrize("chain", ["", "Grand Hotels", "x" * 33])
def test_a_bad_chain_name_is_refused(server, macau, chain):
    with pytest.raises(libprofile.InvalidInput):
        macau.sync(server.url, chain=chain, timeout_ms=5000)


def test_without_the_extension_sync_says_what_to_build(macau, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "libprofile._sync", None)   # import fails
    monkeypatch.delattr(libprofile, "_sync", raising=False)
    with pytest.raises(libprofile.SyncUnavailable, match="libprofile-sync") as e:
        macau.sync("nats://127.0.0.1:4222")
    assert isinstance(e.value, ImportError) and e.value.code is None
    assert "libprofile._sync" in str(e.value)
