"""The HTML report in a real headless browser (Debian's chromium and chromium-driver, driven
by Selenium at those paths: nothing downloads a browser or a driver). Filtering, sorting
and paging work, and text from AWS holding a script or an onerror handler stays text.

Skips when chromium is not installed, unless MPSCAN_REQUIRE_BROWSER=1 (set by .ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.report_support import IMG, SCRIPT, hostile_registry, write_config

CHROMIUM = os.environ.get("MPSCAN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MPSCAN_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
# axe-core (npm: `npm install --prefix .ci/node axe-core@4.14.1`, as .ci/run does)
AXE = Path(
    os.environ.get(
        "MPSCAN_TEST_AXE",
        Path(__file__).resolve().parents[1] / ".ci/node/node_modules/axe-core/axe.min.js",
    )
)


def _require_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        reason = f"no headless browser: {', '.join(missing)} missing (apt-get install chromium "
        reason += "chromium-driver; pip install -e '.[test]')"
        if os.environ.get("MPSCAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (MPSCAN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


@pytest.fixture
def browser(tmp_path, monkeypatch):
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common import selenium_manager

    def no_download(*args, **kwargs):  # explicit paths: Selenium Manager must never run
        raise AssertionError("Selenium Manager was asked to find or download a browser")

    monkeypatch.setenv("SE_OFFLINE", "1")
    monkeypatch.setattr(selenium_manager.SeleniumManager, "binary_paths", no_download)
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-file-access-from-files",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _cells(driver, column: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#findings-body tr'))"
        ".map(tr => tr.children[arguments[0]].textContent)",
        column,
    )


def natural(text: str) -> list:
    """Versions as numbers: what a person sorting ARNs expects (/2 before /10)."""
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", text)]


def _info(driver) -> tuple[str, str]:
    return (
        driver.find_element("id", "page-info").text,
        driver.find_element("id", "match-count").text,
    )


def test_html_report_in_a_headless_browser(standin, sm, mpscan, browser):
    from selenium.webdriver.support.ui import Select

    write_config()
    hostile_registry(sm, plain_packages=40)  # 42 packages: several pages of findings
    db = "sqlite:///browser.db"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    result = mpscan("report", "--db", db, "--output", "report.html")
    assert result.exit_code == 0, result.stderr
    page = Path("report.html").resolve()

    browser.get(page.as_uri())
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    # No element was made from the hostile text: no <img>, only the report's own scripts.
    assert browser.execute_script("return document.images.length") == 0
    assert browser.execute_script("return document.scripts.length") == 5  # 4 JSON blocks, 1 script
    logs = browser.get_log("browser") if hasattr(browser, "get_log") else []
    assert not [entry for entry in logs if entry.get("level") == "SEVERE"], logs

    total = int(browser.find_element("id", "count-total").text)
    assert total > 100
    pages = -(-total // 100)
    assert _info(browser) == (f"Page 1 of {pages}", f"{total} of {total} findings")
    assert len(_cells(browser, 0)) == 100  # one page drawn, not every row

    # Paging.
    first_page = _cells(browser, 3)
    browser.find_element("id", "page-next").click()
    assert _info(browser)[0] == f"Page 2 of {pages}"
    assert _cells(browser, 3) != first_page
    browser.find_element("id", "page-prev").click()
    assert _cells(browser, 3) == first_page

    # Filter by severity: fewer rows, all of that severity.
    Select(browser.find_element("id", "filter-severity")).select_by_visible_text("high")
    high = _cells(browser, 0)
    shown = int(_info(browser)[1].split(" of ")[0])
    assert 0 < shown < total and set(high) == {"high"}
    Select(browser.find_element("id", "filter-severity")).select_by_visible_text("all")
    assert _info(browser)[1] == f"{total} of {total} findings"

    # Sort by a column: ascending, then descending on a second click.
    header = browser.find_element("css selector", "th[data-key=resource_arn] button")
    header.click()
    arns = _cells(browser, 3)
    assert arns == sorted(arns, key=natural) and arns != first_page  # .../2 before .../10
    header.click()
    down = _cells(browser, 3)
    assert down == sorted(down, key=natural, reverse=True) and natural(down[0]) > natural(arns[0])

    # The hostile text is shown as text, found by the search box.
    search = browser.find_element("id", "filter-text")
    search.send_keys("__pwned")
    browser.implicitly_wait(0)
    for _ in range(50):
        if int(_info(browser)[1].split(" of ")[0]) == 2:
            break
        browser.execute_script("return new Promise(r => setTimeout(r, 50))")
    messages = _cells(browser, 7)
    assert sorted(messages) == sorted([SCRIPT, "team tag: " + IMG])
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.images.length") == 0

    # Nothing was fetched: the page made no request besides itself.
    requests = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert requests == []
    assert shutil.which("chromium") or Path(CHROMIUM).exists()


def _overflow(driver) -> int:
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_report_layout_trend_and_no_script_reading(standin, sm, mpscan, browser, tmp_path):
    write_config()
    registry = hostile_registry(sm, plain_packages=12)
    db = "sqlite:///layout.db"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    sm["us-east-1"].delete_model_package(ModelPackageName=registry["plain"][0])
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    assert mpscan("report", "--db", db, "--output", "report.html").exit_code == 0
    page = Path("report.html").resolve().as_uri()

    for width, height in ((1366, 900), (390, 844)):  # a laptop, a phone
        browser.set_window_size(width, height)
        browser.get(page)
        shot = tmp_path / f"report-{width}.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        wide = browser.execute_script(
            "const w = document.documentElement.clientWidth; return Array.from("
            "document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right"
            " > w + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
        )
        assert _overflow(browser) <= 0, f"scrolls sideways at {width} px: {wide}"
        logs = browser.get_log("browser")
        assert not [e for e in logs if e.get("level") == "SEVERE"], logs
    summary = browser.find_element("id", "executive-summary").text
    assert summary.startswith("Scan 2 (complete) covered 1 account and 1 region")
    assert "findings are open" in summary and "The worst rule is" in summary
    lines = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trend-chart polyline'))"
        ".map(p => p.getAttribute('class'))"
    )
    assert lines == [f"trend-{s}" for s in ("critical", "high", "medium", "low", "info")]
    open_tile = int(browser.find_element("id", "count-open").text)
    passes = int(browser.find_element("id", "count-pass").text)
    total = int(browser.find_element("id", "count-total").text)
    assert 0 < open_tile < total and passes > 0  # the open tile counts no passes
    # An ARN wraps at its separators only: each piece is whole.
    arn = browser.find_element("css selector", "#findings-body td.arn")
    assert arn.get_attribute("innerHTML").count("<wbr>") >= 5
    stamp = browser.find_element("css selector", "#findings-body td.when").text
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", stamp), stamp

    # The registry view: each group with its versions, newest first, and their findings.
    groups = browser.find_elements("css selector", "#registry details.group")
    plain = next(
        g for g in groups if g.find_element("tag name", "summary").text.startswith("plain")
    )
    assert "11 versions, latest approved none" in plain.text
    plain.find_element("tag name", "summary").click()
    versions = plain.find_elements("css selector", "tbody tr")
    numbers = [int(v.find_element("css selector", "td").text) for v in versions]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 11
    assert "high" in versions[0].text  # MP-001: no KMS key
    assert _overflow(browser) <= 0  # opened, at 390 px

    # The resource view: an ARN in the findings table opens that package, its findings and
    # its changes.
    browser.set_window_size(1366, 900)
    browser.get(page)
    link = browser.find_element("css selector", "#findings-body td.arn a")
    arn = link.text.replace("\n", "")
    link.click()
    view = browser.find_element("id", "resource-view")
    assert view.is_displayed()
    assert browser.find_element("id", "resource-arn").text == arn
    fields = browser.find_element("id", "resource-fields").text
    assert "Account\n123456789012" in fields and "Region\nus-east-1" in fields
    found = browser.find_elements("css selector", "#resource-findings tbody tr")
    assert len(found) >= 2  # MP-001 and the others that fail on this package
    changes = browser.find_elements("css selector", "#resource-history tbody tr")
    assert changes and "added" in changes[-1].text and "scan 1" in changes[-1].text
    browser.find_element("link text", "Back to the findings").click()
    assert not view.is_displayed()

    # Without JavaScript the first page of findings is in the page itself.
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.get(page)
    rows = browser.find_elements("css selector", "#findings-body tr")
    assert 0 < len(rows) <= 100
    assert rows[0].find_element("css selector", "td").text in ("critical", "high", "medium")


def test_an_endpoint_finding_opens_the_endpoint_and_its_console_page(standin, sm, mpscan, browser):
    """What is in production has a resource view too: an endpoint's DEP-001 opens that
    endpoint (its type, status and history), with a link to its page in the AWS console."""
    from tests.support import make_group
    from tests.support_serving import make_endpoint, make_model

    write_config()
    client = sm["us-east-1"]
    [version] = make_group(client, "churn", 1, ModelApprovalStatus="Rejected")
    make_model(client, "churn-v1", version)
    live = make_endpoint(client, "Live", ("main", "churn-v1", 1.0))
    db = "sqlite:///endpoint.db"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    assert mpscan("report", "--db", db, "--output", "report.html").exit_code == 0
    browser.get(Path("report.html").resolve().as_uri())
    row = next(
        r for r in browser.find_elements("css selector", "#findings-body tr") if "DEP-001" in r.text
    )
    row.find_element("css selector", "td.arn a").click()
    assert browser.find_element("id", "resource-arn").text == live
    assert browser.find_element("id", "resource-title").text == "Endpoint Live"
    fields = browser.find_element("id", "resource-fields").text
    assert "Type\nendpoint" in fields and "Status\nInService" in fields
    link = browser.find_element("css selector", "#resource-console a")
    assert link.is_displayed() and link.get_attribute("target") == "_blank"
    assert link.get_attribute("href") == (
        "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/endpoints/Live"
    )  # the endpoint's own name: its ARN spells it in lower case
    changes = browser.find_elements("css selector", "#resource-history tbody tr")
    assert changes and "added" in changes[-1].text
    # A package's view has no console page: the registry's pages are SageMaker Studio's.
    browser.get(Path("report.html").resolve().as_uri() + "#resource-" + version)
    assert browser.find_element("id", "resource-title").text == "Model package churn v1"
    assert not browser.find_element("id", "resource-console").is_displayed()


def test_the_report_has_no_accessibility_violation(standin, sm, mpscan, browser):
    """axe-core's rules (WCAG 2 A and AA and best practices), injected into the page."""
    if not AXE.exists():
        reason = f"axe-core not installed at {AXE} (npm install --prefix .ci/node axe-core)"
        if os.environ.get("MPSCAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (MPSCAN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    write_config()
    hostile_registry(sm, plain_packages=5)
    db = "sqlite:///axe.db"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    assert mpscan("report", "--db", db, "--output", "report.html").exit_code == 0
    for width in (1366, 390):
        browser.set_window_size(width, 900)
        browser.get(Path("report.html").resolve().as_uri())
        browser.execute_script(AXE.read_text())
        violations = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations"
            ".map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].target])))"
        )
        assert violations == [], f"at {width} px: {violations}"
