#!/usr/bin/env python3
"""Mutation testing of the metric SQL: does a wrong formula make a dbt test fail?

Each mutant changes ONE spot of one model file (a comparison, an arithmetic operator, a numeric or
boolean constant, and/or, is [not] null, asc/desc, min/max, a two-argument coalesce default dropped),
then `dbt build --select <model>` runs the model's unit tests, builds it on the small fixture region of
the dbt integration tests (tests/dbt_project/fixtures.py) and runs its data tests. A mutant is
*killed* when dbt fails (a test failed, or the SQL no longer compiles/runs: `invalid`), *survived*
when everything still passes. The file is restored after every mutant, also on Ctrl-C or SIGTERM
(and a backup left by a killed run is restored at the next start).

Only SQL outside Jinja tags, comments and string literals is mutated: SQL inside macro calls (e.g. the
argument of `to_float(...)`) and in macros is out of reach of this script.

    scripts/mutate_sql.py --limit 40 --seed 1            # sample 40 mutants of the metric models
    scripts/mutate_sql.py --model dim_unit --all         # every mutant of one model
    scripts/mutate_sql.py --list --model mart_staffing   # show the mutants, run nothing

Results: <out>/sql_mutants.json and .md (default docs/mutation/). Needs the dbt venv (.venv-dbt); a
scratch warehouse is prepared under --work-dir (default /tmp/grassroots-mutation-sql) once per run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt_project"
# Models that compute published figures (marts and the intermediate models feeding them), plus the
# staging restatement rules and the calendar every working-time figure uses.
DEFAULT_MODELS = (
    "dim_date",
    "dim_unit",
    "stg_staff_roster__staff_posts",
    "stg_resident_population__snapshots",
    "int_population_unit_months",
    "int_staffing_unit_months",
    "int_unit_months",
    "int_scorecard_indicator_values",
    "int_reallocation_targets",
    "fct_cases",
    "mart_population",
    "mart_staffing",
    "mart_staffing_mismatch",
    "mart_staffing_mismatch_county",
    "mart_reallocation_plan",
    "mart_workload",
    "mart_workload_county",
    "mart_workload_township",
    "mart_workload_category",
    "mart_scorecard_indicators",
    "mart_scorecard",
    "mart_scorecard_sensitivity",
    "mart_scorecard_stability",
    "mart_scorecard_correlations",
)


@dataclasses.dataclass(frozen=True)
class Mutant:
    """Replace text[start:end] (== `original`) by `replacement`."""

    operator: str
    start: int
    end: int
    original: str
    replacement: str

    def apply(self, text: str) -> str:
        assert text[self.start : self.end] == self.original, "source changed under the mutant"
        return text[: self.start] + self.replacement + text[self.end :]


# --------------------------------------------------------------------------------------------------
# Finding mutants in SQL text (also used by mutate_py.py on the SQL inside Python strings)

_MASKED = re.compile(r"--[^\n]*|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|'(?:[^']|'')*'", re.S)
_OPS: list[tuple[str, re.Pattern[str], object]] = [
    ("cmp", re.compile(r"<="), "<"),
    ("cmp", re.compile(r">="), ">"),
    ("cmp", re.compile(r"<>|!="), "="),
    ("cmp", re.compile(r"(?<![<>!=:])<(?![=>])"), "<="),
    ("cmp", re.compile(r"(?<![<>=!-])>(?!=)"), ">="),
    ("cmp", re.compile(r"(?<![<>!=:])=(?![=>])"), "<>"),
    ("arith", re.compile(r"(?<= )\+(?= )"), "-"),
    ("arith", re.compile(r"(?<= )-(?= )"), "+"),
    ("arith", re.compile(r"(?<= )/(?= )"), "*"),
    ("arith", re.compile(r"(?<=[\w)] )\*(?= [\w(])"), "/"),
    ("logic", re.compile(r"\band\b", re.I), "or"),
    ("logic", re.compile(r"\bor\b", re.I), "and"),
    ("logic", re.compile(r"\bnot\s+(?!null\b)", re.I), ""),
    ("null", re.compile(r"\bis\s+not\s+null\b", re.I), "is null"),
    ("null", re.compile(r"\bis\s+null\b", re.I), "is not null"),
    ("bool", re.compile(r"\btrue\b", re.I), "false"),
    ("bool", re.compile(r"\bfalse\b", re.I), "true"),
    ("order", re.compile(r"\bdesc\b", re.I), "asc"),
    ("order", re.compile(r"\basc\b", re.I), "desc"),
    ("agg", re.compile(r"\bmin(?=\()", re.I), "max"),
    ("agg", re.compile(r"\bmax(?=\()", re.I), "min"),
    ("const", re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])", re.I), None),
]


def _mask(text: str) -> list[bool]:
    """True where a character may be mutated (outside Jinja, comments and string literals)."""
    ok = [True] * len(text)
    for m in _MASKED.finditer(text):
        for i in range(m.start(), m.end()):
            ok[i] = False
    return ok


def _const_replacement(literal: str) -> str:
    if re.fullmatch(r"\d+", literal):
        return {"0": "1", "1": "0"}.get(literal, str(int(literal) + 1))
    return "0" if float(literal) != 0 else "1"


def _in_between(text: str, pos: int) -> bool:
    """Is the `and` at pos the one of `x between a and b`?"""
    before = text[max(0, pos - 200) : pos].lower()
    b = before.rfind("between")
    return b >= 0 and not re.search(r"\b(and|or|when|then|where|on|select)\b", before[b + 7 :])


def _in_type(text: str, pos: int) -> bool:
    """A number inside a type, e.g. decimal(38, 18): changing the precision is not a formula."""
    return bool(
        re.search(r"\b(decimal|numeric|varchar)\(\s*(\d+\s*,\s*)?$", text[max(0, pos - 30) : pos], re.I)
    )


def _coalesce_mutants(text: str, ok: list[bool]) -> Iterator[Mutant]:
    """coalesce(x, default) -> x: the default dropped (only two-argument coalesce)."""
    for m in re.finditer(r"\bcoalesce\(", text, re.I):
        if not ok[m.start()]:
            continue
        depth, commas, i = 1, [], m.end()
        while i < len(text) and depth:
            ch = text[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 1:
                commas.append(i)
            i += 1
        if depth or len(commas) != 1 or not all(ok[m.start() : i]):
            continue
        first = text[m.end() : commas[0]]
        yield Mutant("coalesce", m.start(), i, text[m.start() : i], f"({first.strip()})")


def sql_mutants(text: str) -> list[Mutant]:
    """Every single-spot mutant of a SQL text, in source order."""
    ok = _mask(text)
    found: list[Mutant] = []
    for op, pattern, repl in _OPS:
        for m in pattern.finditer(text):
            if not all(ok[m.start() : m.end()]):
                continue
            if op == "logic" and m.group().lower() == "and" and _in_between(text, m.start()):
                continue
            if m.group() == "*" and (
                re.search(r"\bselect\s*$", text[: m.start()], re.I)
                or re.match(r"\s*from\b", text[m.end() :], re.I)
            ):
                continue  # select * from
            if m.group() == "=" and (
                re.search(r"\w\.\w+\s*$", text[: m.start()]) and re.match(r"\s*\w+\.\w", text[m.end() :])
            ):
                continue  # a join key (a.x = b.y): breaking it only multiplies rows, not a formula
            if op == "const":
                if _in_type(text, m.start()):
                    continue
                replacement = _const_replacement(m.group())
            else:
                replacement = str(repl)
                if m.group().isupper():
                    replacement = replacement.upper()
            found.append(Mutant(op, m.start(), m.end(), m.group(), replacement))
    found.extend(_coalesce_mutants(text, ok))
    return sorted(found, key=lambda x: (x.start, x.operator))


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# --------------------------------------------------------------------------------------------------
# Applying a mutant to a file, always restoring it


@contextlib.contextmanager
def mutated(path: Path, new_text: str) -> Iterator[None]:
    """Write `new_text` to `path` for the duration of the block; restore the original afterwards,
    on Ctrl-C and SIGTERM too. A backup beside the file survives a hard kill (see restore_backups)."""
    backup = path.with_name(path.name + ".mutation-backup")
    original = path.read_bytes()
    backup.write_bytes(original)
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _term)
    try:
        path.write_text(new_text, encoding="utf-8")
        yield
    finally:
        path.write_bytes(original)
        backup.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def single_run(root: Path) -> Iterator[None]:
    """One mutation run at a time on a source tree: two runs would restore each other's mutants."""
    lock = root / ".mutation-run.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        sys.exit(f"another mutation run holds {lock} (delete it if that run is dead)")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def restore_backups(root: Path) -> list[Path]:
    """Put back files a killed run left mutated (their *.mutation-backup copy is the original)."""
    restored = []
    for backup in root.rglob("*.mutation-backup"):
        target = backup.with_name(backup.name.removesuffix(".mutation-backup"))
        target.write_bytes(backup.read_bytes())
        backup.unlink()
        restored.append(target)
    return restored


# --------------------------------------------------------------------------------------------------
# Running dbt


def dbt_bin() -> str:
    exe = os.environ.get("GRASSROOTS_DBT_BIN") or str(REPO / ".venv-dbt" / "bin" / "dbt")
    if not Path(exe).exists():
        sys.exit(f"dbt not found at {exe} (set GRASSROOTS_DBT_BIN)")
    return exe


class Warehouse:
    """A scratch DuckDB warehouse built once from the fixture region; each mutant runs on a fresh copy
    at the same path (same catalog name for the views, and dbt's partial parse stays valid)."""

    def __init__(self, work: Path, models: list[str] | None = None) -> None:
        self.work = work
        # Only `+model` is built for a --model run: tests that also read an unbuilt model are left out
        # (dbt's cautious indirect selection); a full run keeps every test touching the model (eager).
        self.models = models
        self.selection = ["--indirect-selection", "cautious"] if models else []
        self.base = work / "base" / "warehouse.duckdb"
        self.run = work / "run" / "warehouse.duckdb"
        self.env = {
            **os.environ,
            "GRASSROOTS_WAREHOUSE": str(self.run),
            "DBT_PROFILES_DIR": str(DBT_DIR),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }

    def dbt(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [dbt_bin(), *args], cwd=DBT_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def prepare(self) -> None:
        """Load the fixture region and build it (only `+model` for the given models: faster)."""
        sys.path.insert(0, str(REPO / "tests" / "dbt_project"))
        import fixtures  # the dbt integration tests' small region

        shutil.rmtree(self.work / "run", ignore_errors=True)
        self.run.parent.mkdir(parents=True, exist_ok=True)
        fixtures.load_duckdb(str(self.run))
        select = ["--select", *(f"+{m}" for m in self.models)] if self.models else []
        proc = self.dbt("build", "--quiet", *select, *self.selection)
        if proc.returncode:
            sys.exit(f"baseline dbt build fails, nothing to mutate against:\n{proc.stdout[-3000:]}")
        self.base.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.run, self.base)

    def reset(self) -> None:
        shutil.copyfile(self.base, self.run)

    def test_model(self, model: str) -> tuple[str, str]:
        """('passed' | 'failed' | 'invalid', detail) of `dbt build --select model` on a fresh copy."""
        self.reset()
        proc = self.dbt("build", "--select", model, *self.selection)
        if proc.returncode == 0:
            return "passed", ""
        results = self.work / "target" / "run_results.json"
        failed, errors = [], []
        if results.exists():
            for r in json.loads(results.read_text()).get("results", []):
                name = r["unique_id"].split(".")[-1]
                if r["status"] == "fail":
                    failed.append(name)
                elif r["status"] == "error":
                    errors.append(name)
        if failed:  # a test ran and disagreed: the mutant computes a wrong figure
            return "failed", ", ".join(sorted(failed)[:4])
        # the mutated SQL no longer compiles or runs (e.g. a type error)
        return "invalid", ", ".join(sorted(errors)[:4]) or proc.stdout[-300:].strip()


# --------------------------------------------------------------------------------------------------


def model_path(model: str) -> Path:
    hits = list((DBT_DIR / "models").rglob(f"{model}.sql"))
    if len(hits) != 1:
        sys.exit(f"model {model}: {len(hits)} files found")
    return hits[0]


def collect(models: list[str]) -> list[tuple[str, Path, Mutant]]:
    out = []
    for model in models:
        path = model_path(model)
        for m in sql_mutants(path.read_text(encoding="utf-8")):
            out.append((model, path, m))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name (repeatable; default: the metric models)")
    ap.add_argument("--limit", type=int, default=40, help="random sample of this many mutants (default 40)")
    ap.add_argument("--all", action="store_true", help="every mutant (no sample)")
    ap.add_argument("--seed", type=int, default=1, help="sample seed (default 1)")
    ap.add_argument("--only", help="run only these mutants: ids (model:line:col:operator), comma-separated")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "mutation", help="result directory")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "grassroots-mutation-sql")
    ap.add_argument("--reuse-warehouse", action="store_true", help="skip the baseline build if present")
    args = ap.parse_args(argv)
    args.command = sys.argv[1:] if argv is None else argv

    for restored in restore_backups(DBT_DIR / "models"):
        print(f"restored {restored} from a previous interrupted run")
    models = args.model or list(DEFAULT_MODELS)
    mutants = collect(models)
    ids = [mutant_id(model, path, m) for model, path, m in mutants]
    chosen = list(range(len(mutants)))
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [i for i in chosen if ids[i] in wanted]
    elif not args.all and len(chosen) > args.limit:
        chosen = sorted(random.Random(args.seed).sample(chosen, args.limit))  # noqa: S311 (a sample)
    if args.list:
        for i in chosen:
            print(ids[i], repr(mutants[i][2].original), "->", repr(mutants[i][2].replacement))
        print(f"{len(chosen)} of {len(mutants)} mutants")
        return 0

    with single_run(DBT_DIR / "models"):
        return _run(args, mutants, ids, chosen)


def _run(args: argparse.Namespace, mutants: list, ids: list[str], chosen: list[int]) -> int:
    wh = Warehouse(args.work_dir, args.model)
    if not (args.reuse_warehouse and wh.base.exists()):
        print("building the baseline warehouse (fixture region) ...", flush=True)
        wh.prepare()
    results = []
    baseline: dict[str, str] = {}
    try:
        for n, i in enumerate(chosen, 1):
            model, path, m = mutants[i]
            if model not in baseline:
                baseline[model], detail = wh.test_model(model)
                if baseline[model] != "passed":
                    sys.exit(f"{model} fails before any mutation ({detail}): fix that first")
            text = path.read_text(encoding="utf-8")
            t0 = time.monotonic()
            with mutated(path, m.apply(text)):
                outcome, detail = wh.test_model(model)
            status = "survived" if outcome == "passed" else "killed"
            row = {
                "id": ids[i],
                "model": model,
                "file": str(path.relative_to(REPO)),
                "line": line_of(text, m.start),
                "operator": m.operator,
                "original": m.original,
                "replacement": m.replacement,
                "status": status,
                "how": outcome if status == "killed" else "",
                "by": detail,
                "seconds": round(time.monotonic() - t0, 1),
            }
            results.append(row)
            print(
                f"[{n}/{len(chosen)}] {status:8} {ids[i]} {m.original!r}->{m.replacement!r} {detail}",
                flush=True,
            )
    except KeyboardInterrupt:
        print("interrupted: the model files are restored; writing the results so far")
    write_results(args.out, "sql", results, total=len(mutants), argv=args.command)
    return 0


def mutant_id(model: str, path: Path, m: Mutant) -> str:
    text = path.read_text(encoding="utf-8")
    line = line_of(text, m.start)
    col = m.start - (text.rfind("\n", 0, m.start) + 1) + 1
    return f"{model}:{line}:{col}:{m.operator}"


def write_results(out: Path, kind: str, results: list[dict], *, total: int, argv: list[str]) -> None:
    """<out>/<kind>_mutants.json and a markdown table of the same."""
    out.mkdir(parents=True, exist_ok=True)
    killed = sum(r["status"] == "killed" for r in results)
    summary = {
        "kind": kind,
        "command": " ".join(argv),
        "mutants_found": total,
        "mutants_run": len(results),
        "killed": killed,
        "killed_invalid": sum(r.get("how") == "invalid" for r in results),
        "survived": len(results) - killed,
        "results": results,
    }
    (out / f"{kind}_mutants.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    lines = [
        f"# {kind.upper()} mutants",
        "",
        (
            f"Command: `{summary['command']}`; {total} mutants found, {len(results)} run: {killed} killed "
            f"({summary['killed_invalid']} of them as invalid code), {summary['survived']} survived."
        ),
        "",
        "| status | mutant | change | killed by |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        change = f"`{r['original']}` → `{r['replacement']}`".replace("|", "\\|").replace("\n", " ")
        if len(change) > 90:
            change = change[:87] + "…`"
        by = (r["how"] + ": " if r["how"] else "") + r["by"]
        lines.append(f"| {r['status']} | {r['id']} | {change} | {by.replace('|', '/')} |")
    (out / f"{kind}_mutants.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
