"""joblib's inline arrays: raw bytes that follow a NumpyArrayWrapper inside the pickle.

``joblib.dump`` writes each numpy array as a pickled ``NumpyArrayWrapper`` and then, right
after the wrapper's BUILD, the array itself: for plain dtypes one padding-length byte,
that many padding bytes (joblib >= 1.2 aligns to 16) and ``prod(shape) * itemsize`` raw
bytes; for object dtypes a nested protocol-5 pickle. ``joblib.load`` reads them in its
``load_build`` (joblib/numpy_pickle.py). The engine does the same so the rest of the
file is analysed instead of being misread as opcodes. The nested pickle of an object
array is analysed like any other, with its findings in the same report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tutela.scan.pickle.values import Box, Sym

__all__ = ["DTYPE_CALLABLES", "WRAPPER", "ArrayLayout", "dtype_from_call", "layout_of"]

WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
DTYPE_CALLABLES = frozenset(
    {"numpy.dtype", "numpy.core.multiarray.dtype", "numpy._core.multiarray.dtype"}
)
_TYPESTR = re.compile(r"^[<>|=]?([bBiufcmMOSUVa?])(\d*)")
_FIXED = {"b": 1, "B": 1, "?": 1}
_MAX_COUNT = 1 << 48  # more elements than any real array: a forged shape


@dataclass
class DtypeInfo:
    """What a ``numpy.dtype(typestr, ...)`` call and its BUILD state say about the dtype."""

    typestr: str
    elsize: int = -1  # from the BUILD state; -1 for fixed-size builtin types

    def itemsize(self) -> int | None:
        if self.elsize > 0:
            return self.elsize
        match = _TYPESTR.match(self.typestr)
        if match is None:
            return None
        kind, digits = match.group(1), match.group(2)
        if kind in _FIXED:
            return _FIXED[kind]
        if not digits:
            return None
        size = int(digits)
        return size * 4 if kind == "U" else size

    def has_object(self) -> bool:
        return self.typestr.lstrip("<>|=").startswith("O")


@dataclass(frozen=True)
class ArrayLayout:
    """How the inline data after a wrapper is laid out; ``error`` when it cannot be told."""

    nbytes: int = 0
    aligned: bool = False
    nested_pickle: bool = False
    error: str | None = None


def dtype_from_call(func_path: str | None, args: Any) -> DtypeInfo | None:
    if (
        func_path in DTYPE_CALLABLES
        and isinstance(args, tuple)
        and args
        and isinstance(args[0], str)
    ):
        return DtypeInfo(args[0][:32])
    return None


def layout_of(state: Any, dtypes: dict[Sym, DtypeInfo]) -> ArrayLayout:
    """Read shape, dtype and alignment from the wrapper's BUILD state."""
    if not isinstance(state, Box) or state.kind != "dict":
        return ArrayLayout(error="the array wrapper's state is not a dict")
    shape = state.lookup("shape")
    dtype = state.lookup("dtype")
    info = dtypes.get(dtype) if isinstance(dtype, Sym) else None
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return ArrayLayout(error="the array shape is not a tuple of sizes")
    if info is None:
        return ArrayLayout(error="the array dtype could not be resolved")
    if info.has_object():
        return ArrayLayout(nested_pickle=True)
    itemsize = info.itemsize()
    if itemsize is None:
        return ArrayLayout(error=f"unknown itemsize for dtype {info.typestr!r}")
    count = 1
    for n in shape:
        count *= n
        if count > _MAX_COUNT:
            return ArrayLayout(error="the array shape is implausibly large")
    aligned = state.scalar("numpy_array_alignment_bytes") is not None
    return ArrayLayout(nbytes=count * itemsize, aligned=aligned)
