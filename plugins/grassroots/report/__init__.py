"""The evaluation report: a self-contained, offline HTML site built from the marts after each build.

    build_report(period=None, warehouse=None, out_dir=None) -> Path   # the site's index.html
    python -m grassroots.report [--period YYYY-MM] [--warehouse FILE] [--out DIR]

The site goes to ``<reports>/evaluation/<period>/`` and, when the period is the latest month in the
marts, is copied to ``<reports>/evaluation/latest/`` (``reports`` = ``settings().reports_dir``) as
hard links (a published site is never modified, a new build replaces it).
Pages: ``index.html`` (overview: region, period, coverage, this period's blocked and quarantined
deliveries, the dissimilarity indices of every county, a link to the Data Docs), one
``county-<code>.html`` per county (staffing mismatch, reallocation plan, workload and
responsiveness), ``scorecard.html`` and one ``township-<code>.html`` per township. Every table has a
CSV and an Excel export under ``exports/`` (formula-injection safe, see ``exports``). Every page's
navigation lists every county, or, when the report covers several provinces, those of the page's
province (the overview links them all). Sections whose
mart is not in the warehouse say "not yet available" instead of failing.

A large site is rendered by several processes (``GRASSROOTS_REPORT_WORKERS``, default one per core
from 4,000 pages on: the national site's ~44,000 pages): each renders its share of the batches of
county and township pages into the same hidden directory on its own read-only connection, and the
site is published only when every part has finished.

Every number shown is a column of a mart (or, for the overview's audit part, a count of audit
records): the report selects, joins names, filters, sorts and formats, and never recomputes a
metric. Each chart embeds its rows and SQL in ``<script type="application/json"
id="data-<chart>">``, so a reader or a test can re-run the SQL and compare.

Charts: static SVG drawn in Python (``grassroots.report.svg``), not a JavaScript library.
We weighed that against vendored Vega-Lite (vega, vega-lite and vega-embed, pinned from npm, about
1 MB, already vendored for the Data Docs). Vega-Lite would give tooltips, zoom and filtering for
free, but every page would then depend on ~1 MB of JavaScript running correctly in whatever browser
an auditor has, charts would not exist until that script ran (nothing to see in a mail client, a
file preview, a text-only or locked-down browser, or when printing before the script finished), and
a test could only check a chart by driving a browser. Inline SVG is plain markup: the site has no
JavaScript dependency at all (one inline line that measures the charts for the browser test),
works offline by construction, prints and archives as it is, is small (a county page is tens of
kilobytes), and can be tested by parsing: the marks are elements with the row's key. The charts
the questions need are simple (scatter with a diagonal, ranked and diverging bars, dot rows, lines,
strips), ~400 lines of Python with no dependency. Native SVG ``<title>`` tooltips give point-level
detail on hover; the full data are in the tables and their CSV/Excel exports. If interactive
exploration is wanted later, the embedded JSON is already the data a Vega-Lite spec would need.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape

from grassroots.config import REPO_ROOT, settings
from grassroots.report import data as q
from grassroots.report import exports, labels, methodology, svg
from grassroots.report.data import Marts, Result, jsonable
from grassroots.warehouse import connect

log = logging.getLogger(__name__)

TEMPLATE_DIR = REPO_ROOT / "include" / "report" / "templates"
STATIC_DIR = REPO_ROOT / "include" / "report" / "static"
EVALUATION_DIR_NAME = "evaluation"
LATEST = "latest"
MAX_HTML_ROWS = 500
TOP_MOVERS = 10
PAGES_PER_BATCH = 2000  # township pages whose rows are fetched together (bounds memory nationally)
# A county page lists all its units (~220 on average nationally, ~15 for a township page): 2,000
# county pages at a time held the rows of 660,000 units in Python, 9 GB for the national site.
COUNTY_PAGES_PER_BATCH = 200
STRIP_MAX_UNITS = 5000  # above it, the scorecard's strips show each peer group's quantiles
PLAN_CHART_UNITS = 20  # the county page charts the plan's largest changes; its table has every unit

# The per-page queries, each with the column its page is selected on (see `Marts.prefetch`).
# Not PLAN_FALLBACK_SQL: it keeps a LIMIT per county, so each county page runs its own.
COUNTY_QUERIES = [
    (q.MISMATCH_SCATTER_SQL, "m.county_code"),
    (q.TWO_QUESTIONS_SQL, "s.county_code"),
    (q.PLAN_SQL, "county_code"),
    (q.MISMATCH_UNITS_SQL, "m.county_code"),
    (q.WORKLOAD_COUNTY_SQL, "wc.county_code"),
    (q.WORKLOAD_SCATTER_SQL, "w.county_code"),
    (q.TOWNSHIP_RATES_SQL, "t.county_code"),
    (q.RATES_SQL, "w.county_code"),
    (q.BACKLOG_SQL, "wc.county_code"),
    (q.SLA_CATEGORY_SQL, "county_code"),
    (q.WORKLOAD_UNITS_SQL, "w.county_code"),
]
TOWNSHIP_QUERIES = [
    (q.TOWNSHIP_UNITS_SQL, "d.township_code"),
    (q.TOWNSHIP_INDICATORS_SQL, "d.township_code"),
    (q.TOWNSHIP_TREND_SQL, "d.township_code"),
]

__all__ = ["build_report", "ReportError"]


class ReportError(RuntimeError):
    pass


# --- page model --------------------------------------------------------------------------------


@dataclass
class Chart:
    id: str
    title: str
    svg: str
    result: Result
    note: str = ""
    kind: str = "chart"

    def data_json(self) -> str:
        payload = {
            "chart": self.id,
            "source": self.result.source,
            "sql": self.result.sql_text(),
            "columns": self.result.columns,
            "rows": [[jsonable(v) for v in r] for r in self.result.rows],
        }
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@dataclass
class Table:
    id: str
    title: str
    result: Result
    note: str = ""
    empty: str = "无 None"
    columns: list[str] | None = None
    kind: str = "table"
    csv: str = ""
    xlsx: str = ""
    cell_titles: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def shown_columns(self) -> list[str]:
        return self.columns or self.result.columns

    def body_html(self) -> str:
        """The ``<tr>`` rows of the first MAX_HTML_ROWS rows: markup written here, every text escaped.

        Built in Python, not in the template: a national report has tens of millions of cells, and
        a Jinja loop per cell cost more than the rest of the page. Cell: the value formatted by
        `labels.fmt`, class ``num`` for numbers (plus ``pos``/``neg`` for signed columns), and the
        hover title from `cell_titles`.
        """
        rows = self.result.rows[:MAX_HTML_ROWS]
        titles = self.cell_titles
        columns = []  # per shown column, the <td>…</td> of each row
        for c in self.shown_columns:
            i = self.result.columns.index(c)
            values = [row[i] for row in rows]
            texts = labels.format_column(c, values)
            kinds = set(map(type, values))
            kinds.discard(type(None))
            if titles or c in labels.SIGNED or not (kinds <= {float, int} or kinds <= {str}):
                columns.append(
                    [self._td(n, c, v, text) for n, (v, text) in enumerate(zip(values, texts, strict=True))]
                )
            elif kinds <= {str} and c in PEER_GROUP_COLUMNS:  # the name and the charts' colour
                columns.append(
                    [
                        f'<td data-peer-group="{_html(v)}"><span class="swatch" style="background:'
                        f'{svg.peer_group_colour(v)}"></span>{_html(text)}</td>'
                        if v
                        else f"<td>{_html(text)}</td>"
                        for v, text in zip(values, texts, strict=True)
                    ]
                )
            elif kinds <= {str}:
                columns.append([f"<td>{_html(text)}</td>" for text in texts])
            else:  # numbers (class "num"; None is not a number), whose text needs no escaping
                columns.append(
                    [
                        f"<td>{text}</td>" if v is None else f'<td class="num">{text}</td>'
                        for v, text in zip(values, texts, strict=True)
                    ]
                )
        return "".join(f"        <tr>{''.join(cells)}</tr>\n" for cells in zip(*columns, strict=True))

    def _td(self, n: int, c: str, v: Any, text: str) -> str:
        """One cell, any type: class ``num`` for numbers, ``pos``/``neg`` in signed columns, a title."""
        css = ""
        if isinstance(v, int | float) and not isinstance(v, bool):
            css = "num"
            if c in labels.SIGNED and v:
                css += " pos" if v > 0 else " neg"
            text = str(text)
        else:
            text = _html(text)
        attrs = f' class="{css}"' if css else ""
        if tip := self.cell_titles.get((n, c)):
            attrs += f' title="{_html(tip)}"'
        return f"<td{attrs}>{text}</td>"


SCORE_OF = "score:"  # the township pivot's column of an indicator's score: score:<indicator_code>
AUDIT_PAGE = "audit.html"
NO_AUDIT = "尚不可用 Not yet available: the warehouse has no audit.{table}."
AUDIT_TABLES = ("delivery_status", "load_log", "quarantine")
PEER_GROUP_COLUMNS = ("peer_group", "scoring_peer_group")
_NEEDS_ESCAPE = re.compile("[&<>\"']").search


def _html(text: str) -> str:
    """The text escaped as Jinja's autoescape does (most texts have nothing to escape)."""
    return str(escape(text)) if _NEEDS_ESCAPE(text) else text


@dataclass
class Facts:
    items: list[tuple[str, str, str]]  # (label, value, css class)
    kind: str = "facts"


@dataclass
class Text:
    html: str  # trusted markup written here, never data
    kind: str = "text"


@dataclass
class Links:
    items: list[tuple[str, str]]  # (href, text)
    title: str = ""
    kind: str = "links"


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Any] = field(default_factory=list)
    unavailable: str = ""


@dataclass
class Page:
    filename: str
    title: str
    sections: list[Section]
    subtitle: str = ""
    province: str | None = None  # whose counties the navigation lists when the report has several


# --- helpers -----------------------------------------------------------------------------------


def _month_bounds(period: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError as exc:
        raise ReportError(f"period must be YYYY-MM, got {period!r}") from exc
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt


def _unavailable(mart: str) -> str:
    return f"尚不可用 Not yet available: the warehouse has no marts.{mart} (build it with dbt)."


def _failed(result: Result) -> str:
    on = ", ".join(result.source) or "the marts"
    return f"尚不可用 Not yet available: the query on {on} failed ({result.error})."


class _Builder:
    def __init__(
        self,
        marts: Marts,
        period: str,
        month: dt.date,
        next_month: dt.date,
        site: Path,
        data_docs_href: str | None,
        part: int = 0,
        parts: int = 1,
    ):
        self.m = marts
        # This builder renders part `part` of `parts` (`_render_in_parts`): the overview and the
        # scorecard page in part 0, and every `parts`-th batch of county and township pages.
        self.part, self.parts = part, parts
        self._parent = os.getppid() if part else None
        self.period = period
        self.month = month
        self.next_month = next_month
        self.site = site
        self.data_docs_href = data_docs_href
        # the dbt docs site (reports/dbt_docs/index.html), written just before the report by the
        # warehouse run; linked only when it exists (a site never links outside to nothing)
        dbt_docs = settings().reports_dir / "dbt_docs" / "index.html"
        self.dbt_docs_href = (
            Path(os.path.relpath(dbt_docs, self.site)).as_posix() if dbt_docs.exists() else None
        )
        self.nav: list[tuple[str, str]] = []
        self.province_of: dict[str, str] = {}
        self.provinces: set[str] = set()
        self._province_nav: dict[str | None, list[tuple[str, str]]] = {}
        self._indicator_names: dict[str, tuple[str, str]] | None = None

    # blocks -----------------------------------------------------------------------------------

    def table(self, table_id: str, title: str, result: Result, **kw) -> Table:
        t = Table(table_id, title, result, **kw)
        cols = t.shown_columns if kw.get("columns") else result.columns
        idx = [result.columns.index(c) for c in cols]
        rows = [[r[i] for i in idx] for r in result.rows]
        header = [labels.label(c) for c in cols]
        exports.write_csv(self.site / "exports" / f"{table_id}.csv", header, rows)
        exports.write_xlsx(self.site / "exports" / f"{table_id}.xlsx", table_id, header, rows, cols)
        t.csv, t.xlsx = f"exports/{table_id}.csv", f"exports/{table_id}.xlsx"
        return t

    # pages ------------------------------------------------------------------------------------

    def page_count(self) -> int:
        """How many pages the site has (county and township pages; the overview and scorecard)."""
        n = 2 + len(self.m.query("counties", q.COUNTIES_SQL, month=self.month).rows)
        if self.m.has("mart_scorecard"):
            n += 1 + len(self.m.try_query("townships", q.TOWNSHIPS_SQL, month=self.month).rows)
        return n

    def my_batches(self, items: list, per_batch: int = PAGES_PER_BATCH) -> Iterator[list]:
        """This part's batches of pages: consecutive slices (at most `per_batch`, and no more than
        an even share), dealt to the parts in turn."""
        size = max(1, min(per_batch, -(-len(items) // self.parts)))
        for i, start in enumerate(range(0, len(items), size)):
            if self._parent is not None and os.getppid() != self._parent:
                raise SystemExit("report part: the build that started it is gone")
            if i % self.parts == self.part:
                yield items[start : start + size]

    def pages(self) -> Iterator[Page]:
        """Every page of this part, one at a time (a national report does not fit in memory at once)."""
        counties = self.m.query("counties", q.COUNTIES_SQL, month=self.month)
        county_rows = counties.records
        self.province_of = {c["county_code"]: c["province_name"] or "" for c in county_rows}
        self.provinces = set(self.province_of.values())
        self.nav = [("index.html", "概览 Overview")]
        self.nav += [
            (f"county-{c['county_code']}.html", f"{c['county_name'] or c['county_code']}")
            for c in county_rows
        ]
        if self.m.has("mart_scorecard"):
            self.nav.append(("scorecard.html", "评价 Scorecard"))
        has_audit = any(self.m.has(t, "audit") for t in AUDIT_TABLES)
        if has_audit:
            self.nav.append((AUDIT_PAGE, "数据审计 Audit"))
        self.nav.append((methodology.FILENAME, methodology.NAV_TEXT))
        if self.part == 0:
            yield self.overview(counties)
            yield self.methodology_page()
            if has_audit:
                yield self.audit_page()
        for batch in self.my_batches(county_rows, COUNTY_PAGES_PER_BATCH):
            self.prefetch(COUNTY_QUERIES, "county", [c["county_code"] for c in batch])
            for c in batch:
                yield self.county_page(c)
            self.m.forget()
        yield from self.scorecard_pages()

    def plan_changes_chart(self, pre: str, two: Result) -> Chart:
        """The plan's largest whole-post changes (at most 20 units; the table holds every unit)."""
        changes = sorted(
            (r for r in two.records if r["planned_change_posts"]),
            key=lambda r: (-abs(r["planned_change_posts"]), r["unit_code"]),
        )[:PLAN_CHART_UNITS]
        changes.sort(key=lambda r: (-r["planned_change_posts"], r["unit_code"]))
        cols = ["unit_code", "unit_name", "planned_change_posts"]
        shown = Result(
            two.name,
            # the same selection in SQL, so that the embedded query re-runs to exactly these rows
            "SELECT unit_code, unit_name, planned_change_posts FROM (\n"
            "SELECT unit_code, unit_name, planned_change_posts FROM (\n"
            + two.sql.strip().rstrip(";")
            + "\n) AS plan WHERE planned_change_posts <> 0\n"
            f"ORDER BY abs(planned_change_posts) DESC, unit_code LIMIT {PLAN_CHART_UNITS}\n"
            ") AS largest ORDER BY planned_change_posts DESC, unit_code\n",
            two.params,
            cols,
            [tuple(r[k] for k in cols) for r in changes],
            source=two.source,
        )
        return Chart(
            f"{pre}-plan-changes",
            "该增的增、该减的减 The plan: largest changes in whole posts",
            svg.hbars(
                f"{pre}-plan-changes",
                shown.records,
                value="planned_change_posts",
                key="unit_code",
                label="unit_name",
                title="Planned change (whole posts)",
                xlabel="增(+)/减(−) 整岗 whole posts, county total unchanged",
            ),
            shown,
        )

    def methodology_page(self) -> Page:
        """docs/methodology.md: every published figure with its formula and a worked example."""
        return Page(
            methodology.FILENAME,
            "方法说明 Methodology",
            [Section("methodology", "指标定义 Definitions", [Text(methodology.methodology_html())])],
            subtitle=(
                "每个指标的公式、分母、缺失处理与算例 "
                "Formula, denominator, unknowns and a worked example for every figure"
            ),
        )

    def audit_page(self) -> Page:
        """audit.html: what happened to every delivery of the period, for an auditor (audit schema)."""
        p = {"month": self.month, "next_month": self.next_month}
        docs = (
            f'<a href="{_html(self.data_docs_href)}">Data Docs (Great Expectations)</a>'
            if self.data_docs_href
            else "Data Docs 尚未生成 not built yet (<code>reports/data_docs/index.html</code>)"
        )
        intro = Text(
            f"<p>交付日期在 {self.period} 内的每个文件：入库、按规则隔离的行、被拦截或拒收的文件及原因。"
            f"Every file delivered in {self.period}: rows loaded, rows quarantined by rule, files "
            "blocked (a critical check failed) or rejected (unreadable, wrong shape) and why. "
            f"每次校验的逐条结果见 Every validation run, expectation by expectation: {docs} "
            "(来源 source: audit.delivery_status, audit.load_log, audit.quarantine).</p>"
        )
        days = Section("deliveries", "按数据源与交付日期 Per feed and delivery date", [intro])
        if self.m.has("delivery_status", "audit"):
            ds = self.m.try_query("audit-days", q.DELIVERY_STATUS_SQL, **p)
            if ds.error:
                days.unavailable = _failed(ds)
            else:
                days.blocks.append(
                    self.table(
                        "audit-page-deliveries",
                        "文件、入库与隔离 Files, rows loaded and quarantined",
                        ds,
                        empty="本期无交付 No deliveries in this period",
                    )
                )
        else:
            days.unavailable = NO_AUDIT.format(table="delivery_status")
        quarantine = Section("quarantine", "按规则隔离的行 Rows quarantined by rule")
        if self.m.has("quarantine", "audit"):
            res = self.m.query("audit-quarantine-days", q.QUARANTINE_BY_DAY_SQL, **p)
            quarantine.blocks.append(
                self.table(
                    "audit-page-quarantine",
                    "各数据源、交付日期与规则 Per feed, delivery date and rule",
                    res,
                    empty="本期无隔离行 No rows quarantined in this period",
                    note="隔离行保存在 audit.quarantine（原始值已脱敏）Quarantined rows are kept in "
                    "audit.quarantine with the rule that caught them.",
                )
            )
        else:
            quarantine.unavailable = NO_AUDIT.format(table="quarantine")
        refused = Section("refused", "被拦截、拒收或重复的文件 Files blocked, rejected or duplicate")
        if self.m.has("load_log", "audit"):
            res = self.m.query("audit-refused", q.REFUSED_FILES_SQL, **p)
            refused.blocks.append(
                self.table(
                    "audit-page-refused",
                    "文件与原因 Files and why",
                    res,
                    empty="本期无 None in this period",
                    note="被拦截文件未通过的校验见页首 Data Docs 链接 The failed checks of a blocked "
                    "file: see the Data Docs link at the top of the page.",
                )
            )
        else:
            refused.unavailable = NO_AUDIT.format(table="load_log")
        return Page(
            AUDIT_PAGE,
            f"数据审计 Data audit {self.period}",
            [days, quarantine, refused],
            subtitle="每个交付文件的去向 Where every delivered file and row went",
        )

    def nav_of(self, page: Page) -> list[tuple[str, str]]:
        """The navigation bar: the overview, every county, the scorecard. When the report covers
        several provinces (nationally: ~3,000 counties, i.e. hundreds of kilobytes on each of ~44,000
        pages), only the counties of the page's own province; the overview still lists them all."""
        if len(self.provinces) <= 1:
            return self.nav
        if page.province not in self._province_nav:
            self._province_nav[page.province] = [
                (href, text)
                for href, text in self.nav
                if not href.startswith("county-")
                or self.province_of.get(href.removeprefix("county-").removesuffix(".html")) == page.province
            ]
        return self._province_nav[page.province]

    def prefetch(self, queries: Iterable[tuple[str, str]], param: str, keys: list[str]) -> None:
        """Fetch the rows of a batch of pages with one query per chart or table (see `Marts.prefetch`)."""
        for sql, column in queries:
            if self.m.has(_first_mart(sql)):
                self.m.prefetch(sql, column, param, keys, month=self.month, next_month=self.next_month)

    def overview(self, counties: Result) -> Page:
        recs = counties.records
        regions = sorted({(r["province_name"] or "", r["city_name"] or "") for r in recs})
        region = "；".join(" ".join(x for x in pair if x) for pair in regions) or "–"
        county_names = "、".join(r["county_name"] or r["county_code"] for r in recs)
        facts = [
            ("地区 Region", f"{region}：{county_names}", ""),
            ("评价期 Period", self.period, ""),
            ("区县 Counties", str(len(recs)), ""),
            ("生成时间 Generated", dt.datetime.now().strftime("%Y-%m-%d %H:%M"), ""),
        ]
        if self.data_docs_href:
            docs = Text(
                f'<p>数据校验报告 Data validation report: <a href="{self.data_docs_href}">'
                "Data Docs (Great Expectations)</a></p>"
            )
        else:
            docs = Text(
                "<p>数据校验报告 Data validation report: Data Docs 尚未生成 not built yet "
                "(<code>reports/data_docs/index.html</code>).</p>"
            )
        sections = [Section("summary", "概览 Overview", [Facts(facts), docs])]

        cov = Section("coverage", "数据覆盖 Data coverage")
        cov.blocks.append(
            self.table(
                "overview-counties",
                "各区县评价单位与人员配置相异指数 Units evaluated and dissimilarity indices per county",
                counties,
                columns=[
                    "county_code",
                    "county_name",
                    "units_evaluated",
                    "units_in_allocation_base",
                    "villages_missing_population",
                    "has_roster",
                    "county_staff_fte",
                    "county_resident_population",
                    "county_registered_population",
                    "d_resident",
                    "d_registered",
                    "allocated_by_registration",
                    "posts_to_reallocate",
                ],
                note="来源 Source: marts.mart_staffing_mismatch_county.",
            )
        )
        if self.m.has("mart_scorecard"):
            coverage = self.m.try_query("coverage", q.COVERAGE_SQL, month=self.month)
            if coverage.error:
                cov.blocks.append(Text(f"<p>{_esc(_failed(coverage))}</p>"))
            else:
                cov.blocks.append(
                    self.table(
                        "overview-coverage",
                        "评分数据完整性 Units with complete data (scorecard status)",
                        coverage,
                        note="complete = 所有指标均有数据 every weighted indicator had data; "
                        "来源 Source: marts.mart_scorecard.",
                    )
                )
        else:
            cov.blocks.append(Text(f"<p>{_esc(_unavailable('mart_scorecard'))}</p>"))
        sections.append(cov)

        d_chart = self.m.query("dissimilarity", q.DISSIMILARITY_SQL, month=self.month)
        sections.append(
            Section(
                "mismatch",
                "人员配置与人口 Staff vs population",
                [
                    Chart(
                        "dissimilarity",
                        "相异指数 Dissimilarity indices (D_resident vs D_registered)",
                        svg.grouped_bars(
                            "dissimilarity",
                            d_chart.records,
                            key="county_code",
                            label="county_name",
                            series=[
                                svg.Series("d_resident", "D 常住 resident", svg.PALETTE[0]),
                                svg.Series("d_registered", "D 户籍 registered", svg.PALETTE[1]),
                            ],
                            title="相异指数 Dissimilarity indices",
                            ylabel="D",
                        ),
                        d_chart,
                        note="D = ½ Σ |人员占比 − 人口占比|. 户籍 D 低于常住 D：人员按户籍配置 "
                        "(D_registered < D_resident → allocated_by_registration).",
                    ),
                    Links(
                        [
                            (
                                f"county-{r['county_code']}.html",
                                f"{r['county_name'] or r['county_code']}"
                                + (
                                    " ⚑ 按户籍配置 allocated by registration"
                                    if r["allocated_by_registration"]
                                    else ""
                                ),
                            )
                            for r in recs
                        ],
                        title="区县页面 County pages",
                    ),
                ],
            )
        )
        sections.append(self.audit_section())
        return Page(
            "index.html",
            f"基层治理评价报告 Evaluation report {self.period}",
            sections,
            subtitle=f"{region}：{county_names}",
        )

    def audit_section(self) -> Section:
        sec = Section("audit", "本期数据交付：拦截与隔离 This period's deliveries: blocked and quarantined")
        sec.blocks.append(
            Text(
                f"<p>交付日期在 {self.period} 内的文件 Files delivered in {self.period} "
                "(来源 source: audit.delivery_status, audit.load_log, audit.quarantine). "
                f'按规则、日期与原因的明细见 Details by rule, day and reason: <a href="{AUDIT_PAGE}">'
                "数据审计 Audit</a>.</p>"
            )
        )
        p = {"month": self.month, "next_month": self.next_month}
        if self.m.has("delivery_status", "audit"):
            ds = self.m.try_query("delivery_status", q.DELIVERY_STATUS_SQL, **p)
            if ds.error:
                sec.blocks.append(Text(f"<p>{_esc(_failed(ds))}</p>"))
            else:
                sec.blocks.append(
                    self.table(
                        "audit-delivery-status",
                        "各数据源交付状态 Delivery status per feed and day",
                        ds,
                        empty="本期无交付 No deliveries in this period",
                        note="refused = 文件被拦截或拒收 a file was blocked or rejected; "
                        "loaded_with_findings = 有隔离行或警告 rows quarantined or warnings.",
                    )
                )
        if self.m.has("load_log", "audit"):
            refused = self.m.query("refused_files", q.REFUSED_FILES_SQL, **p)
            sec.blocks.append(
                self.table(
                    "audit-refused-files",
                    "被拦截、拒收或重复的文件 Files blocked, rejected or duplicate",
                    refused,
                    empty="本期无 None in this period",
                )
            )
        if self.m.has("quarantine", "audit"):
            quarantine = self.m.query("quarantine", q.QUARANTINE_SQL, **p)
            sec.blocks.append(
                self.table(
                    "audit-quarantine",
                    "隔离的行（按规则）Quarantined rows by rule",
                    quarantine,
                    empty="本期无隔离行 No rows quarantined in this period",
                )
            )
        if not any(self.m.has(t, "audit") for t in ("delivery_status", "load_log", "quarantine")):
            sec.unavailable = "尚不可用 Not yet available: the warehouse has no audit tables."
        return sec

    def county_page(self, c: dict) -> Page:
        code, name = c["county_code"], c["county_name"] or c["county_code"]
        p = {"month": self.month, "county": code}
        pre = f"county-{code}"
        sec = Section("mismatch", "人员配置与人口错配 Staffing mismatch")
        flag = c["allocated_by_registration"]
        sec.blocks.append(
            Facts(
                [
                    ("相异指数(常住) D_resident", labels.fmt("d_resident", c["d_resident"]), ""),
                    ("相异指数(户籍) D_registered", labels.fmt("d_registered", c["d_registered"]), ""),
                    (
                        "按户籍配置 Allocated by registration",
                        "⚑ 是 yes" if flag else ("否 no" if flag is not None else "–"),
                        "flag" if flag else "",
                    ),
                    (
                        "方案调整岗位 Whole posts the plan moves",
                        labels.fmt("posts_to_reallocate", c["posts_to_reallocate"]),
                        "",
                    ),
                    (
                        "错配 FTE misallocated (½ Σ |fair share − actual|)",
                        labels.fmt("fte_misallocated", c["fte_misallocated"]),
                        "",
                    ),
                    (
                        "覆盖率 Allocation-base coverage",
                        labels.fmt("allocation_base_coverage", c["allocation_base_coverage"]),
                        "",
                    ),
                    (
                        "人员 Staff FTE (allocation base)",
                        labels.fmt("county_staff_fte", c["county_staff_fte"]),
                        "",
                    ),
                    (
                        "常住/户籍 Resident / registered",
                        labels.fmt("county_residence_ratio", c["county_residence_ratio"]),
                        "",
                    ),
                ]
            )
        )
        scatter = self.m.query(f"{pre}-shares", q.MISMATCH_SCATTER_SQL, **p)
        sec.blocks.append(
            Chart(
                f"{pre}-shares",
                "人员占比 vs 人口占比 Staff share vs population share",
                svg.scatter(
                    f"{pre}-shares",
                    scatter.records,
                    x=[
                        svg.Series("resident_share", "常住人口占比 resident share", svg.PALETTE[0], "dot"),
                        svg.Series(
                            "registered_share", "户籍人口占比 registered share", svg.PALETTE[1], "ring"
                        ),
                    ],
                    y="staff_share",
                    key="unit_code",
                    label="unit_name",
                    title="人员占比 vs 人口占比 Staff share vs population share",
                    xlabel="人口占比 Population share (in county)",
                    ylabel="人员占比 Staff share",
                    diagonal=True,
                    pct=True,
                    pair_lines=True,
                ),
                scatter,
                note=(
                    "每个单位两个点 Two points per unit: ● 常住 resident, ○ 户籍 registered. "
                    "对角线以上：人员多于人口占比 Above the diagonal: more staff than its share of people. "
                    "灰线连接同一单位 A grey line joins a unit's two points; "
                    "○ 比 ● 更靠近对角线 = 人员跟随户籍 staff follow registration."
                ),
            )
        )
        if c["d_null_reason"]:
            sec.blocks.append(
                Text(
                    f'<p class="unavailable">未计算相异指数与调整方案 No indices and no plan: '
                    f"{_esc(labels.reason(c['d_null_reason']))}</p>"
                )
            )
        two = self.m.query(f"{pre}-two-questions", q.TWO_QUESTIONS_SQL, **p)
        sec.blocks.append(self.plan_changes_chart(pre, two))
        sec.blocks.append(
            self.table(
                f"{pre}-two-questions",
                "两个问题 Two questions per unit: the norm gap and the reallocation plan",
                two,
                note=(
                    "按标准缺口 Norm gap = 全国/省定标准所需人员 − 实有 "
                    "(staff a national or provincial norm requires, from outside the county). "
                    "调整方案 Plan = 本县现有人员按常住人口重新分配，整岗调整，总数不变 "
                    "(the county's own staff redistributed by residents, in whole posts, "
                    "county total unchanged). 见方法说明 See methodology.html."
                ),
            )
        )
        if self.m.has("mart_reallocation_plan"):
            plan = self.m.try_query(f"{pre}-plan", q.PLAN_SQL, **p)
            if plan.error:
                sec.blocks.append(Text(f"<p>{_esc(_failed(plan))}</p>"))
            else:
                sec.blocks.append(
                    self.table(
                        f"{pre}-plan",
                        "调整方案 Reallocation plan (moves)",
                        plan,
                        empty="无需调整 No moves",
                        note="来源 Source: marts.mart_reallocation_plan (每个单位达到目标，区县总数不变).",
                    )
                )
        else:
            fallback = self.m.query(f"{pre}-plan", q.PLAN_FALLBACK_SQL, **p)
            sec.blocks.append(
                self.table(
                    f"{pre}-plan",
                    "调整方案（应增减最多的单位）Reallocation plan: largest deltas",
                    fallback,
                    note=_unavailable("mart_reallocation_plan") + " 显示 mart_staffing_mismatch 的 "
                    "reallocation_delta instead.",
                )
            )
        units = self.m.query(f"{pre}-units", q.MISMATCH_UNITS_SQL, **p)
        sec.blocks.append(self.table(f"{pre}-units", "各单位 Units", units))
        return Page(
            f"{pre}.html",
            f"{name} {self.period}",
            [sec, self.workload_section(code, pre)],
            subtitle=f"{c['province_name'] or ''} {c['city_name'] or ''} {name} ({code})",
            province=self.province_of.get(code),
        )

    def workload_section(self, code: str, pre: str) -> Section:
        sec = Section("workload", "工作量与回应性 Workload and responsiveness")
        if not self.m.has("mart_workload") or not self.m.has("mart_workload_county"):
            sec.unavailable = _unavailable("mart_workload")
            return sec
        p = {"month": self.month, "county": code}
        county = self.m.try_query(f"{pre}-workload-county", q.WORKLOAD_COUNTY_SQL, **p)
        if county.error:
            sec.unavailable = _failed(county)
            return sec
        cw = county.records[0] if county.rows else {}
        sec.blocks.append(
            Facts(
                [
                    (labels.label(k), labels.fmt(k, cw.get(k)), "")
                    for k in (
                        "cases_received",
                        "cases_per_fte",
                        "backlog_month_end",
                        "response_rate",
                        "responded_share",
                        "resolution_rate",
                        "satisfaction_rate",
                        "responded_within_sla_rate",
                        "closed_within_sla_rate",
                    )
                ]
            )
        )
        scatter = self.m.query(f"{pre}-workload", q.WORKLOAD_SCATTER_SQL, **p)
        refs = []
        if svg._finite(cw.get("staff_per_10k_residents")):
            refs.append(svg.RefLine("x", cw["staff_per_10k_residents"], "区县 county"))
        if svg._finite(cw.get("cases_per_fte")):
            refs.append(svg.RefLine("y", cw["cases_per_fte"], "区县 county"))
        sec.blocks.append(
            Chart(
                f"{pre}-workload",
                "人少事多 Few people, many tasks: cases per FTE vs staff per 10k residents",
                svg.scatter(
                    f"{pre}-workload",
                    scatter.records,
                    x="staff_per_10k_residents",
                    y="cases_per_fte",
                    key="unit_code",
                    label="unit_name",
                    title="人少事多 Cases per FTE vs staff per 10k residents",
                    xlabel="每万常住人口人员 Staff per 10k residents",
                    ylabel="人均工单 Cases per FTE",
                    ref_lines=refs,
                    corner=("top-left", "人少事多 few staff, many cases") if len(refs) == 2 else None,
                ),
                scatter,
                note="虚线为区县值 Dashed lines: the county's values (mart_workload_county.cases_per_fte, "
                "mart_staffing_mismatch_county.staff_per_10k_residents). 左上角 = 人少事多.",
            )
        )
        if self.m.has(q.TOWNSHIP_RATES_TABLE):
            towns = self.m.try_query(f"{pre}-township-rates", q.TOWNSHIP_RATES_SQL, **p)
            if towns.error:
                sec.blocks.append(Text(f"<h3>三率 by township</h3><p>{_esc(_failed(towns))}</p>"))
            else:
                sec.blocks.append(
                    Chart(
                        f"{pre}-township-rates",
                        "三率乡镇街道排名 The three rates, townships ranked",
                        svg.dot_rows(
                            f"{pre}-township-rates",
                            towns.records,
                            key="township_code",
                            label="township_name",
                            series=[
                                svg.Series("response_rate", "响应率 response", svg.PALETTE[0]),
                                svg.Series("resolution_rate", "解决率 resolution", svg.PALETTE[2]),
                                svg.Series(
                                    "satisfaction_rate", "满意率 satisfaction", svg.PALETTE[3], "ring"
                                ),
                            ],
                            title="三率 by township (mart_workload_township)",
                            xlabel="比率 Rate",
                        ),
                        towns,
                        note="按响应率排名 Ranked by response rate, then resolution and satisfaction.",
                    )
                )
        rates = self.m.query(f"{pre}-rates", q.RATES_SQL, **p)
        sec.blocks.append(
            Chart(
                f"{pre}-rates",
                "三率（按乡镇街道分组排名）The three rates, ranked within each township",
                svg.dot_rows(
                    f"{pre}-rates",
                    rates.records,
                    key="unit_code",
                    label="unit_name",
                    group="township_code",
                    group_label="township_name",
                    series=[
                        svg.Series("response_rate", "响应率 response", svg.PALETTE[0]),
                        svg.Series("resolution_rate", "解决率 resolution", svg.PALETTE[2]),
                        svg.Series("satisfaction_rate", "满意率 satisfaction", svg.PALETTE[3], "ring"),
                    ],
                    title="三率 Response, resolution and satisfaction rates",
                    xlabel="比率 Rate",
                ),
                rates,
                note="接诉即办三率；有工单的单位，乡镇街道内按响应率排序 "
                "Units with cases, sorted by response rate within their township.",
            )
        )
        backlog = self.m.query(f"{pre}-backlog", q.BACKLOG_SQL, **p)
        sec.blocks.append(
            Chart(
                f"{pre}-backlog",
                "积压趋势 Backlog at month end",
                svg.lines(
                    f"{pre}-backlog",
                    backlog.records,
                    x="month",
                    y="backlog_month_end",
                    series_key="county_code",
                    series_label="county_name",
                    title="积压趋势 Backlog trend",
                    ylabel="月末积压 Backlog",
                ),
                backlog,
            )
        )
        if self.m.has(q.SLA_CATEGORY_TABLE):
            sla = self.m.try_query(f"{pre}-sla", q.SLA_CATEGORY_SQL, **p)
            if sla.error:
                sec.blocks.append(
                    Text(f"<h3>按类别的时限达标率 SLA rates by case category</h3><p>{_esc(_failed(sla))}</p>")
                )
            else:
                sec.blocks.append(
                    Chart(
                        f"{pre}-sla",
                        "按类别的时限达标率 SLA rates by case category",
                        svg.dot_rows(
                            f"{pre}-sla",
                            sla.records,
                            key="category",
                            label="category",
                            series=[
                                svg.Series(
                                    "responded_within_sla_rate", "按时响应 responded in SLA", svg.PALETTE[0]
                                ),
                                svg.Series(
                                    "closed_within_sla_rate", "按时办结 closed in SLA", svg.PALETTE[2]
                                ),
                            ],
                            title="SLA rates by category",
                            xlabel="比率 Rate",
                        ),
                        sla,
                    )
                )
        else:
            sec.blocks.append(
                Text(
                    "<h3>按类别的时限达标率 SLA rates by case category</h3><p>"
                    + _esc(_unavailable(q.SLA_CATEGORY_TABLE))
                    + " 报告不自行从 fct_cases 计算 "
                    "The report does not compute rates from fct_cases itself.</p>"
                )
            )
        units = self.m.query(f"{pre}-workload-units", q.WORKLOAD_UNITS_SQL, **p)
        sec.blocks.append(self.table(f"{pre}-workload-units", "各单位工作量 Workload per unit", units))
        return sec

    def scorecard_pages(self) -> Iterator[Page]:
        if not self.m.has("mart_scorecard"):
            return
        p = {"month": self.month}
        scores = self.m.try_query("scorecard", q.SCORECARD_SQL, **p)
        if scores.error:
            if self.part == 0:
                yield Page(
                    "scorecard.html",
                    f"评价 Scorecard {self.period}",
                    [Section("scorecard", "评价 Scorecard", unavailable=_failed(scores))],
                )
            return
        townships = self.m.query("townships", q.TOWNSHIPS_SQL, **p)
        if self.part == 0:
            yield self.scorecard_page(scores, townships)
        for batch in self.my_batches(townships.records):
            self.prefetch(TOWNSHIP_QUERIES, "township", [t["township_code"] for t in batch])
            for t in batch:
                yield self.township_page(t)
            self.m.forget()

    def scorecard_page(self, scores: Result, townships: Result) -> Page:
        p = {"month": self.month}
        dims = Section("peer-groups", "分组得分 Composite and dimension scores by peer group")
        many = len(scores.rows) > STRIP_MAX_UNITS
        ticks = (
            f"单位太多（{len(scores.rows):,}），每条竖线为组内分位数：最小、P10、P25、中位数、P75、P90、最大 "
            f"Too many units ({len(scores.rows):,}) for a tick each: the ticks are each peer group's "
            "minimum, P10, P25, median, P75, P90 and maximum; every unit's scores are in the table "
            "below and its exports."
            if many
            else "每条竖线一个单位 Each tick is one unit."
        )
        dims.blocks.append(
            Text(
                "<p>同类组内比较（城乡 × 人口规模）Units are compared within their peer group "
                "(urban/rural × population band); a group with too few scored units falls back to a "
                "wider one (scoring peer group). Only units whose own data cover enough of the weight "
                "are scored and ranked; the others are listed with their scoring status. "
                f"{ticks}</p>"
            )
        )
        strip_sql, key, label = (
            (q.SCORE_QUANTILES_SQL, "quantile_key", "quantile_label")
            if many
            else (q.SCORE_STRIP_SQL, "unit_code", "unit_name")
        )
        for col in q.SCORE_COLUMNS:
            res = self.m.query(f"scores-{col}", strip_sql.format(score=col), **p)
            cid = f"scores-{col.removesuffix('_score')}"
            dims.blocks.append(
                Chart(
                    cid,
                    f"{labels.label(col)}",
                    svg.strips(
                        cid,
                        res.records,
                        group="scoring_peer_group",
                        value=col,
                        key=key,
                        label=label,
                        title=labels.label(col),
                        xlabel="得分 Score (0–100)",
                        label_width=210,
                        width=760,
                        group_name=labels.peer_group_name,
                        group_colour=svg.peer_group_colour,
                    ),
                    res,
                )
            )
        dims.blocks.append(self.table("scorecard-units", "各单位得分 Scores per unit", scores))

        movers = Section("movers", "本月升降 Risers and fallers")
        risers = self.m.query("risers", q.MOVERS_SQL.format(op=">", order="DESC", limit=TOP_MOVERS), **p)
        fallers = self.m.query("fallers", q.MOVERS_SQL.format(op="<", order="ASC", limit=TOP_MOVERS), **p)
        both = self.m.query("movers", q.MOVERS_CHART_SQL.format(limit=TOP_MOVERS), **p)
        movers.blocks.append(
            Chart(
                "movers",
                "综合得分较上月变化 Change of composite score from last month",
                svg.hbars(
                    "movers",
                    both.records,
                    value="composite_score_change",
                    key="unit_code",
                    label="unit_name",
                    title="Risers and fallers",
                    xlabel="变化 Change (points)",
                ),
                both,
                note=f"上升最多与下降最多的各 {TOP_MOVERS} 个单位 Top {TOP_MOVERS} risers and fallers.",
            )
        )
        movers.blocks.append(
            self.table("scorecard-risers", "上升 Risers", risers, empty="无 None (no previous month?)")
        )
        movers.blocks.append(
            self.table("scorecard-fallers", "下降 Fallers", fallers, empty="无 None (no previous month?)")
        )

        sections = [dims, movers]
        if self.m.has("mart_scorecard_stability"):
            stability = Section("stability", "排名稳定性 Rank stability (sensitivity)")
            stability.blocks.append(
                Text(
                    "<p>在其他权重（等权、逐一去掉一个维度）与另一种标准化（缩尾最小–最大）下重算排名；"
                    "每个单位的排名区间见上表 The ranking recomputed under equal weights, each dimension "
                    "dropped in turn and the alternative normalisation (winsorised min–max); each unit's "
                    "best and worst rank are in the table above. Per scoring peer group: units whose rank "
                    "moves by more than N places.</p>"
                )
            )
            res = self.m.query("scorecard-stability", q.STABILITY_SQL, **p)
            stability.blocks.append(self.table("scorecard-stability", "排名稳定性 Rank stability", res))
            sections.append(stability)

        tw = Section("townships", "乡镇街道页面 Township pages")
        tw.blocks.append(
            Links(
                [
                    (f"township-{t['township_code']}.html", t["township_name"] or t["township_code"])
                    for t in townships.records
                ]
            )
        )
        return Page("scorecard.html", f"评价 Scorecard {self.period}", [*sections, tw])

    def township_page(self, t: dict) -> Page:
        code, name = t["township_code"], t["township_name"] or t["township_code"]
        p = {"month": self.month, "township": code}
        pre = f"township-{code}"
        sec = Section("units", "各单位评价 Units' scores")
        units = self.m.query(f"{pre}-units", q.TOWNSHIP_UNITS_SQL, **p)
        sec.blocks.append(self.table(f"{pre}-units", "得分与排名 Scores and ranks", units))
        ind = Section("indicators", "指标 Indicators")
        if self.m.has("mart_scorecard_indicators"):
            indicators = self.m.try_query(f"{pre}-indicators", q.TOWNSHIP_INDICATORS_SQL, **p)
            if indicators.error:
                ind.unavailable = _failed(indicators)
            else:
                ind.blocks.append(self._indicator_pivot(pre, indicators))
                ind.blocks.append(
                    self.table(f"{pre}-indicators", "指标明细 Indicator values and scores", indicators)
                )
        else:
            ind.unavailable = _unavailable("mart_scorecard_indicators")
        trend = Section("trend", "趋势 Trend")
        tr = self.m.query(f"{pre}-trend", q.TOWNSHIP_TREND_SQL, **p)
        trend.blocks.append(
            Chart(
                f"{pre}-trend",
                "综合得分趋势 Composite score by month",
                svg.lines(
                    f"{pre}-trend",
                    tr.records,
                    x="month",
                    y="composite_score",
                    series_key="unit_code",
                    series_label="unit_name",
                    title="Composite score by month",
                    ylabel="综合得分 Composite",
                    width=720,
                ),
                tr,
            )
        )
        return Page(
            f"{pre}.html",
            f"{name} {self.period}",
            [sec, ind, trend],
            subtitle=f"{name} ({code})",
            province=self.province_of.get(t["county_code"]),
        )

    def indicator_names(self) -> dict[str, tuple[str, str]]:
        """indicator_code -> (Chinese, English) from the seed scorecard_weights (empty without it)."""
        if self._indicator_names is None:
            self._indicator_names = {}
            if self.m.has("scorecard_weights", "staging"):
                res = self.m.try_query("indicator-labels", q.INDICATOR_LABELS_SQL)
                self._indicator_names = {
                    r["indicator_code"]: (
                        r["label_zh"] or r["indicator_code"],
                        r["label_en"] or r["indicator_code"],
                    )
                    for r in res.records
                }
        return dict(self._indicator_names)

    def _indicator_pivot(self, pre: str, indicators: Result) -> Table:
        """Scores laid out unit × indicator (a reshaping of the rows below, for reading)."""
        recs = indicators.records
        codes = list(dict.fromkeys(r["indicator_code"] for r in recs))
        names = self.indicator_names()
        for r in recs:
            names.setdefault(r["indicator_code"], (r["label_zh"] or r["indicator_code"], r["indicator_code"]))
        units: dict[str, dict] = {}
        tips: dict[str, dict[str, str]] = {}
        value, lo, hi = (labels.formatter(c) for c in ("indicator_value", "peer_min", "peer_max"))
        for r in recs:
            u = units.setdefault(r["unit_code"], {"unit_code": r["unit_code"], "unit_name": r["unit_name"]})
            u[SCORE_OF + r["indicator_code"]] = r["score"]
            tips.setdefault(r["unit_code"], {})[SCORE_OF + r["indicator_code"]] = (
                f"value {value(r['indicator_value'])}; peers {lo(r['peer_min'])}–{hi(r['peer_max'])}"
            )
        rows = []
        titles: dict[tuple[int, str], str] = {}
        for n, (uc, u) in enumerate(units.items()):
            rows.append(tuple(u.get(c) for c in ["unit_code", "unit_name", *(SCORE_OF + c for c in codes)]))
            for code, tip in tips[uc].items():
                titles[(n, code)] = tip
        for c in codes:  # the indicator's name (seed scorecard_weights) as the header
            labels.LABELS[SCORE_OF + c] = names[c]
        pivot = Result(
            f"{pre}-indicator-scores",
            indicators.sql,
            indicators.params,
            ["unit_code", "unit_name", *(SCORE_OF + c for c in codes)],
            rows,
            source=indicators.source,
        )
        t = self.table(
            f"{pre}-indicator-scores",
            "指标得分（单位 × 指标）Indicator scores (unit × indicator)",
            pivot,
            note="得分 0–100（组内）；悬停查看指标值 Hover a score for the value and the peer range.",
        )
        t.cell_titles = titles
        return t


def _first_mart(sql: str) -> str:
    return sql.split("marts.", 1)[1].split()[0]


def _esc(text: str) -> str:
    return jinja2.utils.markupsafe.escape(text)


# --- rendering and publishing ------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = labels.label
    return env


def _render(builder: _Builder, site: Path) -> None:
    env = _environment()
    template = env.get_template("page.html.j2")
    for page in builder.pages():
        html = template.render(
            page=page, nav=builder.nav_of(page), period=builder.period, dbt_docs_href=builder.dbt_docs_href
        )
        (site / page.filename).write_text(html, encoding="utf-8")
    if builder.part:
        return
    static = site / "static"
    static.mkdir(exist_ok=True)
    for f in STATIC_DIR.iterdir():
        if f.is_file():
            shutil.copy2(f, static / f.name)


def report_workers(pages: int) -> int:
    """Processes that render the site: ``GRASSROOTS_REPORT_WORKERS``, else one per core, but no more
    than one per PAGES_PER_BATCH pages. A page costs ~25 ms of CPU in Python (templates, SVG, two
    exports a table): the national site's ~44,000 pages took 22 minutes in one process."""
    configured = os.environ.get("GRASSROOTS_REPORT_WORKERS", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ReportError(f"GRASSROOTS_REPORT_WORKERS={configured!r}: expected a whole number ≥ 1")
        return int(configured)
    return max(1, min(os.cpu_count() or 1, pages // PAGES_PER_BATCH))


def _marts_connection(warehouse: Path | None):
    """A read-only connection to the marts: the DuckDB file, or (None) the PostgreSQL warehouse."""
    from grassroots.pg_warehouse import marts_connection

    return marts_connection() if warehouse is None else connect(warehouse, read_only=True)


def render_part(spec: dict) -> None:
    """Render part ``spec['part']`` of a site into ``spec['site']`` (``python -m grassroots.report.part``)."""
    month, next_month = _month_bounds(spec["period"])
    wh = spec["warehouse"]
    with _marts_connection(None if wh is None else Path(wh)) as con:
        builder = _Builder(
            Marts(con),
            spec["period"],
            month,
            next_month,
            Path(spec["site"]),
            spec["docs_href"],
            part=spec["part"],
            parts=spec["parts"],
        )
        _render(builder, Path(spec["site"]))


def _render_in_parts(builder: _Builder, site: Path, warehouse: Path | None) -> None:
    """Render the site with `builder` (part 0) and ``builder.parts - 1`` other processes, each on
    its own read-only connection (``warehouse`` None: the PostgreSQL marts). Pages are independent
    files, so the parts write the same directory; a part that fails fails the build."""
    spec = {
        "period": builder.period,
        "warehouse": None if warehouse is None else str(warehouse),
        "site": str(site),
        "docs_href": builder.data_docs_href,
        "parts": builder.parts,
    }
    procs = []
    try:
        for part in range(1, builder.parts):
            out = tempfile.TemporaryFile()
            cmd = [sys.executable, "-m", "grassroots.report.part", json.dumps({**spec, "part": part})]
            procs.append((part, out, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)))
        _render(builder, site)
        for part, out, proc in procs:
            if proc.wait() != 0:
                out.seek(0)
                tail = out.read().decode("utf-8", "replace")[-2000:]
                raise ReportError(
                    f"report part {part} of {builder.parts} failed (exit {proc.returncode}):\n{tail}"
                )
    finally:
        for _, out, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_interrupted(directory: Path) -> list[Path]:
    """Clean up after report builds that were killed (their process is gone).

    A killed build leaves its hidden ``.<name>.tmp-<pid>`` directory (never published: removed
    here). Killed between the two renames of `_replace_dir`, it leaves the previous site as
    ``.<name>.old-<pid>`` and nothing at ``<name>``: the previous site is put back.
    """
    swept: list[Path] = []
    if not directory.is_dir():
        return swept
    for leftover in sorted(directory.glob(".*.*-*")):
        stem, sep, pid = leftover.name.rpartition("-")
        kind = stem.rsplit(".", 1)[-1]
        if not sep or kind not in ("tmp", "old") or not pid.isdigit() or int(pid) == os.getpid():
            continue
        if _pid_alive(int(pid)):
            continue
        name = stem[1 : -len(kind) - 1]
        if kind == "old" and name and not (directory / name).exists():
            leftover.rename(directory / name)
            log.warning("restored %s: a killed report build had moved it aside", directory / name)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
            log.warning("removed %s: left by a killed report build (never published)", leftover)
        swept.append(leftover)
    return swept


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _replace_dir(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` (replacing it) with two renames, so readers never see half a site."""
    old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
    if dst.exists():
        dst.rename(old)
    src.rename(dst)
    shutil.rmtree(old, ignore_errors=True)


def build_report(
    period: str | None = None, warehouse: Path | None = None, out_dir: Path | None = None
) -> Path:
    """Build the evaluation report and return the path of its ``index.html``.

    ``period`` 'YYYY-MM' (default: the latest month in the marts); ``warehouse`` the DuckDB file
    (default: the configured warehouse); ``out_dir`` where to write the site (default
    ``<reports>/evaluation/<period>/``, plus a copy in ``<reports>/evaluation/latest/`` when the
    period is the latest month of the marts).
    """
    t0 = time.perf_counter()
    cfg = settings()
    from grassroots.pg_warehouse import describe, warehouse_target

    on_postgres = warehouse is None and warehouse_target() == "postgres"
    wh = Path(warehouse) if warehouse else cfg.warehouse_path
    if not on_postgres and not wh.exists():
        raise ReportError(f"warehouse {wh} does not exist: build it first (make demo / dbt build)")
    if on_postgres:
        wh = describe()  # named in errors; holds no password
    with _marts_connection(None if on_postgres else wh) as con:
        marts = Marts(con)
        for needed in ("dim_unit", "mart_staffing_mismatch", "mart_staffing_mismatch_county"):
            if not marts.has(needed):
                raise ReportError(f"warehouse {wh} has no marts.{needed}: run dbt build first")
        months = [r[0] for r in con.execute(q.MONTHS_SQL).fetchall()]
        if not months:
            raise ReportError(f"marts.mart_staffing_mismatch_county in {wh} is empty: nothing to report")
        available = [m.strftime("%Y-%m") for m in months]
        period = period or available[-1]
        month, next_month = _month_bounds(period)
        if period not in available:
            raise ReportError(f"no data for period {period} in the marts; available: {', '.join(available)}")
        is_latest = period == available[-1]

        reports = cfg.reports_dir
        target = Path(out_dir) if out_dir else reports / EVALUATION_DIR_NAME / period
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_interrupted(target.parent)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        docs_index = reports / "data_docs" / "index.html"
        docs_href = Path(os.path.relpath(docs_index, target)).as_posix() if docs_index.exists() else None
        try:
            builder = _Builder(marts, period, month, next_month, tmp, docs_href)
            builder.parts = report_workers(builder.page_count())
            _render_in_parts(builder, tmp, None if on_postgres else wh)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _replace_dir(tmp, target)
    if out_dir is None and is_latest:
        latest = target.with_name(LATEST)
        tmp_latest = latest.with_name(f".{LATEST}.tmp-{os.getpid()}")
        shutil.rmtree(tmp_latest, ignore_errors=True)
        # hard links, not copies: a site is never changed once published (a new build replaces it)
        shutil.copytree(target, tmp_latest, copy_function=_link_or_copy)
        _replace_dir(tmp_latest, latest)
    log.info("evaluation report for %s written to %s in %.1fs", period, target, time.perf_counter() - t0)
    return target / "index.html"
