"""Screenshots of every dashboard page on the demo data, for the README and docs/dashboard.md.

Needs a published demo (`make demo`, or `tierlens demo --no-serve`) and Debian's chromium.
Starts the dashboard on a free port, logs in as admin (who sees every page) and saves
``docs/screenshots/demo_<page>.png``.

    .venv/bin/python docs/screenshots/capture.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PAGES = [("Executive", "Monthly KPIs"), ("QA", None), ("Review queue", None),
         ("Compliance", "Red-flag queue"), ("Routing & escalation", None),
         ("Data quality", None), ("Topics", "Topics")]


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboards/streamlit_app.py"),
         "--server.headless", "true", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--browser.gatherUsageStats", "false"], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.get_by_role("textbox", name="Username").fill("admin")
            page.get_by_role("textbox", name="Password").fill("admin-demo")
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text("Signed in as")).to_be_visible()
            for link, heading in PAGES:
                page.get_by_role("link", name=link).click()
                if heading:
                    expect(page.get_by_role("heading", name=heading)).to_be_visible()
                page.wait_for_timeout(4000)  # charts render after the data arrives
                name = link.lower().replace(" & ", "_").replace(" ", "_")
                page.screenshot(path=str(OUT / f"demo_{name}.png"), full_page=True)
                print("saved", OUT / f"demo_{name}.png")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
