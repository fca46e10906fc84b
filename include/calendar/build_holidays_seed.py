"""Write the official PRC holiday calendar seed for dbt from the `chinese_calendar` package.

    .venv/bin/python include/calendar/build_holidays_seed.py [--out dbt_project/seeds/holiday_calendar.csv]

One row per date on which the official calendar differs from (or names) the ordinary Monday–Friday
week, for every year the installed package covers (chinesecalendar 1.11.0: 2004–2026):

* ``holiday``  – an official public holiday (法定节假日 / 调休放假), including the weekend days that fall
  inside a holiday period; ``is_working_day`` false;
* ``makeup_working_day`` – a weekend day declared a working day (调休上班); ``is_working_day`` true.

Ordinary weekdays and weekends are not listed: dim_date treats every date of a covered year that is
not in this file by the weekday rule, and dates of years the package does not cover (it raises
NotImplementedError for them) by the weekday rule *flagged* ``calendar_source = 'weekday_fallback'``.
The covered years are written to every row (``calendar_first_year`` / ``calendar_last_year``) so that
dim_date knows the coverage without hard-coding it.

The dates are taken from the package, never typed by hand. Re-run after upgrading chinesecalendar
(a new year's arrangement is published by the State Council each November); the output is sorted and
deterministic, so an unchanged package gives a byte-identical file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from pathlib import Path

import chinese_calendar

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "dbt_project" / "seeds" / "holiday_calendar.csv"
COLUMNS = (
    "calendar_date",
    "day_type",
    "is_working_day",
    "holiday_name",
    "holiday_name_zh",
    "calendar_first_year",
    "calendar_last_year",
    "source",
)

# Holiday names used by chinese_calendar (its Holiday enum) → Chinese names.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def covered_years() -> tuple[int, int]:
    """First and last year the installed package supports (it raises NotImplementedError outside)."""
    years = [d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)]
    first, last = min(years), max(years)
    # confirm against the package's own guard rather than trusting the data range alone
    while True:
        try:
            chinese_calendar.is_workday(dt.date(last + 1, 6, 1))
        except NotImplementedError:
            break
        last += 1
    while True:
        try:
            chinese_calendar.is_workday(dt.date(first - 1, 6, 1))
        except NotImplementedError:
            break
        first -= 1
    return first, last


def rows() -> list[dict[str, object]]:
    first, last = covered_years()
    version = getattr(chinese_calendar, "__version__", "unknown")
    source = f"chinesecalendar {version}"
    out: list[dict[str, object]] = []
    for day, name in sorted(chinese_calendar.holidays.items()):
        out.append(
            {"calendar_date": day, "day_type": "holiday", "is_working_day": "false", "holiday_name": name}
        )
    for day, name in sorted(chinese_calendar.workdays.items()):
        # package's workdays are weekend days declared working days (调休上班)
        assert day.weekday() >= 5, f"{day} listed as make-up working day but is a weekday"
        out.append(
            {
                "calendar_date": day,
                "day_type": "makeup_working_day",
                "is_working_day": "true",
                "holiday_name": name,
            }
        )
    for r in out:
        day = r["calendar_date"]
        assert isinstance(day, dt.date)
        # cross-check every row with the package's public API
        assert chinese_calendar.is_workday(day) == (r["is_working_day"] == "true"), day
        r["holiday_name_zh"] = HOLIDAY_NAMES_ZH.get(str(r["holiday_name"]), "")
        r["calendar_first_year"] = first
        r["calendar_last_year"] = last
        r["source"] = source
    out.sort(key=lambda r: r["calendar_date"])  # type: ignore[arg-type, return-value]
    for r in out:
        r["calendar_date"] = r["calendar_date"].isoformat()  # type: ignore[union-attr]
    return out


def render() -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file on disk is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: re-run {Path(__file__).name}")
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
