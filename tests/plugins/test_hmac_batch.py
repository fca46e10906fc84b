"""The compiled column HMAC (grassroots.hmac_batch) against Python's hmac, the reference."""

from __future__ import annotations

import hashlib
import hmac
import random

import pyarrow as pa
import pytest

from grassroots import hmac_batch
from grassroots.hmac_batch import hmac_hex_array, midstates

# RFC 4231 test cases 1-4, 6 and 7 (case 5 truncates the output): (key, data).
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There"),
    (b"Jefe", b"what do ya want for nothing?"),
    (b"\xaa" * 20, b"\xdd" * 50),
    (bytes(range(1, 26)), b"\xcd" * 50),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
    (
        b"\xaa" * 131,
        (
            b"This is a test using a larger than block-size key and a larger than block-size data. "
            b"The key needs to be hashed before being used by the HMAC algorithm."
        ),
    ),
]


def reference(key: bytes, value: bytes | None) -> str | None:
    return None if value is None else hmac.new(key, value, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("key", "data"), RFC_4231)
def test_rfc_4231_vectors(key: bytes, data: bytes) -> None:
    got = hmac_hex_array(pa.array([data], pa.binary()), midstates(key)).to_pylist()
    assert got == [reference(key, data)]


def test_rfc_4231_case_2_known_answer() -> None:
    # The published digest itself, so the test does not only compare two implementations.
    got = hmac_hex_array(pa.array(["what do ya want for nothing?"]), midstates(b"Jefe")).to_pylist()
    assert got == ["5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"]


@pytest.mark.parametrize("key_len", [0, 1, 16, 63, 64, 65, 200])
def test_every_message_length_across_block_boundaries(key_len: int) -> None:
    key = bytes((7 * i + 1) % 256 for i in range(key_len))
    values = ["x" * n for n in range(0, 300)]
    got = hmac_hex_array(pa.array(values), midstates(key)).to_pylist()
    assert got == [reference(key, v.encode()) for v in values]


def test_unicode_nulls_slices_and_large_strings() -> None:
    key = b"0123456789abcdef0123"
    values = [None, "", "13800138000", "11010519491231002X", "张三 ", "é\u3000ß", None, "🙂" * 30]
    states = midstates(key)
    want = [reference(key, None if v is None else v.encode()) for v in values]
    assert hmac_hex_array(pa.array(values), states).to_pylist() == want
    assert hmac_hex_array(pa.array(values, pa.large_string()), states).to_pylist() == want
    assert hmac_hex_array(pa.array(values).slice(2, 5), states).to_pylist() == want[2:7]
    chunked = pa.chunked_array([values[:3], values[3:]])
    assert hmac_hex_array(chunked, states).to_pylist() == want
    assert hmac_hex_array(pa.array([], pa.string()), states).to_pylist() == []


def test_parallel_path_equals_serial_path() -> None:
    key = b"another-key-for-the-parallel-path"
    rng = random.Random(4)
    n = hmac_batch.PARALLEL_FROM + 1_001
    values = [None if rng.random() < 0.01 else str(rng.randrange(10**10, 10**11)) for _ in range(n)]
    got = hmac_hex_array(pa.array(values), midstates(key)).to_pylist()
    sample = rng.sample(range(n), 2_000) + [0, n - 1]
    assert all(got[i] == reference(key, None if values[i] is None else values[i].encode()) for i in sample)
    assert sum(v is None for v in got) == sum(v is None for v in values)


def test_refuses_a_non_string_column() -> None:
    with pytest.raises(TypeError, match="string column"):
        hmac_hex_array(pa.array([1, 2]), midstates(b"k" * 16))
