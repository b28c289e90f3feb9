"""In headless Chromium, one server and one browser for the module (each test gets its own
browser context, i.e. its own cookie jar).

- for each role: a deep link opened logged out lands, after login, on the linked page with
  its query parameters; a reload and a new tab keep the session; logout then reload shows the
  login page, and the other tab is logged out too; a copy of the old session cookie
  replayed in a fresh browser doesn't log in;
- compliance logs in, opens a red flag, saves a disposition with a note and sees it in the
  audit log.

Page-content checks use the same fixtures: ``logged_in(role, path)`` returns a Playwright
page logged in as ``role`` and showing ``path``.

Screenshots go to a temporary folder, or to ``$TIERLENS_SCREENSHOTS``
(``TIERLENS_SCREENSHOTS=docs/screenshots`` refreshes the ones the README shows); a test run
never rewrites tracked files by itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from conftest import APP, REPO

from tierlens.dashboard.sessions import COOKIE_NAME
from tierlens.reviews import store as reviews
from tierlens.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORDS = {"exec": "exec-demo", "qa": "qa-demo", "compliance": "comp-demo",
             "admin": "admin-demo"}
USER_OF = {"executive": "exec", "qa_manager": "qa", "compliance": "compliance",
           "admin": "admin"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: "
                       "apt-get install -y chromium (the Makefile's CI step does)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(scored_root):
    port = _free_port()
    env = dict(os.environ, TIERLENS_SERVING_DIR=str(scored_root / "serving"),
               TIERLENS_DATA_DIR=str(scored_root / "data"),
               TIERLENS_WAREHOUSE=str(scored_root / "wh" / "tierlens.duckdb"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("streamlit did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a shared CI machine can be slow to render
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def _login_form(page):
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def _log_in(page, username: str) -> None:
    from playwright.sync_api import expect

    _login_form(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def _session_cookie(page) -> dict:
    """The session cookie, once the page's script has set it (the browser sets it, after
    the page has rendered)."""
    deadline = time.monotonic() + 30
    while True:
        found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, found
            return found[0]
        page.wait_for_timeout(250)


@pytest.fixture
def logged_in(server, context):
    """``logged_in(role, path="")``: a page of a fresh browser context, logged in as ``role``
    and showing ``server/path`` (a hook for page-content checks)."""
    def open_as(role: str, path: str = ""):
        page = context.new_page()
        page.goto(f"{server}/{path}")
        _log_in(page, USER_OF[role])
        return page
    return open_as


@pytest.fixture(scope="module")
def deep_links(scored_root) -> dict[str, tuple[str, str, str]]:
    """role -> (a link with query parameters, the page's title, what the page shows only
    for those parameters)."""
    con = duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True)
    try:
        oldest = con.execute("SELECT min(month) FROM kpi_monthly").fetchone()[0]
        cid = con.execute("SELECT conversation_id FROM conversations ORDER BY started_at "
                          "LIMIT 1 OFFSET 3").fetchone()[0]
    finally:
        con.close()
    conv = (f"conversation?id={cid}", "Conversation", cid)
    return {"executive": (f"executive?month={oldest}", "Monthly KPIs", oldest),
            "qa_manager": conv, "compliance": conv, "admin": conv}


@pytest.mark.parametrize("role", list(USER_OF))
def test_session_survives_reload_and_tabs_and_dies_at_logout(server, browser, context,
                                                             deep_links, role):
    from playwright.sync_api import expect

    link, title, shown = deep_links[role]
    page = context.new_page()
    page.goto(f"{server}/{link}")  # logged out: the login form, at the linked URL
    _log_in(page, USER_OF[role])
    # the deep link: the linked page, its query parameters kept and used (the executive
    # page is the default one, whose URL Streamlit writes as `/`)
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.get_by_text(shown, exact=True).first).to_be_visible()
    assert urlsplit(page.url).query == urlsplit(link).query
    cookie = _session_cookie(page)
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > time.time()

    page.reload()  # F5 keeps the session and the page
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.get_by_text(shown, exact=True).first).to_be_visible()
    tab = context.new_page()  # so does a new tab
    tab.goto(server)
    expect(tab.get_by_text("Signed in as")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    _login_form(page)
    page.reload()
    _login_form(page)
    # the other tab is logged out too, at its next step
    tab.get_by_role("link", name="Topics" if role == "executive" else "Conversation").click()
    _login_form(tab)
    tab.close()

    replay = browser.new_context()  # the old cookie, replayed elsewhere, logs no one in
    try:
        replay.add_cookies([cookie])
        again = replay.new_page()
        again.goto(server)
        _login_form(again)
    finally:
        replay.close()


def test_compliance_dispositions_a_red_flag(server, context, scored_root, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get("TIERLENS_SCREENSHOTS")
    SHOTS = (REPO / shots) if shots else tmp_path / "screenshots"
    SHOTS.mkdir(parents=True, exist_ok=True)
    note = f"e2e: card number read aloud, escalated to the DPO {int(time.time())}"
    page = context.new_page()
    # A page opened by URL without a session never shows its data. (On a fresh server
    # Streamlit's legacy pages/ discovery runs the page script itself: the guard stops it.)
    page.goto(f"{server}/compliance")
    expect(page.get_by_text("Please log in to see this page.")
           .or_(page.get_by_role("heading", name="tierlens"))).to_be_visible()
    page.wait_for_timeout(1500)
    expect(page.get_by_role("heading", name="Red-flag queue")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "denied_by_url.png"))
    page.goto(server)
    expect(page.get_by_role("heading", name="tierlens")).to_be_visible()
    page.get_by_role("textbox", name="Username").fill("compliance")
    page.get_by_role("textbox", name="Password").fill("comp-demo")
    page.screenshot(path=str(SHOTS / "login.png"))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_role("heading", name="Monthly KPIs")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)
    # the executive story: headline KPIs formatted (a rate in %), with a trend chart
    expect(page.get_by_role("heading", name="Headline:").first).to_be_visible()
    expect(page.get_by_text("%").first).to_be_visible()
    expect(page.locator("canvas, svg.marks, [data-testid='stVegaLiteChart']").first
           ).to_be_visible()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "executive.png"), full_page=True)

    page.get_by_role("link", name="Compliance").click()
    expect(page.get_by_role("heading", name="Red-flag queue")).to_be_visible()
    expect(page.locator("mark").first).to_be_visible()  # the evidence, highlighted
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "compliance_queue.png"), full_page=True)

    page.get_by_text("escalated", exact=True).click()
    page.get_by_label("Note (required)").fill(note)
    page.get_by_role("button", name="Save disposition").click()
    expect(page.get_by_text("Disposition saved")).to_be_visible()
    expect(page.get_by_role("table").get_by_text(note, exact=False)).to_be_visible()
    expect(page.get_by_text("Audit chain verified: intact")).to_be_visible()
    page.get_by_text("Audit log").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "audit_log.png"), full_page=True)

    store = scored_root / "data" / "reviews" / "reviews.sqlite"
    latest = reviews.latest_dispositions(store)
    assert note in latest["note"].to_list()
    assert reviews.verify_audit_log(store, Settings()) == (True, None)
