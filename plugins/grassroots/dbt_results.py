"""dbt test results for auditors: ``run_results.json`` (+ ``manifest.json``) → ``audit.dbt_test_results``.

After each dbt layer the warehouse DAG records every test node of the invocation (generic data
tests and unit tests, passed or not), the same way the GX results of a delivery go to
``audit.validation_results``:

    load_run_results("target/run_results.json", "target/manifest.json", con, run_id)

The manifest, when given, says which model and column a test checks, which generic test it is
and its configured severity; without it those columns are null (severity is then inferred from a
``warn`` status only). Loading the same invocation again replaces its rows (idempotent).

With Cosmos, pass ``callback="grassroots.dbt_results.cosmos_callback"`` to the dbt operators: Cosmos
calls it with the temporary project directory after dbt ran and before it raises for failed
tests, so failures are recorded too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TEST_RESOURCE_TYPES = ("test", "unit_test")
COLUMNS = (
    "run_id",
    "invocation_id",
    "unique_id",
    "resource_type",
    "name",
    "test_name",
    "model",
    "column_name",
    "severity",
    "status",
    "failures",
    "message",
    "execution_time",
    "generated_at",
    "loaded_at",
)


def _timestamp(text: str | None) -> dt.datetime | None:
    """dbt's ISO timestamps ('2026-11-27T01:30:14.705944Z') as naive UTC datetimes."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _node_label(unique_id: str | None) -> str | None:
    """'model.grassroots.dim_unit' → 'dim_unit'; 'source.grassroots.raw.case_log' → 'raw.case_log'."""
    if not unique_id:
        return None
    parts = unique_id.split(".")
    if parts[0] == "source" and len(parts) >= 4:
        return ".".join(parts[2:4])
    return parts[2] if len(parts) >= 3 else unique_id


def _tested_columns(node: dict) -> str | None:
    column = node.get("column_name")
    if column:
        return str(column)
    kwargs = (node.get("test_metadata") or {}).get("kwargs") or {}
    for key in ("column_name", "combination_of_columns", "column_list", "columns"):
        value = kwargs.get(key)
        if isinstance(value, (list, tuple)) and value:
            return ",".join(map(str, value))
        if isinstance(value, str) and value:
            return value
    return None


def _describe(unique_id: str, resource_type: str, manifest: dict | None) -> dict[str, Any]:
    parts = unique_id.split(".")
    out: dict[str, Any] = {
        "name": parts[-2] if resource_type == "test" and len(parts) >= 4 else parts[-1],
        "test_name": None,
        "model": None,
        "column_name": None,
        "severity": None,
    }
    if resource_type == "unit_test" and len(parts) >= 4:
        out["model"] = parts[2]
    if not manifest:
        return out
    node = (manifest.get("nodes") or {}).get(unique_id) or (manifest.get("unit_tests") or {}).get(unique_id)
    if not node:
        return out
    out["name"] = node.get("name") or out["name"]
    if resource_type == "unit_test":
        out["model"] = node.get("model") or out["model"]
        out["severity"] = "error"
        return out
    meta = node.get("test_metadata") or {}
    out["test_name"] = meta.get("name")
    attached = node.get("attached_node") or next(
        iter((node.get("depends_on") or {}).get("nodes") or []), None
    )
    out["model"] = _node_label(attached)
    out["column_name"] = _tested_columns(node)
    severity = (node.get("config") or {}).get("severity")
    out["severity"] = str(severity).lower() if severity else None
    return out


def parse_run_results(
    run_results: dict,
    manifest: dict | None,
    run_id: str,
    *,
    resource_types: tuple[str, ...] = TEST_RESOURCE_TYPES,
) -> list[dict[str, Any]]:
    """One dict per test node of the invocation, in the layout of ``audit.dbt_test_results``."""
    metadata = run_results.get("metadata") or {}
    invocation_id = metadata.get("invocation_id")
    if not invocation_id:
        raise ValueError("run_results.json has no metadata.invocation_id")
    generated_at = _timestamp(metadata.get("generated_at"))
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for result in run_results.get("results") or []:
        unique_id = result.get("unique_id") or ""
        resource_type = unique_id.split(".", 1)[0]
        if resource_type not in resource_types:
            continue
        described = _describe(unique_id, resource_type, manifest)
        status = result.get("status")
        if described["severity"] is None and status == "warn":
            described["severity"] = "warn"
        failures = result.get("failures")
        rows.append(
            {
                "run_id": run_id,
                "invocation_id": invocation_id,
                "unique_id": unique_id,
                "resource_type": resource_type,
                **described,
                "status": str(status) if status is not None else None,
                "failures": int(failures) if failures is not None else None,
                "message": result.get("message"),
                "execution_time": float(result.get("execution_time") or 0.0),
                "generated_at": generated_at,
                "loaded_at": loaded_at,
            }
        )
    return rows


def load_run_results(
    run_results_path: str | Path,
    manifest_path: str | Path | None,
    warehouse_con: Any,
    run_id: str,
) -> int:
    """Write the test results of one dbt invocation to ``audit.dbt_test_results``.

    Args:
        run_results_path: dbt's ``target/run_results.json``.
        manifest_path: the ``manifest.json`` of the same project (None: model, column, test name
            and severity are left null).
        warehouse_con: an open DuckDB connection to the warehouse (the audit schema is created if
            missing).
        run_id: the Airflow run id (or any label), recorded with every row.

    Returns the number of rows written. Rows of the same invocation are replaced, in one
    transaction.
    """
    import pandas as pd

    from grassroots.warehouse import ensure_schemas

    run_results = json.loads(Path(run_results_path).read_text(encoding="utf-8"))
    manifest = None
    if manifest_path is not None and Path(manifest_path).is_file():
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    rows = parse_run_results(run_results, manifest, run_id)
    invocation_id = run_results["metadata"]["invocation_id"]
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).astype(
        {
            "failures": "Int64",
            "execution_time": "Float64",
            "generated_at": "datetime64[us]",
            "loaded_at": "datetime64[us]",
        }
    )
    ensure_schemas(warehouse_con)
    warehouse_con.execute("BEGIN TRANSACTION")
    try:
        warehouse_con.execute("DELETE FROM audit.dbt_test_results WHERE invocation_id = ?", [invocation_id])
        if len(frame):
            warehouse_con.register("_grassroots_dbt_results", frame)
            try:
                warehouse_con.execute(
                    "INSERT INTO audit.dbt_test_results BY NAME SELECT * FROM _grassroots_dbt_results"
                )
            finally:
                warehouse_con.unregister("_grassroots_dbt_results")
        warehouse_con.execute("COMMIT")
    except BaseException:
        warehouse_con.execute("ROLLBACK")
        raise
    failed = sum(1 for r in rows if r["status"] not in ("pass", "success"))
    log.info(
        "dbt invocation %s: %d test result(s) recorded, %d not passed",
        invocation_id,
        len(rows),
        failed,
    )
    return len(rows)


def failed_tests(run_results: Path) -> list[str]:
    """Tests (data and unit tests) that failed in a dbt run: data, not a transient error."""
    results = json.loads(run_results.read_text(encoding="utf-8")).get("results", [])
    return [
        r["unique_id"]
        for r in results
        if r.get("status") == "fail" and str(r.get("unique_id", "")).startswith(("test.", "unit_test."))
    ]


def cosmos_callback(project_dir: str, context: dict | None = None, **_: Any) -> int:
    """Cosmos ``callback``: record the tests of the dbt run that just finished in ``project_dir``.

    A failed test then fails the task *without retry* (AirflowFailException): rebuilding the same
    data gives the same failure, and at national scale a retry re-runs a 20-minute stage for
    nothing. Errors (a locked file, a lost connection) keep the stage's retry.
    """
    from grassroots.warehouse import connect

    target = Path(project_dir) / "target"
    run_results = target / "run_results.json"
    if not run_results.is_file():
        log.warning("no %s: no dbt test results to record", run_results)
        return 0
    run_id = str((context or {}).get("run_id") or "manual")
    with connect() as con:
        recorded = load_run_results(run_results, target / "manifest.json", con, run_id)
    failed = failed_tests(run_results)
    if failed:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{len(failed)} dbt test(s) failed (data, not retried; rows in audit.dbt_test_results): "
            + ", ".join(failed[:20])
        )
    return recorded
