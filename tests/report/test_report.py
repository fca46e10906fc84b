"""The evaluation report built from the demo warehouse: pages, charts' data = marts, exports, offline."""

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

from grassroots.report import ReportError, build_report
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


def test_mismatch_charts_equal_the_marts(demo_warehouse, warehouse_con):
    con = warehouse_con
    month = f"{PERIOD}-01"
    index = embedded_data((demo_warehouse.site / "index.html").read_text(encoding="utf-8"))
    assert chart_rows(index["dissimilarity"], ["county_code", "d_resident", "d_registered"]) == rows_of(
        con,
        "select county_code, d_resident, d_registered from marts.mart_staffing_mismatch_county "
        "where month = ?::date order by county_code",
        month,
    )
    county = embedded_data((demo_warehouse.site / f"county-{COUNTY}.html").read_text(encoding="utf-8"))
    expected = rows_of(
        con,
        "select unit_code, staff_share, resident_share, registered_share from marts.mart_staffing_mismatch "
        "where month = ?::date and county_code = ? and in_allocation_base",
        month,
        COUNTY,
    )
    got = chart_rows(
        county[f"county-{COUNTY}-shares"], ["unit_code", "staff_share", "resident_share", "registered_share"]
    )
    assert sorted_rows(got) == sorted_rows(expected) and len(got) > 10
    # The plan chart: the 20 largest whole-post changes, ranked; the plan moves whole posts that add up
    # to zero over the county, and its moves add up to posts_to_reallocate.
    changes = chart_rows(county[f"county-{COUNTY}-plan-changes"], ["unit_code", "planned_change_posts"])
    every = rows_of(
        con,
        "select unit_code, planned_change_posts from marts.mart_staffing "
        "where month = ?::date and county_code = ? and planned_change_posts is not null",
        month,
        COUNTY,
    )
    nonzero = sorted((r for r in every if r[1] != 0), key=lambda r: (-abs(r[1]), r[0]))
    assert sorted_rows(changes) == sorted_rows(nonzero[:20]) and len(changes) > 0
    assert len(every) > len(changes), "the chart shows the largest moves, the table every unit"
    assert [r[1] for r in changes] == sorted((r[1] for r in changes), reverse=True), "ranked"
    assert all(float(v).is_integer() for _, v in every), "whole posts"
    assert sum(v for _, v in every) == 0, "the county total is unchanged"
    (posts,) = con.execute(
        "select posts_to_reallocate from marts.mart_staffing_mismatch_county "
        "where month = ?::date and county_code = ?",
        [month, COUNTY],
    ).fetchone()
    assert sum(v for _, v in every if v > 0) == posts


def test_workload_charts_equal_the_marts(demo_warehouse, warehouse_con):
    con = warehouse_con
    month = f"{PERIOD}-01"
    county = embedded_data((demo_warehouse.site / f"county-{COUNTY}.html").read_text(encoding="utf-8"))
    got = chart_rows(
        county[f"county-{COUNTY}-workload"], ["unit_code", "staff_per_10k_residents", "cases_per_fte"]
    )
    assert sorted_rows(got) == sorted_rows(
        rows_of(
            con,
            "select w.unit_code, m.staff_per_10k_residents, w.cases_per_fte from marts.mart_workload w "
            "join marts.mart_staffing_mismatch m using (unit_code, month) "
            "where w.month = ?::date and w.county_code = ?",
            month,
            COUNTY,
        )
    )
    rates = chart_rows(
        county[f"county-{COUNTY}-rates"],
        ["unit_code", "response_rate", "resolution_rate", "satisfaction_rate"],
    )
    assert sorted_rows(rates) == sorted_rows(
        rows_of(
            con,
            "select unit_code, response_rate, resolution_rate, satisfaction_rate from marts.mart_workload "
            "where month = ?::date and county_code = ? and cases_received > 0",
            month,
            COUNTY,
        )
    )
    towns = chart_rows(
        county[f"county-{COUNTY}-township-rates"],
        ["township_code", "response_rate", "resolution_rate", "satisfaction_rate"],
    )
    # ranked: same rows and same order as the township mart sorted by the three rates
    assert towns == rows_of(
        con,
        "select township_code, response_rate, resolution_rate, satisfaction_rate "
        "from marts.mart_workload_township where month = ?::date and county_code = ? and cases_received > 0 "
        "order by response_rate desc nulls last, resolution_rate desc nulls last, "
        "satisfaction_rate desc nulls last, township_code",
        month,
        COUNTY,
    )
    assert len(towns) >= 2
    backlog = chart_rows(county[f"county-{COUNTY}-backlog"], ["month", "backlog_month_end"])
    assert backlog == rows_of(
        con,
        "select strftime(month, '%Y-%m'), backlog_month_end from marts.mart_workload_county "
        "where county_code = ? and month <= ?::date order by month",
        COUNTY,
        month,
    )
    assert [r[0] for r in backlog] == [FIRST_PERIOD, PERIOD]


def test_scorecard_charts_equal_the_marts(demo_warehouse, warehouse_con):
    con = warehouse_con
    month = f"{PERIOD}-01"
    score = embedded_data((demo_warehouse.site / "scorecard.html").read_text(encoding="utf-8"))
    got = chart_rows(score["scores-composite"], ["unit_code", "scoring_peer_group", "composite_score"])
    assert sorted_rows(got) == sorted_rows(
        rows_of(
            con,
            "select unit_code, scoring_peer_group, composite_score from marts.mart_scorecard "
            "where month = ?::date and composite_score is not null",
            month,
        )
    )
    movers = chart_rows(score["movers"], ["unit_code", "composite_score_change"])
    expected = rows_of(
        con,
        "(select unit_code, composite_score_change from marts.mart_scorecard where month = ?::date "
        " and composite_score_change > 0 order by composite_score_change desc, unit_code limit 10) "
        "union all (select unit_code, composite_score_change from marts.mart_scorecard where month = ?::date "
        " and composite_score_change < 0 order by composite_score_change asc, unit_code limit 10)",
        month,
        month,
    )
    assert sorted_rows(movers) == sorted_rows(expected) and movers
    township = next(demo_warehouse.site.glob("township-350206001000.html"))
    trend = embedded_data(township.read_text(encoding="utf-8"))["township-350206001000-trend"]
    assert sorted_rows(chart_rows(trend, ["unit_code", "month", "composite_score"])) == sorted_rows(
        rows_of(
            con,
            "select s.unit_code, strftime(s.month, '%Y-%m'), s.composite_score from marts.mart_scorecard s "
            "join marts.dim_unit d using (unit_code) "
            "where d.township_code = '350206001000' and s.month <= ?::date",
            month,
        )
    )


def test_every_chart_rows_are_its_sql_rerun(demo_warehouse, warehouse_con):
    """Whatever the chart, its embedded rows are exactly what its embedded SQL returns now."""
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


def test_reallocation_plan_table_and_export(demo_warehouse, warehouse_con):
    csv_path = demo_warehouse.site / "exports" / f"county-{COUNTY}-plan.csv"
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    expected = warehouse_con.execute(
        "select count(*) from marts.mart_reallocation_plan where county_code = ? and month = ?::date",
        [COUNTY, f"{PERIOD}-01"],
    ).fetchone()[0]
    assert len(rows) - 1 == expected > 0
    assert rows[0][0].startswith("序号")
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
    one a single process renders: every page and export exactly once, nothing else."""

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
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
    each peer group's min, P10, P25, median, P75, P90 and max (checked here against Python's own)."""
    import statistics

    monkeypatch.setattr("grassroots.report.STRIP_MAX_UNITS", 3)
    index = build_report(PERIOD, warehouse=demo_warehouse.path, out_dir=tmp_path / "site")
    html = (index.parent / "scorecard.html").read_text(encoding="utf-8")
    assert "Too many units" in html
    data = embedded_data(html)["scores-composite"]
    columns = ["scoring_peer_group", "quantile_key", "composite_score"]
    got = {tuple(r[:2]): r[2] for r in chart_rows(data, columns)}
    scores: dict[str, list[float]] = {}
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as con:
        rows = con.execute(
            "select scoring_peer_group, composite_score from marts.mart_scorecard "
            "where month = ?::date and composite_score is not null",
            [f"{PERIOD}-01"],
        ).fetchall()
    for group, score in rows:
        scores.setdefault(group, []).append(score)
    assert {g for g, _ in got} == set(scores) and len(got) == 7 * len(scores)
    for group, values in scores.items():
        assert got[(group, f"{group}:min")] == pytest.approx(min(values))
        assert got[(group, f"{group}:median")] == pytest.approx(statistics.median(values))
        assert got[(group, f"{group}:max")] == pytest.approx(max(values))
    marks = svgs(html)["scores-composite"].findall(f".//{SVG_NS}rect[@class='mark']")
    assert len(marks) == len(got)
