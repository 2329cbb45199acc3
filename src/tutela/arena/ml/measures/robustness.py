"""Robustness curves: accuracy under realistic Gaussian noise and missing values.

Not an attack but the corruption benchmark of Hendrycks & Dietterich ("Benchmarking
Neural Network Robustness to Common Corruptions and Perturbations", ICLR 2019) carried
to tabular data: how much accuracy is lost when inputs are as noisy or as incomplete as
production data tends to be.

- Noise at level ``s`` adds ``N(0, (s * std_j)^2)`` to feature ``j`` (``std_j`` its
  standard deviation in ``X``), then rounds integer columns and clips to the declared or
  observed range; immutable columns are never touched.
- Missing values at rate ``r`` blank each mutable cell with probability ``r`` and impute
  it with ``fill`` (default: the column median, rounded for integer columns), as a
  pipeline with simple imputation would.

Every level reuses one draw of noise and one of uniforms (common random numbers), so
the curve is smooth in the level and the missing cells at 0.2 include those at 0.1.
Accuracies carry Wilson intervals; the drop from clean accuracy carries the
Agresti-Min interval for paired proportions, as both are measured on the same rows.
"""

# Matrices are upper-case (X, P) and counts of replicates/groups B, G, as in the papers and
# scikit-learn; the public argument names (X_pool, X_members, ...) are the agreed interface.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._calls import DEFAULT_BATCH, Counted
from tutela.arena.ml.measures._checks import (
    column_mask,
    comparable,
    fraction,
    labels,
    matrix,
    per_column,
)
from tutela.arena.ml.measures._stats import agresti_min_paired, wilson_interval
from tutela.arena.ml.measures.result import Measurement
from tutela.errors import InputError

__all__ = ["ATLAS", "ID", "REFERENCE_LEVEL", "robustness"]

ID = "ml.robustness.corruption"
# Natural corruption is not an adversary, but it is the same failure AML.T0015
# (Evade ML Model) exploits: a small change of input that changes the decision.
ATLAS = "AML.T0015"
REFERENCE_LEVEL = 0.1
_CHUNK_ROWS = 8192  # rows corrupted at once; part of the random stream, so fixed


def robustness(
    predict: Callable[[NDArray[np.float64]], Any],
    X: Any,
    y: Any,
    *,
    noise_levels: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.5),
    missing_rates: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
    lower: Any = None,
    upper: Any = None,
    integer: Any = None,
    immutable: Any = None,
    fill: Any = None,
    seed: int = 0,
    threshold: float = 0.1,
    batch_size: int = DEFAULT_BATCH,
) -> Measurement:
    """Accuracy of ``predict(X) -> labels`` against ``y`` as noise and missingness grow.

    ``lower``/``upper``: a number or one per feature (default: the range seen in ``X``;
    a declared bound that ``X`` itself exceeds widens to ``X``'s range).
    ``integer``/``immutable``: a boolean mask or column indices (``integer`` defaults to
    the columns whose values are all whole numbers). ``fill``: a number or one per
    feature. The 0.1 noise level and 0.1 missing rate are always measured.
    ``exceeded`` when accuracy drops by more than ``threshold`` (point estimate) at noise
    0.1 or missing rate 0.1: a drop of that size on ordinary data-quality problems is a
    failure whatever its interval.
    """
    X = matrix("X", X)
    n, d = X.shape
    y = labels("y", y, n)
    threshold = fraction("threshold", threshold)
    noise = _grid("noise_levels", noise_levels, high=10.0)
    missing = _grid("missing_rates", missing_rates, high=1.0)

    lo = per_column("lower", lower, d, X.min(axis=0))
    hi = per_column("upper", upper, d, X.max(axis=0))
    if (lo > hi).any():
        raise InputError(
            "is above upper for some feature",
            subject="lower",
            found=f"column {int(np.argmax(lo > hi))}",
        )
    whole = np.all(np.round(X) == X, axis=0)
    is_int = whole if integer is None else column_mask("integer", integer, d)
    frozen = np.zeros(d, np.bool_) if immutable is None else column_mask("immutable", immutable, d)
    # Ranges constrain the perturbation, not the data: where the reference rows already go
    # beyond a declared bound, the bound widens to them (listed in details) rather than
    # failing the whole measurement or moving a clean value.
    widened = ((lo > X) | (hi < X)).any(axis=0) & ~frozen
    lo, hi = np.minimum(lo, X.min(axis=0)), np.maximum(hi, X.max(axis=0))
    median = np.median(X, axis=0)
    fills = per_column("fill", fill, d, np.where(is_int, np.round(median), median))
    if not np.isfinite(fills).all():
        raise InputError("must be finite", subject="fill")

    model = Counted(predict, name="predict", kind="labels", batch=batch_size)
    clean_pred = model(X)
    clean_pred, y = comparable(clean_pred, y)
    clean_ok = clean_pred == y
    base = int(clean_ok.sum())
    base_ci = wilson_interval(base, n)
    corrupt = _Corruption(X, seed, ~frozen, is_int, lo, hi, fills)

    def score(kind: str, level: float) -> dict[str, Any]:
        if level == 0.0:
            pred, ok = clean_pred, clean_ok
        else:
            answers = [model(rows) for rows in corrupt.chunks(kind, level)]
            pred, _ = comparable(np.concatenate(answers), y)
            ok = pred == y
        hits = int(ok.sum())
        n10 = int((clean_ok & ~ok).sum())  # right on clean rows, wrong on corrupted ones
        n01 = int((~clean_ok & ok).sum())
        return {
            "level": level,
            "accuracy": hits / n,
            "interval": wilson_interval(hits, n),
            "drop": (base - hits) / n,
            "drop_interval": agresti_min_paired(n10, n01, n),
            "agreement": float((pred == clean_pred).mean()),
        }

    noise_curve = [score("noise", s) for s in noise]
    missing_curve = [score("missing", r) for r in missing]

    metrics: dict[str, float] = {"accuracy": base / n}
    intervals: dict[str, tuple[float, float]] = {"accuracy": base_ci}
    for kind, curve in (("noise", noise_curve), ("missing", missing_curve)):
        for point in curve:
            metrics[f"{kind}@{point['level']:g}"] = point["accuracy"]
            intervals[f"{kind}@{point['level']:g}"] = point["interval"]
        ref = next(p for p in curve if math.isclose(p["level"], REFERENCE_LEVEL))
        metrics[f"drop_{kind}"] = ref["drop"]
        intervals[f"drop_{kind}"] = ref["drop_interval"]
    exceeded = max(metrics["drop_noise"], metrics["drop_missing"]) > threshold
    summary = (
        f"accuracy {base / n:.1%} clean, {base / n - metrics['drop_noise']:.1%} at noise "
        f"{REFERENCE_LEVEL:g} std, {base / n - metrics['drop_missing']:.1%} with "
        f"{REFERENCE_LEVEL:.0%} missing; the largest drop is "
        f"{'above' if exceeded else 'within'} {threshold:g}"
    )
    return Measurement(
        id=ID,
        atlas=ATLAS,
        category="robustness",
        metrics=metrics,
        intervals=intervals,
        exceeded=bool(exceeded),
        summary=summary,
        threshold=threshold,
        queries=model.rows,
        calls=model.calls,
        params={
            "seed": seed,
            "threshold": threshold,
            "noise_levels": noise,
            "missing_rates": missing,
        },
        details={
            "rows": n,
            "noise": noise_curve,
            "missing": missing_curve,
            "integer_columns": np.flatnonzero(is_int).tolist(),
            "immutable_columns": np.flatnonzero(frozen).tolist(),
            "widened_columns": np.flatnonzero(widened).tolist(),
        },
    )


def _grid(name: str, levels: Sequence[float], *, high: float) -> list[float]:
    try:
        values = {fraction(name, float(v), high=high) for v in levels}
    except (TypeError, ValueError) as exc:
        raise InputError("must be numbers", subject=name) from exc
    return sorted(values | {0.0, REFERENCE_LEVEL})


class _Corruption:
    """Corrupted copies of ``X``, made in row chunks so memory stays bounded.

    Chunk ``c`` draws its noise and uniforms from ``default_rng([seed, c])``, the same
    draws at every level: a level changes only the scale or the cut, not the randomness.
    """

    def __init__(
        self,
        X: NDArray[np.float64],
        seed: int,
        mutable: NDArray[np.bool_],
        is_int: NDArray[np.bool_],
        lo: NDArray[np.float64],
        hi: NDArray[np.float64],
        fills: NDArray[np.float64],
    ) -> None:
        self.X, self.seed, self.mutable, self.is_int = X, seed, mutable, is_int
        self.lo, self.hi, self.fills = lo, hi, fills
        self.int_lo, self.int_hi = np.ceil(lo), np.floor(hi)
        self.scale = X.std(axis=0) * mutable

    def chunks(self, kind: str, level: float) -> Iterator[NDArray[np.float64]]:
        for c, start in enumerate(range(0, self.X.shape[0], _CHUNK_ROWS)):
            rows = self.X[start : start + _CHUNK_ROWS]
            rng = np.random.default_rng([self.seed, c])
            z = rng.standard_normal(rows.shape)
            u = rng.random(rows.shape)
            if kind == "noise":
                noisy = rows + z * (level * self.scale)
                noisy = np.where(
                    self.is_int,
                    np.clip(np.rint(noisy), self.int_lo, self.int_hi),
                    np.clip(noisy, self.lo, self.hi),
                )
                yield np.where(self.mutable, noisy, rows)
            else:
                yield np.where((u < level) & self.mutable, self.fills, rows)
