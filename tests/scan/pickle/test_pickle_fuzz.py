"""Random and mutated pickles never raise and stay within the work limits.

Speed is measured in bench/pickle_engine.py, not here: a wall-clock bound failed on a
loaded CI machine. The work is bounded by LIMITS (opcodes, stack, memo) instead.
"""

from __future__ import annotations

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from picklecraft import scan

from tutela.scan.interface import Limits

SEEDS = [
    pickle.dumps(obj, protocol=p)
    for p in range(6)
    for obj in ({"a": [1, 2.5, "x", b"y"]}, (None, True, {3}), [frozenset({1}), 2**70])
]
LIMITS = Limits(max_pickle_opcodes=200_000, max_stack_depth=10_000, max_memo_entries=10_000)


def _check(data: bytes) -> None:
    result = scan(data, limits=LIMITS)
    assert result.bytes_read <= len(data)
    assert result.findings or result.inconclusive or result.pickles >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    """Arbitrary bytes produce findings or a clean result, never an exception."""
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, 10_000),
)
def test_mutated_pickles(seed: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    """Valid pickles with flipped bytes and truncations never raise."""
    data = bytearray(seed)
    for pos, value in flips:
        data[pos % len(data)] = value
    _check(bytes(data[: max(1, cut % (len(data) + 1))]))
