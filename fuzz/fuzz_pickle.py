"""Atheris harness for the static pickle engine (run: python fuzz/fuzz_pickle.py corpus/).

The engine must never raise on any input: every problem is a finding. Not run by the
test suite; atheris is an optional tool.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports():
    from tutela.scan.interface import Limits
    from tutela.scan.pickle import ByteSource, analyze_pickle

LIMITS = Limits(max_pickle_opcodes=100_000, max_stack_depth=10_000, max_memo_entries=10_000)


def test_one_input(data: bytes) -> None:
    analyze_pickle(ByteSource.from_bytes(data), member=None, limits=LIMITS)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
