"""Interval estimates shared by the measurements (all two-sided 95%).

- Wilson score interval for a proportion (Wilson 1927), shared with the LLM Arena.
- Newcombe's hybrid score interval for a difference of independent proportions
  (Newcombe 1998, method 10).
- Agresti-Min interval for a difference of paired proportions (Agresti & Min 2005).
- DeLong's variance of the ROC AUC (DeLong, DeLong & Clarke-Pearson 1988) computed with
  midranks in O(n log n) as in Sun & Xu 2014.
- Basic bootstrap intervals (Efron & Tibshirani 1993, sec. 13.4; Davison & Hinkley 1997).
- Bonferroni-adjusted simultaneous intervals for the spread of several rates.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from tutela.arena.scoring import wilson

__all__ = [
    "Z95",
    "absolute",
    "agresti_min_paired",
    "basic_interval",
    "bonferroni_z",
    "delong",
    "midranks",
    "newcombe_difference",
    "wilson_interval",
]

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    iv = wilson(int(successes), int(trials), z)
    return (iv.low, iv.high)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Interval for ``x1/n1 - x2/n2`` from the two Wilson intervals (stays inside [-1, 1])."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(-1.0, low), min(1.0, high))


def agresti_min_paired(n10: int, n01: int, n: int) -> tuple[float, float]:
    """Interval for a paired difference ``(n10 - n01) / n``: Wald after adding 1/2 per cell.

    The adjustment keeps the interval from collapsing to a point when there are no
    discordant pairs, where the plain Wald interval fails worst.
    """
    a, b, m = n10 + 0.5, n01 + 0.5, n + 2.0
    d = (a - b) / m
    var = ((a + b) - (a - b) ** 2 / m) / (m * m)
    half = Z95 * math.sqrt(max(var, 0.0))
    return (max(-1.0, d - half), min(1.0, d + half))


def midranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks with ties given their average rank."""
    n = x.shape[0]
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    bounds = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1], True])
    mid = (bounds[:-1] + 1 + bounds[1:]) / 2.0  # a run at positions a..b-1 holds ranks a+1..b
    out = np.empty(n, dtype=np.float64)
    out[order] = np.repeat(mid, np.diff(bounds))
    return out


def delong(pos: NDArray[np.float64], neg: NDArray[np.float64]) -> tuple[float, float]:
    """ROC AUC of scores (positives should score higher; ties count 1/2) and its DeLong SE."""
    m, n = pos.shape[0], neg.shape[0]
    tz = midranks(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:m] - midranks(pos)) / n  # per positive: share of negatives it beats
    v01 = 1.0 - (tz[m:] - midranks(neg)) / m  # per negative: share of positives above it
    s10 = float(np.var(v10, ddof=1)) if m > 1 else 0.0
    s01 = float(np.var(v01, ddof=1)) if n > 1 else 0.0
    return float(auc), math.sqrt(s10 / m + s01 / n)


def basic_interval(
    point: float, samples: NDArray[np.float64], low: float = -math.inf, high: float = math.inf
) -> tuple[float, float]:
    """Basic (reverse percentile) bootstrap interval, clipped to ``[low, high]``.

    Chosen over the plain percentile interval for statistics such as binned ECE whose
    replicates are biased in the same direction as the estimate itself: reflecting the
    replicates around the estimate corrects that bias to first order.
    """
    ok = samples[np.isfinite(samples)]
    if ok.size == 0 or not math.isfinite(point):
        return (math.nan, math.nan)
    q_lo, q_hi = np.percentile(ok, [2.5, 97.5])
    return (max(low, 2 * point - float(q_hi)), min(high, 2 * point - float(q_lo)))


def bonferroni_z(tests: int) -> float:
    """Two-sided normal quantile keeping ``tests`` simultaneous 95% intervals at 95% jointly."""
    return Z95 if tests <= 1 else NormalDist().inv_cdf(1.0 - 0.025 / tests)


def absolute(interval: tuple[float, float]) -> tuple[float, float]:
    """The interval of ``|d|`` implied by an interval of ``d``."""
    lo, hi = interval
    if lo > 0:
        return (lo, hi)
    if hi < 0:
        return (-hi, -lo)
    return (0.0, max(-lo, hi))
