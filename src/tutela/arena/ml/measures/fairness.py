"""Group fairness across declared sensitive attributes, each gap with a 95% interval.

For each attribute and the groups of rows sharing a value of it, a gap is the spread
(largest minus smallest group value) of:

- the selection rate P(prediction = positive): demographic parity difference (Calders &
  Verwer 2010; Feldman et al., KDD 2015);
- the true- and false-positive rates: equalised odds (Hardt, Price & Srebro, "Equality of
  Opportunity in Supervised Learning", NeurIPS 2016), whose gap is the larger of the two;
- when probabilities are given, the signed calibration-in-the-large error
  ``mean(p) - mean(y)``: calibration within groups (Kleinberg, Mullainathan & Raghavan
  2016; Pleiss et al., NeurIPS 2017). Per-group ECE is listed too but not used as a gap:
  binned ECE grows as a group shrinks, so its spread would mostly measure group sizes.

Intervals are analytic. The spread is the largest pairwise difference, so it is bounded
by simultaneous intervals for all pairs: Newcombe's hybrid score interval for the
difference of two rates (Newcombe 1998, method 10), a Welch normal interval for the
difference of two mean errors, each at the Bonferroni level for the number of pairs. A
bootstrap of max - min would be biased upwards, and most at a true gap of zero, where
a false alarm matters most.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._checks import comparable, fraction, labels
from tutela.arena.ml.measures._stats import absolute, bonferroni_z, newcombe_difference
from tutela.arena.ml.measures.result import Measurement
from tutela.errors import InputError

__all__ = ["ATLAS", "GAPS", "ID", "fairness"]

ID = "ml.fairness.groups"
# ATLAS has no fairness technique; biased outcomes are the harm of AML.T0048.002
# (External Harms: Societal Harm), the closest mapping.
ATLAS = "AML.T0048.002"
GAPS = ("demographic_parity", "tpr_gap", "fpr_gap", "equalised_odds", "calibration_gap")
_BINS = 10

Gap = tuple[float, tuple[float, float], int, int]  # value, interval, highest, lowest group


def fairness(
    y_true: Any,
    y_pred: Any,
    groups: Mapping[str, Any],
    *,
    proba: Any | None = None,
    threshold: float = 0.1,
    seed: int = 0,
    positive: Any | None = None,
) -> Measurement:
    """Fairness gaps of ``y_pred`` against ``y_true`` across each attribute in ``groups``.

    ``groups`` maps an attribute name to one group label per row. ``positive`` is the
    favourable outcome (default: the larger of two labels; required with more than two).
    ``proba`` is P(positive) per row, or ``(n, 2)`` with it in the second column.
    ``exceeded`` when any gap's lower 95% bound is above ``threshold``: the gap is then
    shown, not merely suspected, and small groups widen intervals instead of raising
    alarms. The intervals are analytic, so ``seed`` changes nothing; it is accepted so
    every measurement has the same signature.
    """
    yt = labels("y_true", y_true)
    n = yt.shape[0]
    if n < 2:
        raise InputError("is too small", subject="y_true", expected="at least 2 rows")
    yp = labels("y_pred", y_pred, n)
    yt, yp = comparable(yt, yp)
    threshold = fraction("threshold", threshold)
    pos = _positive(yt, yp, positive)
    t = yt == pos
    p = yp == pos
    prob = _proba(proba, n)
    if not isinstance(groups, Mapping) or not groups:
        raise InputError(
            "declares no sensitive attribute",
            subject="groups",
            expected="a mapping of attribute name to one group label per row",
        )

    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    attributes: dict[str, Any] = {}
    for attr, values in groups.items():
        g = labels(f"groups[{attr}]", values, n)
        names, gi = np.unique(g, return_inverse=True)
        if names.size < 2:
            raise InputError(
                "has a single group", subject=f"groups[{attr}]", expected="two or more values"
            )
        gaps, table = _attribute(t, p, prob, gi, names.size)
        described: dict[str, Any] = {}
        for gap, (value, ci, hi_group, lo_group) in gaps.items():
            metrics[f"{attr}.{gap}"] = value
            intervals[f"{attr}.{gap}"] = ci
            described[gap] = {
                "value": value,
                "low": ci[0],
                "high": ci[1],
                "highest": str(names[hi_group]) if hi_group >= 0 else None,
                "lowest": str(names[lo_group]) if lo_group >= 0 else None,
            }
        attributes[str(attr)] = {
            "groups": [{"group": str(names[i]), **row} for i, row in enumerate(table)],
            "gaps": described,
        }

    flagged = sorted(
        (k for k, (lo, _) in intervals.items() if math.isfinite(lo) and lo > threshold),
        key=lambda k: -intervals[k][0],
    )
    defined = [k for k in metrics if math.isfinite(metrics[k])]
    worst = flagged[0] if flagged else max(defined, key=lambda k: metrics[k], default=None)
    if worst is None:
        summary = "no gap is defined: no attribute has two groups with the outcomes it needs"
    else:
        lo, hi = intervals[worst]
        summary = (
            f"{'largest shown' if flagged else 'largest'} gap {worst} {metrics[worst]:.3f} "
            f"[{lo:.3f}, {hi:.3f}]; {len(flagged)} gap(s) with lower bound above {threshold:g}"
        )
    return Measurement(
        id=ID,
        atlas=ATLAS,
        category="fairness",
        metrics=metrics,
        intervals=intervals,
        exceeded=bool(flagged),
        summary=summary,
        threshold=threshold,
        params={"seed": seed, "threshold": threshold, "positive": str(pos)},
        details={"rows": n, "attributes": attributes, "flagged": flagged},
    )


def _positive(yt: NDArray[Any], yp: NDArray[Any], positive: Any | None) -> Any:
    seen = np.unique(np.concatenate([yt, yp]))
    if positive is not None:
        match = seen[seen.astype(str) == str(positive)]
        if match.size == 0:
            raise InputError("is not among the labels", subject="positive", found=str(positive))
        return match[0]
    if seen.size > 2:
        raise InputError(
            "more than two labels and no favourable outcome",
            subject="y_true",
            hint="pass positive=<the favourable label>",
        )
    return seen[-1]


def _proba(proba: Any | None, n: int) -> NDArray[np.float64] | None:
    if proba is None:
        return None
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("is not numeric", subject="proba") from exc
    if arr.ndim == 2 and arr.shape[1] == 2:
        arr = arr[:, 1]
    if arr.shape != (n,):
        raise InputError(
            "has the wrong shape",
            subject="proba",
            expected=f"({n},) or ({n}, 2)",
            found=f"shape {arr.shape}",
        )
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise InputError("is not a probability", subject="proba", expected="values in [0, 1]")
    return arr


def _attribute(
    t: NDArray[np.bool_],
    p: NDArray[np.bool_],
    prob: NDArray[np.float64] | None,
    gi: NDArray[np.intp],
    n_groups: int,
) -> tuple[dict[str, Gap], list[dict[str, float]]]:
    """Gaps of one attribute with their intervals, and its per-group table."""
    # Confusion cells per group: 0 TP, 1 FN, 2 FP, 3 TN.
    cell = np.where(t, np.where(p, 0, 1), np.where(p, 2, 3))
    c = np.bincount(gi * 4 + cell, minlength=n_groups * 4).reshape(n_groups, 4)
    tp, fn, fp, tn = c[:, 0], c[:, 1], c[:, 2], c[:, 3]
    size = c.sum(axis=1)
    gaps = {
        "demographic_parity": _rate_gap(tp + fp, size),
        "tpr_gap": _rate_gap(tp, tp + fn),
        "fpr_gap": _rate_gap(fp, fp + tn),
    }
    tpr, fpr = gaps["tpr_gap"], gaps["fpr_gap"]
    # Equalised odds asks for both rates at once: the larger spread, bounded by the larger
    # bounds (the pair holds when both intervals hold).
    if math.isnan(tpr[0]) or math.isnan(fpr[0]):
        gaps["equalised_odds"] = tpr if math.isnan(fpr[0]) else fpr
    else:
        gaps["equalised_odds"] = (
            max(tpr[0], fpr[0]),
            (max(tpr[1][0], fpr[1][0]), max(tpr[1][1], fpr[1][1])),
            -1,
            -1,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        table = [
            {
                "rows": float(size[g]),
                "selection_rate": (tp[g] + fp[g]) / size[g],
                "tpr": tp[g] / (tp[g] + fn[g]) if tp[g] + fn[g] else math.nan,
                "fpr": fp[g] / (fp[g] + tn[g]) if fp[g] + tn[g] else math.nan,
                "base_rate": (tp[g] + fn[g]) / size[g],
            }
            for g in range(n_groups)
        ]
    if prob is not None:
        resid = prob - t
        gaps["calibration_gap"] = _mean_gap(resid, gi, n_groups)
        for g in range(n_groups):
            mine = gi == g
            table[g]["mean_proba"] = float(prob[mine].mean())
            table[g]["calibration_error"] = float(resid[mine].mean())
            table[g]["ece"] = _ece(prob[mine], t[mine])
    return gaps, [{k: float(v) for k, v in row.items()} for row in table]


def _rate_gap(hits: NDArray[np.int64], trials: NDArray[np.int64]) -> Gap:
    """Spread of ``hits / trials`` over groups with trials, with simultaneous Newcombe bounds."""
    groups = np.flatnonzero(trials > 0)
    if groups.size < 2:
        return (math.nan, (math.nan, math.nan), -1, -1)
    rate = hits[groups] / trials[groups]
    pairs = list(combinations(groups.tolist(), 2))
    z = bonferroni_z(len(pairs))
    bounds = [
        absolute(newcombe_difference(int(hits[i]), int(trials[i]), int(hits[j]), int(trials[j]), z))
        for i, j in pairs
    ]
    hi, lo = int(groups[rate.argmax()]), int(groups[rate.argmin()])
    value = float(rate.max() - rate.min())
    return (value, (max(b[0] for b in bounds), max(b[1] for b in bounds)), hi, lo)


def _mean_gap(resid: NDArray[np.float64], gi: NDArray[np.intp], n_groups: int) -> Gap:
    """Spread of group means of ``resid`` with simultaneous Welch bounds (groups of 2+ rows)."""
    size = np.bincount(gi, minlength=n_groups)
    mean = np.bincount(gi, weights=resid, minlength=n_groups) / np.maximum(size, 1)
    sq = np.bincount(gi, weights=(resid - mean[gi]) ** 2, minlength=n_groups)
    var = sq / np.maximum(size - 1, 1)
    groups = np.flatnonzero(size >= 2)
    if groups.size < 2:
        return (math.nan, (math.nan, math.nan), -1, -1)
    pairs = list(combinations(groups.tolist(), 2))
    z = bonferroni_z(len(pairs))
    bounds = []
    for i, j in pairs:
        d = mean[i] - mean[j]
        half = z * math.sqrt(var[i] / size[i] + var[j] / size[j])
        bounds.append(absolute((max(-1.0, d - half), min(1.0, d + half))))
    m = mean[groups]
    hi, lo = int(groups[m.argmax()]), int(groups[m.argmin()])
    value = float(m.max() - m.min())
    return (value, (max(b[0] for b in bounds), max(b[1] for b in bounds)), hi, lo)


def _ece(prob: NDArray[np.float64], t: NDArray[np.bool_]) -> float:
    """Binary ECE of P(positive), 10 equal-width right-closed bins (descriptive only)."""
    b = np.clip(np.ceil(prob * _BINS).astype(np.intp) - 1, 0, _BINS - 1)
    gap = np.bincount(b, weights=prob - t, minlength=_BINS)
    return float(np.abs(gap).sum() / prob.shape[0])
