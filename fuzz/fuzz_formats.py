"""Atheris harness for the format scanners: any bytes must give a report, never raise.

Run: ``pip install atheris`` then ``python fuzz/fuzz_formats.py -max_total_time=600``.
Each input is written to a temporary file and scanned with ``scan_path`` in-process;
an exception escaping it, or an error report spanning several lines, is a crash.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports():
    from tutela.scan.engine import scan_path
    from tutela.scan.interface import Limits

_LIMITS = Limits(max_seconds=10.0, max_member_bytes=64 << 20, max_total_uncompressed=256 << 20)
_DIR = Path(tempfile.mkdtemp(prefix="tutela-fuzz-"))


def test_one_input(data: bytes) -> None:
    target = _DIR / "input.bin"
    target.write_bytes(data)
    report = scan_path(target, limits=_LIMITS)
    if report.error is not None and "\n" in report.error:
        raise AssertionError(f"multi-line error: {report.error!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
