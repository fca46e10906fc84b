"""A report for decisions: peer groups named and coloured the same everywhere, every mark
identifiable, indicator names as headers, and an audit page of the period's deliveries."""

from __future__ import annotations

import csv
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from report_demo import PERIOD

from grassroots.report import labels, svg

ROOT = Path(__file__).resolve().parents[2]
SVG_NS = "{http://www.w3.org/2000/svg}"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _svgs(html: str) -> dict[str, ET.Element]:
    out = {}
    for m in re.finditer(r"<svg .*?</svg>", html, re.S):
        el = ET.fromstring(m.group(0))  # noqa: S314 - our own output
        out[el.get("data-chart")] = el
    return out


def _seed_bands() -> list[dict]:
    with (ROOT / "dbt_project" / "seeds" / "peer_group_bands.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))[1:]


def _int(v) -> int:
    return int(v) if v not in (None, "") else 0


# --- names and colours (no warehouse) --------------------------------------------------------------


def test_peer_group_names_use_the_seed_band_labels():
    bands = _seed_bands()
    assert {(b["unit_level"], b["urban_rural_class"], b["band_code"]): b["band_label_zh"] for b in bands} == (
        labels.BANDS_ZH
    ), "labels.BANDS_ZH must follow dbt_project/seeds/peer_group_bands.csv"
    assert labels.peer_group_name("village/rural_large") == "村·大村 Rural village, large"
    for b in bands:
        code = f"{b['unit_level']}/{b['urban_rural_class']}_{b['band_code']}"
        name = labels.peer_group_name(code)
        zh, _, en = name.partition(" ")
        assert CJK.search(zh) and re.search("[A-Za-z]", en) and code not in name, (code, name)
        if b["band_code"] != "all":
            assert b["band_label_zh"] in zh, (code, name)
    # fallback groups and dim_unit.peer_group (without the level) are named too
    for code in ("village/rural", "village", "township", "rural_medium", "urban_unknown"):
        assert CJK.search(labels.peer_group_name(code)), code
    assert labels.fmt("scoring_peer_group", "village/urban_small") == "社区·小型社区 Urban community, small"
    assert labels.format_column("unit_level", ["village", None]) == ["村(社区) Village/community", "–"]


def test_each_peer_group_has_one_fixed_colour_whatever_the_order():
    codes = [f"{b['unit_level']}/{b['urban_rural_class']}_{b['band_code']}" for b in _seed_bands()]
    colours = [svg.peer_group_colour(c) for c in codes]
    assert len(set(colours)) == len(codes), "every seed peer group has a colour of its own"
    assert len(set(svg.PEER_GROUP_COLOURS.values())) == len(svg.PEER_GROUP_COLOURS)
    assert svg.peer_group_colour("rural_large") == svg.peer_group_colour("village/rural_large")
    rows = [
        {"g": g, "v": 10.0 * i, "k": f"u{i}", "n": f"单位{i}"}
        for i, g in enumerate(["village/rural_large", "township/urban_all", "village/urban_small"])
    ]

    def drawn(rs):
        el = ET.fromstring(  # noqa: S314 - our own output
            svg.strips(
                "t",
                rs,
                group="g",
                value="v",
                key="k",
                label="n",
                title="t",
                xlabel="x",
                group_name=labels.peer_group_name,
                group_colour=svg.peer_group_colour,
            )
        )
        return {
            m.get("data-group"): m.get("fill") for m in el.iter(f"{SVG_NS}rect") if m.get("class") == "mark"
        }

    every = drawn(rows)
    assert every == drawn(rows[::-1]) == {r["g"]: svg.peer_group_colour(r["g"]) for r in rows}
    assert drawn(rows[1:]) == {g: c for g, c in every.items() if g != rows[0]["g"]}, "no shift by order"


# --- the demo site ---------------------------------------------------------------------------------


def test_scorecard_names_peer_groups_and_colours_them_the_same_in_every_chart(demo_warehouse, warehouse_con):
    html = (demo_warehouse.site / "scorecard.html").read_text(encoding="utf-8")
    groups = [
        r[0]
        for r in warehouse_con.execute(
            "select distinct scoring_peer_group from marts.mart_scorecard "
            "where month = ?::date and composite_score is not null",
            [f"{PERIOD}-01"],
        ).fetchall()
    ]
    assert groups
    charts = {k: v for k, v in _svgs(html).items() if k.startswith("scores-")}
    assert len(charts) == 7
    seen: dict[str, set[str]] = {}
    for el in charts.values():
        for g in el.iter(f"{SVG_NS}g"):
            if g.get("class") == "group":
                seen.setdefault(g.get("data-group"), set()).add(g.get("data-colour"))
                texts = "".join(t.text or "" for t in g.iter(f"{SVG_NS}text"))
                assert labels.peer_group_name(g.get("data-group")).replace(" ", "") == texts.replace(" ", "")
        for m in el.iter(f"{SVG_NS}rect"):
            if m.get("class") == "mark":
                assert m.get("fill") == svg.peer_group_colour(m.get("data-group"))
    assert set(seen) == set(groups)
    assert all(colours == {svg.peer_group_colour(g)} for g, colours in seen.items())
    for g in groups:  # the units table shows the name and the same colour
        name = labels.peer_group_name(g)
        assert re.search(
            rf'<td data-peer-group="{re.escape(g)}"><span class="swatch" style="background:'
            rf'{svg.peer_group_colour(g)}"></span>{re.escape(name)}</td>',
            html,
        ), g
    assert not re.search(r"<td>(village|township)/", html), "no raw peer-group code in a table cell"


def test_every_mark_has_a_title_with_its_unit_and_value(demo_warehouse, warehouse_con):
    names = dict(warehouse_con.execute("select unit_code, unit_name from marts.dim_unit").fetchall())
    marks = 0
    for page in demo_warehouse.site.glob("*.html"):
        for chart_id, el in _svgs(page.read_text(encoding="utf-8")).items():
            for m in el.iter():
                if m.get("class") != "mark":
                    continue
                marks += 1
                title = m.find(f"{SVG_NS}title")
                assert title is not None and title.text, f"{page.name} {chart_id}: a mark without <title>"
                assert re.search(r"\d", title.text), f"{page.name} {chart_id}: no value in {title.text!r}"
                unit = (m.get("data-key") or "").split("|")[0]
                if names.get(unit):
                    assert names[unit] in title.text, f"{page.name} {chart_id}: {title.text!r} lacks the name"
    assert marks > 100


def test_township_indicator_headers_are_names(demo_warehouse, warehouse_con):
    code = "350206001000"
    html = (demo_warehouse.site / f"township-{code}.html").read_text(encoding="utf-8")
    indicators = warehouse_con.execute(
        "select distinct i.indicator_code, w.label_zh, w.label_en from marts.mart_scorecard_indicators i "
        "join marts.dim_unit d using (unit_code) join staging.scorecard_weights w using (indicator_code) "
        "where d.township_code = ? and i.month = ?::date",
        [code, f"{PERIOD}-01"],
    ).fetchall()
    assert indicators
    headers = dict(re.findall(r'<th scope="col" data-column="([^"]+)">([^<]*)</th>', html))
    for ind, zh, en in indicators:
        header = headers[f"score:{ind}"]
        assert header == f"{zh} {en}".replace("&", "&amp;"), f"not the seed's names: {header!r}"


def test_audit_page_accounts_for_every_delivery_of_the_period(demo_warehouse, warehouse_con):
    site = demo_warehouse.site
    html = (site / "audit.html").read_text(encoding="utf-8")
    for page in ("index.html", "scorecard.html", "methodology.html"):
        assert 'href="audit.html"' in (site / page).read_text(encoding="utf-8"), page
    assert "Data Docs" in html
    assert '<a href="audit.html">' in (site / "index.html").read_text(encoding="utf-8"), "overview links it"
    bounds = [f"{PERIOD}-01", f"{PERIOD}-01"]
    period = "delivery_date >= ?::date and delivery_date < ?::date + interval 1 month"
    con = warehouse_con
    days = _csv_rows(site / "exports" / "audit-page-deliveries.csv")
    expected = con.execute(
        "select feed, delivery_date::varchar, files, rows_loaded, rows_quarantined "
        f"from audit.delivery_status where {period}",
        bounds,
    ).fetchall()
    header = next(csv.reader((site / "exports" / "audit-page-deliveries.csv").open(encoding="utf-8-sig")))
    i = {h: n for n, h in enumerate(header)}
    cols = [i[labels.label(c)] for c in ("feed", "delivery_date", "files", "rows_loaded", "rows_quarantined")]
    got = sorted((r[cols[0]], r[cols[1]], *(_int(r[c]) for c in cols[2:])) for r in days)
    assert got == sorted((f, d, *(_int(v) for v in vs)) for f, d, *vs in expected)
    q_rows = _csv_rows(site / "exports" / "audit-page-quarantine.csv")
    (quarantined,) = con.execute(f"select count(*) from audit.quarantine where {period}", bounds).fetchone()
    q_header = next(csv.reader((site / "exports" / "audit-page-quarantine.csv").open(encoding="utf-8-sig")))
    col = q_header.index(labels.label("rows_quarantined"))
    assert sum(_int(r[col]) for r in q_rows) == quarantined
    assert sum(_int(r[cols[4]]) for r in days) == quarantined
    refused = _csv_rows(site / "exports" / "audit-page-refused.csv")
    expected_refused = con.execute(
        f"select source_file, status from audit.load_log where {period} "
        "and status in ('blocked', 'rejected', 'duplicate')",
        bounds,
    ).fetchall()
    r_header = next(csv.reader((site / "exports" / "audit-page-refused.csv").open(encoding="utf-8-sig")))
    f_col, s_col = r_header.index(labels.label("source_file")), r_header.index(labels.label("status"))
    assert sorted((r[f_col], r[s_col]) for r in refused) == sorted(expected_refused)
    for _file, status in expected_refused:
        assert labels.STATUS_LABELS[status] in html


def test_audit_page_shows_blocked_rejected_and_quarantined(demo_warehouse, tmp_path, monkeypatch):
    """On a copy of the demo warehouse with a blocked file, a rejected file and quarantined rows of
    two rules in the period (written into the audit tables as ingest writes them), the audit page
    lists each with its reason and counts, and links to the Data Docs."""
    import duckdb

    from grassroots.report import build_report

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.path, wh)
    day = f"{PERIOD}-10"
    with duckdb.connect(str(wh)) as con:
        con.execute(
            "insert into audit.load_log (load_id, feed, delivery_date, source_file, file_sha256, status, "
            "rows_in, rows_loaded, rows_quarantined, error) values "
            "('t-blocked', 'household_registration', ?::date, 'household_registration/x/blocked.csv', "
            " 'a', 'blocked', 40, 0, 0, "
            " 'critical: unit_code must be 12 digits (expect_column_values_to_match_regex)'),"
            "('t-rejected', 'staff_roster', ?::date, 'staff_roster/x/rejected.xlsx', 'b', 'rejected', "
            " null, 0, 0, 'unreadable: not a CSV file'),"
            "('t-loaded', 'staff_roster', ?::date, 'staff_roster/x/ok.csv', 'c', 'loaded', 10, 7, 3, null)",
            [day, day, day],
        )
        con.execute(
            "insert into audit.quarantine "
            "(load_id, feed, delivery_date, source_file, source_row, rule, detail) "
            "select 't-loaded', 'staff_roster', ?::date, 'staff_roster/x/ok.csv', n, "
            "case when n < 3 then 'id_check_digit' else 'unknown_unit' end, 'row ' || n "
            "from range(1, 4) t(n)",
            [day],
        )
    reports = tmp_path / "reports"
    (reports / "data_docs").mkdir(parents=True)
    (reports / "data_docs" / "index.html").write_text("<html></html>", encoding="utf-8")
    monkeypatch.setenv("GRASSROOTS_REPORTS_DIR", str(reports))
    site = build_report(PERIOD, warehouse=wh, out_dir=tmp_path / "site").parent
    html = (site / "audit.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="[^"]*data_docs/index.html">Data Docs', html)
    for text in ("blocked.csv", "unit_code must be 12 digits", "rejected.xlsx", "unreadable: not a CSV file"):
        assert text in html, text
    q_rows = _csv_rows(site / "exports" / "audit-page-quarantine.csv")
    q_header = next(csv.reader((site / "exports" / "audit-page-quarantine.csv").open(encoding="utf-8-sig")))
    rule, n = q_header.index(labels.label("rule")), q_header.index(labels.label("rows_quarantined"))
    got = {(r[rule], _int(r[n])) for r in q_rows if r[q_header.index(labels.label("delivery_date"))] == day}
    assert got == {("id_check_digit", 2), ("unknown_unit", 1)}
    days = _csv_rows(site / "exports" / "audit-page-deliveries.csv")
    header = next(csv.reader((site / "exports" / "audit-page-deliveries.csv").open(encoding="utf-8-sig")))
    col = {
        c: header.index(labels.label(c)) for c in ("feed", "delivery_date", "files_blocked", "files_rejected")
    }
    blocked = {(r[col["feed"]], r[col["delivery_date"]]): r for r in days}
    assert _int(blocked[("household_registration", day)][col["files_blocked"]]) == 1
    assert _int(blocked[("staff_roster", day)][col["files_rejected"]]) == 1
