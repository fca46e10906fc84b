#!/usr/bin/env python3
"""Mutation testing of the Python ingest rules (row_rules.py, idcard.py): AST mutants, one at a time.

mutmut is not in the project's lock files (requirements/), and the shared environment must not be
changed, so this is a small mutator of the same kind. Mutants, found on the module's AST:

- comparisons: < <= > >= == != in/not in, is/is not swapped for their neighbour;
- arithmetic: + - * / // % swapped (+ <-> -, * <-> //, / -> *, % -> //);
- and <-> or; `not x` -> x; True <-> False; integers n -> n + 1 (0 <-> 1);
- the SQL inside string constants (the rule conditions are SQL text: "fte <= 0 OR fte > 1"), with the
  operators of mutate_sql.py.

Each mutant rewrites the file (ast.unparse of the mutated tree; formatting and comments do not matter
for the run), runs the pytest subset that covers the module, records killed (a test failed or the
module no longer imports) or survived, and restores the file (also on Ctrl-C / SIGTERM).

    scripts/mutate_py.py --limit 30 --seed 1
    scripts/mutate_py.py --module idcard --list
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate_sql import mutated, restore_backups, single_run, sql_mutants, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODULES = {
    "row_rules": REPO / "plugins" / "grassroots" / "row_rules.py",
    "idcard": REPO / "plugins" / "grassroots" / "idcard.py",
}
# The tests that exercise each module's rules (measured: ~15 s a run on the shared 2-core machine).
TESTS = {
    "row_rules": [
        "tests/plugins/test_ingest.py::test_good_file_loads_and_rerun_changes_nothing",
        "tests/plugins/test_ingest.py::test_bad_rows_are_quarantined_with_their_rule",
        "tests/plugins/test_ingest.py::test_case_rules",
        "tests/plugins/test_rule_boundaries.py",
    ],
    "idcard": [
        "tests/plugins/test_idcard.py",
        "tests/plugins/test_ingest.py::test_bad_rows_are_quarantined_with_their_rule",
        "tests/plugins/test_rule_boundaries.py",
    ],
}

_CMP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


@dataclasses.dataclass(frozen=True)
class PyMutant:
    index: int  # position among the sites of its kind, in ast.walk order
    kind: str
    line: int
    description: str


def _skip(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Docstrings, f-string format specs and type annotations are not behaviour."""
    p = parents.get(node)
    if isinstance(p, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    while p is not None:
        if isinstance(p, ast.FormattedValue) and node is not p.value:
            return True
        if isinstance(p, ast.arg | ast.AnnAssign) and node is not getattr(p, "value", None):
            return True
        if isinstance(p, ast.FunctionDef) and node is p.returns:
            return True
        node, p = p, parents.get(p)
    return False


def _sites(tree: ast.AST) -> Iterator[tuple[ast.AST, str, object, str]]:
    """(node, kind, payload, description) for every mutable spot, in a stable order."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if _skip(node, parents):
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP:
                    yield node, "cmp", i, f"{type(op).__name__} -> {_CMP[type(op)].__name__}"
        elif isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
                continue  # "%s" % x formatting
            yield node, "arith", None, f"{type(node.op).__name__} -> {_BIN[type(node.op)].__name__}"
        elif isinstance(node, ast.BoolOp):
            yield (
                node,
                "logic",
                None,
                f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}",
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not", None, "not x -> x"
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                yield node, "bool", None, f"{v} -> {not v}"
            elif isinstance(v, int):
                yield node, "const", None, f"{v} -> {1 if v == 0 else 0 if v == 1 else v + 1}"
            elif isinstance(v, str):
                # numbers in SQL text are format widths and offsets, mostly: not mutated
                for j, m in enumerate(_string_sql_mutants(v)):
                    yield node, "sql", j, f"SQL {m.original!r} -> {m.replacement!r} in {v.strip()[:50]!r}"


def py_mutants(source: str) -> list[PyMutant]:
    tree = ast.parse(source)
    return [
        PyMutant(i, kind, getattr(node, "lineno", 0), desc)
        for i, (node, kind, _, desc) in enumerate(_sites(tree))
    ]


def apply(source: str, mutant: PyMutant) -> str:
    """The module's source with `mutant` applied (ast.unparse: comments are dropped, code is not)."""
    tree = ast.parse(source)
    node, kind, payload, _ = list(_sites(tree))[mutant.index]
    if kind == "cmp":
        node.ops[payload] = _CMP[type(node.ops[payload])]()
    elif kind == "arith":
        node.op = _BIN[type(node.op)]()
    elif kind == "logic":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "not":
        parent = next(p for p in ast.walk(tree) for c in ast.iter_child_nodes(p) if c is node)
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, node.operand)
            elif isinstance(value, list):
                setattr(parent, field, [node.operand if v is node else v for v in value])
    elif kind == "bool":
        node.value = not node.value
    elif kind == "const":
        v = node.value
        node.value = 1 if v == 0 else 0 if v == 1 else v + 1
    elif kind == "sql":
        node.value = _apply_sql(node.value, payload)
    return ast.unparse(ast.fix_missing_locations(copy.deepcopy(tree))) + "\n"


def _string_sql_mutants(text: str) -> list:
    return [m for m in sql_mutants(text) if m.operator not in ("const", "coalesce")]


def _apply_sql(text: str, payload: int) -> str:
    return _string_sql_mutants(text)[payload].apply(text)


def run_tests(tests: list[str]) -> tuple[str, str]:
    """('passed' | 'failed', first failing test) of the pytest subset, on the mutated tree."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins"), "PYTHONDONTWRITEBYTECODE": "1"}
    existing = [t for t in tests if (REPO / t.split("::")[0]).exists()]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *existing,
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            "-rfE",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode == 0:
        return "passed", ""
    failed = [ln.split(" ")[1] for ln in proc.stdout.splitlines() if ln.startswith(("FAILED ", "ERROR "))]
    return "failed", (failed[0].split("::")[-1] if failed else proc.stdout.strip().splitlines()[-1][:200])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", action="append", choices=sorted(MODULES), help="default: all")
    ap.add_argument("--limit", type=int, default=30, help="random sample of this many mutants (default 30)")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="run only these mutants: ids (module:index), comma-separated")
    ap.add_argument("--tests", nargs="+", help="pytest node ids to run instead of the module's subset")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "mutation")
    args = ap.parse_args(argv)
    args.command = sys.argv[1:] if argv is None else argv

    for restored in restore_backups(REPO / "plugins"):
        print(f"restored {restored} from a previous interrupted run")
    candidates = []
    for name in args.module or sorted(MODULES):
        source = MODULES[name].read_text(encoding="utf-8")
        candidates += [(name, m) for m in py_mutants(source)]
    chosen = list(range(len(candidates)))
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [i for i in chosen if f"{candidates[i][0]}:{candidates[i][1].index}" in wanted]
    elif not args.all and len(chosen) > args.limit:
        chosen = sorted(random.Random(args.seed).sample(chosen, args.limit))  # noqa: S311 (a sample)
    if args.list:
        for i in chosen:
            name, m = candidates[i]
            print(f"{name}:{m.index} line {m.line} {m.kind}: {m.description}")
        print(f"{len(chosen)} of {len(candidates)} mutants")
        return 0

    with single_run(REPO / "plugins" / "grassroots"):
        return _run(args, candidates, chosen)


def _run(args: argparse.Namespace, candidates: list, chosen: list[int]) -> int:
    for name in {candidates[i][0] for i in chosen}:
        outcome, detail = run_tests(args.tests or TESTS[name])
        if outcome != "passed":
            sys.exit(f"the {name} tests fail before any mutation ({detail}): fix that first")
    results = []
    try:
        for n, i in enumerate(chosen, 1):
            name, m = candidates[i]
            path = MODULES[name]
            source = path.read_text(encoding="utf-8")
            t0 = time.monotonic()
            with mutated(path, apply(source, m)):
                outcome, detail = run_tests(args.tests or TESTS[name])
            status = "survived" if outcome == "passed" else "killed"
            results.append(
                {
                    "id": f"{name}:{m.index}",
                    "model": name,
                    "file": str(path.relative_to(REPO)),
                    "line": m.line,
                    "operator": m.kind,
                    "original": m.description.split(" -> ")[0],
                    "replacement": m.description.split(" -> ", 1)[1],
                    "status": status,
                    "how": outcome if status == "killed" else "",
                    "by": detail,
                    "seconds": round(time.monotonic() - t0, 1),
                }
            )
            print(
                f"[{n}/{len(chosen)}] {status:8} {name}:{m.index} line {m.line} {m.description} {detail}",
                flush=True,
            )
    except KeyboardInterrupt:
        print("interrupted: the modules are restored; writing the results so far")
    write_results(args.out, "py", results, total=len(candidates), argv=args.command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
