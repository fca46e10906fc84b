"""Supplier mappings: how one supplier's delivery files map onto a canonical feed.

A mapping is a YAML file in ``include/mappings/``. Onboarding a new supplier means adding one such
file, never code. Mappings are validated when loaded: an unknown key, an unknown canonical column or
a missing required setting is an error naming the file and the key.

Every key and value is read as the text the supplier wrote: YAML 1.1 typing is off (`NO` stays
`NO`, `0123` stays `0123`, `null` stays `null`), and a key written twice in one block (including
a second top-level `value_maps:`) is an error naming both lines, as are two sources for one
canonical column. Beyond renaming: `defaults` (a constant for a column the file does not have),
`null_values` (labels that mean "no value", per column) and `unmapped` (what a value missing from
a value map becomes: `keep` (default; an enum column then quarantines it as not_in_enum), `null`,
or `quarantine` (rule `unmapped_value:<column>`)), and `timezone` (the IANA zone the supplier's
timestamps are written in; default Asia/Shanghai, the zone every timestamp is stored in), and
`derive` (a column built from several source columns by one operation of a closed set:
coalesce, first_non_empty, concat, date_from_parts; no expressions, no SQL), and
`staff_id_is_id_number` (roster feeds: the supplier's staff ids are resident ID numbers, so they
are pseudonymised like `id_number`; see grassroots.pii_content).
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
THOUSANDS_SEPARATORS = (None, ",", " ", "'")
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
    "thousands_separator",
    "header_row",
    "header_rows",
    "sheet",
    "columns",
    "date_formats",
    "timestamp_formats",
    "value_maps",
    "priority",
    "defaults",
    "null_values",
    "unmapped",
    "timezone",
    "derive",
    "staff_id_is_id_number",
}
# The closed set of derivations (no expressions, no SQL from a mapping): op -> what its argument is.
DERIVE_OPS = {
    "coalesce": "a list of source headers: the first that is not null",
    "first_non_empty": "a list of source headers: the first that is not blank",
    "concat": "a list of source headers, joined by `separator` (default ' ')",
    "date_from_parts": "{year: header, month: header, day: header}",
}
WAREHOUSE_TIMEZONE = "Asia/Shanghai"  # every timestamp is stored as wall-clock time in this zone
UNMAPPED_POLICIES = ("keep", "null", "quarantine")


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
    defaults: dict[str, str] = field(default_factory=dict)  # canonical column -> constant (no source)
    null_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> labels meaning null
    unmapped: dict[str, str] = field(default_factory=dict)  # column -> keep | null | quarantine
    timezone: str = WAREHOUSE_TIMEZONE  # the zone the supplier's timestamps are written in
    # Numbers may group digits by three with this character (row_rules: the number grammar).
    thousands_separator: str | None = None
    # canonical column -> (op, source headers, separator) for columns built from several sources
    derive: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)
    # The supplier's staff_id is the person's resident ID number (工号 = 身份证号): hashed like id_number.
    staff_id_is_id_number: bool = False

    def sources(self) -> set[str]:
        """Every source header the mapping reads (renamed or used by a derivation)."""
        return set(self.columns) | {h for _, headers, _ in self.derive.values() for h in headers}

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


class _TextLoader(yaml.SafeLoader):
    """YAML as text: no implicit typing (booleans, octals, nulls), duplicate keys refused with lines."""


# No implicit resolvers: every plain scalar is the string the supplier wrote.
_TextLoader.yaml_implicit_resolvers = {}


class _Block(dict):
    """A YAML mapping that remembers the line of each key (for messages naming the line)."""

    lines: dict[str, int]


def _construct_block(loader: _TextLoader, node: yaml.MappingNode) -> _Block:
    block = _Block()
    block.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in block:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} written twice (lines {block.lines[key]} and {line})",
                key_node.start_mark,
            )
        block[key] = loader.construct_object(value_node, deep=True)
        block.lines[key] = line
    return block


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_block)


def read_yaml_text(text: str) -> Any:
    """Parse mapping YAML with every scalar as text and duplicate keys refused."""
    return yaml.load(text, Loader=_TextLoader)  # noqa: S506 - a SafeLoader subclass


def _line(block: Any, key: str) -> str:
    lines = getattr(block, "lines", None) or {}
    return f" (line {lines[key]})" if key in lines else ""


def _int(doc: dict, key: str, default: int, minimum: int, path: Path) -> int:
    value = doc.get(key, default)
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < minimum:
        where = _line(doc, key)
        raise _fail(path, f"'{key}' must be a positive integer (>= {minimum}), not {value!r}{where}")
    return int(text)


def _column_dict(doc: dict, key: str, feed, path: Path) -> dict:
    block = doc.get(key) or {}
    if not isinstance(block, dict):
        raise _fail(path, f"'{key}' must map canonical column -> value{_line(doc, key)}")
    for col in block:
        if col not in feed.column_names:
            raise _fail(path, f"{key}.{col}: not a canonical column of feed {feed.name}{_line(block, col)}")
    return block


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
    sources: dict[str, list[str]] = {}
    for src, dst in columns.items():
        sources.setdefault(str(dst), []).append(str(src))
    for dst, srcs in sources.items():
        if len(srcs) > 1:
            where = ", ".join(f"{s!r}{_line(columns, s)}" for s in srcs)
            raise _fail(path, f"two sources for canonical column {dst!r}: {where}; keep one")
    header_row = _int(doc, "header_row", 1, 1, path)
    header_rows = _int(doc, "header_rows", 1, 1, path)
    priority = _int(doc, "priority", 0, 0, path)
    defaults = _column_dict(doc, "defaults", feed, path)
    for col, value in defaults.items():
        if col in sources:
            raise _fail(
                path,
                f"defaults.{col}{_line(defaults, col)}: the column also has a source "
                f"({sources[col][0]!r}); a default is for a column the file does not have",
            )
        allowed = feed.enums.get(col)
        if isinstance(value, (dict, list)) or (allowed and str(value) not in allowed):
            raise _fail(
                path,
                f"defaults.{col}{_line(defaults, col)}: {value!r} must be one text value"
                + (f" among {list(allowed)}" if allowed else ""),
            )
    null_values = _column_dict(doc, "null_values", feed, path)
    for col, labels in null_values.items():
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise _fail(path, f"null_values.{col}{_line(null_values, col)}: must be a list of labels")
    unmapped = _column_dict(doc, "unmapped", feed, path)
    for col, policy in unmapped.items():
        if policy not in UNMAPPED_POLICIES:
            raise _fail(
                path, f"unmapped.{col}{_line(unmapped, col)}: {policy!r} not one of {UNMAPPED_POLICIES}"
            )
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
    if doc.get("thousands_separator") not in THOUSANDS_SEPARATORS:
        raise _fail(path, f"'thousands_separator' must be one of {THOUSANDS_SEPARATORS[1:]}")
    if "sheet" in doc and not isinstance(doc["sheet"], str):
        raise _fail(path, "'sheet' must be a worksheet name")
    if fmt != "xlsx" and ("sheet" in doc or header_rows > 1):
        raise _fail(path, "'sheet' and 'header_rows' > 1 apply to format xlsx only")
    if header_rows > header_row:
        raise _fail(path, "'header_rows' cannot exceed 'header_row' (the row of the last header line)")
    derive = _parse_derive(doc, feed, sources, defaults, path)
    staff_id_is_id_number = _staff_id_is_id_number(doc, feed, path)
    _check_schema(doc, path)
    timezone = str(doc.get("timezone", WAREHOUSE_TIMEZONE))
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError for malformed keys
        raise _fail(
            path,
            f"timezone {timezone!r}{_line(doc, 'timezone')}: not an IANA zone such as "
            "'Asia/Shanghai' or 'America/New_York'",
        ) from None
    return Mapping(
        name=str(doc["name"]),
        feed=feed.name,
        file_pattern=str(doc["file_pattern"]),
        format=fmt,
        encoding=encoding,
        delimiter=str(doc.get("delimiter", ",")),
        header_row=header_row,
        header_rows=header_rows,
        sheet=doc.get("sheet"),
        columns={str(k).strip(): str(v) for k, v in columns.items()},
        date_formats=tuple(doc.get("date_formats") or ()),
        timestamp_formats=tuple(doc.get("timestamp_formats") or ()),
        value_maps={c: {str(k): str(v) for k, v in vm.items()} for c, vm in value_maps.items()},
        description=str(doc.get("description", "")),
        supplier=str(doc.get("supplier", "")),
        priority=priority,
        path=path,
        defaults={c: str(v) for c, v in defaults.items()},
        null_values={c: tuple(v) for c, v in null_values.items()},
        unmapped={c: str(p) for c, p in unmapped.items()},
        timezone=timezone,
        derive=derive,
        thousands_separator=doc.get("thousands_separator"),
        staff_id_is_id_number=staff_id_is_id_number,
    )


def _staff_id_is_id_number(doc: dict, feed, path: Path) -> bool:
    """`staff_id_is_id_number: true|false` (text, as every value): only for a feed with a staff_id."""
    if "staff_id_is_id_number" not in doc:
        return False
    value = str(doc["staff_id_is_id_number"]).strip().lower()
    where = f"staff_id_is_id_number{_line(doc, 'staff_id_is_id_number')}"
    if value not in ("true", "false"):
        raise _fail(path, f"{where}: must be true or false, not {doc['staff_id_is_id_number']!r}")
    if "staff_id" not in feed.column_names:
        raise _fail(path, f"{where}: feed {feed.name} has no staff_id column")
    return value == "true"


SCHEMA_PATH = Path(__file__).resolve().parents[2] / "include" / "mappings" / "mapping.schema.json"
_SCHEMA: list = []


def _check_schema(doc: dict, path: Path) -> None:
    """The JSON Schema editors use (include/mappings/mapping.schema.json) holds for every mapping."""
    import json

    from jsonschema import Draft202012Validator

    if not _SCHEMA:
        _SCHEMA.append(Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))))
    errors = sorted(_SCHEMA[0].iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        top = str(first.absolute_path[0]) if first.absolute_path else ""
        raise _fail(path, f"{where}{_line(doc, top)}: {first.message} (mapping.schema.json)")


def _parse_derive(doc: dict, feed, sources: dict, defaults: dict, path: Path) -> dict:
    block = _column_dict(doc, "derive", feed, path)
    out = {}
    for col, spec in block.items():
        where = f"derive.{col}{_line(block, col)}"
        if col in sources or col in defaults:
            raise _fail(path, f"{where}: the column already has a source or a default; keep one")
        ops = [k for k in spec if k in DERIVE_OPS] if isinstance(spec, dict) else []
        extra = sorted(set(spec) - set(DERIVE_OPS) - {"separator"}) if isinstance(spec, dict) else []
        if len(ops) != 1 or extra:
            allowed = "; ".join(f"{k}: {v}" for k, v in DERIVE_OPS.items())
            raise _fail(path, f"{where}: one operation of the closed set ({allowed})")
        op, arg = ops[0], spec[ops[0]]
        if op == "date_from_parts":
            if not isinstance(arg, dict) or sorted(arg) != ["day", "month", "year"]:
                raise _fail(
                    path, f"{where}: date_from_parts takes {{year: header, month: header, day: header}}"
                )
            headers = (str(arg["year"]), str(arg["month"]), str(arg["day"]))
        else:
            if not isinstance(arg, list) or len(arg) < 2 or not all(isinstance(h, str) for h in arg):
                raise _fail(path, f"{where}: {op} takes a list of two or more source headers")
            headers = tuple(arg)
        out[col] = (op, headers, str(spec.get("separator", " ")))
    return out


def load_mapping(path: Path) -> Mapping:
    try:
        doc = read_yaml_text(path.read_text(encoding="utf-8"))
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
