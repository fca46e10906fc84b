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


PEER_GROUPS = """
(() => {
  const rgb = (c) => c;  // computed colours come back as rgb(r, g, b)
  const marks = [...document.querySelectorAll("svg.chart .mark[data-group]")].map((m) => ({
    group: m.dataset.group, fill: rgb(getComputedStyle(m).fill),
    title: (m.querySelector("title") || {}).textContent || "",
  }));
  const labels = [...document.querySelectorAll("svg.chart g.group")].map((g) => ({
    group: g.dataset.group, text: [...g.querySelectorAll("text")].map((t) => t.textContent).join(" "),
    box: g.getBBox().width,
  }));
  const cells = [...document.querySelectorAll("td[data-peer-group]")].map((td) => ({
    group: td.dataset.peerGroup, text: td.textContent,
    swatch: getComputedStyle(td.querySelector(".swatch")).backgroundColor,
  }));
  const levels = [...document.querySelectorAll("th[data-column='unit_level']")].length;
  const method = [...document.querySelectorAll("a[href='methodology.html']")]
    .filter((a) => a.getBoundingClientRect().width > 0).length;
  const audit = document.querySelectorAll("nav a[href='audit.html']").length;
  const rawCodes = [...document.querySelectorAll("td")]
    .filter((td) => /^(village|township)(\\/|$)/.test(td.textContent.trim())).length;
  return {marks, labels, cells, levels, method, audit, rawCodes, text: document.body.innerText};
})()
"""


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.parametrize("page", [f"county-{COUNTY}.html", "scorecard.html"])
def test_peer_groups_named_in_chinese_with_fixed_colours_and_methodology_link(browser, demo_warehouse, page):
    from grassroots.report import labels, svg

    browser.navigate((demo_warehouse.site / page).as_uri())
    assert browser.wait_until("document.documentElement.getAttribute('data-report-loaded') !== null")
    got = browser.evaluate(PEER_GROUPS)
    _full_page_screenshot(browser, ARTIFACTS / f"peer-groups-{page.removesuffix('.html')}.png")
    assert got["method"] >= 1, "no visible link to the methodology page"
    assert got["audit"] == 1, "the audit page is not in the navigation"
    assert got["rawCodes"] == 0, "a table cell shows a raw peer-group or level code"
    if page == "scorecard.html":
        assert got["marks"] and got["labels"] and got["cells"]
        for m in got["marks"]:
            assert m["fill"] == _rgb(svg.peer_group_colour(m["group"])), m
            assert labels.peer_group_name(m["group"]) in m["title"], m
        for g in got["labels"]:
            zh = labels.peer_group_name(g["group"]).split(" ")[0]
            assert zh in g["text"] and g["box"] > 0, g
        for c in got["cells"]:
            assert c["swatch"] == _rgb(svg.peer_group_colour(c["group"])), c
            assert labels.peer_group_name(c["group"]) in c["text"], c
        assert "村" in got["text"] or "社区" in got["text"] or "街道" in got["text"]
    else:
        assert got["levels"] >= 1, "the county page has no level column"
        assert "村(社区) Village/community" in got["text"]
