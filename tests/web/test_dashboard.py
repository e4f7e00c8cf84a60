"""The quality dashboard in headless Chromium: `frontdesk report --html`
and `db.quality_report(..., daily=True).html()` over the demo's days.

The database is the one `make demo` plays (examples/demo.sh, run here in a
temporary directory), and the report covers the days its own last report
does, 2026-11-20 to 2026-11-25, with the clock where the demo leaves it.
Every bar the browser finds must carry the figure pf_quality_report_get
gives (read through the binding), and every figure must have its bar.
"""

import datetime as dt
import os
import subprocess

import pytest

from conftest import REPO

import libprofile

from selenium.webdriver.common.by import By

FRONTDESK = os.environ.get("FRONTDESK") or os.path.join(REPO, "build", "frontdesk")
FROM, TO = dt.date(2026, 11, 20), dt.date(2026, 11, 25)
PF_NOW = "2026-11-25T10:00:00Z"          # the demo's last scene
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)
METRICS = ("omission_rate", "per_100_stays", "on_time_rate")
PERCENT = {"omission_rate": True, "per_100_stays": False, "on_time_rate": True}


def env():
    e = {k: v for k, v in os.environ.items() if k not in ("PF_DB", "PF_NOW", "PF_TZ")}
    e.update(LC_ALL="C.UTF-8")
    return e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's database, played by examples/demo.sh as `make demo` does
    (in a directory of its own: the script writes ./demo-db)."""
    if not os.access(FRONTDESK, os.X_OK):
        pytest.fail(f"{FRONTDESK} is missing: run `make` first", pytrace=False)
    d = tmp_path_factory.mktemp("demo")
    os.symlink(os.path.join(REPO, "examples"), d / "examples")
    r = subprocess.run(["sh", "examples/demo.sh"], cwd=d, capture_output=True, text=True,
                       env=dict(env(), BUILD=os.path.dirname(FRONTDESK)), timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    return d


@pytest.fixture(scope="module")
def report(demo):
    with libprofile.open(str(demo / "demo-db"), clock=lambda: NOW, readonly=True) as db:
        return db.quality_report(FROM, TO, daily=True)


@pytest.fixture(scope="module")
def pages(demo, report):
    """{"frontdesk": path, "python": path} of the two renderings."""
    c_page = demo / "dashboard-frontdesk.html"
    r = subprocess.run([FRONTDESK, "-d", str(demo / "demo-db"), "report", "--from",
                        FROM.isoformat(), "--to", TO.isoformat(), "--html", str(c_page)],
                       capture_output=True, text=True, env=dict(env(), PF_NOW=PF_NOW),
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"Dashboard written to {c_page}" in r.stdout
    py_page = demo / "dashboard-python.html"
    py_page.write_text(report.html(), encoding="utf-8")
    return {"frontdesk": c_page, "python": py_page}


def expected_bars(report):
    """(metric, department, day) -> the library's figure, for every figure
    that has a denominator: each must be drawn, and nothing else."""
    out = {}
    rows = dict(report["departments"], ALL=report["overall"])
    for dept, row in rows.items():
        for m in METRICS:
            if row[m] is not None:
                out[(m, dept, None)] = row[m]
    for d in report["days"]:
        for m in METRICS:
            if d["overall"][m] is not None:
                out[(m, "ALL", d["day"].isoformat())] = d["overall"][m]
    return out


def test_the_demo_has_figures_to_draw(report):
    # Guards the test below against a demo that stops making data.
    assert report["stays"] == 2
    assert report["overall"]["complaints"] == 2 and report["overall"]["prompts"] > 10
    assert len(report["days"]) == 6
    assert {"housekeeping", "restaurant", "front_desk"} <= set(report["departments"])


@pytest.mark.parametrize("which", ["frontdesk", "python"])
def test_every_bar_carries_the_reports_figure(browser, pages, report, shots, which):
    browser.get(pages[which].as_uri())
    assert browser.title == f"Service quality {FROM} to {TO}"
    bars = browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
    want = expected_bars(report)
    seen = {}
    for b in bars:
        key = (b.get_attribute("data-metric"), b.get_attribute("data-department"),
               b.get_attribute("data-day"))
        assert key not in seen, f"two bars for {key}"
        seen[key] = b.get_attribute("data-value")
        assert key in want, f"a bar for a figure the report does not have: {key}"
        # Exactly the library's double (the page writes 17 digits).
        assert float(seen[key]) == want[key], (key, seen[key], want[key])
        # The bar's length shows it: the rates on a 0..100% axis.
        if PERCENT[key[0]]:
            assert float(b.get_attribute("width")) == pytest.approx(want[key] * 400, abs=0.06)
    assert set(seen) == set(want), f"figures without a bar: {set(want) - set(seen)}"

    # The same figures in the tables, for screen readers.
    rows = browser.find_elements(By.CSS_SELECTOR, "table")[0].find_elements(
        By.CSS_SELECTOR, "tbody tr")
    by_dept = {r.find_element(By.TAG_NAME, "th").text: [c.text for c in
               r.find_elements(By.TAG_NAME, "td")] for r in rows}
    assert set(by_dept) == set(report["departments"]) | {"ALL"}
    for dept, cells in by_dept.items():
        row = report["overall"] if dept == "ALL" else report["departments"][dept]
        omission = "-" if row["omission_rate"] is None else f"{row['omission_rate'] * 100:.1f}%"
        assert cells[2] == omission and cells[3] == str(row["complaints"]), dept
    days = browser.find_elements(By.CSS_SELECTOR, "table")[1].find_elements(
        By.CSS_SELECTOR, "tbody tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in days] == \
        [d["day"].isoformat() for d in report["days"]]

    source = pages[which].read_text(encoding="utf-8")
    for needle in ("<script", "src=", "http://", "https://", "@import", "url(", "<link"):
        assert needle not in source, needle
    browser.set_window_size(900, 2600)
    shots(browser, f"dashboard-{which}")
    browser.set_window_size(900, 1300)


def test_frontdesk_and_python_write_the_same_page(pages):
    assert pages["frontdesk"].read_bytes() == pages["python"].read_bytes()


def test_html_needs_the_daily_figures(demo):
    with libprofile.open(str(demo / "demo-db"), clock=lambda: NOW, readonly=True) as db:
        r = db.quality_report(FROM, TO)
        assert "days" not in r and r["stays"] == 2          # still the dict it was
        with pytest.raises(ValueError):
            r.html()
        with pytest.raises(TypeError):
            db.quality_report(NOW - dt.timedelta(days=1), NOW, daily=True)


def test_html_that_cannot_be_written_is_an_error(demo, tmp_path):
    def report_to(path):
        return subprocess.run([FRONTDESK, "-d", str(demo / "demo-db"), "report", "--from",
                               FROM.isoformat(), "--to", TO.isoformat(), "--html", path],
                              capture_output=True, text=True, env=dict(env(), PF_NOW=PF_NOW),
                              timeout=60)
    r = report_to(str(tmp_path / "no-such-dir" / "page.html"))
    assert r.returncode == 1
    assert r.stderr == (f"frontdesk: cannot write {tmp_path}/no-such-dir/page.html: "
                        "No such file or directory\n")
    # A full disk: the error is reported, and the device is left alone.
    r = report_to("/dev/full")
    assert r.returncode == 1 and "No space left on device" in r.stderr
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")
