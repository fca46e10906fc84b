"""The report renders in a headless Chromium with no network: charts drawn with a size, CSS applied,
every request a local file, nothing failed. Screenshots go to test-artifacts/report/.

Chromium is driven over the DevTools pipe (tests/browser/cdp.py). Chromium or a CJK font missing is a
failure, not a skip: CI installs both (`apt-get install -y chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from report_demo import COUNTY

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from cdp import INSTALL_HINT, Browser, find_chromium  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts" / "report"

pytestmark = pytest.mark.browser

MEASURE = """
(() => {
  const charts = [...document.querySelectorAll("svg.chart")].map((svg) => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll(".mark")];
    const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
    return {
      id: svg.dataset.chart, width: box.width, height: box.height,
      measured: svg.getAttribute("data-rendered-width"), marks: marks.length, drawn: drawn.length,
    };
  });
  return {
    loaded: document.documentElement.getAttribute("data-report-loaded"),
    header: getComputedStyle(document.querySelector("header.top")).backgroundColor,
    stylesheets: document.styleSheets.length,
    charts,
  };
})()
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_chromium()
    if binary is None:
        pytest.fail(INSTALL_HINT)
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
        if not fonts.strip():
            pytest.fail(
                "No CJK font is installed, so the report's Chinese labels would render as boxes: "
                "`apt-get install -y fonts-noto-cjk` (the Makefile and CI do this)."
            )
    b = Browser(binary, tmp_path_factory.mktemp("chromium-profile"), width=1280, height=900)
    try:
        b.open_page()
        yield b
    finally:
        b.close()


def _full_page_screenshot(b: Browser, path: Path) -> Path:
    metrics = b.send("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}
    data = b.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data["data"]))
    return path


@pytest.mark.parametrize(
    ("page", "shot", "charts"),
    [
        ("index.html", "overview.png", {"dissimilarity"}),
        (
            f"county-{COUNTY}.html",
            f"county-{COUNTY}.png",
            {f"county-{COUNTY}-{c}" for c in ("shares", "plan-changes", "workload", "rates", "backlog")},
        ),
        ("scorecard.html", "scorecard.png", {"scores-composite", "movers"}),
    ],
)
def test_page_renders_offline(browser, demo_warehouse, page, shot, charts):
    mark = len(browser.events)
    url = (demo_warehouse.site / page).as_uri()
    browser.navigate(url)
    assert browser.wait_until("document.documentElement.getAttribute('data-report-loaded') !== null"), (
        "the page's load handler never ran"
    )
    result = browser.evaluate(MEASURE)
    png = _full_page_screenshot(browser, ARTIFACTS / shot)
    assert png.stat().st_size > 10_000

    assert result["header"] == "rgb(31, 95, 159)", "static/report.css was not applied"
    assert result["stylesheets"] == 1
    drawn = {c["id"]: c for c in result["charts"]}
    assert int(result["loaded"]) == len(drawn)
    assert charts <= set(drawn), f"missing charts: {charts - set(drawn)}"
    for cid, c in drawn.items():
        assert c["width"] > 100 and c["height"] > 50, f"{cid} has no size: {json.dumps(c)}"
        assert c["measured"] is not None
        assert c["marks"] > 0 and c["drawn"] == c["marks"], f"{cid}: marks not drawn: {json.dumps(c)}"

    events = browser.events[mark:]
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert requests, "no requests recorded"
    assert all(u.startswith("file://") for u in requests), f"left the machine: {requests}"
    failed = [e for e in events if e["method"] == "Network.loadingFailed"]
    assert not failed, f"failed to load: {failed}"
