"""The four feeds of DESIGN §3: canonical columns, types, keys and how personal data is treated.

This is the single definition the generator, the ingest, the validation suites, the DAG factory and
the dbt sources agree on. Types are DuckDB SQL types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Pii(StrEnum):
    """What happens to a personal field at the ingest boundary."""

    HASH = "hash"  # replaced by HMAC-SHA256 pseudonym column `<name>_hash`
    DROP = "drop"  # removed
    LENGTH = "length"  # replaced by `<name>_length` (non-identifying)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    pii: Pii | None = None


@dataclass(frozen=True)
class Feed:
    name: str
    title_zh: str
    cadence: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # The date column that says which period a row describes (snapshot feeds) or orders versions.
    period_column: str
    snapshot: bool
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def raw_columns(self) -> list[tuple[str, str]]:
        """Columns as stored in raw/warehouse: PII replaced, lineage added."""
        out: list[tuple[str, str]] = []
        for c in self.columns:
            if c.pii is Pii.HASH:
                out.append((f"{c.name}_hash", "VARCHAR"))
            elif c.pii is Pii.LENGTH:
                out.append((f"{c.name}_length", "INTEGER"))
            elif c.pii is None:
                out.append((c.name, c.type))
        return out + list(LINEAGE_COLUMNS)


LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("delivery_date", "DATE"),
    ("load_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row", "BIGINT"),
    ("file_sha256", "VARCHAR"),
    ("loaded_at", "TIMESTAMP"),
)

POST_CATEGORIES = (
    "civil_servant",
    "public_institution",
    "community_worker",
    "grid_worker",
    "auxiliary",
)
FORMAL_POST_CATEGORIES = ("civil_servant", "public_institution")
SOCIAL_WORK_CERTS = ("none", "assistant", "intermediate", "senior")
CHANNELS = ("hotline_12345", "grid_patrol", "mobile_app", "walk_in", "online_portal")
CASE_STATUSES = ("open", "in_progress", "closed", "cancelled")
ESCALATION_LEVELS = ("none", "township", "county", "city")
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied", "not_rated")
# Case category taxonomy (the dbt seed `case_categories` carries labels and SLAs for these codes).
CASE_CATEGORIES = (
    "environment_sanitation",
    "neighbour_dispute",
    "property_management",
    "road_traffic",
    "public_safety",
    "social_assistance",
    "utilities",
    "housing_construction",
    "market_regulation",
    "consultation",
)
EDUCATION = ("junior_high", "senior_high", "vocational", "college", "bachelor", "postgraduate")

STAFF_ROSTER = Feed(
    name="staff_roster",
    title_zh="人员名册",
    cadence="monthly",
    columns=(
        Column("staff_id", "VARCHAR"),
        Column("name", "VARCHAR", required=False, pii=Pii.DROP),
        Column("id_number", "VARCHAR", pii=Pii.HASH),
        Column("phone", "VARCHAR", required=False, pii=Pii.HASH),
        Column("unit_code", "VARCHAR"),
        Column("post_category", "VARCHAR"),
        Column("fte", "DOUBLE"),
        Column("hire_date", "DATE"),
        Column("exit_date", "DATE", required=False),
        Column("education", "VARCHAR", required=False),
        Column("social_work_cert", "VARCHAR"),
        Column("snapshot_date", "DATE"),
    ),
    key=("staff_id", "unit_code", "post_category", "snapshot_date"),
    period_column="snapshot_date",
    snapshot=True,
    enums={"post_category": POST_CATEGORIES, "social_work_cert": SOCIAL_WORK_CERTS},
)

HOUSEHOLD_REGISTRATION = Feed(
    name="household_registration",
    title_zh="户籍人口",
    cadence="monthly",
    columns=(
        Column("unit_code", "VARCHAR"),
        Column("as_of_date", "DATE"),
        Column("registered_population", "BIGINT"),
        Column("registered_households", "BIGINT"),
        Column("registered_age_65_plus", "BIGINT", required=False),
    ),
    key=("unit_code", "as_of_date"),
    period_column="as_of_date",
    snapshot=True,
)

RESIDENT_POPULATION = Feed(
    name="resident_population",
    title_zh="常住人口",
    cadence="quarterly",
    columns=(
        Column("unit_code", "VARCHAR"),
        Column("as_of_date", "DATE"),
        Column("resident_population", "BIGINT"),
        Column("resident_households", "BIGINT"),
        Column("floating_population_in", "BIGINT", required=False),
        Column("residents_age_65_plus", "BIGINT", required=False),
        Column("vulnerable_persons", "BIGINT", required=False),
    ),
    key=("unit_code", "as_of_date"),
    period_column="as_of_date",
    snapshot=True,
)

CASE_LOG = Feed(
    name="case_log",
    title_zh="工单",
    cadence="daily",
    columns=(
        Column("case_id", "VARCHAR"),
        Column("unit_code", "VARCHAR"),
        Column("channel", "VARCHAR"),
        Column("category", "VARCHAR"),
        Column("reported_at", "TIMESTAMP"),
        Column("assigned_at", "TIMESTAMP", required=False),
        Column("first_response_at", "TIMESTAMP", required=False),
        Column("closed_at", "TIMESTAMP", required=False),
        Column("status", "VARCHAR"),
        Column("escalated_to_level", "VARCHAR"),
        Column("handled_by_unit_code", "VARCHAR", required=False),
        Column("satisfaction", "VARCHAR", required=False),
        Column("reporter_phone", "VARCHAR", required=False, pii=Pii.HASH),
        Column("description", "VARCHAR", required=False, pii=Pii.LENGTH),
        Column("updated_at", "TIMESTAMP"),
    ),
    key=("case_id", "updated_at"),
    period_column="updated_at",
    snapshot=False,
    enums={
        "channel": CHANNELS,
        "status": CASE_STATUSES,
        "escalated_to_level": ESCALATION_LEVELS,
        "satisfaction": SATISFACTION,
    },
)

FEEDS: dict[str, Feed] = {
    f.name: f for f in (STAFF_ROSTER, HOUSEHOLD_REGISTRATION, RESIDENT_POPULATION, CASE_LOG)
}


def get_feed(name: str) -> Feed:
    try:
        return FEEDS[name]
    except KeyError:
        raise ValueError(f"unknown feed {name!r}; known feeds: {', '.join(FEEDS)}") from None
