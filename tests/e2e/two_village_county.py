"""A real county with exactly two villages, delivered by hand, whose mismatch figures are
computed by hand (shared by the end-to-end tests)."""

from __future__ import annotations

from pathlib import Path

from grassroots.idcard import check_digit

# 东营港经济开发区 (370572): the only real 2023 county with exactly two village-level units.
COUNTY = "370572000000"
VILLAGE_A, VILLAGE_B = "370572402201", "370572402400"  # 东港村, 东港类似居民委员会
MONTH_END = "2024-01-31"


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def two_village_county(landing: Path) -> None:
    """Residents 3000/1000, registered 2000/2000, staff 2/2 FTE.

    staff shares 0.5/0.5, resident shares 0.75/0.25, registered shares 0.5/0.5:
    D_resident   = ½(|0.5−0.75| + |0.5−0.25|) = 0.25
    D_registered = ½(|0.5−0.5|  + |0.5−0.5|)  = 0.0   → allocated_by_registration
    fair share A = 4 × 0.75 = 3 → delta +1; B = 4 × 0.25 = 1 → delta −1
    """
    _write(
        landing / "resident_population/2023-12-31/resident_population_370572_20231231.csv",
        [
            (
                "unit_code,as_of_date,resident_population,resident_households,floating_population_in,"
                "residents_age_65_plus,vulnerable_persons"
            ),
            f"{VILLAGE_A},2023-12-31,3000,1000,100,300,30",
            f"{VILLAGE_B},2023-12-31,1000,400,10,200,20",
        ],
    )
    _write(
        landing / f"household_registration/{MONTH_END}/household_registration_370572_202401.csv",
        [
            "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus",
            f"{VILLAGE_A},{MONTH_END},2000,700,250",
            f"{VILLAGE_B},{MONTH_END},2000,700,300",
        ],
    )
    header = (
        "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
        "social_work_cert,snapshot_date"
    )
    rows = []
    for i, unit in enumerate([VILLAGE_A, VILLAGE_A, VILLAGE_B, VILLAGE_B]):
        first17 = f"37057219800101{i:02d}1"
        rows.append(
            f"E{i},测试{i},{first17}{check_digit(first17)},1390000000{i},{unit},community_worker,1,"
            f"2020-01-01,,bachelor,none,{MONTH_END}"
        )
    _write(landing / f"staff_roster/{MONTH_END}/staff_roster_370572_202401.csv", [header, *rows])
