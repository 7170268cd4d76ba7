"""The web view in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``).

Driven with Selenium through Debian's chromedriver, which is built from the same sources as
Debian's chromium, so the two always match and nothing is downloaded. A person logs in with a
token, opens a running session from the list, and sees it turn complete without a reload.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import make_tenant
from tests.http_support import Server, token_for
from tests.workflow_support import Project

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parents[2] / "build" / "screenshots"


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("no Chromium: apt-get install chromium chromium-driver (.ci/run does)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def log_in(browser: WebDriver, server: Server, token: str) -> None:
    browser.get(f"{server.url}/ui/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 30, poll_frequency=0.1).until(
        lambda b: (
            "/ui/login" not in b.current_url
            and b.execute_script("return document.readyState") == "complete"
        )
    )


def text_of(browser: WebDriver, css: str) -> str:
    """The text of an element, read in one step (the live part is replaced as it changes)."""
    found = browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : '';",
        css,
    )
    return str(found)


def texts_of(browser: WebDriver, css: str) -> list[str]:
    found = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
        css,
    )
    return [str(t) for t in found]


def test_a_running_session_turns_complete_on_the_page_without_a_reload(
    project: Project, server: Server, browser: WebDriver, workflow_db: str
) -> None:
    gated = project.components[0].module_name
    project.plan({gated: ["gated"]})  # that component's agent waits until released
    session = project.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # Log in with a token, then follow the link of the session from the project's list.
    log_in(browser, server, token_for(project.scope, "operator"))
    link = browser.find_element(By.CSS_SELECTOR, f"a[href$='/sessions/{session.id}']")
    link.click()
    assert text_of(browser, "#session-status") == "active"
    browser.execute_script("window.ctwSamePage = true;")  # a reload would forget it

    # The page follows the run by itself: the gated component is seen at work, the others end.
    row = f"tr[data-module='{gated}']"
    WebDriverWait(browser, 60, poll_frequency=0.2).until(
        lambda b: "generate_tests" in text_of(b, f"{row} td:nth-child(4)")
    )
    browser.save_screenshot(str(ARTIFACTS / "web-view-running.png"))
    assert text_of(browser, f"{row} .status") == "active"
    (project.agent_state / "release").write_text("go")

    WebDriverWait(browser, 120, poll_frequency=0.2).until(
        lambda b: text_of(b, "#session-status") != "active"
    )
    browser.save_screenshot(str(ARTIFACTS / "web-view-complete.png"))
    assert text_of(browser, "#session-status") == "complete"
    assert browser.execute_script("return window.ctwSamePage === true;") is True
    assert texts_of(browser, "#matrix .status") == ["complete"] * len(project.components)
    branch = text_of(browser, "dl.facts dd:nth-of-type(3)")
    assert text_of(browser, "#session-commit") == project.remote_git("rev-parse", branch)
    assert (ARTIFACTS / "web-view-complete.png").stat().st_size > 10_000

    # The output tail link opens the component's own steps and test output.
    browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "== run_tests (attempt 1): ok" in page
    assert "newest test report: 2 passed, 0 failed" in page

    # Another account's token sees none of it: the same page as for a missing session.
    other = make_tenant(workflow_db)
    session_page = f"{server.url}/ui/projects/{project.scope.project_id}/sessions/{session.id}"
    browser.delete_all_cookies()
    log_in(browser, server, token_for(other.scope, "neighbour"))
    browser.get(session_page)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert str(session.id) not in browser.page_source
    # The cookie is the login's, unreadable by script.
    cookie = browser.get_cookie("ctw_token")
    assert cookie is not None and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert os.environ.get("SE_OFFLINE") == "true"
