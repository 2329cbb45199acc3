"""Multivariate drift: can a classifier tell reference rows from current rows?

A gradient-boosted classifier is trained on the two reservoirs (out-of-fold predictions,
5-fold cross-validation) and its ROC AUC is reported with the Hanley & McNeil (1982)
standard error. AUC 0.5 means the windows are indistinguishable; the window drifts when
the interval's lower end is above 0.5 and the AUC reaches ``min_auc``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tutela.errors import InputError
from tutela.monitor.profile import ReservoirRows

__all__ = ["domain_classifier"]

MIN_ROWS = 50


def _matrix(a: ReservoirRows, b: ReservoirRows) -> tuple[np.ndarray[Any, Any], list[str]]:
    columns = [c for c in a.columns if c in b.columns]
    ia = {c: i for i, c in enumerate(a.columns)}
    ib = {c: i for i, c in enumerate(b.columns)}
    rows = [[r[ia[c]] for c in columns] for r in a.rows] + [
        [r[ib[c]] for c in columns] for r in b.rows
    ]
    features = np.empty((len(rows), len(columns)))
    for j in range(len(columns)):
        cells = [r[j] for r in rows]
        if all(v is None or isinstance(v, int | float) for v in cells):
            features[:, j] = [np.nan if v is None else float(v) for v in cells]
        else:  # categories as integer codes; the trees split on them as ordinals
            codes = {v: k for k, v in enumerate(sorted({str(v) for v in cells if v is not None}))}
            features[:, j] = [np.nan if v is None else codes[str(v)] for v in cells]
    return features, columns


def domain_classifier(
    reference: ReservoirRows, current: ReservoirRows, *, min_auc: float = 0.55, seed: int = 0
) -> dict[str, Any]:
    if len(reference.rows) < MIN_ROWS or len(current.rows) < MIN_ROWS:
        raise InputError(
            "too few sampled rows for a domain classifier",
            expected=f"at least {MIN_ROWS} per window",
            hint="profile with --reservoir N",
        )
    from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        StratifiedKFold,
        cross_val_predict,
    )

    x, columns = _matrix(reference, current)
    y = np.r_[np.zeros(len(reference.rows)), np.ones(len(current.rows))]
    model = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.15, random_state=seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # One thread: on a busy host OpenMP's many threads spin against each other for little gain
    # on a few thousand sampled rows.
    with threadpool_limits(limits=1):
        scores = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, scores))
    n1, n2 = float(len(reference.rows)), float(len(current.rows))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(
        (auc * (1 - auc) + (n2 - 1) * (q1 - auc**2) + (n1 - 1) * (q2 - auc**2)) / (n1 * n2)
    )
    low, high = max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)
    return {
        "auc": auc,
        "low": low,
        "high": high,
        "se": se,
        "min_auc": min_auc,
        "drifted": bool(low > 0.5 and auc >= min_auc),
        "rows": [int(n1), int(n2)],
        "columns": columns,
    }
