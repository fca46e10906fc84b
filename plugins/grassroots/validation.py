"""Validate one delivery of a feed with Great Expectations before it is published (DESIGN §2, §7).

    report = validate_delivery("case_log", df, valid_unit_codes=codes, file_name="cases.csv",
                               delivery_date="2024-03-01", run_id=load_id, previous_row_count=n)
    audit_rows = results_frame(report)      # -> audit.validation_results
    report.raise_if_critical()              # ValidationFailed names file, suite and rules

    report = validate_marts(warehouse_path, run_id)   # after dbt: suite "marts", feed "marts"
    report.raise_if_critical()                        # rows already in audit.validation_results

``df`` carries canonical column names (feeds.py) and typed values, before pseudonymisation. The
suites are code in ``expectations/suites.py``; custom expectation classes are in
``expectations/custom/``.

Great Expectations is imported lazily (it costs ~5 s and a burst of log lines), with usage
analytics off and its loggers at WARNING. The GX context is ephemeral (nothing is written to a
``great_expectations.yml``), but its validation-results store and Data Docs site are directories
under ``<expectations>/gx/uncommitted/`` (git-ignored), so :func:`build_data_docs` renders every
stored run for auditors.

Personal data: values from PII columns (id_number, phone, reporter_phone, name, description) never
leave this module in clear. Unexpected-value samples of those columns are replaced by
``sha256:<8 hex>`` markers, both in the report and in the GX results written to disk. Eight hex
digits (32 bits) are deliberately short: over the space of ID or phone numbers (~10^11) each
marker matches many values, so it cannot be reversed by enumeration, yet equal values still show
as equal within a report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grassroots.config import REPO_ROOT, settings
from grassroots.feeds import Feed, get_feed

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

SAMPLE_SIZE = 10  # unexpected values kept per expectation
BATCH_ROWS = 1_000_000  # row-wise rules are validated in slices of this many rows
RESULTS_COLUMNS = (
    "run_id",
    "feed",
    "delivery_date",
    "file",
    "suite",
    "expectation",
    "column",
    "severity",
    "success",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_sample",
)
_GX_LOGGERS = (
    "great_expectations",
    "great_expectations.core",
    "great_expectations.data_context",
)
_DATASOURCE = "grassroots"
_BATCH_DEFINITION = "whole_dataframe"
_lock = threading.Lock()
_contexts: dict[Path, Any] = {}


# --------------------------------------------------------------------------------------------
# Report types


@dataclass
class ExpectationOutcome:
    """One expectation's result for one delivery (merged over batches)."""

    suite: str
    rule: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    unexpected_sample: list[Any] = field(default_factory=list)
    unexpected_rows: list[Any] = field(default_factory=list)
    observed_value: Any = None
    exception: str | None = None

    def sample_text(self) -> str:
        """The sample as one string: JSON list of values, or the observed value, or the error."""
        if self.exception:
            return f"error: {self.exception}"
        if self.unexpected_sample:
            return json.dumps(self.unexpected_sample, ensure_ascii=False, default=str)
        if self.observed_value is not None and not self.success:
            return f"observed: {json.dumps(self.observed_value, ensure_ascii=False, default=str)}"
        return ""

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        text = f"{self.expectation_type}{where} [{self.rule}]"
        if self.unexpected_count:
            pct = f" ({self.unexpected_percent:.3g}%)" if self.unexpected_percent is not None else ""
            text += f": {self.unexpected_count} of {self.element_count} rows{pct}"
            if self.unexpected_rows:
                rows = ", ".join(str(r) for r in self.unexpected_rows[:5])
                text += f", e.g. rows {rows}"
        sample = self.sample_text()
        if sample:
            text += f"; {sample}"
        return text


class ValidationFailed(Exception):
    """A delivery failed at least one critical expectation; names the file, suite and rules."""

    def __init__(self, file_name: str, suite: str, failures: list[ExpectationOutcome]):
        self.file_name = file_name
        self.suite = suite
        self.failures = failures
        head = (
            f"validation failed for file {file_name!r} (suite {suite!r}): "
            f"{len(failures)} critical expectation(s) failed"
        )
        lines = [head]
        lines += [f"  - {f.describe()}" for f in failures]
        super().__init__("\n".join(lines))


@dataclass
class ValidationReport:
    feed: str
    suite: str
    file_name: str
    delivery_date: dt.date
    run_id: str
    row_count: int
    results: list[ExpectationOutcome]
    seconds: float = 0.0
    stored: bool = False

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity == "critical"]

    @property
    def warning_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity != "critical"]

    @property
    def critical_failed(self) -> bool:
        return bool(self.critical_failures)

    @property
    def warnings(self) -> int:
        """Number of failed warning-level expectations."""
        return len(self.warning_failures)

    @property
    def success(self) -> bool:
        return not self.critical_failed

    def raise_if_critical(self) -> None:
        if self.critical_failed:
            raise ValidationFailed(self.file_name, self.suite, self.critical_failures)

    def summary(self) -> str:
        return (
            f"{self.file_name} ({self.suite}): {len(self.results)} expectations, "
            f"{len(self.critical_failures)} critical failed, {self.warnings} warnings, "
            f"{self.row_count} rows in {self.seconds:.1f}s"
        )


# --------------------------------------------------------------------------------------------
# Great Expectations context


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in _GX_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def import_expectations():
    """Import the ``expectations`` package (suites + custom classes) from the repository."""
    cached = sys.modules.get("expectations")
    if cached is not None and getattr(cached, "__file__", None) is None:
        # A namespace package (e.g. a tests/expectations directory on sys.path) got there
        # first; a regular package anywhere on sys.path wins over it once the cache is cleared.
        for name in [m for m in sys.modules if m == "expectations" or m.startswith("expectations.")]:
            del sys.modules[name]
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    from expectations import custom, suites

    return suites, custom


def gx_root(root: str | Path | None = None) -> Path:
    """The GX project directory: ``root`` if given, else $GRASSROOTS_GX_DIR, else
    ``expectations/gx`` under GRASSROOTS_HOME. GX state goes to its ``uncommitted/``."""
    if root is None:
        root = os.environ.get("GRASSROOTS_GX_DIR") or settings().expectations_dir / "gx"
    return Path(root).resolve()


def get_context(root: str | Path | None = None):
    """A GX context (one per process and root) with analytics off and stores under
    ``<root>/uncommitted/``: validation results and the Data Docs site on disk, suites in memory."""
    root_path = gx_root(root)
    with _lock:
        if root_path in _contexts:
            return _contexts[root_path]
        _quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        _quiet_gx()  # GX may have configured its loggers on import
        import_expectations()
        uncommitted = root_path / "uncommitted"
        defaults = InMemoryStoreBackendDefaults()
        stores = dict(defaults.stores)
        stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(uncommitted / "validations"),
            },
        }
        config = DataContextConfig(
            store_backend_defaults=defaults,
            stores=stores,
            data_docs_sites={
                "local_site": {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(uncommitted / "data_docs" / "local_site"),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            },
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        context.data_sources.add_pandas(_DATASOURCE)
        _contexts[root_path] = context
        return context


def build_data_docs(root: str | Path | None = None) -> Path:
    """Render Data Docs for every stored validation; returns the site's index.html."""
    context = get_context(root)
    context.build_data_docs()
    return gx_root(root) / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _batch_definition(context, feed: str):
    datasource = context.data_sources.get(_DATASOURCE)
    try:
        asset = datasource.get_asset(feed)
    except LookupError:
        asset = datasource.add_dataframe_asset(feed)
    try:
        return asset.get_batch_definition(_BATCH_DEFINITION)
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)


# --------------------------------------------------------------------------------------------
# PII masking


def pii_columns(feed: Feed) -> frozenset[str]:
    return frozenset(c.name for c in feed.columns if c.pii is not None)


def mask_value(value: Any) -> str:
    """A short, non-reversible marker for a personal value (see the module docstring)."""
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:8]


def _mask(value: Any, columns: frozenset[str], pii: frozenset[str]) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: (mask_value(v) if k in pii and v is not None else v) for k, v in value.items()}
    if columns & pii:
        return mask_value(value)
    return value


def _scrub_result(result: dict, columns: frozenset[str], pii: frozenset[str]) -> None:
    """Mask PII in one GX expectation result dict, in place."""
    for key in ("partial_unexpected_list", "unexpected_list"):
        if key in result and result[key] is not None:
            result[key] = [_mask(v, columns, pii) for v in result[key]]
    if result.get("partial_unexpected_counts"):
        result["partial_unexpected_counts"] = [
            {**c, "value": _mask(c.get("value"), columns, pii)} for c in result["partial_unexpected_counts"]
        ]
    for key in ("partial_unexpected_index_list", "unexpected_index_list"):
        if result.get(key) and isinstance(result[key][0], dict):
            result[key] = [_mask(v, columns, pii) for v in result[key]]
    if (
        columns & pii
        and "observed_value" in result
        and not isinstance(result["observed_value"], (int, float, bool, type(None)))
    ):
        result["observed_value"] = mask_value(result["observed_value"])


def _exception_infos(exception_info: Any) -> list[dict]:
    """GX 1.24 reports an exception either flat ({raised_exception, exception_message, ...}) or,
    when a metric failed to resolve, as {<metric configuration id>: {raised_exception, ...}}."""
    if not isinstance(exception_info, dict):
        return []
    if "raised_exception" in exception_info:
        return [exception_info]
    return [v for v in exception_info.values() if isinstance(v, dict)]


def _exception_messages(exception_info: Any) -> list[str]:
    return [
        str(info.get("exception_message") or "exception")
        for info in _exception_infos(exception_info)
        if info.get("raised_exception")
    ]


def _scrub_exception(exception_info: Any) -> None:
    """Reduce error messages of a rule on PII columns to the exception's first words, in place:
    pandas and GX messages may quote the offending value; tracebacks are dropped."""
    for info in _exception_infos(exception_info):
        if info.get("raised_exception"):
            message = str(info.get("exception_message") or "")
            info["exception_message"] = re.sub(r"[0-9Xx]{6,}", "<masked>", message)[:200]
            info["exception_traceback"] = None


def _jsonable(value: Any) -> Any:
    """Plain JSON-friendly values for samples (timestamps as ISO text, numpy scalars as python)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, TypeError):
            return str(value)
    return value


# --------------------------------------------------------------------------------------------
# Runner


def _as_date(value: str | dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _prepare(df: pd.DataFrame, feed: Feed) -> pd.DataFrame:
    """Give date columns held as python date objects a datetime64 dtype (no copy of other data)."""
    import pandas as pd

    frame = df
    for col in feed.columns:
        if col.type not in ("DATE", "TIMESTAMP") or col.name not in df.columns:
            continue
        series = df[col.name]
        if series.dtype != object:
            continue
        kind = pd.api.types.infer_dtype(series, skipna=True)  # C loop, not a Python one
        if kind not in ("date", "datetime", "datetime64"):
            continue  # left alone (strings, mixed, all null): the type rule reports it
        if frame is df:
            frame = df.copy(deep=False)
        frame[col.name] = pd.to_datetime(series)
    return frame


def _applicable(rules: list, columns: set[str]) -> list:
    """Drop rules reading a column the delivery lacks (its presence rule still reports it)."""
    return [r for r in rules if r.expectation == "ExpectColumnToExist" or set(r.columns) <= columns]


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:150] or "batch"


def gx_column(kwargs: dict) -> str | None:
    """The column(s) a GX expectation checks, as one string ('a,b' for several); the columns of
    a row condition are not included."""
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ",".join(map(str, kwargs["column_list"]))
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


@dataclass
class _Acc:
    """Accumulates one rule's GX results over batches."""

    rule: Any
    expectation_type: str = ""
    success: bool = True
    element_count: int | None = None
    unexpected_count: int | None = None
    missing_count: int = 0
    sample: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    observed: Any = None
    exception: str | None = None
    parts: int = 0
    column: str | None = None

    def add(self, res: Any, pii: frozenset[str]) -> None:
        cfg = res.expectation_config
        self.parts += 1
        self.expectation_type = cfg.type
        self.column = gx_column(cfg.kwargs) or self.rule.column
        self.success = self.success and bool(res.success)
        messages = _exception_messages(res.exception_info)
        if messages:
            self.exception = (self.exception or "; ".join(messages))[:300]
            self.success = False
        result = dict(res.result or {})
        if "element_count" in result:
            self.element_count = (self.element_count or 0) + int(result["element_count"] or 0)
        if "unexpected_count" in result:
            self.unexpected_count = (self.unexpected_count or 0) + int(result["unexpected_count"] or 0)
            self.missing_count += int(result.get("missing_count") or 0)
        if "observed_value" in result:
            self.observed = _jsonable(result["observed_value"])
        room = SAMPLE_SIZE - len(self.sample)
        if room > 0:
            self.sample += [_jsonable(v) for v in (result.get("partial_unexpected_list") or [])][:room]
            self.rows += [_jsonable(v) for v in (result.get("partial_unexpected_index_list") or [])][:room]

    def outcome(self, suite: str, row_count: int) -> ExpectationOutcome:
        element_count = self.element_count if self.element_count is not None else row_count
        percent = None
        success = self.success
        if self.unexpected_count is not None:
            nonmissing = element_count - self.missing_count
            percent = 100.0 * self.unexpected_count / nonmissing if nonmissing > 0 else 0.0
            mostly = getattr(self.rule, "mostly", None)
            if mostly is not None and self.parts > 1 and self.exception is None:
                # Slices of a large delivery: ``mostly`` holds for the whole delivery, not
                # for each slice (GX decided each slice on its own).
                success = nonmissing <= 0 or (nonmissing - self.unexpected_count) / nonmissing >= mostly
        return ExpectationOutcome(
            suite=suite,
            rule=self.rule.name,
            expectation_type=self.expectation_type,
            column=self.column or self.rule.column,
            severity=self.rule.severity,
            success=success,
            element_count=element_count,
            unexpected_count=self.unexpected_count,
            unexpected_percent=percent,
            unexpected_sample=self.sample,
            unexpected_rows=self.rows,
            observed_value=self.observed,
            exception=self.exception,
        )


def validate_delivery(
    feed: str,
    df: pd.DataFrame,
    *,
    valid_unit_codes: set[str] | None,
    file_name: str,
    delivery_date: str | dt.date,
    run_id: str,
    previous_row_count: int | None = None,
    context: Any = None,
    store_results: bool = True,
    batch_rows: int = BATCH_ROWS,
) -> ValidationReport:
    """Validate one delivery of ``feed`` and return every expectation's outcome.

    Args:
        feed: feed name (feeds.FEEDS).
        df: canonical-named, typed frame before pseudonymisation.
        valid_unit_codes: the known 12-digit division codes; None checks only the code format.
        file_name: the delivered file, named in results and errors.
        delivery_date: the delivery date (ISO text or date): freshness and future-date rules.
        run_id: the load's id, recorded with every result.
        previous_row_count: rows in the previous delivery of this feed (change > 50%: warning).
        context: a GX context from :func:`get_context` (default: the one for GRASSROOTS_HOME).
        store_results: write the (PII-masked) GX results to the results store for Data Docs.
        batch_rows: row-wise rules run on slices of this many rows; row-count and key-uniqueness
            rules always see every row (of the key columns).
    """
    started = time.perf_counter()
    spec = get_feed(feed)
    day = _as_date(delivery_date)
    context = context if context is not None else get_context()
    suites, custom = import_expectations()

    frame = _prepare(df, spec)
    reference = None
    if valid_unit_codes is not None:
        reference = custom.register_reference_set("division_codes", valid_unit_codes)
    rules = suites.rules_for(
        feed,
        unit_codes_reference=reference,
        delivery_date=day,
        previous_row_count=previous_row_count,
    )
    return _run_suite(
        context,
        suites,
        suite_name=feed,
        feed=feed,
        frame=frame,
        rules=rules,
        pii=pii_columns(spec),
        file_name=file_name,
        day=day,
        run_id=run_id,
        store_results=store_results,
        batch_rows=batch_rows,
        started=started,
    )


def _run_suite(
    context: Any,
    suites: Any,
    *,
    suite_name: str,
    feed: str,
    frame: pd.DataFrame,
    rules: list,
    pii: frozenset[str],
    file_name: str,
    day: dt.date,
    run_id: str,
    store_results: bool,
    batch_rows: int,
    started: float,
) -> ValidationReport:
    """Run ``rules`` (as suite ``suite_name``) on ``frame``, in slices when it is large; merge,
    mask PII and store the GX results; return the report."""
    rules = _applicable(rules, set(map(str, frame.columns)))
    by_name = {r.name: r for r in rules}
    accs = {r.name: _Acc(r) for r in rules}
    n = len(frame)

    if n <= batch_rows:
        plan = [(rules, frame, "")]
    else:
        # Whole-frame rules see only the columns they need (row count, key uniqueness); the
        # schema rules run once, with the first slice; row rules run on every slice.
        frame_rules = [r for r in rules if r.scope == "frame"]
        needed = list(dict.fromkeys(c for r in frame_rules for c in r.columns))
        plan = [(frame_rules, frame[needed] if needed else frame, "-frame")]
        for i, start in enumerate(range(0, n, batch_rows)):
            part_rules = [r for r in rules if r.scope == "row" or (i == 0 and r.scope == "schema")]
            plan.append(
                (
                    part_rules,
                    frame.iloc[start : start + batch_rows],
                    f"-part{i + 1:03d}",
                )
            )

    batch_definition = _batch_definition(context, feed)
    run_time = dt.datetime.now(dt.UTC)
    stored = False
    for part_rules, part, suffix in plan:
        if not part_rules:
            continue
        suite = suites.build_suite(suite_name, part_rules)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": part})
        suite_result = batch.validate(
            suite,
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": SAMPLE_SIZE,
                "include_unexpected_rows": False,
            },
        )
        for res in suite_result.results:
            rule = by_name[res.expectation_config.meta["rule"]]
            cols = frozenset(rule.columns)
            if res.result:
                _scrub_result(res.result, cols, pii)
            if cols & pii:
                _scrub_exception(res.exception_info)
            accs[rule.name].add(res, pii)
        if store_results:
            suite_result.meta["grassroots"] = {
                "file": file_name,
                "feed": feed,
                "delivery_date": day.isoformat(),
                "run_id": run_id,
                "part": suffix.lstrip("-") or "all",
            }
            suite_result.meta.pop("batch_parameters", None)
            store_suite_result(context, suite_result, suite_name, run_id + suffix, run_time, day, file_name)
            stored = True

    report = ValidationReport(
        feed=feed,
        suite=suite_name,
        file_name=file_name,
        delivery_date=day,
        run_id=run_id,
        row_count=n,
        results=[accs[r.name].outcome(suite_name, n) for r in rules],
        seconds=time.perf_counter() - started,
        stored=stored,
    )
    log.info("validation %s", report.summary())
    return report


def validate_marts(
    warehouse_path: str | Path | None = None,
    run_id: str = "manual",
    *,
    context: Any = None,
    store_results: bool = True,
    write_results: bool = True,
    as_of: str | dt.date | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ValidationReport:
    """Validate the published marts (suite ``marts`` on ``marts.mart_staffing_mismatch``).

    Run after dbt has built the marts. Reads only the columns the suite needs, validates them,
    stores the GX result for Data Docs and writes one row per expectation to
    ``audit.validation_results`` (feed ``marts``; rows of an earlier run with the same run_id
    are replaced). Returns the report: call ``report.raise_if_critical()`` to fail the task.
    A missing mart table is reported as failed critical expectations, not raised.
    """
    import pandas as pd

    from grassroots.warehouse import connect, ensure_schemas

    started = time.perf_counter()
    path = Path(warehouse_path) if warehouse_path else settings().warehouse_path
    day = _as_date(as_of or dt.date.today())
    context = context if context is not None else get_context()
    suites, _custom = import_expectations()
    rules = suites.marts_rules()
    wanted = list(dict.fromkeys(c for r in rules for c in r.columns))
    schema, table = suites.MARTS_TABLE.split(".")
    # On the PostgreSQL target the marts live there; the audit rows stay in the DuckDB file.
    from grassroots.pg_warehouse import marts_connection, warehouse_target

    on_postgres = warehouse_path is None and warehouse_target() == "postgres"
    reading = marts_connection() if on_postgres else connect(path)
    with reading as con:
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchall()
        }
        cols = [c for c in wanted if c in present]
        if cols:
            select = ", ".join(f'"{c}"' for c in cols)
            frame = con.execute(
                f"SELECT {select} FROM {suites.MARTS_TABLE} ORDER BY unit_code, month"
                if {"unit_code", "month"} <= set(cols)
                else f"SELECT {select} FROM {suites.MARTS_TABLE}"
            ).df()
        else:
            frame = pd.DataFrame()
    report = _run_suite(
        context,
        suites,
        suite_name=suites.MARTS_SUITE,
        feed=suites.MARTS_SUITE,
        frame=frame,
        rules=rules,
        pii=frozenset(),
        file_name=suites.MARTS_TABLE,
        day=day,
        run_id=run_id,
        store_results=store_results,
        batch_rows=batch_rows,
        started=started,
    )
    if write_results:
        with connect(path) as con:
            ensure_schemas(con)
            write_validation_results(con, report)
    return report


def write_validation_results(con: Any, report: ValidationReport) -> int:
    """Replace this run's rows for the report's file in ``audit.validation_results``; returns
    the number of rows written. (The ingest writes its own rows in its publishing transaction.)"""
    frame = results_frame(report)
    con.execute(
        "DELETE FROM audit.validation_results WHERE run_id = ? AND feed = ? AND file = ?",
        [report.run_id, report.feed, report.file_name],
    )
    con.register("_grassroots_validation_frame", frame)
    try:
        con.execute("INSERT INTO audit.validation_results BY NAME SELECT * FROM _grassroots_validation_frame")
    finally:
        con.unregister("_grassroots_validation_frame")
    return len(frame)


def store_suite_result(
    context: Any,
    suite_result: Any,
    suite_name: str,
    run_name: str,
    run_time: dt.datetime,
    day: dt.date,
    file_name: str,
) -> None:
    """Put one suite result in the GX results store, where Data Docs read it (both engines)."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    suite = ExpectationSuiteIdentifier(name=suite_name)
    context.validation_results_store.store_validation_results(
        suite_validation_result=suite_result,
        suite_validation_result_identifier=ValidationResultIdentifier(
            expectation_suite_identifier=suite,
            run_id=RunIdentifier(run_name=_safe_name(run_name), run_time=run_time),
            batch_identifier=_safe_name(f"{day.isoformat()}_{file_name}"),
        ),
        expectation_suite_identifier=suite,
    )


def results_frame(report: ValidationReport) -> pd.DataFrame:
    """One row per expectation, in the layout of ``audit.validation_results``."""
    import pandas as pd

    rows = [
        {
            "run_id": report.run_id,
            "feed": report.feed,
            "delivery_date": report.delivery_date,
            "file": report.file_name,
            "suite": r.suite,
            "expectation": r.expectation_type,
            "column": r.column,
            "severity": r.severity,
            "success": r.success,
            "element_count": r.element_count,
            "unexpected_count": r.unexpected_count,
            "unexpected_percent": r.unexpected_percent,
            "unexpected_sample": r.sample_text(),
        }
        for r in report.results
    ]
    frame = pd.DataFrame(rows, columns=list(RESULTS_COLUMNS))
    return frame.astype(
        {
            "run_id": "string",
            "feed": "string",
            "file": "string",
            "suite": "string",
            "expectation": "string",
            "column": "string",
            "severity": "string",
            "success": "bool",
            "element_count": "Int64",
            "unexpected_count": "Int64",
            "unexpected_percent": "Float64",
            "unexpected_sample": "string",
        }
    )
