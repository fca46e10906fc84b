"""Load DuckDB extensions offline from their PyPI wheels.

``INSTALL`` downloads from DuckDB's extension host, which intranets (and CI here) cannot reach; the
``duckdb-extension-*`` wheels ship the binaries, so we LOAD them by path instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb


def extension_path(name: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"DuckDB extension {name!r} is not installed: add duckdb-extension-{name.replace('_', '-')}"
            f"=={duckdb.__version__} to the lock file"
        )
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"{path} missing: the extension wheel does not match duckdb {duckdb.__version__}")
    return path


def load(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"LOAD '{extension_path(name)}'")
