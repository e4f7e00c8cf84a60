"""Browser tests (issue 14): the kiosk page and the quality dashboard,
driven in headless Chromium through Selenium, as their users meet them.

Nothing here skips.  Chromium, chromedriver and Selenium come from Debian
(`make deps` installs chromium, chromium-driver and python3-selenium); if
the browser cannot start, every test that needs it fails and says why.

Screenshots (PNG) are written to $WEB_SHOTS, else build/web-shots/ of this
checkout (untracked); the Makefile's `_check-web` passes $(BUILD)/web-shots.
"""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or \
    "/usr/bin/chromedriver"
SHOTS = os.environ.get("WEB_SHOTS") or os.path.join(REPO, "build", "web-shots")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the session; fails (never skips) with the
    reason when it cannot start."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.fail(f"Selenium is missing ({e}): run `make deps` (python3-selenium)",
                    pytrace=False)
    for what, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{what} is missing at {path}: run `make deps` "
                        "(chromium, chromium-driver)", pytrace=False)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    # A kiosk's portrait screen; --no-sandbox because tests run as root
    # in CI; nothing reaches the network (every page here is local).
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=900,1300", "--lang=en-US",
                "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except Exception as e:  # noqa: BLE001 -- any failure to start is the answer
        pytest.fail(f"Chromium could not start through {CHROMEDRIVER}: "
                    f"{type(e).__name__}: {e}", pytrace=False)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def shots():
    """Where screenshots go; save(name) writes NAME.png there."""
    os.makedirs(SHOTS, exist_ok=True)

    def save(driver, name):
        path = os.path.join(SHOTS, f"{name}.png")
        assert driver.save_screenshot(path), f"could not save {path}"
        return path
    return save
