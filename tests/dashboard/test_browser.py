"""End-to-end in headless Chromium: compliance logs in, opens a red flag, saves a
disposition with a note and sees it in the audit log. Screenshots go to a temporary folder,
or to ``$TIERLENS_SCREENSHOTS`` (``TIERLENS_SCREENSHOTS=docs/screenshots`` refreshes the ones
the README shows); a test run never rewrites tracked files by itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import APP, REPO

from tierlens.dashboard import reviews

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: "
                       "apt-get install -y chromium (the Makefile's CI step does)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
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


def test_compliance_dispositions_a_red_flag(server, scored_root, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = os.environ.get("TIERLENS_SCREENSHOTS")
    SHOTS = (REPO / shots) if shots else tmp_path / "screenshots"
    SHOTS.mkdir(parents=True, exist_ok=True)
    note = f"e2e: card number read aloud, escalated to the DPO {int(time.time())}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
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
        expect(page.get_by_role("tab", name="AI tier")).to_be_visible()
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
        browser.close()

    store = scored_root / "data" / "reviews" / "reviews.sqlite"
    latest = reviews.latest_dispositions(store)
    assert note in latest["note"].to_list()
    assert reviews.verify_audit_log(store) == (True, None)
