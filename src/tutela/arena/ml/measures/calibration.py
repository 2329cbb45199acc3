"""Calibration and overconfidence of predicted probabilities, with bootstrap intervals.

- ECE, the top-label expected calibration error (Naeini, Cooper & Hauskrecht, AAAI 2015;
  Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017):
  the confidence (top probability) is binned into ``bins`` bins, equal-width on [0, 1]
  by default (``strategy="quantile"``: equal-count bins), each bin right-closed
  ``(lo, hi]`` with the first also holding 0; ECE = sum over bins of
  ``n_bin / n * |accuracy_bin - confidence_bin|``. MCE is the largest bin gap.
  Binned ECE is biased upwards on small samples (Kumar, Liang & Ma, NeurIPS 2019); the
  interval reflects sampling noise, not that bias, so compare models on equal n.
- Brier score in Brier's (1950) multi-class form: mean over rows of
  ``sum_k (p_k - [y = k])^2``; for two classes it is twice scikit-learn's
  ``brier_score_loss``.
- Overconfidence: mean confidence minus accuracy over all predictions, and the mean
  confidence of wrong predictions (their accuracy is 0).

Intervals are basic (reverse percentile) bootstraps over rows with the bin edges held
fixed: binned ECE is biased upwards and so are its bootstrap replicates, which a plain
percentile interval would add to rather than correct. Replicates are computed in chunks
so memory stays bounded whatever the number of rows.
"""

# Matrices are upper-case (X, P) and counts of replicates/groups B, G, as in the papers and
# scikit-learn; the public argument names (X_pool, X_members, ...) are the agreed interface.
# ruff: noqa: N803, N806

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._checks import class_index, fraction, labels, probabilities
from tutela.arena.ml.measures._checks import resamples as checked_resamples
from tutela.arena.ml.measures._stats import basic_interval
from tutela.arena.ml.measures.result import Measurement
from tutela.errors import InputError

__all__ = ["ATLAS", "ID", "calibration"]

ID = "ml.calibration.confidence"
# No ATLAS technique is about miscalibration; overconfident scores mislead the people
# acting on them, which ATLAS files under AML.T0048.003 (External Harms: User Harm).
ATLAS = "AML.T0048.003"
METRICS = (
    "ece",
    "mce",
    "brier",
    "overconfidence",
    "overconfidence_wrong",
    "accuracy",
    "mean_confidence",
)
_CHUNK_CELLS = 2_000_000
_RANGE = {"brier": (0.0, 2.0), "overconfidence": (-1.0, 1.0)}


def calibration(
    y_true: Any,
    proba: Any,
    *,
    threshold: float = 0.1,
    seed: int = 0,
    bins: int = 15,
    strategy: Literal["uniform", "quantile"] = "uniform",
    classes: Sequence[Any] | None = None,
    resamples: int = 1000,
) -> Measurement:
    """ECE, MCE, Brier score and overconfidence of ``proba`` (``(n, k)``, or ``(n,)`` = P(1)).

    Labels are probability-column indices unless ``classes`` names the columns.
    ``exceeded`` when the lower 95% bound of the ECE is above ``threshold``: the model's
    stated confidence is shown to be off by more than that on average.
    """
    y = labels("y_true", y_true)
    n = y.shape[0]
    if n < 2:
        raise InputError("is too small", subject="y_true", expected="at least 2 rows")
    P = probabilities("proba", proba, n)
    idx = class_index("y_true", y, P.shape[1], classes)
    threshold = fraction("threshold", threshold)
    B = checked_resamples(resamples)
    if not 2 <= int(bins) <= 1000:
        raise InputError("is out of range", subject="bins", expected="2 to 1000", found=str(bins))
    if strategy not in ("uniform", "quantile"):
        raise InputError(
            "is unknown", subject="strategy", expected="uniform or quantile", found=str(strategy)
        )

    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == idx).astype(np.float64)
    onehot = np.zeros_like(P)
    onehot[np.arange(n), idx] = 1.0
    brier = ((P - onehot) ** 2).sum(axis=1)
    edges = _edges(conf, int(bins), strategy)
    nb = edges.shape[0] - 1
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, nb - 1)

    point = _stats(which[None], conf[None], correct[None], brier[None], nb)
    reps = _bootstrap(which, conf, correct, brier, nb, B, np.random.default_rng(seed))
    metrics = {k: float(point[k][0]) for k in METRICS}
    intervals = {
        k: basic_interval(metrics[k], reps[k], *_RANGE.get(k, (0.0, 1.0))) for k in METRICS
    }
    exceeded = intervals["ece"][0] > threshold

    cnt = np.bincount(which, minlength=nb)
    sc = np.bincount(which, weights=conf, minlength=nb)
    sa = np.bincount(which, weights=correct, minlength=nb)
    diagram = [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "rows": int(cnt[b]),
            "confidence": float(sc[b] / cnt[b]),
            "accuracy": float(sa[b] / cnt[b]),
        }
        for b in range(nb)
        if cnt[b] > 0
    ]
    lo, hi = intervals["ece"]
    summary = (
        f"ECE {metrics['ece']:.3f} [{lo:.3f}, {hi:.3f}] over {n} rows ({nb} {strategy} bins); "
        f"mean confidence {metrics['mean_confidence']:.1%} vs accuracy {metrics['accuracy']:.1%}; "
        f"lower bound {'above' if exceeded else 'not above'} {threshold:g}"
    )
    return Measurement(
        id=ID,
        atlas=ATLAS,
        category="calibration",
        metrics=metrics,
        intervals=intervals,
        exceeded=bool(exceeded),
        summary=summary,
        threshold=threshold,
        params={
            "seed": seed,
            "threshold": threshold,
            "bins": int(bins),
            "strategy": strategy,
            "resamples": B,
        },
        details={"rows": n, "classes": P.shape[1], "reliability": diagram},
    )


def _edges(conf: NDArray[np.float64], bins: int, strategy: str) -> NDArray[np.float64]:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, bins + 1)
    inner = np.unique(np.quantile(conf, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    return np.concatenate([[0.0], inner[(inner > 0) & (inner < 1)], [1.0]])


def _stats(
    which: NDArray[np.intp],
    conf: NDArray[np.float64],
    correct: NDArray[np.float64],
    brier: NDArray[np.float64],
    nb: int,
) -> dict[str, NDArray[np.float64]]:
    """All metrics for ``R`` samples given as ``(R, n)`` arrays (the rows of each sample)."""
    R, n = which.shape
    keys = (which + nb * np.arange(R)[:, None]).ravel()
    cnt = np.bincount(keys, minlength=R * nb).reshape(R, nb)
    sc = np.bincount(keys, weights=conf.ravel(), minlength=R * nb).reshape(R, nb)
    sa = np.bincount(keys, weights=correct.ravel(), minlength=R * nb).reshape(R, nb)
    gap = np.abs(sa - sc)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_bin = np.where(cnt > 0, gap / cnt, 0.0)
        wrong = n - correct.sum(axis=1)
        conf_wrong = np.where(wrong > 0, (conf * (1 - correct)).sum(axis=1) / wrong, np.nan)
    mean_conf = conf.mean(axis=1)
    accuracy = correct.mean(axis=1)
    return {
        "ece": gap.sum(axis=1) / n,
        "mce": per_bin.max(axis=1),
        "brier": brier.mean(axis=1),
        "overconfidence": mean_conf - accuracy,
        "overconfidence_wrong": conf_wrong,
        "accuracy": accuracy,
        "mean_confidence": mean_conf,
    }


def _bootstrap(
    which: NDArray[np.intp],
    conf: NDArray[np.float64],
    correct: NDArray[np.float64],
    brier: NDArray[np.float64],
    nb: int,
    B: int,
    rng: np.random.Generator,
) -> dict[str, NDArray[np.float64]]:
    n = which.shape[0]
    step = max(1, _CHUNK_CELLS // n)
    parts: list[dict[str, NDArray[np.float64]]] = []
    for start in range(0, B, step):
        idx = rng.integers(0, n, size=(min(step, B - start), n))
        parts.append(_stats(which[idx], conf[idx], correct[idx], brier[idx], nb))
    return {k: np.concatenate([p[k] for p in parts]) for k in METRICS}
