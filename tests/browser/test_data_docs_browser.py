"""The built Data Docs render fully styled in a headless Chromium with no network.

The site is served from 127.0.0.1 by a throwaway http.server (file:// would block the Font Awesome
web fonts: Chromium treats file:// pages as opaque origins for fonts). The page is driven through
the DevTools pipe (cdp.py): the test proves that every stylesheet loaded and applied (computed
styles), the icon font and the JavaScript libraries loaded, the index table was rendered by
bootstrap-table with the suite names, and that no request went anywhere but 127.0.0.1.
Screenshots go to test-artifacts/ at the repository root.

Chromium missing is a failure, not a skip: CI installs it (`apt-get install -y chromium`).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pandas as pd
import pytest
from cdp import INSTALL_HINT, Browser, find_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CODES = [f"1101050010{i:02d}" for i in range(1, 21)]

pytestmark = pytest.mark.browser


def _case_log(n: int = 20) -> pd.DataFrame:
    reported = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(range(n), unit="min")
    return pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n)],
            "unit_code": [CODES[i % len(CODES)] for i in range(n)],
            "channel": ["hotline_12345", "grid_patrol"] * (n // 2),
            "category": ["utilities"] * n,
            "reported_at": reported,
            "closed_at": reported + pd.Timedelta("3h"),
            "status": ["closed"] * n,
            "escalated_to_level": ["none"] * n,
            "updated_at": reported + pd.Timedelta("4h"),
        }
    ).convert_dtypes(dtype_backend="pyarrow")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A Data Docs site with one passing and one blocked delivery, built like a DAG run does."""
    tmp = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_GX_DIR", str(tmp / "gx"))
        mp.setenv("GRASSROOTS_REPORTS_DIR", str(tmp / "reports"))
        from grassroots import data_docs, validation

        context = validation.get_context()
        for name, frame in (
            ("case_log_good.csv", _case_log()),
            ("case_log_broken.csv", _case_log().assign(channel="fax")),
        ):
            validation.validate_delivery(
                "case_log",
                frame,
                valid_unit_codes=frozenset(CODES),
                file_name=name,
                delivery_date="2024-03-05",
                run_id="browser-test",
                context=context,
            )
        index = data_docs.build("browser-test", context=context)
    return index.parent


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_chromium()
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    b = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.open_page()
        yield b
    finally:
        b.close()


STYLE_PROBE = """
(async () => {
  const links = Array.from(document.querySelectorAll('link[rel="stylesheet"]'));
  const sheets = links.map(l => {
    let rules = -1;
    try { rules = l.sheet ? l.sheet.cssRules.length : -1; } catch (e) { rules = -2; }
    return {href: l.href, rules};
  });
  const nav = document.querySelector('nav.navbar');
  const faces = await document.fonts.load('900 16px "Font Awesome 6 Free"');
  const logo = document.querySelector('.navbar-brand img');
  return {
    sheets,
    navbarPosition: nav ? getComputedStyle(nav).position : null,
    navbarDisplay: nav ? getComputedStyle(nav).display : null,
    fontAwesomeFaces: faces.length,
    jquery: typeof window.jQuery,
    bootstrapTable: window.jQuery ? typeof window.jQuery.fn.bootstrapTable : 'none',
    bootstrapModal: window.jQuery ? typeof window.jQuery.fn.modal : 'none',
    datepicker: window.jQuery ? typeof window.jQuery.fn.datepicker : 'none',
    popper: typeof window.Popper,
    vegaEmbed: typeof window.vegaEmbed,
    logoWidth: logo ? logo.naturalWidth : -1,
    text: document.body.innerText,
    dom: document.body.textContent,
  };
})()
"""


def _assert_styled(browser: Browser, url: str, server: str, screenshot: str) -> dict:
    mark = len(browser.events)
    browser.navigate(url)
    # bootstrap-table builds the index table from data after load
    browser.wait_until("document.querySelectorAll('table tbody tr').length > 0")
    browser.pump(0.5)
    probe = browser.evaluate(STYLE_PROBE)
    shot = browser.screenshot(ARTIFACTS / screenshot)
    assert shot.stat().st_size > 10_000

    assert probe["sheets"], "no stylesheets on the page"
    unloaded = [s for s in probe["sheets"] if s["rules"] <= 0]
    assert not unloaded, f"stylesheets not applied: {unloaded}"
    assert all(s["href"].startswith(server) for s in probe["sheets"]), probe["sheets"]
    # Bootstrap's .navbar is display:flex and .sticky-top position:sticky; unstyled: block/static.
    assert probe["navbarDisplay"] == "flex" and probe["navbarPosition"] == "sticky", probe
    assert probe["fontAwesomeFaces"] >= 1, "Font Awesome web font did not load"
    for lib in ("jquery", "bootstrapTable", "bootstrapModal", "datepicker", "popper", "vegaEmbed"):
        assert probe[lib] == "function", f"{lib} not loaded: {probe[lib]}"
    assert probe["logoWidth"] > 0, "the logo did not load from the local site"

    events = browser.events[mark:]
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    remote = [u for u in requests if not u.startswith((server, "data:", "about:"))]
    assert not remote, f"the page tried to reach the network: {remote}"
    browser_failures = browser.failures()
    assert not browser_failures, f"failed requests: {browser_failures}"
    return probe


def test_index_renders_styled_offline(site, server, browser):
    probe = _assert_styled(browser, f"{server}/index.html", server, "data_docs_index.png")
    # Visible: the validation results table bootstrap-table rendered, with suite and run.
    assert "case_log" in probe["text"] and "browser-test" in probe["text"]
    assert "case_log_broken.csv" in probe["text"]
    # Every suite as code is listed (on the "Expectation Suites" tab).
    for suite in ("case_log", "staff_roster", "household_registration", "resident_population", "marts"):
        assert f"{suite}" in probe["dom"], f"suite {suite} not on the index page"
    info = json.loads((site / "BUILD_INFO.json").read_text())
    assert info["run_id"] == "browser-test"


def test_validation_page_renders_styled_offline(site, server, browser):
    pages = sorted((site / "validations").rglob("*case_log_broken*.html"))
    assert pages, "no validation page for the blocked delivery"
    rel = pages[0].relative_to(site).as_posix()
    probe = _assert_styled(browser, f"{server}/{rel}", server, "data_docs_validation.png")
    text = probe["text"]
    assert "case_log" in text and "channel" in text
    assert "fax" in text  # the unexpected value, shown to auditors
