"""The feed suites evaluated inside DuckDB, reported as Great Expectations results (issue #8).

Great Expectations' pandas engine checks a national day of cases (1.5 million rows, 45
expectations) at ~30,000 rows/s, after the delivery has been copied into a pandas frame; its SQL
engine does not work on DuckDB (TOOLING-FACTS). This module keeps everything GX gives auditors
(the suite as GX expectations built by ``expectations/suites.py``, GX result objects with the same
counts, ``mostly`` decisions and PII-masked samples, the validation-results store and Data Docs) and
computes the metrics in the ingest's own DuckDB staging table instead: one aggregate query for
every row rule, one grouped query per uniqueness rule, and a sample query (10 rows) only for the
rules that found something.

The semantics are GX's (``tests/expectations/test_validation_duckdb.py`` holds both engines to the
same outcomes on deliveries with every kind of defect): nulls are "missing" and skipped by value
rules, ``unexpected_percent`` is over the non-missing rows, row conditions restrict the domain,
compound keys flag every row of a duplicated key, timestamps in order skip nulls. An expectation
type or row condition not translated here raises :class:`NotTranslatable`; the caller then falls
back to the pandas engine, so a new rule in the suites never silently goes unchecked.
"""

from __future__ import annotations

import collections
import datetime as dt
import time
from typing import Any

import duckdb

from grassroots.feeds import get_feed
from grassroots.validation import (
    SAMPLE_SIZE,
    ValidationReport,
    _Acc,
    _applicable,
    _as_date,
    _scrub_exception,
    _scrub_result,
    get_context,
    import_expectations,
    log,
    pii_columns,
    store_suite_result,
)


class NotTranslatable(Exception):
    """The suite has a rule this engine does not evaluate (use the pandas engine)."""


# The suites' pandas row conditions, as SQL.
ROW_CONDITIONS = {
    'status == "closed"': "status = 'closed'",
    '~unit_code.str.endswith("000")': "NOT suffix(unit_code, '000')",
    'unit_code.str.endswith("000")': "suffix(unit_code, '000')",
    "(hire_date.isna() | (hire_date <= snapshot_date)) & (exit_date.isna() | (exit_date > snapshot_date))": (
        "(hire_date IS NULL OR hire_date <= snapshot_date) "
        "AND (exit_date IS NULL OR exit_date > snapshot_date)"
    ),
}
_KIND = {
    "VARCHAR": "string",
    "DOUBLE": "numeric",
    "BIGINT": "numeric",
    "INTEGER": "numeric",
    "DATE": "datetime",
    "TIMESTAMP": "datetime",
}
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _id_ok(c: str) -> str:
    weighted = " + ".join(
        f"{w} * coalesce(TRY_CAST(substr({c}, {i + 1}, 1) AS INTEGER), 0)" for i, w in enumerate(_ID_WEIGHTS)
    )
    return (
        f"(regexp_full_match({c}, '[0-9]{{17}}[0-9X]') AND "
        f"substr('10X98765432', (({weighted}) % 11) + 1, 1) = substr({c}, 18, 1))"
    )


def _flag(rule: str) -> str:
    return f"list_contains(_rules, {_lit(rule)})"


def _row_rule_flags(feed, columns: set[str]) -> dict[str, tuple[str, ...] | None]:
    """The ingest's row rules (``checked._rules``) whose condition is exactly an expectation's:
    name -> enum values or key columns. Empty when the table has no ``_rules`` (other callers)."""
    if "_rules" not in columns:
        return {}
    from grassroots.row_rules import rule_checks

    out: dict[str, tuple[str, ...] | None] = {}
    for name, _ in rule_checks(feed):
        kind, _, col = name.partition(":")
        if kind == "not_in_enum":
            out[name] = tuple(feed.enums.get(col, ()))
        elif kind == "unknown_unit_code":
            out[name] = None
        elif name == "duplicate_key":
            out[name] = tuple(feed.key)
    return out


class _Spec:
    """One rule as SQL: domain (row condition), missing and unexpected conditions."""

    def __init__(self, rule, cfg, known_codes: str, row_rules: dict[str, tuple[str, ...] | None]) -> None:
        self.rule, self.cfg = rule, cfg
        self.duplicate_flag: str | None = None
        # The rule's own kwargs (GX rewrites row conditions into objects in the configuration).
        kw = dict(rule.kwargs)
        if rule.mostly is not None:
            kw["mostly"] = rule.mostly
        self.kw = kw
        self.kind = "map"
        self.columns = list(rule.columns)
        self.domain = "TRUE"
        cond = kw.get("row_condition")
        if cond:
            if cond not in ROW_CONDITIONS:
                raise NotTranslatable(f"row condition {cond!r}")
            self.domain = ROW_CONDITIONS[cond]
        t = cfg.type
        col = kw.get("column")
        c = _q(col) if col else None
        self.missing = f"{c} IS NULL" if c else "FALSE"
        self.unexpected = "FALSE"
        if t == "expect_column_values_to_not_be_null":
            self.kind = "not_null"
            self.missing = "FALSE"
            self.unexpected = f"{c} IS NULL"
        elif t == "expect_column_values_to_be_in_set":
            self.unexpected = f"{c} NOT IN ({', '.join(_lit(v) for v in kw['value_set'])})"
            flag = f"not_in_enum:{col}"
            if flag in row_rules and tuple(row_rules[flag] or ()) == tuple(kw["value_set"]):
                # the ingest's row rule tested exactly this (same column, same values)
                self.unexpected = _flag(flag)
        elif t == "expect_column_values_to_match_regex":
            self.unexpected = f"NOT regexp_matches({c}, {_lit(kw['regex'])})"
            flag = f"unknown_unit_code:{col}"
            if flag in row_rules and kw["regex"] == "^[0-9]{12}$":
                # every known division code has 12 digits: only rows with an unknown code can fail
                self.unexpected = f"{_flag(flag)} AND {self.unexpected}"
        elif t == "expect_column_values_to_be_in_reference_set":
            self.unexpected = f"{c} NOT IN (SELECT unit_code FROM {known_codes})"
            flag = f"unknown_unit_code:{col}"
            if flag in row_rules:  # the row rule is `c IS NOT NULL AND c NOT IN known_codes`
                self.unexpected = _flag(flag)
        elif t == "expect_column_values_to_be_valid_chinese_id_number":
            if kw.get("allow_lowercase_x"):
                raise NotTranslatable("allow_lowercase_x")
            self.unexpected = f"NOT {_id_ok(c)}"
        elif t == "expect_column_values_to_be_between":
            parts = []
            if kw.get("min_value") is not None:
                parts.append(f"{c} {'<=' if kw.get('strict_min') else '<'} {_lit(kw['min_value'])}")
            if kw.get("max_value") is not None:
                parts.append(f"{c} {'>=' if kw.get('strict_max') else '>'} {_lit(kw['max_value'])}")
            self.unexpected = " OR ".join(parts) or "FALSE"
        elif t == "expect_timestamps_in_order":
            self.kind = "multi"
            cols = [_q(x) for x in kw["column_list"]]
            self.missing = self._ignore(kw.get("ignore_row_if", "all_values_are_missing"), cols)
            checks = [f"{cols[j]} < greatest({', '.join(cols[:j])})" for j in range(1, len(cols))]
            self.unexpected = " OR ".join(checks)
        elif t == "expect_column_pair_values_a_to_be_greater_than_b":
            self.kind = "pair"
            a, b = _q(kw["column_A"]), _q(kw["column_B"])
            self.missing = self._ignore(kw.get("ignore_row_if", "both_values_are_missing"), [a, b])
            self.unexpected = f"NOT ({a} {'>=' if kw.get('or_equal') else '>'} {b})"
        elif t == "expect_compound_columns_to_be_unique":
            self.kind = "unique"
            if "duplicate_key" in row_rules and sorted(kw["column_list"]) == sorted(
                row_rules["duplicate_key"] or ()
            ):
                # no later row repeats an earlier row's key => no duplicated key at all
                self.duplicate_flag = _flag("duplicate_key")
            cols = [_q(x) for x in kw["column_list"]]
            self.missing = self._ignore(kw.get("ignore_row_if", "all_values_are_missing"), cols)
        elif t == "expect_column_sum_within_groups_to_be_at_most":
            self.kind = "group_at_most"
            cols = [_q(x) for x in kw["column_list"]]
            self.missing = self._ignore(kw.get("ignore_row_if", "any_value_is_missing"), cols)
        elif t == "expect_table_row_count_to_be_between":
            self.kind = "row_count"
        elif t == "expect_column_to_exist":
            self.kind = "exists"
        elif t == "expect_column_dtype_kind_to_be_in_set":
            self.kind = "dtype"
        else:
            raise NotTranslatable(t)
        if self.kind in ("map", "not_null", "multi", "pair") and "mostly" in kw:
            self.mostly = float(kw["mostly"])
        else:
            self.mostly = float(kw.get("mostly", 1.0)) if self.kind == "unique" else 1.0

    @staticmethod
    def _ignore(mode: str, cols: list[str]) -> str:
        if mode in ("all_values_are_missing", "both_values_are_missing"):
            return " AND ".join(f"{c} IS NULL" for c in cols)
        if mode in ("any_value_is_missing", "either_value_is_missing"):
            return " OR ".join(f"{c} IS NULL" for c in cols)
        if mode == "never":
            return "FALSE"
        raise NotTranslatable(f"ignore_row_if {mode!r}")


def _py(value: Any) -> Any:
    """A value as the pandas engine shows it: dates are datetime64 there (midnight timestamps)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.min)
    return value


def _sample_value(spec: _Spec, row: tuple, names: list[str], types: dict[str, str]) -> Any:
    row = tuple(_py(v) for v in row)
    if spec.kind == "not_null":  # the pandas engine's null markers, by column type
        t = types.get(names[0])
        return "NaT" if t in ("DATE", "TIMESTAMP") else "<NA>" if t in ("BIGINT", "INTEGER") else float("nan")
    if spec.kind in ("multi", "unique", "group_at_most"):
        return {
            n: (("NaT" if types.get(n) in ("DATE", "TIMESTAMP") else None) if v is None else v)
            for n, v in zip(names, row, strict=True)
        }
    if spec.kind == "pair":
        return list(row)
    return row[0]


def _result_for(
    spec: _Spec, n: int, counts: tuple[int, int, int], sample: list, rows: list
) -> tuple[bool, dict]:
    domain_n, missing, unexpected = counts
    nonmissing = domain_n - missing
    if spec.kind == "not_null":
        pct = 100.0 * unexpected / domain_n if domain_n else None
        success = domain_n == 0 or (domain_n - unexpected) / domain_n >= spec.mostly
        result = {"element_count": domain_n, "unexpected_count": unexpected, "unexpected_percent": pct}
    else:
        pct = 100.0 * unexpected / nonmissing if nonmissing else None
        success = nonmissing <= 0 or (nonmissing - unexpected) / nonmissing >= spec.mostly
        result = {
            "element_count": domain_n,
            "unexpected_count": unexpected,
            "unexpected_percent": pct,
            "missing_count": missing,
            "missing_percent": 100.0 * missing / domain_n if domain_n else None,
            "unexpected_percent_total": 100.0 * unexpected / domain_n if domain_n else None,
            "unexpected_percent_nonmissing": pct,
        }
    result["partial_unexpected_list"] = sample
    counter = collections.Counter(repr(v) for v in sample)
    first = {}
    for v in sample:
        first.setdefault(repr(v), v)
    result["partial_unexpected_counts"] = [{"value": first[k], "count": c} for k, c in counter.most_common()]
    result["partial_unexpected_index_list"] = rows
    return success, result


def validate_table(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    *,
    table: str = "checked",
    known_codes: str = "known_codes",
    reference: str | None,
    file_name: str,
    delivery_date: str | dt.date,
    run_id: str,
    previous_row_count: int | None = None,
    context: Any = None,
    store_results: bool = True,
) -> ValidationReport:
    """Validate the typed delivery in DuckDB table ``table`` with ``feed``'s suite.

    ``reference`` is the registered reference of the division codes (the same string the pandas
    engine's results carry); the membership test itself reads table ``known_codes``. Raises
    :class:`NotTranslatable` before computing anything when a rule has no SQL form here.
    """
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    started = time.perf_counter()
    spec = get_feed(feed)
    day = _as_date(delivery_date)
    suites, _custom = import_expectations()
    types = {
        n: t.upper()
        for n, t in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    }
    rules = suites.rules_for(
        feed, unit_codes_reference=reference, delivery_date=day, previous_row_count=previous_row_count
    )
    rules = _applicable(rules, set(types))
    suite = suites.build_suite(feed, rules)
    flags = _row_rule_flags(spec, set(types))
    specs = [
        _Spec(rule, exp.configuration, known_codes, flags)
        for rule, exp in zip(rules, suite.expectations, strict=True)
    ]
    context = context if context is not None else get_context()
    pii = pii_columns(spec)

    # One pass for every map-like rule: rows in the domain, missing, unexpected.
    aggs = ["count(*)"]
    index: dict[int, int] = {}
    for i, s in enumerate(specs):
        if s.kind in ("map", "not_null", "multi", "pair"):
            index[i] = len(aggs)
            dom = s.domain
            aggs += [
                f"count(*) FILTER (WHERE {dom})",
                f"count(*) FILTER (WHERE ({dom}) AND ({s.missing}))",
                f"count(*) FILTER (WHERE ({dom}) AND NOT ({s.missing}) AND coalesce({s.unexpected}, FALSE))",
            ]
        elif s.kind == "dtype":
            index[i] = len(aggs)
            aggs.append(f"count({_q(s.kw['column'])})")
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {table}").fetchone()
    n = row[0]
    gx_results = []
    for i, s in enumerate(specs):
        cfg, kw = s.cfg, s.kw
        success, result = True, {}
        if s.kind == "row_count":
            lo, hi = kw.get("min_value"), kw.get("max_value")
            success = (lo is None or n >= lo) and (hi is None or n <= hi)
            result = {"observed_value": n}
        elif s.kind == "exists":
            success = kw["column"] in types
        elif s.kind == "dtype":
            col = kw["column"]
            kind = _KIND.get(types.get(col, ""), "other")
            if kind == "string" and row[index[i]] == 0:
                kind = "null"
            success = kind in kw["kinds"]
            result = {"observed_value": kind}
        elif s.kind == "unique":
            cols = ", ".join(_q(c) for c in kw["column_list"])
            dup = (
                f"SELECT {cols}, source_row FROM {table} WHERE NOT ({s.missing}) "
                f"QUALIFY count(*) OVER (PARTITION BY {cols}) > 1"
            )
            missing = con.execute(f"SELECT count(*) FROM {table} WHERE {s.missing}").fetchone()[0]
            repeated = 1
            if s.duplicate_flag:
                repeated = con.execute(f"SELECT count(*) FROM {table} WHERE {s.duplicate_flag}").fetchone()[0]
            unexpected = (
                0
                if not repeated
                else con.execute(
                    "SELECT coalesce(sum(k), 0) FROM "
                    f"(SELECT count(*) AS k FROM {table} WHERE NOT ({s.missing}) "
                    f"GROUP BY {cols} HAVING count(*) > 1)"
                ).fetchone()[0]
            )
            sample, rows = [], []
            if unexpected:
                got = con.execute(f"SELECT * FROM ({dup}) ORDER BY source_row LIMIT {SAMPLE_SIZE}").fetchall()
                sample = [_sample_value(s, r[:-1], list(kw["column_list"]), types) for r in got]
                rows = [r[-1] for r in got]
            success, result = _result_for(s, n, (n, missing, int(unexpected)), sample, rows)
        elif s.kind == "group_at_most":
            # every row (in the domain, not missing) of a group whose last column sums above the bound
            names = list(kw["column_list"])
            keys = ", ".join(_q(c) for c in names[:-1]) or "NULL"
            inside = f"({s.domain}) AND NOT ({s.missing})"
            bound = float(kw.get("max_value", 1.0)) + float(kw.get("tolerance", 1e-9))
            summed = (
                f"SELECT *, sum(CASE WHEN {inside} THEN coalesce({_q(names[-1])}, 0) END) "
                f"OVER (PARTITION BY {keys}) AS _group_sum, {inside} AS _inside FROM {table}"
            )
            domain_n, missing, unexpected = con.execute(
                f"SELECT count(*) FILTER (WHERE {s.domain}), count(*) FILTER (WHERE ({s.domain}) AND "
                f"({s.missing})), count(*) FILTER (WHERE _inside AND _group_sum > {bound!r}) FROM ({summed})"
            ).fetchone()
            sample, rows = [], []
            if unexpected:
                cols = ", ".join(_q(c) for c in names)
                got = con.execute(
                    f"SELECT {cols}, source_row FROM ({summed}) WHERE _inside AND _group_sum > {bound!r} "
                    f"ORDER BY source_row LIMIT {SAMPLE_SIZE}"
                ).fetchall()
                sample = [_sample_value(s, r[:-1], names, types) for r in got]
                rows = [r[-1] for r in got]
            success, result = _result_for(s, n, (domain_n, missing, int(unexpected)), sample, rows)
        else:
            j = index[i]
            counts = (row[j], row[j + 1], row[j + 2])
            sample, rows = [], []
            if counts[2]:
                names = list(s.columns if s.kind in ("multi", "pair") else [kw["column"]])
                if s.kind == "multi":
                    names = list(kw["column_list"])
                elif s.kind == "pair":
                    names = [kw["column_A"], kw["column_B"]]
                cols = ", ".join(_q(c) for c in names)
                cond = f"({s.domain}) AND NOT ({s.missing}) AND coalesce({s.unexpected}, FALSE)"
                got = con.execute(
                    f"SELECT {cols}, source_row FROM {table} WHERE {cond} "
                    f"ORDER BY source_row LIMIT {SAMPLE_SIZE}"
                ).fetchall()
                sample = [_sample_value(s, r[:-1], names, types) for r in got]
                if s.kind in ("map", "not_null"):
                    rows = [
                        {names[0]: _sample_value(s, r[:-1], names, types), "source_row": r[-1]} for r in got
                    ]
                else:
                    rows = [r[-1] for r in got]
            success, result = _result_for(s, n, counts, sample, rows)
        res = ExpectationValidationResult(success=bool(success), expectation_config=cfg, result=result)
        cols_set = frozenset(s.rule.columns)
        if res.result:
            _scrub_result(res.result, cols_set, pii)
        if cols_set & pii:
            _scrub_exception(res.exception_info)
        gx_results.append(res)

    accs = {r.name: _Acc(r) for r in rules}
    for rule, res in zip(rules, gx_results, strict=True):
        accs[rule.name].add(res, pii)
    stored = False
    if store_results:
        ok = sum(1 for r in gx_results if r.success)
        suite_result = ExpectationSuiteValidationResult(
            success=all(r.success for r in gx_results),
            results=gx_results,
            suite_name=feed,
            statistics={
                "evaluated_expectations": len(gx_results),
                "successful_expectations": ok,
                "unsuccessful_expectations": len(gx_results) - ok,
                "success_percent": 100.0 * ok / len(gx_results) if gx_results else None,
            },
            meta={
                "grassroots": {
                    "file": file_name,
                    "feed": feed,
                    "delivery_date": day.isoformat(),
                    "run_id": run_id,
                    "part": "all",
                    "engine": "duckdb",
                }
            },
        )
        store_suite_result(context, suite_result, feed, run_id, dt.datetime.now(dt.UTC), day, file_name)
        stored = True
    report = ValidationReport(
        feed=feed,
        suite=feed,
        file_name=file_name,
        delivery_date=day,
        run_id=run_id,
        row_count=n,
        results=[accs[r.name].outcome(feed, n) for r in rules],
        seconds=time.perf_counter() - started,
        stored=stored,
    )
    log.info("validation (duckdb) %s", report.summary())
    return report
