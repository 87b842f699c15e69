"""Benchmark: an HTML report of about 100,000 findings in a real browser: time to open it
(navigation start to the findings table drawn) and to filter it (a severity, then a
search), in Debian's headless chromium driven by Selenium (nothing downloaded). Target
(issue "Reports people read"): opens and filters in <= 3 s.

The report comes from `report_scale.py --keep` (SQLite, html), or give one with --report.

    .venv/bin/python benchmarks/report_browser.py                  # makes the report first
    .venv/bin/python benchmarks/report_browser.py --report /tmp/reports/sqlite.html

Not a test; nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MPSCAN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MPSCAN_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def _report(folder: Path, findings: int) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "report_scale.py"), "--backends", "sqlite",
         "--formats", "html", "--findings", str(findings), "--keep", str(folder)],
        check=True,
    )  # fmt: skip
    return next(folder.glob("*.html"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path)
    parser.add_argument("--findings", type=int, default=100_000)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import Select

    with tempfile.TemporaryDirectory() as tmp:
        page = args.report or _report(Path(tmp), args.findings)
        options = Options()
        options.binary_location = CHROMIUM
        profile = f"--user-data-dir={Path(tmp) / 'profile'}"
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    profile, "--window-size=1366,900"):  # fmt: skip
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.set_page_load_timeout(120)
            started = time.perf_counter()
            driver.get(page.resolve().as_uri())
            opened = time.perf_counter() - started
            rows = driver.execute_script("return window.mpscanFindings.rows.length")
            nav = driver.execute_script(
                "const t = performance.getEntriesByType('navigation')[0];"
                "return [t.domContentLoadedEventEnd, t.loadEventEnd]"
            )
            started = time.perf_counter()
            Select(driver.find_element("id", "filter-severity")).select_by_visible_text("high")
            shown = driver.find_element("id", "match-count").text
            by_severity = time.perf_counter() - started
            box = driver.find_element("id", "filter-text")
            started = time.perf_counter()
            box.send_keys("no-such-text")  # every row looked at, none kept
            deadline = time.monotonic() + 30
            while driver.find_element("id", "match-count").text == shown:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            searched = time.perf_counter() - started - 0.15  # the box waits 150 ms for typing
        finally:
            driver.quit()
        size = page.stat().st_size / 1e6
    print(
        f"{rows:,} findings, {size:.1f} MB: opened in {opened:.2f} s (DOMContentLoaded "
        f"{nav[0] / 1000:.2f} s, load {nav[1] / 1000:.2f} s), filtered by severity in "
        f"{by_severity:.2f} s, searched in {max(searched, 0):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
