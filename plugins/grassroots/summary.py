"""The short summary `make demo` prints from the marts."""

from __future__ import annotations

from grassroots.warehouse import connect

SUMMARY_SQL = """
SELECT
    c.county_code,
    d.unit_name AS county_name,
    strftime(c.month, '%Y-%m') AS month,
    c.units_evaluated AS units,
    CAST(c.county_resident_population AS BIGINT) AS residents,
    CAST(c.county_registered_population AS BIGINT) AS registered,
    round(c.county_staff_fte, 1) AS staff_fte,
    round(c.d_resident, 3) AS d_resident,
    round(c.d_registered, 3) AS d_registered,
    c.allocated_by_registration,
    round(c.posts_to_reallocate, 1) AS posts_to_move
FROM marts.mart_staffing_mismatch_county AS c
LEFT JOIN marts.dim_unit AS d ON d.unit_code = c.county_code
ORDER BY c.county_code, c.month
"""


def summary_rows() -> tuple[list[str], list[tuple]]:
    with connect(read_only=True) as con:
        cur = con.execute(SUMMARY_SQL)
        return [d[0] for d in cur.description], cur.fetchall()


def print_summary() -> None:
    cols, rows = summary_rows()
    widths = (
        [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(cols)]
        if rows
        else [len(c) for c in cols]
    )
    print("Staffing mismatch by county (marts.mart_staffing_mismatch_county):")
    print("  ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)))
    print(
        "\nD = ½·Σ|staff share − population share| over a county's units; allocated_by_registration "
        "means staff follow registered rather than resident population."
    )
