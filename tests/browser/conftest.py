"""Browser tests: Playwright (sync API) driving Debian's chromium against live_server.

`playwright install` cannot download browsers here, so pytest-playwright's
launch arguments point at /usr/bin/chromium. Without chromium the tests skip
locally and fail in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from testkit.factories import UserFactory

CHROMIUM = os.environ.get("OPS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "browser-pw-123"
SCREENSHOT_DIR = os.environ.get("OPS_SCREENSHOT_DIR", "")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    if os.environ.get("CI"):
        return  # let them fail loudly: CI must have a browser
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install -y chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture
def staff_user(transactional_db):
    return UserFactory(username="staff", password=PASSWORD, is_staff=True, is_superuser=True)


def login(page, live_server, username: str = "staff", password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.fixture
def staff_page(page, live_server, staff_user):
    page.set_default_timeout(10_000)
    login(page, live_server)
    return page


def save_screenshot(page, name: str) -> None:
    """Write docs screenshots when OPS_SCREENSHOT_DIR is set (make screenshots)."""
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / name), full_page=True)
