"""Demo data generator: real counties, synthetic deliveries of the four feeds (DESIGN §3, §4).

    from grassroots.generate import generate
    summary = generate(Path("data/landing"), counties=None, start="2024-01", months=3, seed=42)

or ``python -m grassroots.generate --out data/landing --start 2024-01 --months 3 --seed 42``.

The skeleton is real (2023 division codes, 2020 census); everything about people is synthetic.
Output is deterministic for a seed: the same arguments give byte-identical files. Files are
written (overwritten) under ``out_dir``; other files already there are left alone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from grassroots.feeds import (
    CASE_LOG,
    HOUSEHOLD_REGISTRATION,
    RESIDENT_POPULATION,
    STAFF_ROSTER,
    Feed,
)
from grassroots.generate.cases import build_cases, case_versions_sql
from grassroots.generate.faults import PlantedFaults, plant_faults
from grassroots.generate.feeds_writer import (
    CANONICAL,
    LAYOUTS,
    layout_file_name,
    parse_layouts,
    write_county_xlsx,
    write_feed_csv,
    write_hotline_gbk,
)
from grassroots.generate.people import build_staff, roster_snapshot
from grassroots.generate.population import (
    build_units,
    registration_snapshot,
    resident_snapshot,
)
from grassroots.generate.region import DEFAULT_COUNTIES, Region, load_region

__all__ = [
    "DEFAULT_COUNTIES",
    "LAYOUTS",
    "GenerationSummary",
    "generate",
    "main",
    "month_windows",
    "parse_layouts",
]


@dataclass
class GenerationSummary:
    out_dir: Path
    counties: list[str]
    start: str
    months: int
    seed: int
    scale: float
    layouts: dict[str, str] = field(default_factory=dict)
    townships: int = 0
    villages: int = 0
    staff_people: int = 0
    cases: int = 0
    files: dict[str, list[Path]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    faults: PlantedFaults | None = None
    seconds: float = 0.0

    def format(self) -> str:
        lines = [
            f"generated into {self.out_dir}",
            (
                f"  counties {', '.join(c[:6] for c in self.counties)}; "
                f"{self.townships} townships, {self.villages} villages/communities; "
                f"start {self.start}, {self.months} months, seed {self.seed}, scale {self.scale}"
            ),
            f"  {self.staff_people} staff, {self.cases} cases",
            f"  {'feed':<24}{'files':>7}{'rows':>10}",
        ]
        for feed, paths in self.files.items():
            layout = self.layouts.get(feed, "")
            lines.append(f"  {feed:<24}{len(paths):>7}{self.rows.get(feed, 0):>10}  {layout}".rstrip())
        if self.faults is not None:
            lines.append(self.faults.format())
        lines.append(f"  {self.seconds:.1f} s")
        return "\n".join(lines)


def month_windows(start: str, months: int) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of each month from ``start`` ("YYYY-MM")."""
    try:
        year, month = (int(x) for x in start.split("-"))
        dt.date(year, month, 1)
    except ValueError:
        raise ValueError(f"start must be YYYY-MM, got {start!r}") from None
    if months < 1:
        raise ValueError("months must be at least 1")
    out = []
    for _ in range(months):
        last = calendar.monthrange(year, month)[1]
        out.append((dt.date(year, month, 1), dt.date(year, month, last)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def generate(
    out_dir: Path,
    counties: list[str] | None = None,
    start: str = "2024-01",
    months: int = 3,
    seed: int = 42,
    scale: float = 1.0,
    *,
    layouts: dict[str, str] | list[str] | None = None,
    faults: bool = False,
) -> GenerationSummary:
    """Generate the landing-zone deliveries of all four feeds for the counties and months.

    ``layouts`` delivers a feed in one of the shipped supplier layouts instead of the canonical
    CSV, e.g. ``{"staff_roster": "county_xlsx", "case_log": "hotline_gbk"}`` (see ``LAYOUTS``).
    The rows are the same whatever the layout; only the file format, headers and labels change.
    ``faults`` plants the faults real deliveries have (``generate/faults.py``; the demo's default).
    """
    t0 = time.perf_counter()
    if scale <= 0:
        raise ValueError("scale must be positive")
    layouts = parse_layouts(layouts)
    out_dir = Path(out_dir)
    windows = month_windows(start, months)
    first_day, window_end = windows[0][0], windows[-1][1]
    base = first_day - dt.timedelta(days=1)

    region: Region = load_region(counties)
    rng_units, rng_snap, rng_staff, rng_cases = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    units = build_units(region, scale, rng_units)
    summary = GenerationSummary(
        out_dir=out_dir,
        counties=region.county_codes,
        start=start,
        months=months,
        seed=seed,
        scale=scale,
        layouts=layouts,
        townships=len(region.townships),
        villages=len(units),
    )

    resident_dates = [base] + [end for _, end in windows if end.month % 3 == 0]
    residents = pd.concat(
        [resident_snapshot(units, d, base, rng_snap) for d in resident_dates],
        ignore_index=True,
    )
    registrations = pd.concat(
        [registration_snapshot(units, end, base, rng_snap) for _, end in windows],
        ignore_index=True,
    )
    staff = build_staff(region, units, first_day, window_end, rng_staff)
    roster = pd.concat([roster_snapshot(staff, ms, me) for ms, me in windows], ignore_index=True)
    cases = build_cases(units, first_day, window_end, rng_cases)
    summary.staff_people = len(staff)
    summary.cases = len(cases)

    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.register("residents_df", residents)
        con.register("registrations_df", registrations)
        con.register("roster_df", roster)
        con.register("cases_df", cases)
        end_ts = f"{window_end.isoformat()} 23:59:59"
        con.execute(f"CREATE TEMP TABLE case_versions AS {case_versions_sql('cases_df', end_ts)}")
        for feed in (
            STAFF_ROSTER,
            HOUSEHOLD_REGISTRATION,
            RESIDENT_POPULATION,
            CASE_LOG,
        ):
            summary.files[feed.name] = []
            summary.rows[feed.name] = 0

        county_names = dict(zip(region.counties["county_code"], region.counties["county_name"], strict=True))

        def emit(
            feed: Feed,
            source: str,
            path: Path,
            order_by: str,
            where: str | None = None,
            *,
            county: str = "",
            period: str = "",
            title: str = "",
        ) -> None:
            layout = layouts.get(feed.name, CANONICAL)
            path = path.with_name(
                layout_file_name(feed.name, layout, path.name, county=county, period=period)
            )
            if layout == "county_xlsx":
                rows = write_county_xlsx(con, feed, source, path, order_by, where, title=title)
            elif layout == "hotline_gbk":
                rows = write_hotline_gbk(con, feed, source, path, order_by, where)
            else:
                rows = write_feed_csv(con, feed, source, path, order_by, where)
            summary.files[feed.name].append(path)
            summary.rows[feed.name] += rows

        for _ms, me in windows:
            for county in region.county_codes:
                c6 = county[:6]
                emit(
                    STAFF_ROSTER,
                    "roster_df",
                    out_dir / "staff_roster" / me.isoformat() / f"staff_roster_{c6}_{me:%Y%m}.csv",
                    "staff_id, unit_code, post_category",
                    f"snapshot_date = DATE '{me.isoformat()}' AND county_code = '{county}'",
                    county=c6,
                    period=f"{me:%Y%m}",
                    title=f"{county_names.get(county, c6)}社区工作者名册（{me.year}年{me.month}月）",
                )
            emit(
                HOUSEHOLD_REGISTRATION,
                "registrations_df",
                out_dir / "household_registration" / me.isoformat() / f"household_registration_{me:%Y%m}.csv",
                "unit_code",
                f"as_of_date = DATE '{me.isoformat()}'",
            )
        for d in resident_dates:
            emit(
                RESIDENT_POPULATION,
                "residents_df",
                out_dir / "resident_population" / d.isoformat() / f"resident_population_{d:%Y%m%d}.csv",
                "unit_code",
                f"as_of_date = DATE '{d.isoformat()}'",
            )
        days_with_rows = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT CAST(updated_at AS DATE) FROM case_versions ORDER BY 1"
            ).fetchall()
        ]
        for day in days_with_rows:
            emit(
                CASE_LOG,
                "case_versions",
                out_dir / "case_log" / day.isoformat() / f"case_log_{day:%Y%m%d}.csv",
                "updated_at, case_id",
                f"CAST(updated_at AS DATE) = DATE '{day.isoformat()}'",
                period=f"{day:%Y%m%d}",
            )
    finally:
        con.close()
    if faults:
        summary.faults = plant_faults(out_dir, summary.files, region.county_codes)
    summary.seconds = time.perf_counter() - t0
    return summary


def main(argv: list[str] | None = None) -> int:
    from grassroots.generate.__main__ import main as cli_main

    return cli_main(argv)
