"""The mutation-testing tools themselves (scripts/mutate_sql.py, scripts/mutate_py.py).

A mutator that never produces a killable mutant, or that leaves a file mutated, would make the
results in docs/testing.md worthless: each tool is run here on one known mutant that the test suite
must kill, and the source file must be byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import mutate_py  # noqa: E402
import mutate_sql  # noqa: E402


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ops(sql: str) -> list[tuple[str, str, str]]:
    return [(m.operator, m.original, m.replacement) for m in mutate_sql.sql_mutants(sql)]


def test_sql_mutants_skip_comments_jinja_strings_and_syntax() -> None:
    sql = (
        "-- a < b in a comment\n"
        "select * from {{ ref('x < y') }} as t\n"
        "where t.a between 1 and 5 and t.label = 'p < q' and t.k = u.k\n"
        "{# 2 > 1 #}"
    )
    ops = _ops(sql)
    # the comment, the Jinja tag, the Jinja comment, the string literal: untouched
    assert all("<" not in orig or op != "cmp" for op, orig, _ in ops if orig in ("<", ">"))
    assert ("cmp", "<", "<=") not in ops and ("cmp", ">", ">=") not in ops
    # `between 1 and 5` keeps its `and`; the `and` joining conditions are mutated (two of them)
    assert [o for o in ops if o[0] == "logic"] == [("logic", "and", "or"), ("logic", "and", "or")]
    # `select *` is not a product; the join key t.k = u.k is left alone; t.label = '…' is mutated
    assert not [o for o in ops if o[1] == "*"]
    assert [o for o in ops if o[1] == "="] == [("cmp", "=", "<>")]
    assert ("const", "1", "0") in ops and ("const", "5", "6") in ops


def test_sql_mutant_applies_at_its_spot_only() -> None:
    sql = "select a - b as d, coalesce(c, 0) as e from t where a >= 1e-9"
    muts = {(m.operator, m.original): m for m in mutate_sql.sql_mutants(sql)}
    assert muts[("arith", "-")].apply(sql) == sql.replace("a - b", "a + b")
    assert muts[("cmp", ">=")].apply(sql).endswith("a > 1e-9")
    assert muts[("const", "1e-9")].apply(sql).endswith("a >= 0")
    assert muts[("coalesce", "coalesce(c, 0)")].apply(sql) == sql.replace("coalesce(c, 0)", "(c)")


def test_mutated_file_is_restored_on_interrupt(tmp_path: Path) -> None:
    f = tmp_path / "m.sql"
    f.write_text("select 1\n")
    with pytest.raises(KeyboardInterrupt), mutate_sql.mutated(f, "select 0\n"):
        assert f.read_text() == "select 0\n"
        assert (tmp_path / "m.sql.mutation-backup").exists()
        raise KeyboardInterrupt
    assert f.read_text() == "select 1\n"
    assert not (tmp_path / "m.sql.mutation-backup").exists()
    # a hard kill leaves the backup: the next run puts it back
    (tmp_path / "m.sql.mutation-backup").write_text("select 1\n")
    f.write_text("select 0\n")
    assert mutate_sql.restore_backups(tmp_path) == [f]
    assert f.read_text() == "select 1\n"


def test_py_mutants_include_the_sql_in_rule_strings() -> None:
    source = (
        'def rules():\n    """Doc < string."""\n'
        '    return [("out_of_range", "fte <= 0 OR fte > 1")] if 2 > 1 else []\n'
    )
    descs = [m.description for m in mutate_py.py_mutants(source)]
    assert "Gt -> GtE" in descs
    assert any(d.startswith("SQL '<=' -> '<'") for d in descs)
    assert any(d.startswith("SQL 'OR' -> 'AND'") for d in descs)
    assert not any("Doc" in d for d in descs)  # docstrings are not behaviour
    sql_gt = next(m for m in mutate_py.py_mutants(source) if m.description.startswith("SQL '>' -> '>='"))
    assert "fte <= 0 OR fte >= 1" in mutate_py.apply(source, sql_gt)


def _known_py_mutant() -> str:
    """idcard.check_digit's `total % 11` turned into `total // 11` (the check character is wrong)."""
    source = mutate_py.MODULES["idcard"].read_text(encoding="utf-8")
    for m in mutate_py.py_mutants(source):
        if (
            m.kind == "arith"
            and m.description == "Mod -> FloorDiv"
            and "total % 11" in source.splitlines()[m.line - 1]
        ):
            return f"idcard:{m.index}"
    raise AssertionError("the known mutant (total % 11 in idcard.check_digit) is gone: update this test")


def test_py_mutator_kills_a_known_mutant_and_restores_the_module(tmp_path: Path) -> None:
    module = mutate_py.MODULES["idcard"]
    before = _sha(module)
    mutate_py.main(["--module", "idcard", "--only", _known_py_mutant(), "--out", str(tmp_path)])
    result = json.loads((tmp_path / "py_mutants.json").read_text())
    assert [r["status"] for r in result["results"]] == ["killed"]
    assert result["results"][0]["by"]  # names the failing test
    assert _sha(module) == before


@pytest.mark.dbt
def test_sql_mutator_kills_a_known_mutant_and_restores_the_model(tmp_path: Path) -> None:
    # dim_unit's band lower bound `>=` turned into `>`: a unit of exactly 8000 residents would fall
    # out of urban_medium; the unit test dim_unit_peer_group_band_boundaries must catch it.
    model = mutate_sql.model_path("dim_unit")
    before = _sha(model)
    text = model.read_text(encoding="utf-8")
    target = "classified.peer_group_population >= bands.min_population"
    pos = text.index(target) + len("classified.peer_group_population ")
    [mutant] = [m for m in mutate_sql.sql_mutants(text) if m.start == pos]
    mid = mutate_sql.mutant_id("dim_unit", model, mutant)
    mutate_sql.main(
        [
            "--model",
            "dim_unit",
            "--only",
            mid,
            "--out",
            str(tmp_path / "out"),
            "--work-dir",
            str(tmp_path / "w"),
        ]
    )
    result = json.loads((tmp_path / "out" / "sql_mutants.json").read_text())
    assert [(r["status"], r["how"]) for r in result["results"]] == [("killed", "failed")]
    assert "dim_unit_peer_group_band_boundaries" in result["results"][0]["by"]
    assert _sha(model) == before
