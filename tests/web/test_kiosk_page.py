"""The kiosk page (examples/kiosk_web) in headless Chromium.

The server runs as its own process on a free loopback port, over a
database this module fills through the binding with the seed guests: Zhuang
Wei from Macau (Chinese; a hearing need and floor and food likes, which
make staff-only prompts), Maria Rossi (Italian) and João Santos
(Portuguese), each booked under a reference arriving on 23 November.
"""

import csv
import datetime as dt
import http.client
import json
import os
import re
import select
import subprocess
import sys
import time
import urllib.parse

import pytest

from conftest import REPO

import libprofile

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

SERVER = os.path.join(REPO, "examples", "kiosk_web", "server.py")
HOTEL_RULES = os.path.join(REPO, "examples", "hotel.rules")
PF_NOW = "2026-11-23T09:00:00Z"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
ARRIVAL, DEPARTURE = dt.date(2026, 11, 23), dt.date(2026, 11, 26)

ZW_EMAIL, ZW_REF = "zw@example.com", "RES-88101"
CHECKIN_ID = "RES-88101/kiosk-check-in"      # what the kiosk fires for ZW_REF
HEARING_NOTE = "speak on his left side"
# The page's words for a failed lookup, in English; nothing else may show.
POLITE = ("Sorry, we could not find a booking with these details. Please check them, "
          "or see the front desk; we will be glad to help.")

SEED = [
    # name, profile, preferences (category, value, kind, department, note), reference, room
    ("Zhuang Wei", dict(email=ZW_EMAIL, phone="+853 6123 4567", language="zh", country="MAC",
                        tier="gold"),
     [("room.floor", "10", "like", "front_desk", None),
      ("dining.cuisine", "sichuan", "like", "restaurant", None),
      ("access.hearing", "hard of hearing", "need", "front_desk", HEARING_NOTE)],
     ZW_REF, "1012"),
    ("Maria Rossi", dict(email="maria.rossi@example.it", phone="+39 347 555 0188",
                         language="it", country="ITA", tier="vip"),
     [("amenity.flower", "lily", "like", "housekeeping", None)], "RES-88102", "818"),
    ("João Santos", dict(email="joao.santos@example.pt", phone="+351 912 000 111",
                         language="pt", country="PRT", tier="silver"),
     [("room.facing", "sea", "like", "front_desk", None)], "RES-88103", "604"),
]


def clock():
    return NOW


def seed(db_dir, arrivals):
    with libprofile.open(db_dir, clock=clock) as db:
        db.rules.load_file(HOTEL_RULES)
        rows = []
        for name, fields, prefs, ref, room in SEED:
            g = db.guests.add(name, **fields)
            for cat, value, kind, dept, note in prefs:
                g.prefs.set(cat, value, kind=kind, observed_by=dept, note=note)
            db.fire("reservation", guest=g.id, event_id=ref, arrival=ARRIVAL,
                    departure=DEPARTURE)
            rows.append((ref, room, ARRIVAL.isoformat(), DEPARTURE.isoformat(), 1))
    with open(arrivals, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("reference", "room", "arrival", "departure", "party"))
        w.writerows(rows)


class Server:
    """examples/kiosk_web/server.py in a process of its own."""

    def __init__(self, db_dir, arrivals, *extra):
        env = dict(os.environ, PF_NOW=PF_NOW, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PF_TZ", None)
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "-d", db_dir, "--arrivals", arrivals,
             "--host", "127.0.0.1", "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        m = re.match(r"kiosk page at (http://127\.0\.0\.1:(\d+)/)$", line.strip())
        if not m:
            self.proc.kill()
            pytest.fail(f"the kiosk server did not start: {line!r} "
                        f"{self.proc.stderr.read()}", pytrace=False)
        self.url, self.port = m.group(1), int(m.group(2))

    def post(self, path, body, json_body=False, source="127.0.0.1"):
        """POST without the browser; returns (status, headers, text)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                       source_address=(source, 0))
        if json_body:
            data, ctype = json.dumps(body), "application/json"
        else:
            data, ctype = urllib.parse.urlencode(body), "application/x-www-form-urlencoded"
        c.request("POST", path, body=data.encode("utf-8"), headers={"Content-Type": ctype})
        r = c.getresponse()
        out = r.status, dict(r.getheaders()), r.read().decode("utf-8")
        c.close()
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def hotel(tmp_path):
    db_dir, arrivals = str(tmp_path / "db"), str(tmp_path / "arrivals.csv")
    seed(db_dir, arrivals)
    return db_dir, arrivals


@pytest.fixture
def server(hotel):
    # Slowing down starts late here (a test of its own covers it), so that
    # the failures the browser tests make on purpose cost no time.
    s = Server(*hotel, "--fail-free", "20")
    yield s
    s.stop()
    # What a guest typed never reaches the log.
    assert ZW_EMAIL not in s.log and "6123" not in s.log


def staff_only_texts(db_dir):
    """Every text staff were sent for Zhuang Wei's check-in (the prompts
    of the event the kiosk fired that are not for the kiosk), and his
    profile's staff notes."""
    with libprofile.open(db_dir, clock=clock, readonly=True) as db:
        g = db.guests.find(ZW_EMAIL)[0]
        texts = set()
        for dept in ("front_desk", "housekeeping", "restaurant", "concierge", "management"):
            texts.update(p.text for p in db.prompts.pending(dept) if p.guest == g.id)
        preview = db.preview("check_in", guest=g.id, room="1012", arrival=ARRIVAL,
                             departure=DEPARTURE, party=1)
        texts.update(p.text for p in preview if p.department != "kiosk")
    texts.update({"hard of hearing", HEARING_NOTE, "sichuan", "Sichuan"})
    return texts


def fired(db_dir):
    """(Zhuang Wei's check-ins as the journal has them: each event.fire of
    kind check_in, whatever its id; his stays)."""
    with libprofile.open(db_dir, clock=clock, readonly=True) as db:
        g = db.guests.find(ZW_EMAIL)[0]
        with db.journal(guest=g.id) as it:
            fires = [e for e in it
                     if e.op == "event.fire" and e.fields.get("kind") == "check_in"]
        return fires, db.stays.list(g)


def wait_for(driver, css):
    return WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def look_up(driver, server, contact, reference, lang="en"):
    """Fill the form as a guest does, with the keyboard only: the contact
    field has the focus, Tab moves to the reference, Enter sends."""
    driver.get(server.url + f"?lang={lang}")
    wait_for(driver, "#contact")
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "contact"      # autofocus: type at once
    active.send_keys(contact, Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "reference"
    active.send_keys(reference, Keys.ENTER)


def assert_self_contained(source):
    """Nothing is loaded from anywhere: no script, no external reference."""
    for needle in ("<script", "src=", "http://", "https://", "@import", "url(", "<link"):
        assert needle not in source, needle


def test_macau_guest_checks_in_once_and_sees_no_staff_note(browser, server, hotel, shots):
    db_dir, _ = hotel
    staff = staff_only_texts(db_dir)
    assert any("hard of hearing" in t for t in staff)          # the note exists for staff
    sources = []

    look_up(browser, server, ZW_EMAIL, "res-88101")            # any case
    button = wait_for(browser, "#checkin")
    # The Chinese welcome, from the rule book's guest-facing zh text, and
    # the page's own words in Chinese.
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant"
    greeting = browser.find_element(By.ID, "welcome").text
    assert "Zhuang Wei，歡迎光臨！很高興您選擇入住。" in greeting
    assert button.text == "辦理入住"
    assert "1012" in browser.find_element(By.ID, "room").text
    # A large touch target.
    assert button.size["height"] >= 100 and button.size["width"] >= 500
    # examples/kiosk_web/screenshot.png (README) is this one.
    browser.set_window_size(900, 800)
    shots(browser, "kiosk-welcome-zh")
    browser.set_window_size(900, 1300)
    sources.append(browser.page_source)

    button.click()
    first = wait_for(browser, "#confirmation").text
    teams = browser.find_element(By.ID, "teams").text
    assert first == "您已入住 1012 號房間。"
    assert "前台" in teams                                      # counts per team, in Chinese
    shots(browser, "kiosk-checked-in-zh")
    sources.append(browser.page_source)

    # A second tap: Back to the welcome screen (fetched anew, not a form
    # resubmission) and Check in again.
    browser.back()
    wait_for(browser, "#checkin").click()
    assert wait_for(browser, "#confirmation").text == first
    assert browser.find_element(By.ID, "teams").text == teams
    sources.append(browser.page_source)

    # Another lookup and another tap (a new session, as at a second kiosk).
    look_up(browser, server, "+853 6123 4567", ZW_REF)
    wait_for(browser, "#checkin").click()
    assert wait_for(browser, "#confirmation").text == first
    assert browser.find_element(By.ID, "teams").text == teams
    sources.append(browser.page_source)

    fires, stays = fired(db_dir)
    assert len(fires) == 1, f"the check-in fired {len(fires)} times"
    assert fires[0].ref == CHECKIN_ID            # under the booking's own id
    assert [(s.arrival, s.departure, s.room) for s in stays] == [(ARRIVAL, DEPARTURE, "1012")]

    # The JSON a front end could use says no more than the page.
    st, _, body = server.post("/api/lookup", {"contact": ZW_EMAIL, "reference": ZW_REF},
                              json_body=True)
    assert st == 200
    session = json.loads(body)["session"]
    st, _, body2 = server.post("/api/checkin", {"session": session}, json_body=True)
    assert st == 200 and json.loads(body2)["room"] == "1012"
    sources += [body, body2]
    assert len(fired(db_dir)[0]) == 1

    staff |= staff_only_texts(db_dir)           # now with the check-in's own prompts
    for src in sources:
        if src.startswith("<"):
            assert_self_contained(src)
        for text in staff:
            assert text not in src, f"a staff-only text reached the guest: {text!r}"


def test_wrong_reference_gets_the_polite_message_only(browser, server, hotel, shots):
    look_up(browser, server, ZW_EMAIL, "RES-99999")
    msg = wait_for(browser, "#message")
    assert msg.text == POLITE
    wrong_ref = browser.page_source
    shots(browser, "kiosk-wrong-reference")
    # Nothing about the guest: no name, no welcome, no room, no button.
    for leak in ("Zhuang", "歡迎", "1012", 'id="checkin"', 'id="welcome"', "/checkin"):
        assert leak not in wrong_ref, leak
    assert_self_contained(wrong_ref)

    # An e-mail nobody has gets exactly the same page: the message does not
    # tell an unknown e-mail from a wrong reference.
    look_up(browser, server, "nobody@example.com", ZW_REF)
    wait_for(browser, "#message")
    assert browser.page_source == wrong_ref
    # Another guest's reference with this e-mail: the same again.
    look_up(browser, server, ZW_EMAIL, "RES-88102")
    wait_for(browser, "#message")
    assert browser.page_source == wrong_ref
    # The JSON says the same for both.
    a = server.post("/api/lookup", {"contact": ZW_EMAIL, "reference": "RES-99999"}, True)
    b = server.post("/api/lookup", {"contact": "nobody@example.com", "reference": ZW_REF}, True)
    assert a[0] == b[0] == 404 and a[2] == b[2]
    assert json.loads(a[2])["message"] == POLITE
    assert not fired(hotel[0])[0]


def test_language_switch_and_portuguese_guest(browser, server, shots):
    driver = browser
    driver.get(server.url)
    wait_for(driver, ".langs")
    driver.find_element(By.LINK_TEXT, "Português").click()
    wait_for(driver, "#reference")
    assert driver.find_element(By.CSS_SELECTOR, "label[for=reference]").text == \
        "Código da reserva"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pt"
    shots(driver, "kiosk-start-pt")
    # The guest's language wins over the switch: a Portuguese guest who
    # started in English still reads Portuguese.
    look_up(driver, server, "joao.santos@example.pt", "RES-88103", lang="en")
    button = wait_for(driver, "#checkin")
    assert button.text == "Fazer check-in"
    assert "Boas-vindas, João Santos!" in driver.find_element(By.ID, "welcome").text


def test_repeated_failures_from_one_kiosk_are_slowed_down(hotel):
    # Two free failures, then 0.6 s, 1.2 s ... before each next lookup.
    s = Server(*hotel, "--fail-free", "2", "--fail-delay", "0.6", "--fail-delay-max", "5")
    try:
        def attempt(ref=ZW_REF + "0", source="127.0.0.1"):
            t = time.monotonic()
            status, headers, body = s.post("/lookup", {"contact": ZW_EMAIL, "reference": ref},
                                           source=source)
            return time.monotonic() - t, (status, headers.get("Location", ""), body)

        took = [attempt()[0] for _ in range(2)]
        assert max(took) < 0.5, took                     # typos cost nothing
        third, (status, _, body) = attempt()
        # Waits run from the previous failure, not from this request: the
        # response's trip back to the client comes off them (allow 0.1 s).
        assert third >= 0.5, third                       # then the kiosk waits
        assert status == 200 and POLITE in body
        fourth, _ = attempt()
        assert fourth >= 1.1 and fourth > third, (third, fourth)  # and waits longer
        # The right details still work, after the wait: a slowed kiosk is
        # not a locked one.
        t, (status, where, _) = attempt(ZW_REF)
        assert t >= 2.4 and status == 303 and where.startswith("/welcome?s="), (t, status)
        # Another kiosk (another address) is not slowed down.
        t, _ = attempt(source="127.0.0.2")
        assert t < 0.5, t
    finally:
        s.stop()
