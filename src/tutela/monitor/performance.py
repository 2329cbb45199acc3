"""Model performance on a window once its labels arrive (joined by id)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["performance"]

Z95 = 1.959964


def _is_regression(values: Sequence[Any]) -> bool:
    floats = [v for v in values if isinstance(v, float) and not float(v).is_integer()]
    return bool(floats)


def performance(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, Any]:
    """Accuracy with a Wilson interval for classes; MAE and RMSE for numbers."""
    n = len(y_true)
    if n == 0:
        return {"task": "unknown", "n": 0}
    if _is_regression(list(y_true) + list(y_pred)):
        err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
        mae = float(np.abs(err).mean())
        se = float(np.abs(err).std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
        return {
            "task": "regression",
            "n": n,
            "mae": mae,
            "mae_low": mae - Z95 * se,
            "mae_high": mae + Z95 * se,
            "rmse": float(np.sqrt((err**2).mean())),
        }
    hits = sum(str(a) == str(b) for a, b in zip(y_true, y_pred, strict=True))
    p = hits / n
    # Wilson score interval: sane at small n and near 0 or 1.
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return {
        "task": "classification",
        "n": n,
        "accuracy": p,
        "accuracy_low": centre - half,
        "accuracy_high": centre + half,
    }
