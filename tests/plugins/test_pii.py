"""Pseudonymisation (DESIGN §3, §7): the SQL HMAC, the key rules, and no identifier in clear anywhere."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from grassroots import pii
from grassroots.generate import generate
from grassroots.ingest import ingest_pending

KEY = b"test-key-0123456789abcdef-not-a-real-secret"


def _sql_hmac(key: bytes, values: list[str | None]) -> list[str | None]:
    con = duckdb.connect()
    try:
        pii.set_hmac_key(con, key)
        con.execute("CREATE TABLE v (i INTEGER, s VARCHAR)")
        con.executemany("INSERT INTO v VALUES (?, ?)", list(enumerate(values)))
        return [r[0] for r in con.execute(f"SELECT {pii.hmac_sql('s')} FROM v ORDER BY i").fetchall()]
    finally:
        con.close()


def _values(n: int) -> list[str]:
    rng = random.Random(7)
    alphabet = "0123456789X xabc张王李-_/@.\t\u3000\xa0ßé"
    out = [
        "110101198001011234",
        "11010119800101123x",
        "\u300011010119800101123X\t",
        " 13912345678 ",
        "13912345678",
        "a",
        "楼道灯坏了",
        "é",
        "ß",
        "x" * 300,
    ]
    out += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(n)]
    return out


@pytest.mark.parametrize(
    "key",
    [
        KEY,
        b"k" * 16,
        b"a-key-longer-than-the-sha256-block-of-64-bytes-" * 3,
        bytes(range(1, 40)),
    ],
    ids=["test", "16_bytes", "over_64_bytes", "binary"],
)
def test_sql_hmac_equals_python_hmac(key: bytes) -> None:
    values = _values(2000)
    got = _sql_hmac(key, values)
    want = [pii.hmac_py(key, v) for v in values]
    assert got == want
    # ... which is standard HMAC-SHA256 of the normalised value (trimmed, ASCII upper-cased).
    assert want[0] == hmac.new(key, b"110101198001011234", hashlib.sha256).hexdigest()
    assert want[1] == want[2] == hmac.new(key, b"11010119800101123X", hashlib.sha256).hexdigest()
    assert want[3] == want[4]


def test_null_and_blank_stay_null() -> None:
    assert _sql_hmac(KEY, [None, "", "   "]) == [None, None, None]


def test_pseudonyms_are_stable_across_connections_and_loads(data_dir: Path) -> None:
    assert _sql_hmac(KEY, ["13912345678"]) == _sql_hmac(KEY, ["13912345678"])
    assert _sql_hmac(KEY, ["13912345678"]) != _sql_hmac(b"another-key-0123456789", ["13912345678"])
    header = (
        "case_id,unit_code,channel,category,reported_at,status,escalated_to_level,reporter_phone,updated_at"
    )
    for day, phone in (("2024-01-02", "13912345678"), ("2024-01-03", " 13912345678")):
        path = data_dir / "landing" / "case_log" / day / f"case_log_{day.replace('-', '')}.csv"
        path.parent.mkdir(parents=True)
        path.write_text(
            f"{header}\nC{day},110101001001,walk_in,utilities,{day} 09:00:00,open,none,{phone},"
            f"{day} 09:00:00\n",
            encoding="utf-8",
        )
        ingest_pending("case_log", validate=False)  # one run per file: separate staging connections
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    hashes = con.execute("SELECT DISTINCT reporter_phone_hash FROM raw.case_log").fetchall()
    con.close()
    assert hashes == [(pii.hmac_py(KEY, "13912345678"),)]


def test_demo_key_says_so_loudly(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("GRASSROOTS_PII_KEY", raising=False)
    monkeypatch.setenv("GRASSROOTS_DEMO", "1")
    with caplog.at_level(logging.WARNING, logger="grassroots.pii"):
        assert pii.pii_key() == pii.DEMO_KEY
    [rec] = [r for r in caplog.records if r.name == "grassroots.pii"]
    assert rec.levelno == logging.WARNING
    assert (
        "DEMO MODE" in rec.message
        and "PUBLIC demo key" in rec.message
        and "GRASSROOTS_PII_KEY" in rec.message
    )


def test_real_key_wins_over_demo_and_is_quiet(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GRASSROOTS_PII_KEY", KEY.decode())
    monkeypatch.setenv("GRASSROOTS_DEMO", "1")
    with caplog.at_level(logging.WARNING):
        assert pii.pii_key() == KEY
    assert not [r for r in caplog.records if "DEMO" in r.message]


def test_no_key_or_a_weak_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRASSROOTS_PII_KEY", raising=False)
    monkeypatch.delenv("GRASSROOTS_DEMO", raising=False)
    with pytest.raises(pii.MissingPiiKey, match="GRASSROOTS_PII_KEY"):
        pii.pii_key()
    monkeypatch.setenv("GRASSROOTS_PII_KEY", "short")
    with pytest.raises(pii.MissingPiiKey, match="shorter than 16"):
        pii.pii_key()


# --- Nothing identifying in clear anywhere ------------------------------------------------------

_DIGIT_RUNS = re.compile(r"\d{17}[\dXx]|\d{11}")


def _landing_identifiers(landing: Path) -> tuple[set[str], set[str]]:
    """(ID numbers and phones, names) in the generated deliveries (roster CSV, GBK hotline export)."""
    con = duckdb.connect()
    try:
        roster = con.execute(
            f"SELECT name, id_number, phone FROM read_csv('{landing}/staff_roster/*/*.csv', all_varchar=true)"
        ).fetchall()
        from grassroots import duckdb_ext

        duckdb_ext.load(con, "encodings")
        phones = con.execute(
            f"SELECT \"来电号码\" FROM read_csv('{landing}/case_log/*/*.csv', all_varchar=true, "
            "encoding='gb18030')"
        ).fetchall()
    finally:
        con.close()
    numbers = {v for r in roster for v in r[1:] if v} | {r[0] for r in phones if r[0]}
    names = {r[0] for r in roster if r[0]}
    return numbers, names


def _all_text(data_dir: Path) -> list[str]:
    """Every cell of every table in the warehouse and of every Parquet file, and every other file as text."""
    cells: list[str] = []
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{data_dir / 'warehouse.duckdb'}' AS wh (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'wh'"
        ).fetchall()
        assert tables
        for schema, table in tables:
            for row in con.execute(f'SELECT * FROM wh."{schema}"."{table}"').fetchall():
                cells.extend(str(v) for v in row if v is not None)
        for path in sorted(data_dir.rglob("*")):
            if not path.is_file() or "landing" in path.relative_to(data_dir).parts:
                continue
            if path.suffix == ".parquet":
                for row in con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall():
                    cells.extend(str(v) for v in row if v is not None)
            elif path.suffix not in (".duckdb", ".wal"):
                cells.append(path.read_bytes().decode("utf-8", "replace"))
    finally:
        con.close()
    return cells


def test_no_identifier_in_clear_in_data_or_logs(
    tmp_path: Path,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
) -> None:
    landing = data_dir / "landing"
    generate(
        landing,
        ["350206"],
        "2024-01",
        1,
        seed=3,
        scale=0.1,
        layouts={"case_log": "hotline_gbk"},
    )
    for day in sorted((landing / "case_log").iterdir())[3:]:  # three days of cases are plenty
        shutil.rmtree(day)
    numbers, names = _landing_identifiers(landing)
    assert len(numbers) > 100 and len(names) > 20
    # Defective rows carry identifiers into the quarantine: a wrong check digit, an unknown unit.
    roster = next((landing / "staff_roster").rglob("*.csv"))
    lines = roster.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    bad_id = first[2][:17] + ("0" if first[2][17] != "0" else "1")
    numbers.add(bad_id)
    lines.append(",".join([first[0] + "b", first[1], bad_id, *first[3:]]))
    lines.append(",".join([first[0] + "c", first[1], first[2], first[3], "350206999999", *first[5:]]))
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Positive control: the scan finds the identifiers where they are in clear (the landing zone).
    assert bad_id in set(_DIGIT_RUNS.findall(roster.read_text(encoding="utf-8"))) & numbers

    with caplog.at_level(logging.DEBUG):
        for feed in (
            "staff_roster",
            "household_registration",
            "resident_population",
            "case_log",
        ):
            results = ingest_pending(feed, validate=False)
            assert results and all(r.status == "loaded" for r in results), [r.error for r in results]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    quarantined = con.execute("SELECT rule FROM audit.quarantine ORDER BY 1").fetchall()
    con.close()
    assert quarantined == [
        ("invalid_id_check_digit",),
        ("unknown_unit_code:unit_code",),
    ]

    out, err = capfd.readouterr()
    texts = [*_all_text(data_dir), caplog.text, out, err]
    found_numbers = {m for t in texts for m in _DIGIT_RUNS.findall(t)} & numbers
    assert not found_numbers, f"identifiers in clear: {sorted(found_numbers)[:5]}"
    cells = set(texts)
    leaked_names = {
        n for n in names if n in cells or any(n in t for t in texts if len(t) < 200 and not t.isascii())
    }
    assert not leaked_names, f"names in clear: {sorted(leaked_names)[:5]}"
