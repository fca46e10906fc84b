"""Supplier mappings: how one supplier's delivery files map onto a canonical feed.

A mapping is a YAML file in ``include/mappings/``. Onboarding a new supplier means adding one such
file, never code. Mappings are validated when loaded: an unknown key, an unknown canonical column or
a missing required setting is an error naming the file and the key.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grassroots.config import settings
from grassroots.feeds import get_feed

FORMATS = ("csv", "xlsx", "parquet")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "auto")
_KEYS = {
    "name",
    "feed",
    "description",
    "supplier",
    "file_pattern",
    "format",
    "encoding",
    "delimiter",
    "header_row",
    "header_rows",
    "sheet",
    "columns",
    "date_formats",
    "timestamp_formats",
    "value_maps",
    "priority",
}


class MappingError(ValueError):
    pass


@dataclass(frozen=True)
class Mapping:
    name: str
    feed: str
    file_pattern: str
    format: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    header_row: int = 1  # 1-based row holding the (last) header line
    header_rows: int = 1  # >1 when a merged header spans several rows (joined with '_')
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # source header -> canonical name
    date_formats: tuple[str, ...] = ()
    timestamp_formats: tuple[str, ...] = ()
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    description: str = ""
    supplier: str = ""
    priority: int = 0  # higher wins when several mappings match a file
    path: Path | None = None

    def matches(self, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name, self.file_pattern)

    def canonical_name(self, source_header: str) -> str | None:
        """Canonical column for a source header; identity when the header is already canonical."""
        header = source_header.strip().lstrip("\ufeff")
        if header in self.columns:
            return self.columns[header]
        if header in get_feed(self.feed).column_names:
            return header
        return None


def _fail(path: Path, msg: str) -> MappingError:
    return MappingError(f"mapping {path}: {msg}")


def parse_mapping(doc: Any, path: Path) -> Mapping:
    if not isinstance(doc, dict):
        raise _fail(path, "must be a YAML mapping of keys to values")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise _fail(path, f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    for required in ("name", "feed", "file_pattern"):
        if required not in doc:
            raise _fail(path, f"missing required key '{required}'")
    try:
        feed = get_feed(str(doc["feed"]))
    except ValueError as exc:
        raise _fail(path, str(exc)) from None
    fmt = str(doc.get("format", "csv")).lower()
    if fmt not in FORMATS:
        raise _fail(path, f"format {fmt!r} not one of {FORMATS}")
    encoding = str(doc.get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise _fail(path, f"encoding {encoding!r} not one of {ENCODINGS}")
    columns = doc.get("columns") or {}
    if not isinstance(columns, dict):
        raise _fail(path, "'columns' must map source header -> canonical column")
    bad = sorted(v for v in columns.values() if v not in feed.column_names)
    if bad:
        raise _fail(path, f"columns map to unknown canonical column(s) {bad} of feed {feed.name}")
    for key in ("header_row", "header_rows", "priority"):
        if key in doc and (not isinstance(doc[key], int) or doc[key] < (0 if key == "priority" else 1)):
            raise _fail(path, f"'{key}' must be a positive integer")
    value_maps = doc.get("value_maps") or {}
    if not isinstance(value_maps, dict):
        raise _fail(path, "'value_maps' must map canonical column -> {supplier value: canonical value}")
    for col, vm in value_maps.items():
        if col not in feed.column_names or not isinstance(vm, dict):
            raise _fail(path, f"value_maps.{col}: must be a canonical column with a dict of values")
        allowed = feed.enums.get(col)
        wrong = sorted(str(v) for v in vm.values() if allowed and str(v) not in allowed)
        if wrong:
            raise _fail(path, f"value_maps.{col}: {wrong} not among the canonical values {list(allowed)}")
    for key in ("date_formats", "timestamp_formats"):
        fmts = doc.get(key) or []
        if not isinstance(fmts, list) or not all(isinstance(f, str) and "%" in f for f in fmts):
            raise _fail(path, f"'{key}' must be a list of strptime formats such as '%Y/%m/%d'")
    if "delimiter" in doc and (not isinstance(doc["delimiter"], str) or len(doc["delimiter"]) != 1):
        raise _fail(path, "'delimiter' must be a single character")
    if "sheet" in doc and not isinstance(doc["sheet"], str):
        raise _fail(path, "'sheet' must be a worksheet name")
    if fmt != "xlsx" and ("sheet" in doc or int(doc.get("header_rows", 1)) > 1):
        raise _fail(path, "'sheet' and 'header_rows' > 1 apply to format xlsx only")
    if int(doc.get("header_rows", 1)) > int(doc.get("header_row", 1)):
        raise _fail(path, "'header_rows' cannot exceed 'header_row' (the row of the last header line)")
    return Mapping(
        name=str(doc["name"]),
        feed=feed.name,
        file_pattern=str(doc["file_pattern"]),
        format=fmt,
        encoding=encoding,
        delimiter=str(doc.get("delimiter", ",")),
        header_row=int(doc.get("header_row", 1)),
        header_rows=int(doc.get("header_rows", 1)),
        sheet=doc.get("sheet"),
        columns={str(k).strip(): str(v) for k, v in columns.items()},
        date_formats=tuple(doc.get("date_formats") or ()),
        timestamp_formats=tuple(doc.get("timestamp_formats") or ()),
        value_maps={c: {str(k): str(v) for k, v in vm.items()} for c, vm in value_maps.items()},
        description=str(doc.get("description", "")),
        supplier=str(doc.get("supplier", "")),
        priority=int(doc.get("priority", 0)),
        path=path,
    )


def load_mapping(path: Path) -> Mapping:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None
    return parse_mapping(doc, path)


_CACHE: dict[Path, tuple[tuple, list[Mapping]]] = {}


def load_mappings(directory: Path | None = None) -> list[Mapping]:
    """Every mapping of the directory, validated; re-read only when a file there changed."""
    directory = directory or settings().mappings_dir
    paths = sorted(directory.glob("*.y*ml"))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    cached = _CACHE.get(directory)
    if cached and cached[0] == stamp:
        return list(cached[1])
    mappings = [load_mapping(p) for p in paths]
    names = [m.name for m in mappings]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MappingError(f"mappings in {directory}: name(s) {dupes} used by more than one file")
    _CACHE[directory] = (stamp, mappings)
    return list(mappings)


def mapping_for(feed: str, file_name: str, mappings: list[Mapping] | None = None) -> Mapping:
    """The mapping for a delivered file: the highest-priority mapping of the feed that matches."""
    candidates = [m for m in (mappings or load_mappings()) if m.feed == feed and m.matches(file_name)]
    if not candidates:
        raise MappingError(
            f"no supplier mapping of feed {feed} matches file {file_name!r}: add one to include/mappings/"
        )
    candidates.sort(key=lambda m: (-m.priority, m.name))
    return candidates[0]
