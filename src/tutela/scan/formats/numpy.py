"""NumPy ``.npy`` arrays (and, through the zip scanner, ``.npz`` archives).

An ``.npy`` file is a magic, a Python-literal header and raw array bytes, except for
object arrays, whose data is a pickle that ``np.load(allow_pickle=True)`` unpickles.
The header is parsed with ``ast.literal_eval`` (literals only, size-capped), object
arrays are reported and their pickle streamed into the pickle engine.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, ClassVar

from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.formats.streams import Readable, read_exact
from tutela.scan.interface import Severity

__all__ = ["NumpyScanner", "scan_npy_stream"]

_MAX_NPY_HEADER = 1024 * 1024
_SIMPLE_DESCR = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)$")
_UNIT_BYTES = {"U": 4}


def _has_object(descr: Any, depth: int = 0) -> bool:
    if depth > 32:
        return True  # absurd nesting: treat as suspicious rather than recurse further
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, (list, tuple)):
        return any(_has_object(item, depth + 1) for item in descr)
    return False


def _itemsize(descr: Any) -> int | None:
    if not isinstance(descr, str):
        return None
    match = _SIMPLE_DESCR.match(descr)
    if not match or not match.group(2):
        return None
    return int(match.group(2)) * _UNIT_BYTES.get(match.group(1), 1)


def scan_npy_stream(
    ctx: ScanContext, stream: Readable, member: str | None, size: int | None
) -> None:
    """Parse an ``.npy`` header from ``stream``; stream an object array's pickle onward."""
    fixed = read_exact(stream, 10)
    if len(fixed) < 10 or not fixed.startswith(b"\x93NUMPY"):
        ctx.add("numpy.header", Severity.MEDIUM, "truncated .npy preamble", member=member)
        return
    major = fixed[6]
    if major == 1:
        length, consumed = int.from_bytes(fixed[8:10], "little"), 10
    elif major in (2, 3):
        length = int.from_bytes(fixed[8:10] + read_exact(stream, 2), "little")
        consumed = 12
    else:
        ctx.add("numpy.header", Severity.MEDIUM, f"unknown .npy version {major}", member=member)
        return
    if length > min(_MAX_NPY_HEADER, ctx.limits.max_header_bytes):
        ctx.limit(f".npy header of {length} bytes", member=member)
        return
    raw = read_exact(stream, length)
    try:
        header = ast.literal_eval(raw.decode("latin-1" if major < 3 else "utf-8"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or not {"descr", "shape"} <= header.keys():
        ctx.add("numpy.header", Severity.MEDIUM, ".npy header is not a valid dict", member=member)
        ctx.note(f"{member or 'npy'}: header unparseable")
        return
    descr, shape = header["descr"], header["shape"]
    if _has_object(descr):
        ctx.add(
            "numpy.object-array",
            Severity.MEDIUM,
            "object array: its data is a pickle, executed by np.load(allow_pickle=True)",
            member=member,
        )
        ctx.scan_pickle_stream(ctx, stream, member)
        return
    itemsize = _itemsize(descr)
    valid_shape = isinstance(shape, tuple) and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    )
    if not valid_shape:
        ctx.add("numpy.header", Severity.MEDIUM, f"invalid shape {shape!r:.60}", member=member)
        return
    if itemsize is not None and size is not None:
        expected = math.prod(shape) * itemsize
        actual = size - consumed - length
        if expected != actual:
            ctx.add(
                "numpy.header",
                Severity.LOW,
                f"header announces {expected} data bytes, file holds {actual}",
                member=member,
            )


class NumpyScanner(FormatScanner):
    """NumPy ``.npy``: header sanity; object arrays reported and their pickle analysed."""

    id = "scan.numpy"
    formats = ("npy",)
    title = "NumPy arrays"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("numpy.object-array", Severity.MEDIUM, "object array carries a pickle"),
        RuleInfo("numpy.header", Severity.MEDIUM, "header malformed or inconsistent"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        with subject.path.open("rb") as fh:
            scan_npy_stream(ctx, fh, subject.member, subject.size)
