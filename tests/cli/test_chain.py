"""The two-hotel scene (examples/chain/demo_chain.sh, `make demo-chain`)
played with the built frontdesk: what Macau's departments noticed reaches
Lisbon through a nats-server of the script's own, and Lisbon's prompts
say so; and the chain commands' command lines (`sync`, `digest`,
`--property`) without a server.

The binary is $FRONTDESK (the Makefile's `_check-cli` passes it), else
build/frontdesk in this checkout; nats-server must be installed (Debian
package nats-server): without it the scene fails rather than being
skipped, as the chain is part of what `make check` checks.
"""

import os
import re
import shutil
import socket
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FRONTDESK = os.environ.get("FRONTDESK") or os.path.join(REPO, "build", "frontdesk")
DEMO = os.path.join(REPO, "examples", "chain", "demo_chain.sh")


def env(tmp_path, **extra):
    e = {k: v for k, v in os.environ.items() if k not in ("PF_DB", "PF_NOW", "PF_TZ")}
    e.update(LC_ALL="C.UTF-8", TMPDIR=str(tmp_path), FRONTDESK=FRONTDESK,
             PF_NOW="2026-11-23T09:00:00Z")
    e.update(extra)
    return e


def fd(tmp_path, *args):
    return subprocess.run([FRONTDESK, *args], cwd=tmp_path, env=env(tmp_path),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """The demo's output, run once for the module."""
    if not os.access(FRONTDESK, os.X_OK):
        pytest.fail(f"{FRONTDESK} is missing: run `make` first")
    if not shutil.which("nats-server") and not os.access("/usr/sbin/nats-server", os.X_OK):
        pytest.fail("nats-server is not installed (apt-get install nats-server)")
    tmp = tmp_path_factory.mktemp("chain")
    r = subprocess.run(["sh", DEMO], cwd=REPO, env=env(tmp), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # Nothing left behind: the databases and the server's store are gone.
    assert os.listdir(tmp) == [], os.listdir(tmp)
    return r.stdout


def lisbon_work_list(out, dept):
    """The lines of `prompts DEPT` printed in the Lisbon work-list scene."""
    part = out.split("Lisbon: each department's work list", 1)[1]
    part = part.split("Lisbon's stay goes back to Macau", 1)[0]
    return part.split(f"== {dept} ==", 1)[1].split("\n== ", 1)[0]


def test_macau_pushes_and_lisbon_pulls(scene):
    counts = re.findall(r"^pushed (\d+), pulled (\d+), applied (\d+)", scene, re.M)
    assert len(counts) == 4, scene
    macau_first, lisbon_first = counts[0], counts[1]
    assert int(macau_first[0]) >= 5                  # guest, stay, three prefs
    assert int(lisbon_first[0]) == 0                 # Lisbon had nothing yet
    assert int(lisbon_first[2]) == int(macau_first[0])


def test_lisbon_knows_the_macau_preferences(scene):
    show = scene.split("Lisbon's desk has never met him, but knows him", 1)[1]
    show = show.split("\n====", 1)[0]
    for value in ("lily", "room.floor", "chili_oil"):
        assert value in show, show


def test_lisbon_front_desk_housekeeping_and_restaurant_prompts(scene):
    assert "Assign a room on floor 10" in lisbon_work_list(scene, "front_desk")
    assert "Welcome back, Zhuang Wei: stay number 2" in lisbon_work_list(scene, "front_desk")
    assert "Place fresh lily in room 1004" in lisbon_work_list(scene, "housekeeping")
    assert ("Set out chili-oil sauce in a small dish at every meal for Zhuang Wei"
            in lisbon_work_list(scene, "restaurant"))


def test_the_check_in_welcomes_him_back(scene):
    checkin = scene.split("Lisbon: he checks in", 1)[1].split("\n====", 1)[0]
    assert "Welcome back, Zhuang Wei: stay number 2" in checkin
    assert "First stay" not in checkin


def test_both_hotels_end_with_the_same_digest(scene):
    m = re.search(r"^macau   ([0-9a-f]{64})$", scene, re.M)
    l = re.search(r"^lisbon  ([0-9a-f]{64})$", scene, re.M)
    assert m and l and m.group(1) == l.group(1), scene
    assert "same shared state" in scene


# ---------------------------------------------------------------- command lines

def test_digest_prints_64_hex_digits(tmp_path):
    db = str(tmp_path / "db")
    assert fd(tmp_path, "-d", db, "--property", "macau", "add", "Zhuang Wei").returncode == 0
    r = fd(tmp_path, "-d", db, "digest")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", r.stdout)


def test_property_is_stored_and_another_refused(tmp_path):
    db = str(tmp_path / "db")
    assert fd(tmp_path, "-d", db, "--property=macau", "add", "Zhuang Wei").returncode == 0
    r = fd(tmp_path, "-d", db, "--property", "lisbon", "add", "Maria Rossi")
    assert r.returncode == 1 and "macau" in r.stderr, r.stderr
    r = fd(tmp_path, "-d", db, "--property")
    assert r.returncode == 2 and "--property needs a name" in r.stderr


def test_sync_needs_a_server_and_a_chain(tmp_path):
    db = str(tmp_path / "db")
    r = fd(tmp_path, "-d", db, "--property", "macau", "sync", "--chain", "grand")
    assert r.returncode == 2 and "need --nats URL and --chain NAME" in r.stderr
    r = fd(tmp_path, "-d", db, "--property", "macau", "sync", "--nats", "nats://127.0.0.1:1",
           "--chain", "grand", "--interval", "0", "--follow")
    assert r.returncode == 2 and "--interval" in r.stderr


def _unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sync_without_a_property_name_says_how_to_give_one(tmp_path):
    db = str(tmp_path / "db")
    assert fd(tmp_path, "-d", db, "add", "Zhuang Wei").returncode == 0
    r = fd(tmp_path, "-d", db, "sync", "--nats", f"nats://127.0.0.1:{_unused_port()}",
           "--chain", "grand", "--timeout", "500")
    assert r.returncode == 1, r.stderr
    assert "--property NAME" in r.stderr


def test_sync_with_an_unreachable_server_fails_and_keeps_the_changes(tmp_path):
    db = str(tmp_path / "db")
    assert fd(tmp_path, "-d", db, "--property", "macau", "add", "Zhuang Wei").returncode == 0
    before = fd(tmp_path, "-d", db, "digest").stdout
    url = f"nats://127.0.0.1:{_unused_port()}"
    r = fd(tmp_path, "-d", db, "sync", "--nats", url, "--chain", "grand", "--timeout", "500")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("frontdesk: "), r.stderr
    assert fd(tmp_path, "-d", db, "digest").stdout == before
