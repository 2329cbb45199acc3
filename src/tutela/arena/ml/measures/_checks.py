"""Input checks: every bad array becomes one ``InputError`` line, never a numpy traceback."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.errors import InputError

__all__ = [
    "class_index",
    "column_mask",
    "comparable",
    "fraction",
    "labels",
    "matrix",
    "per_column",
    "probabilities",
    "resamples",
]


def matrix(name: str, value: Any, *, min_rows: int = 1) -> NDArray[np.float64]:
    """A finite 2-D float array with at least ``min_rows`` rows and one column."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            "is not numeric",
            subject=name,
            expected="a 2-D array of numbers",
            hint="encode categorical columns as numbers first",
        ) from exc
    if arr.ndim != 2:
        raise InputError(
            "has the wrong shape",
            subject=name,
            expected="a 2-D array (rows, features)",
            found=f"shape {arr.shape}",
        )
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise InputError(
            "is too small",
            subject=name,
            expected=f"at least {min_rows} rows and 1 column",
            found=f"shape {arr.shape}",
        )
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise InputError(
            "contains NaN or infinite values",
            subject=name,
            found=f"{bad} non-finite cells",
            hint="impute missing values first",
        )
    return arr


def labels(name: str, value: Any, n: int | None = None) -> NDArray[Any]:
    """A 1-D label array of length ``n`` without missing values."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise InputError(
            "has the wrong shape",
            subject=name,
            expected="a 1-D array of labels",
            found=f"shape {arr.shape}",
        )
    if n is not None and arr.shape[0] != n:
        raise InputError(
            "has the wrong length", subject=name, expected=f"{n} rows", found=f"{arr.shape[0]}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("contains NaN or infinite labels", subject=name)
    if arr.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in arr.tolist()):
            raise InputError("contains missing labels", subject=name)
        arr = arr.astype(str)  # mixed object labels sort and compare only as text
    if arr.dtype.kind not in "biufUS":
        raise InputError("has an unsupported label type", subject=name, found=str(arr.dtype))
    return arr


def comparable(a: NDArray[Any], b: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """The two label arrays in one kind, so ``1`` and ``"1"`` compare equal.

    Targets may answer labels as text (an HTTP endpoint, an ONNX string output) while
    the reference labels are integers; integral floats are written without ``.0``.
    """
    text_a, text_b = a.dtype.kind in "US", b.dtype.kind in "US"
    if text_a == text_b:
        return a, b
    return _as_text(a), _as_text(b)


def _as_text(arr: NDArray[Any]) -> NDArray[Any]:
    if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    return arr.astype(str)


def probabilities(name: str, value: Any, n: int) -> NDArray[np.float64]:
    """An ``(n, k)`` probability array, ``k >= 2``; a 1-D array is P(class 1) of two classes."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("is not numeric", subject=name, expected="probabilities") from exc
    if arr.ndim == 1:
        arr = np.column_stack([1.0 - arr, arr])
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 2:
        raise InputError(
            "has the wrong shape",
            subject=name,
            expected=f"({n}, n_classes >= 2) or ({n},)",
            found=f"shape {arr.shape}",
        )
    if not np.isfinite(arr).all():
        raise InputError("contains NaN or infinite probabilities", subject=name)
    # Remote models round; anything further outside [0, 1] is a score, not a probability.
    if arr.min() < -1e-6 or arr.max() > 1 + 1e-6:
        raise InputError(
            "is not a probability",
            subject=name,
            expected="values in [0, 1]",
            found=f"range [{arr.min():.4g}, {arr.max():.4g}]",
        )
    return np.clip(arr, 0.0, 1.0)


def class_index(
    name: str, y: NDArray[Any], k: int, classes: Sequence[Any] | None
) -> NDArray[np.intp]:
    """Column index of each label in the probability array."""
    if classes is not None:
        keys = [str(c) for c in classes]
        if len(keys) != k or len(set(keys)) != k:
            raise InputError(
                "does not name each probability column once",
                subject="classes",
                expected=f"{k} distinct classes",
                found=f"{len(keys)}",
            )
        lookup = {c: i for i, c in enumerate(keys)}
        texts = _as_text(y) if y.dtype.kind not in "US" else y.astype(str)
        out = np.fromiter((lookup.get(t, -1) for t in texts.tolist()), dtype=np.intp, count=len(y))
        if (out < 0).any():
            unknown = sorted({t for t in texts.tolist() if t not in lookup})[:3]
            raise InputError("has labels not in classes", subject=name, found=", ".join(unknown))
        return out
    if y.dtype.kind not in "biu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise InputError(
            "labels are not column indices",
            subject=name,
            hint="pass classes=[...] in the order of the probability columns",
        )
    idx = y.astype(np.intp)
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise InputError(
            "has labels outside the probability columns",
            subject=name,
            expected=f"0..{k - 1}",
            found=f"{idx.min()}..{idx.max()}",
        )
    return idx


def fraction(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> float:
    """A finite float in ``[low, high]``."""
    v = float(value)
    if not (math.isfinite(v) and low <= v <= high):
        raise InputError(
            "is out of range", subject=name, expected=f"{low} to {high}", found=str(value)
        )
    return v


def resamples(value: int) -> int:
    """Bootstrap replicate count: enough for 2.5% tails, small enough to stay fast."""
    if not 200 <= int(value) <= 100_000:
        raise InputError(
            "is out of range", subject="resamples", expected="200 to 100000", found=str(value)
        )
    return int(value)


def per_column(name: str, value: Any, d: int, default: NDArray[np.float64]) -> NDArray[np.float64]:
    """A per-feature float vector: ``None`` -> ``default``, a scalar is broadcast."""
    if value is None:
        return default
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (d,)).copy()
    except (TypeError, ValueError) as exc:
        raise InputError(
            "does not give one number per feature",
            subject=name,
            expected=f"a number or {d} numbers",
        ) from exc
    if np.isnan(arr).any():
        raise InputError("contains NaN", subject=name)
    return arr


def column_mask(name: str, value: Any, d: int) -> NDArray[np.bool_]:
    """A boolean mask over features from a mask or a list of column indices."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_:
        if arr.shape != (d,):
            raise InputError(
                "has the wrong length",
                subject=name,
                expected=f"{d} booleans",
                found=f"shape {arr.shape}",
            )
        return arr.copy()
    mask = np.zeros(d, dtype=np.bool_)
    if arr.size == 0:
        return mask
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise InputError("is not a list of column indices", subject=name)
    if arr.min() < -d or arr.max() >= d:
        raise InputError(
            "names a column that does not exist",
            subject=name,
            expected=f"indices below {d}",
            found=str(int(arr.max())),
        )
    mask[arr] = True
    return mask
