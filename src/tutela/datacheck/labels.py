"""Label errors by confident learning (Northcutt, Jiang, Chuang 2021, JAIR 70).

Out-of-fold predicted probabilities come from a cross-validated scikit-learn model, so no
row is scored by a model that saw its own label. Confident learning (cleanlab's
``find_label_issues``) estimates the joint distribution of given and true labels from
per-class confidence thresholds and prunes the rows most likely mislabelled.

Models, on the standardised feature matrix (one-hot categoricals): ``logistic`` is a
multinomial logistic regression (C=0.1), fast and well calibrated on small tabular sets;
``hgb`` is HistGradientBoostingClassifier, which fits non-linear data; ``auto`` (the
default) starts with logistic regression and, when its out-of-fold accuracy is below
``AUTO_ACCURACY``, also fits gradient boosting and keeps the model with the lower
out-of-fold log loss, because a model that cannot fit the data flags the rows it cannot
fit, not bad labels. The finding names
the model used. Rows are kept when both of cleanlab's rules agree (``filter_by="both"``:
prune by noise rate and the confident-joint off-diagonals), trading recall for precision.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tutela.datacheck.features import Prepared
from tutela.datacheck.interface import Finding, FindingKind, Severity, capped, one_blas_thread

__all__ = ["MODELS", "find_label_errors", "out_of_fold_probabilities"]

MODELS: Final = ("auto", "logistic", "hgb")
_MAX_EXAMPLES: Final = 50
# "auto" also tries gradient boosting when logistic regression is this inaccurate.
AUTO_ACCURACY: Final = 0.9


def _estimator(model: str, seed: int) -> Any:
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

        return HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(max_iter=300, C=0.1, tol=1e-3)


def out_of_fold_probabilities(
    features: npt.NDArray[np.float64],
    labels: npt.NDArray[Any],
    *,
    model: str = "logistic",
    folds: int = 5,
    seed: int = 0,
) -> npt.NDArray[np.float64] | None:
    """P(class | row) from a model that never trained on the row; None if too few rows."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # type: ignore[import-untyped]

    smallest = int(np.bincount(labels).min())
    k = min(folds, smallest)
    if k < 2:
        return None
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with one_blas_thread():
        probs = cross_val_predict(
            _estimator(model, seed), features, labels, cv=splitter, method="predict_proba"
        )
    return np.asarray(probs, dtype=np.float64)


def _choose(
    features: npt.NDArray[np.float64], y: npt.NDArray[Any], model: str, seed: int
) -> tuple[npt.NDArray[np.float64] | None, str, dict[str, float]]:
    """Out-of-fold probabilities of ``model``; for "auto", of the model with the lower
    out-of-fold log loss (a misfit model flags the rows it cannot fit, not bad labels)."""
    from sklearn.metrics import log_loss  # type: ignore[import-untyped]

    candidates = ["logistic", "hgb"] if model == "auto" else [model]
    fitted: dict[str, npt.NDArray[np.float64]] = {}
    losses: dict[str, float] = {}
    while candidates:
        name = candidates.pop(0)
        probs = out_of_fold_probabilities(features, y, model=name, seed=seed)
        if probs is None:
            return None, model, {}
        fitted[name] = probs
        losses[name] = round(float(log_loss(y, probs, labels=np.arange(probs.shape[1]))), 6)
        if name == "logistic" and np.mean(np.argmax(probs, axis=1) == y) >= AUTO_ACCURACY:
            break  # a linear model fits: boosting is not worth its cost
    chosen = min(losses, key=losses.__getitem__)
    return fitted[chosen], chosen, losses


def find_label_errors(
    data: Prepared, *, model: str = "auto", seed: int = 0
) -> tuple[list[Finding], str | None]:
    """One ``label_error`` finding listing suspect rows, or why the check could not run."""
    from cleanlab.filter import find_label_issues  # type: ignore[import-untyped]

    assert data.labels is not None
    keep = np.flatnonzero(data.labels >= 0)
    labels = data.labels[keep]
    present = np.unique(labels)
    if len(present) < 2:
        return [], "fewer than two classes with labels"
    # Re-index classes so cleanlab sees 0..K-1 without gaps.
    remap = np.full(int(data.labels.max()) + 1, -1)
    remap[present] = np.arange(len(present))
    y = remap[labels]
    probs, model, losses = _choose(data.standardized[keep], y, model, seed)
    if probs is None:
        return [], "a class has fewer than two labelled rows"
    ranked = find_label_issues(
        labels=y, pred_probs=probs, filter_by="both", return_indices_ranked_by="self_confidence"
    )
    ranked = np.asarray(ranked, dtype=int)
    if ranked.size == 0:
        return [], None
    rows = keep[ranked]
    share = ranked.size / keep.size
    severity = (
        Severity.HIGH if share >= 0.05 else Severity.MEDIUM if share >= 0.01 else Severity.LOW
    )
    examples = []
    for local in ranked[:_MAX_EXAMPLES]:
        given = int(present[y[local]])
        suggested = int(present[int(np.argmax(probs[local]))])
        examples.append(
            {
                "row": int(keep[local]),
                "given": data.classes[given],
                "suggested": data.classes[suggested],
                "given_probability": round(float(probs[local, y[local]]), 4),
                "suggested_probability": round(float(probs[local].max()), 4),
            }
        )
    finding = Finding(
        kind=FindingKind.LABEL_ERROR,
        check="label_error.confident_learning",
        severity=severity,
        message=f"{ranked.size} rows ({share:.1%}) look mislabelled (confident learning)",
        rows=capped(rows),
        row_count=int(ranked.size),
        columns=[data.label_column or ""],
        details={
            "method": f"cleanlab.filter.find_label_issues on out-of-fold probabilities "
            f"({model}, {min(5, int(np.bincount(y).min()))}-fold)",
            "model": model,
            "out_of_fold_log_loss": losses,
            "examples": examples,
        },
    )
    return [finding], None
