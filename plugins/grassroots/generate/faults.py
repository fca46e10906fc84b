"""The faults real deliveries have, planted into a generated landing zone (the demo's default).

A clean demo leaves half of what auditors look at empty. These are the faults suppliers really
make, each small enough that the marts stay meaningful:

- **bad rows** in an otherwise good delivery: household registration rows on a unit code that does
  not exist, on a county's code, and a row sent twice; roster rows with an ID number whose check
  digit is wrong (canonical roster layout only). Each is quarantined with its rule; the rest loads.
- **one blocked file**: the last month's household registration first arrives with the unit codes
  cut to nine digits (a spreadsheet export that dropped them); it is blocked whole, and the
  supplier's correct file follows three days later.
- **one duplicate delivery**: the first resident-population snapshot sent again five days later.
- **one restatement**: the first month's household registration re-sent ten days later with a few
  corrected counts; it supersedes the first load.

Every change only adds files or rows (the restatement corrects three counts), deterministically.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grassroots.idcard import check_digit

# What the demo's audit tables will show for these faults (the demo test compares them).
BAD_UNIT = "unknown_unit_code:unit_code"
NOT_A_UNIT = "not_a_unit:unit_code"
DUPLICATE_KEY = "duplicate_key"
BAD_ID = "invalid_id_check_digit"


@dataclass
class PlantedFaults:
    """Files and rows planted, by the landing-relative path the load audit will name."""

    bad_rows: dict[str, int] = field(default_factory=dict)  # rule -> rows
    blocked: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    restatements: list[str] = field(default_factory=list)

    def format(self) -> str:
        rules = ", ".join(f"{n} × {rule}" for rule, n in sorted(self.bad_rows.items())) or "none"
        return "\n".join(
            [
                "  planted faults (as real deliveries have them):",
                f"    bad rows: {rules}",
                f"    blocked file: {', '.join(self.blocked) or 'none'}",
                f"    duplicate delivery: {', '.join(self.duplicates) or 'none'}",
                f"    restatement: {', '.join(self.restatements) or 'none'}",
            ]
        )


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _moved(path: Path, landing: Path, days: int) -> Path:
    """The same file name in the delivery folder ``days`` later (or earlier, if negative)."""
    day = dt.date.fromisoformat(path.parent.name) + dt.timedelta(days=days)
    return path.parent.parent / day.isoformat() / path.name


def _rel(path: Path, landing: Path) -> str:
    return path.relative_to(landing).as_posix()


def plant_faults(landing: Path, files: dict[str, list[Path]], county_codes: list[str]) -> PlantedFaults:
    """Plant the demo's faults into the generated files (``GenerationSummary.files``)."""
    out = PlantedFaults()
    registrations = sorted(files.get("household_registration", []))
    residents = sorted(files.get("resident_population", []))
    rosters = sorted(files.get("staff_roster", []))

    if registrations:
        last = registrations[-1]
        header, rows = _read(last)
        unit = header.index("unit_code")
        # The supplier's first attempt, three days early: codes cut to nine digits. Blocked whole.
        cut = [[v[:9] if i == unit else v for i, v in enumerate(r)] for r in rows]
        blocked = _moved(last, landing, -3)
        _write(blocked, header, cut)
        out.blocked.append(_rel(blocked, landing))
        # The correct file, with three bad rows that are quarantined while the rest loads.
        unknown = rows[0][:unit] + [rows[0][unit][:6] + "999999"] + rows[0][unit + 1 :]
        county = rows[1][:unit] + [county_codes[0]] + rows[1][unit + 1 :]
        _write(last, header, [*rows, unknown, county, list(rows[2])])
        for rule in (BAD_UNIT, NOT_A_UNIT, DUPLICATE_KEY):
            out.bad_rows[rule] = out.bad_rows.get(rule, 0) + 1

    if len(registrations) >= 2:
        first = registrations[0]
        header, rows = _read(first)
        col = header.index("registered_population")
        fixed = [list(r) for r in rows]
        for r in fixed[:3]:  # a handful of corrected counts
            r[col] = str(int(r[col]) + 7)
        restated = _moved(first, landing, 10)
        _write(restated, header, fixed)
        out.restatements.append(_rel(restated, landing))

    if residents:
        again = _moved(residents[0], landing, 5)
        again.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(residents[0], again)
        out.duplicates.append(_rel(again, landing))

    canonical_rosters = [p for p in rosters if p.suffix == ".csv"]
    if canonical_rosters:
        roster = canonical_rosters[-1]
        header, rows = _read(roster)
        sid, idn = header.index("staff_id"), header.index("id_number")
        extra = []
        for n, r in enumerate(rows[:2]):
            bad = list(r)
            bad[sid] = f"{r[sid]}-B{n}"
            body = r[idn][:17]
            wrong = "0" if check_digit(body) != "0" else "1"
            bad[idn] = body + wrong
            extra.append(bad)
        _write(roster, header, [*rows, *extra])
        out.bad_rows[BAD_ID] = out.bad_rows.get(BAD_ID, 0) + len(extra)
    return out
