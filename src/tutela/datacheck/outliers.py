"""Outliers: a robust per-column score and a multivariate one, both on robust scales.

Per column (numeric columns with more than 20 distinct values): the robust z-score
``|x - median| / (1.4826 MAD)`` (Leys et al. 2013), on ``log1p`` of non-negative
right-skewed columns so that a long natural tail (areas, counts) is not an outlier by
itself. A row is flagged above ``UNIVARIATE_Z``.

Multivariate: IsolationForest (Liu, Ting, Zhou 2008) on the standardised feature matrix;
its anomaly scores are themselves put on a robust z scale and a row is flagged above
``MULTIVARIATE_Z``. Thresholds are far out in the tails on purpose: the check reports
gross errors (unit mix-ups, sentinel values, corrupted rows), not the ordinary tail, and
at most ``MAX_REPORTED`` rows, most extreme first.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from tutela.datacheck.features import Prepared, numeric_values
from tutela.datacheck.interface import Finding, FindingKind, Severity

__all__ = ["MAX_REPORTED", "find_outliers", "robust_z"]

UNIVARIATE_Z: Final = 10.0
MULTIVARIATE_Z: Final = 6.0
MAX_REPORTED: Final = 50
_MIN_DISTINCT: Final = 20
_MAX_FOREST_ROWS: Final = 100_000


def _robust_scale(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    median = float(np.median(x))
    mad = 1.4826 * float(np.median(np.abs(x - median)))
    if mad == 0:
        mad = 1.2533 * float(np.mean(np.abs(x - median)))  # mean absolute deviation, scaled
    return median, mad


def robust_z(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """|robust z| of each value, or None for a column without spread or with few values."""
    x = values[~np.isnan(values)]
    if np.unique(x).size <= _MIN_DISTINCT:
        return None
    if x.min() >= 0 and (x.mean() - np.median(x)) > 0.1 * x.std():
        values, x = np.log1p(values), np.log1p(x)
    median, scale = _robust_scale(x)
    if scale == 0:
        return None
    return np.nan_to_num(np.abs(values - median) / scale)


def find_outliers(data: Prepared, *, seed: int = 0) -> list[Finding]:
    from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

    n = data.n_rows
    frame = data.frame
    uni = np.zeros(n)
    worst_col: list[str | None] = [None] * n
    for name in data.numeric:
        values = numeric_values(frame[name])
        z = None if values is None else robust_z(values)
        if z is None:
            continue
        better = z > uni
        uni = np.where(better, z, uni)
        for r in np.flatnonzero(better & (z > UNIVARIATE_Z)):
            worst_col[r] = name
    fit_rows = np.arange(n)
    if n > _MAX_FOREST_ROWS:
        fit_rows = np.random.default_rng(seed).choice(n, _MAX_FOREST_ROWS, replace=False)
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(data.standardized[fit_rows])
    scores = -forest.score_samples(data.standardized)
    median, scale = _robust_scale(scores)
    multi = (scores - median) / scale if scale > 0 else np.zeros(n)
    flagged = np.flatnonzero((uni > UNIVARIATE_Z) | (multi > MULTIVARIATE_Z))
    if flagged.size == 0:
        return []
    strength = np.maximum(uni / UNIVARIATE_Z, multi / MULTIVARIATE_Z)
    ordered = flagged[np.argsort(-strength[flagged], kind="stable")]
    shown = ordered[:MAX_REPORTED]
    columns = sorted({c for c in (worst_col[r] for r in ordered) if c is not None})
    share = flagged.size / n
    return [
        Finding(
            kind=FindingKind.OUTLIER,
            check="outlier.robust",
            severity=Severity.MEDIUM if share >= 0.01 else Severity.LOW,
            message=f"{flagged.size} rows are extreme outliers (robust z > {UNIVARIATE_Z:g} in a "
            f"column or IsolationForest score z > {MULTIVARIATE_Z:g})",
            rows=[int(r) for r in shown],
            row_count=int(flagged.size),
            columns=columns,
            details={
                "method": "robust z (MAD) per column + IsolationForest on standardised features",
                "top": [
                    {
                        "row": int(r),
                        "column": worst_col[r],
                        "column_z": round(float(uni[r]), 2),
                        "forest_z": round(float(multi[r]), 2),
                    }
                    for r in shown
                ],
            },
        )
    ]
