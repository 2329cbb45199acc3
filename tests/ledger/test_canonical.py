"""Ledger bodies are RFC 8785 canonical: one byte string per value."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.errors import InputError
from tutela.ledger.canonical import canonical_json, isoformat

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_rfc8785_examples() -> None:
    """Key order, number spelling and escaping follow RFC 8785."""
    assert (
        canonical_json({"b": 1, "a": [1.0, 1e21, "é\n"]}) == b'{"a":[1,1e+21,"\xc3\xa9\\n"],"b":1}'
    )
    # UTF-16 code-unit ordering of keys (RFC 8785 section 3.2.3), not code points.
    assert canonical_json({"\U0001f600": 1, "\ufb33": 2}) == '{"\U0001f600":1,"\ufb33":2}'.encode()


@given(json_values)
def test_same_value_same_bytes(value: object) -> None:
    """Canonicalisation is deterministic and independent of dict insertion order."""
    once = canonical_json(value)
    if isinstance(value, dict):
        reordered = dict(reversed(list(value.items())))
        assert canonical_json(reordered) == once
    assert canonical_json(value) == once


def test_times_enums_and_rejections() -> None:
    """Datetimes become one UTC spelling; NaN, big ints and odd types are refused."""

    class Colour(enum.Enum):
        RED = "red"

    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert isoformat(moment) == "2026-01-02T01:04:05.000006Z"
    assert canonical_json({"c": Colour.RED, "t": moment.astimezone(UTC)}) == (
        b'{"c":"red","t":"2026-01-02T01:04:05.000006Z"}'
    )
    for bad in (float("nan"), 2**60, object(), {1: "x"}):
        with pytest.raises(InputError):
            canonical_json({"v": bad})
