"""The evaluation report built from the demo warehouse: pages, charts drawn and re-runnable, exports."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from report_demo import COUNTY, FIRST_PERIOD, PERIOD

from grassroots.report import ReportError, build_report, labels
from grassroots.report.__main__ import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
SVG_NS = "{http://www.w3.org/2000/svg}"


# --- helpers -----------------------------------------------------------------------------------


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.refs.append((tag, name, value))


def page_refs(html: str) -> list[tuple[str, str, str]]:
    p = _Refs()
    p.feed(html)
    return p.refs


def embedded_data(html: str) -> dict[str, dict]:
    out = {}
    for m in re.finditer(r'<script type="application/json" id="data-([^"]+)">(.*?)</script>', html, re.S):
        out[m.group(1)] = json.loads(m.group(2))
    return out


def svgs(html: str) -> dict[str, ET.Element]:
    out = {}
    for m in re.finditer(r"<svg .*?</svg>", html, re.S):
        el = ET.fromstring(m.group(0))  # noqa: S314 - our own output
        out[el.get("data-chart")] = el
    return out


def norm(v):
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 9)
    return v


def rows_of(con, sql: str, *params) -> list[list]:
    return [[norm(v) for v in r] for r in con.execute(sql, list(params)).fetchall()]


def chart_rows(data: dict, columns: list[str]) -> list[list]:
    idx = [data["columns"].index(c) for c in columns]
    return [[norm(r[i]) for i in idx] for r in data["rows"]]


def sorted_rows(rows):
    return sorted(rows, key=lambda r: json.dumps(r, default=str))


# --- the site ----------------------------------------------------------------------------------


def test_site_has_every_page(demo_warehouse):
    site = demo_warehouse.site
    names = {p.name for p in site.glob("*.html")}
    assert {"index.html", f"county-{COUNTY}.html", "scorecard.html", "methodology.html"} <= names
    methodology = (site / "methodology.html").read_text(encoding="utf-8")
    # the methodology page is docs/methodology.md: its entries, e.g. the plan total, as HTML headings
    assert "<h3>posts_to_reallocate</h3>" in methodology and "<table>" in methodology
    assert any(n.startswith("township-350206") for n in names)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert PERIOD in index
    assert "湖里区" in index and "厦门市" in index and "福建省" in index
    assert "Data Docs" in index
    assert "not yet available" not in index.lower()  # every mart of this build is present


def test_no_resource_leaves_the_site(demo_warehouse):
    """Every src/href is a relative path to a file of the site (or an in-page anchor): no CDN."""
    site = demo_warehouse.site
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in html
        for tag, attr, ref in page_refs(html):
            if ref.startswith("#"):
                continue
            assert "://" not in ref and not ref.startswith("//"), f"{page.name}: {tag} {attr}={ref}"
            assert (page.parent / ref).resolve().is_file(), f"{page.name}: {ref} does not exist"


def test_svg_charts_are_well_formed_and_draw_every_row(demo_warehouse):
    county = (demo_warehouse.site / f"county-{COUNTY}.html").read_text(encoding="utf-8")
    charts = svgs(county)
    data = embedded_data(county)
    assert set(charts) == set(data), "each chart embeds its data"
    shares = data[f"county-{COUNTY}-shares"]
    marks = charts[f"county-{COUNTY}-shares"].findall(f".//{SVG_NS}circle[@class='mark']")
    # two marks per unit: resident share (●) and registered share (○)
    assert len(marks) == 2 * len(shares["rows"]) > 0
    assert {m.get("data-key") for m in marks} == {r[0] for r in shares["rows"]}
    assert charts[f"county-{COUNTY}-shares"].find(f".//{SVG_NS}line[@class='diagonal']") is not None
    workload = charts[f"county-{COUNTY}-workload"]
    assert workload.find(f".//{SVG_NS}rect[@class='corner']") is not None, "人少事多 corner is shaded"
    assert len(workload.findall(f".//{SVG_NS}line[@class='ref']")) == 2


def test_plan_chart_shows_the_largest_moves_of_the_table(demo_warehouse):
    """The plan chart draws at most the 20 largest whole-post changes of the county's two-questions
    table (every unit, in its export), ranked; the plan moves whole posts and leaves the county total
    unchanged. (The values themselves are checked by hand in test_report_hand_values.py.)"""
    html = (demo_warehouse.site / f"county-{COUNTY}.html").read_text(encoding="utf-8")
    changes = chart_rows(
        embedded_data(html)[f"county-{COUNTY}-plan-changes"], ["unit_code", "planned_change_posts"]
    )
    path = demo_warehouse.site / "exports" / f"county-{COUNTY}-two-questions.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    posts = labels.label("planned_change_posts")
    every = [[r[labels.label("unit_code")], float(r[posts])] for r in rows if r[posts] != ""]
    nonzero = sorted((r for r in every if r[1] != 0), key=lambda r: (-abs(r[1]), r[0]))
    assert len(every) > 20 and len(nonzero) > 0, "the demo county has more units than the chart shows"
    assert sorted_rows(changes) == sorted_rows(nonzero[:20])
    assert [r[1] for r in changes] == sorted((r[1] for r in changes), reverse=True), "ranked"
    assert all(v.is_integer() for _, v in every), "whole posts"
    assert sum(v for _, v in every) == 0, "the county total is unchanged"
    marks = svgs(html)[f"county-{COUNTY}-plan-changes"].findall(f".//{SVG_NS}rect[@class='mark']")
    assert [m.get("data-key") for m in marks] == [r[0] for r in changes]


def test_every_chart_rows_are_its_sql_rerun(demo_warehouse, warehouse_con):
    """Whatever the chart, its embedded rows are exactly what the SQL shown under it returns now
    (the page's promise to a reader; whether the rows are right is test_report_hand_values.py)."""
    checked = 0
    for page in demo_warehouse.site.glob("*.html"):
        for chart, data in embedded_data(page.read_text(encoding="utf-8")).items():
            assert data["rows"] == json.loads(
                json.dumps(
                    [
                        [norm(v) if not isinstance(v, float) else (None if math.isnan(v) else v) for v in r]
                        for r in warehouse_con.execute(data["sql"]).fetchall()
                    ],
                    default=str,
                )
            ), f"{page.name} {chart}"
            checked += 1
    assert checked >= 15


def test_exports_are_linked_and_present(demo_warehouse):
    csv_path = demo_warehouse.site / "exports" / f"county-{COUNTY}-plan.csv"
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) > 1 and rows[0][0].startswith("序号")
    for page in demo_warehouse.site.glob("*.html"):
        for m in re.finditer(r'href="(exports/[^"]+)"', page.read_text(encoding="utf-8")):
            assert (demo_warehouse.site / m.group(1)).is_file()


def test_default_location_period_and_latest(demo_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_REPORTS_DIR", str(tmp_path / "reports"))
    (tmp_path / "reports" / "data_docs").mkdir(parents=True)
    (tmp_path / "reports" / "data_docs" / "index.html").write_text("<html></html>")
    (tmp_path / "reports" / "dbt_docs").mkdir(parents=True)
    (tmp_path / "reports" / "dbt_docs" / "index.html").write_text("<html></html>")
    index = build_report(warehouse=demo_warehouse.path)
    assert index == tmp_path / "reports" / "evaluation" / PERIOD / "index.html"
    assert (tmp_path / "reports" / "evaluation" / "latest" / "index.html").is_file()
    assert 'href="../../data_docs/index.html"' in index.read_text(encoding="utf-8")
    # every page links the methodology page of its site and the dbt docs beside the site
    for page in index.parent.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'href="methodology.html"' in html and 'href="../../dbt_docs/index.html"' in html, page.name
    # an earlier period gets its own directory and leaves latest/ alone
    first = build_report(FIRST_PERIOD, warehouse=demo_warehouse.path)
    assert first.parent.name == FIRST_PERIOD
    assert PERIOD in (tmp_path / "reports" / "evaluation" / "latest" / "index.html").read_text(
        encoding="utf-8"
    )
    assert not list((tmp_path / "reports" / "evaluation").glob(".*")), "no temporary directories left"
    with pytest.raises(ReportError, match="available: 2024-01, 2024-02"):
        build_report("2023-06", warehouse=demo_warehouse.path)
    with pytest.raises(ReportError, match="YYYY-MM"):
        build_report("2024/02", warehouse=demo_warehouse.path)


def test_cli(demo_warehouse, tmp_path, capsys):
    assert (
        cli_main(
            ["--period", FIRST_PERIOD, "--warehouse", str(demo_warehouse.path), "--out", str(tmp_path / "r")]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(tmp_path / "r" / "index.html")
    assert (
        cli_main(
            ["--period", "1999-01", "--warehouse", str(demo_warehouse.path), "--out", str(tmp_path / "x")]
        )
        == 2
    )


def test_missing_optional_marts(demo_warehouse, tmp_path):
    """Without the workload, scorecard and plan marts the report still builds and says so."""
    wh = tmp_path / "partial.duckdb"
    shutil.copy(demo_warehouse.path, wh)
    con = duckdb.connect(str(wh))
    for t in (
        "mart_workload",
        "mart_workload_county",
        "mart_workload_category",
        "mart_workload_township",
        "mart_scorecard",
        "mart_scorecard_indicators",
        "mart_reallocation_plan",
    ):
        con.execute(f"drop table if exists marts.{t} cascade")
    con.close()
    index = build_report(PERIOD, warehouse=wh, out_dir=tmp_path / "site")
    county = (index.parent / f"county-{COUNTY}.html").read_text(encoding="utf-8")
    assert "Not yet available" in county and "mart_workload" in county
    assert "largest deltas" in county  # plan falls back to mart_staffing_mismatch
    assert not (index.parent / "scorecard.html").exists()
    assert "Not yet available" in index.read_text(encoding="utf-8")


def test_queries_folder_runs_against_the_marts(warehouse_con):
    files = sorted((ROOT / "queries").glob("*.sql"))
    assert len(files) >= 5
    names = [f.name for f in files]
    assert any("dissimilarity" in n and "reallocation" in n for n in names)
    for f in files:
        sql = f.read_text(encoding="utf-8")
        assert sql.lstrip().startswith("--"), f"{f.name} starts with a comment saying what it answers"
        rows = warehouse_con.execute(sql).fetchall()
        assert rows, f"{f.name} returned nothing on the demo warehouse"


def test_navigation_lists_the_counties_of_the_pages_province(demo_warehouse, tmp_path):
    """With several provinces (nationally ~3,000 counties) a page's navigation lists its own
    province's counties only; the overview links every county. One province: every county."""
    wh = tmp_path / "two_provinces.duckdb"
    shutil.copy(demo_warehouse.path, wh)
    other = "990206000000"
    con = duckdb.connect(str(wh))
    con.execute(
        "insert into marts.mart_staffing_mismatch_county select * replace (? as county_code) "
        "from marts.mart_staffing_mismatch_county where county_code = ?",
        [other, COUNTY],
    )
    con.execute(
        "insert into marts.dim_unit select * replace (? as unit_code, ? as county_code, "
        "'其他县' as county_name, '其他省' as province_name) from marts.dim_unit where unit_code = ?",
        [other, other, COUNTY],
    )
    con.close()
    index = build_report(PERIOD, warehouse=wh, out_dir=tmp_path / "site")
    site = index.parent

    def nav(page: str) -> set[str]:
        html = (site / page).read_text(encoding="utf-8")
        return set(re.findall(r'href="(county-\d+\.html)"', html.split("</nav>")[0]))

    assert nav(f"county-{COUNTY}.html") == {f"county-{COUNTY}.html"}
    assert nav(f"county-{other}.html") == {f"county-{other}.html"}
    assert nav("township-350206001000.html") == {f"county-{COUNTY}.html"}
    assert nav("index.html") == set()
    body = index.read_text(encoding="utf-8").split("</nav>")[1]
    assert f'href="county-{other}.html"' in body and f'href="county-{COUNTY}.html"' in body
    demo_nav = (demo_warehouse.site / "township-350206001000.html").read_text(encoding="utf-8")
    assert f'href="county-{COUNTY}.html"' in demo_nav.split("</nav>")[0], "one province: all counties"


def test_parts_render_the_same_site(demo_warehouse, tmp_path, monkeypatch):
    """Rendered by three processes (`GRASSROOTS_REPORT_WORKERS`), the site is byte for byte the
    one a single process renders: every page and export exactly once, nothing else (but the
    overview's generation time, to the minute: the two builds may fall in different minutes)."""
    generated = re.compile(re.escape("<dt>生成时间 Generated</dt><dd>".encode()) + rb"[^<]*")

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): generated.sub(b"", p.read_bytes())
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    monkeypatch.setenv("GRASSROOTS_REPORT_WORKERS", "1")
    one = files(build_report(PERIOD, warehouse=demo_warehouse.path, out_dir=tmp_path / "one").parent)
    monkeypatch.setenv("GRASSROOTS_REPORT_WORKERS", "3")
    three = files(build_report(PERIOD, warehouse=demo_warehouse.path, out_dir=tmp_path / "three").parent)
    assert sorted(three) == sorted(one)
    assert [name for name in one if one[name] != three[name]] == []
    assert sum(name.startswith("township-") for name in one) >= 3  # each part rendered some


def test_a_failed_part_fails_the_build_and_publishes_nothing(demo_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_REPORT_WORKERS", "2")
    # the other part's process fails at once (exit 1), and so does the build
    monkeypatch.setattr("sys.executable", "/bin/false")
    with pytest.raises(ReportError, match="report part 1 of 2 failed"):
        build_report(PERIOD, warehouse=demo_warehouse.path, out_dir=tmp_path / "site")
    assert not (tmp_path / "site").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_report_workers_setting(monkeypatch):
    from grassroots.report import report_workers

    monkeypatch.setenv("GRASSROOTS_REPORT_WORKERS", "0")
    with pytest.raises(ReportError, match="GRASSROOTS_REPORT_WORKERS"):
        report_workers(10)
    monkeypatch.delenv("GRASSROOTS_REPORT_WORKERS")
    assert report_workers(300) == 1  # the demo: one process
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert report_workers(44_000) == 2  # nationally: one per core


def test_scorecard_with_many_units_shows_quantiles(demo_warehouse, tmp_path, monkeypatch):
    """Nationally a tick per unit made a 1 GB scorecard page: above STRIP_MAX_UNITS the strips show
    each peer group's min, P10, P25, median, P75, P90 and max, one tick each, in that order (their
    values are checked against hand-computed quantiles in test_report_hand_values.py)."""
    monkeypatch.setattr("grassroots.report.STRIP_MAX_UNITS", 3)
    index = build_report(PERIOD, warehouse=demo_warehouse.path, out_dir=tmp_path / "site")
    html = (index.parent / "scorecard.html").read_text(encoding="utf-8")
    assert "Too many units" in html
    data = embedded_data(html)["scores-composite"]
    got: dict[str, list] = {}
    for group, key, value in chart_rows(data, ["scoring_peer_group", "quantile_key", "composite_score"]):
        got.setdefault(group, []).append((key, value))
    assert got, "the demo region has a scored peer group"
    for group, ticks in got.items():
        names = ["min", "p10", "p25", "median", "p75", "p90", "max"]
        assert [k for k, _ in ticks] == [f"{group}:{n}" for n in names]
        values = [v for _, v in ticks]
        assert values == sorted(values), group
    marks = svgs(html)["scores-composite"].findall(f".//{SVG_NS}rect[@class='mark']")
    assert len(marks) == 7 * len(got)
