"""Drift between a reference profile and a current one, decided by effect size.

A column drifts when two things hold:

1. the change is real: its p-value, adjusted by Benjamini-Hochberg across the columns of
   the window, is at most the window's share of alpha (alpha spending over windows:
   window t gets ``alpha * 6 / (pi^2 t^2)``, which sums to alpha over an unbounded run, so
   the chance of any false alarm over all windows of a stream stays under alpha); and
2. the change matters: the estimated effect (W1 / reference std for numbers, Jensen-Shannon
   distance for categories, Cohen's h for the missing rate), debiased for sample size, is at
   least the column's minimum effect.

The p-value of a numeric column is a weighted Bonferroni combination of a mean test and a
variance test on exact moments, a missing-rate test and a KS test whose statistic is first
reduced by the sketches' rank error, so sketch error can never make a significant result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tutela.errors import InputError
from tutela.monitor import distances
from tutela.monitor.profile import CategoricalProfile, NumericProfile, TableProfile

__all__ = [
    "ColumnDrift",
    "DriftConfig",
    "DriftReport",
    "benjamini_hochberg",
    "compare",
    "window_alpha",
]

DEFAULT_MIN_EFFECT = {"numeric": 0.1, "categorical": 0.05, "missing": 0.2}


@dataclass
class DriftConfig:
    """What counts as drift. Minimum effects are per column; defaults per kind."""

    alpha: float = 0.05
    window_index: int = 1  # 1 for the first comparison of a stream, then 2, 3, ...
    min_effect: dict[str, float] = field(default_factory=dict)
    default_numeric: float = DEFAULT_MIN_EFFECT["numeric"]
    default_categorical: float = DEFAULT_MIN_EFFECT["categorical"]
    default_missing: float = DEFAULT_MIN_EFFECT["missing"]
    importances: dict[str, float] | None = None
    dataset_share: float = 0.0  # dataset drifts when drifted columns carry > this impact
    columns: Sequence[str] | None = None
    bootstrap: int = 200
    confidence: float = 0.95
    seed: int = 0
    domain: bool = True  # run the domain classifier when both profiles carry row samples
    min_auc: float = 0.55

    def check(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError("alpha must be between 0 and 1", found=str(self.alpha))
        if self.window_index < 1:
            raise InputError("the window index starts at 1", found=str(self.window_index))
        if not 0 < self.confidence < 1:
            raise InputError("confidence must be between 0 and 1", found=str(self.confidence))
        if not 0 <= self.bootstrap <= 10_000:
            raise InputError("bootstrap draws must be 0..10000", found=str(self.bootstrap))
        for name, value in self.min_effect.items():
            if not (math.isfinite(value) and value >= 0):
                raise InputError("a minimum effect must be >= 0", subject=name, found=str(value))


def window_alpha(alpha: float, window_index: int) -> float:
    """Alpha spent on window t: alpha * 6 / (pi^2 t^2); the series sums to alpha."""
    return alpha * 6.0 / (math.pi**2 * window_index**2)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (Benjamini & Hochberg 1995), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(p.size)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in out]


@dataclass
class ColumnDrift:
    column: str
    kind: str
    n_reference: int
    n_current: int
    metric: str  # the effect the decision uses
    effect: float
    low: float
    high: float
    min_effect: float
    p_value: float
    p_adjusted: float = 1.0
    drifted: bool = False
    material: bool = False  # the whole interval is above the minimum effect
    missing_reference: float = 0.0
    missing_current: float = 0.0
    missing_effect: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # JSON (and the ledger's canonical form) has no infinity: an unbounded interval
        # end, as for a column with fewer than 2 values, is null.
        return {k: _json_number(v) for k, v in asdict(self).items()}


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class DriftReport:
    columns: list[ColumnDrift]
    alpha: float
    window_alpha: float
    window_index: int
    drifted_share: float
    weights: dict[str, float]
    drifted: bool
    domain: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def metrics(self) -> dict[str, float]:
        """Flat metric values for alert rules (tutela.monitor.alerts reads these by name)."""
        out: dict[str, float] = {
            "drift.dataset.drifted": float(self.drifted),
            "drift.dataset.share": self.drifted_share,
            "drift.dataset.columns_drifted": float(len(self.drifted_columns)),
        }
        for c in self.columns:
            out[f"drift.{c.column}.effect"] = c.effect
            out[f"drift.{c.column}.drifted"] = float(c.drifted)
            out[f"drift.{c.column}.p_adjusted"] = c.p_adjusted
            out[f"drift.{c.column}.missing"] = c.missing_current
            for name, value in c.metrics.items():
                out[f"drift.{c.column}.{name}"] = value
        if self.domain is not None:
            out["drift.domain.auc"] = float(self.domain["auc"])
            out["drift.domain.drifted"] = float(bool(self.domain["drifted"]))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "drifted_columns": self.drifted_columns,
            "drifted_share": self.drifted_share,
            "alpha": self.alpha,
            "window_index": self.window_index,
            "window_alpha": self.window_alpha,
            "weights": self.weights,
            "domain": self.domain,
            "columns": [c.to_dict() for c in self.columns],
            "meta": self.meta,
        }


def _cohens_h(p1: float, p2: float) -> float:
    return abs(2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1)))


def _missing_test(ref: Any, cur: Any) -> tuple[float, float, float, float]:
    n, m = ref.count, cur.count
    a = ref.missing / n if n else 0.0
    b = cur.missing / m if m else 0.0
    pooled = (ref.missing + cur.missing) / max(n + m, 1)
    se = math.sqrt(pooled * (1 - pooled) * (1 / max(n, 1) + 1 / max(m, 1)))
    from scipy.special import ndtr  # type: ignore[import-untyped]

    p = float(2 * ndtr(-abs(b - a) / se)) if se > 0 else 1.0
    return a, b, _cohens_h(a, b), p


def _column(
    name: str,
    ref: NumericProfile | CategoricalProfile,
    cur: NumericProfile | CategoricalProfile,
    config: DriftConfig,
    rng: np.random.Generator,
) -> ColumnDrift:
    miss_a, miss_b, miss_h, p_missing = _missing_test(ref, cur)
    common: dict[str, Any] = {
        "missing_reference": miss_a,
        "missing_current": miss_b,
        "missing_effect": miss_h,
    }
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        if ref.moments.n < 2 or cur.moments.n < 2:
            return ColumnDrift(
                name,
                "numeric",
                ref.moments.n,
                cur.moments.n,
                "w1_norm",
                0.0,
                0.0,
                math.inf,
                config.min_effect.get(name, config.default_numeric),
                p_missing,
                note="fewer than 2 values",
                **common,
            )
        d = distances.numeric(
            ref, cur, rng=rng, bootstrap=config.bootstrap, confidence=config.confidence
        )
        # Weighted Bonferroni (weights 1/2, 1/4, 1/8, 1/8): most drifts move the mean, the
        # most powerful test here, so it gets the largest share of the column's alpha.
        p = min(1.0, 2 * d.p_mean, 4 * d.p_scale, 8 * d.p_ks, 8 * p_missing)
        metrics = {
            "w1_norm": d.w1,
            "w1_norm_raw": d.w1_raw,
            "js": d.js,
            "hellinger": d.hellinger,
            "psi": d.psi,
            "ks": d.ks,
            "p_ks": d.p_ks,
            "p_mean": d.p_mean,
            "p_scale": d.p_scale,
            "sketch_margin": d.sketch_margin,
            "mean_shift": (cur.moments.mean - ref.moments.mean) / d.scale,
            "std_ratio": cur.moments.std / d.scale,
        }
        return ColumnDrift(
            name,
            "numeric",
            ref.moments.n,
            cur.moments.n,
            "w1_norm",
            d.w1,
            d.w1_low,
            d.w1_high,
            config.min_effect.get(name, config.default_numeric),
            p,
            metrics=metrics,
            **common,
        )
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        c = distances.categorical(
            ref, cur, rng=rng, bootstrap=config.bootstrap, confidence=config.confidence
        )
        p = min(1.0, 4 / 3 * c.p_chi2, 4 * p_missing)  # weighted Bonferroni (3/4, 1/4)
        metrics = {
            "js": c.js,
            "js_raw": c.js_raw,
            "hellinger": c.hellinger,
            "psi": c.psi,
            "chi2": c.chi2,
            "dof": float(c.dof),
            "p_chi2": c.p_chi2,
            "levels": float(c.levels),
        }
        n_ref, n_cur = ref.count - ref.missing, cur.count - cur.missing
        return ColumnDrift(
            name,
            "categorical",
            n_ref,
            n_cur,
            "js_distance",
            c.js,
            c.js_low,
            c.js_high,
            config.min_effect.get(name, config.default_categorical),
            p,
            metrics=metrics,
            **common,
        )
    raise InputError(
        "a column has different kinds in the two profiles",
        subject=name,
        expected=ref.kind,
        found=cur.kind,
    )


def compare(
    reference: TableProfile, current: TableProfile, config: DriftConfig | None = None
) -> DriftReport:
    """Per-column drift, BH across columns, alpha spent per window, impact-weighted total."""
    config = config or DriftConfig()
    config.check()
    names = (
        list(config.columns)
        if config.columns
        else [n for n in reference.columns if n in current.columns]
    )
    absent = [n for n in names if n not in reference.columns or n not in current.columns]
    if absent:
        raise InputError(
            "column missing from a profile",
            subject=", ".join(absent[:10]),
            hint="pick columns present in both with --columns",
        )
    if not names:
        raise InputError("the two tables share no column to compare")
    rng = np.random.default_rng(config.seed)
    results = [_column(n, reference.columns[n], current.columns[n], config, rng) for n in names]
    spent = window_alpha(config.alpha, config.window_index)
    for col, adjusted in zip(
        results, benjamini_hochberg([c.p_value for c in results]), strict=True
    ):
        col.p_adjusted = adjusted
        significant = adjusted <= spent
        missing_matters = col.missing_effect >= config.default_missing
        col.drifted = significant and (col.effect >= col.min_effect or missing_matters)
        col.material = col.drifted and col.low >= col.min_effect
    weights = _weights(names, config.importances)
    share = sum(weights[c.column] for c in results if c.drifted)
    domain = None
    if config.domain and reference.reservoir is not None and current.reservoir is not None:
        from tutela.monitor.domain import MIN_ROWS, domain_classifier

        if min(len(reference.reservoir.rows), len(current.reservoir.rows)) >= MIN_ROWS:
            try:
                domain = domain_classifier(
                    reference.reservoir,
                    current.reservoir,
                    min_auc=config.min_auc,
                    seed=config.seed,
                )
            except ImportError:  # scikit-learn is optional: say so instead of failing
                domain = {
                    "auc": 0.5,
                    "low": 0.0,
                    "high": 1.0,
                    "drifted": False,
                    "note": "scikit-learn is not installed: no domain classifier",
                    "rows": [len(reference.reservoir.rows), len(current.reservoir.rows)],
                }
    drifted = share > config.dataset_share or bool(domain and domain["drifted"])
    return DriftReport(
        results,
        config.alpha,
        spent,
        config.window_index,
        share,
        weights,
        drifted,
        domain,
        meta={"reference_rows": reference.rows, "current_rows": current.rows},
    )


def _weights(names: Sequence[str], importances: Mapping[str, float] | None) -> dict[str, float]:
    """Feature impact normalised to sum 1; equal weights when none are given."""
    if not importances:
        return {n: 1.0 / len(names) for n in names}
    raw = {n: max(0.0, float(importances.get(n, 0.0))) for n in names}
    total = sum(raw.values())
    if total <= 0:
        raise InputError("feature importances are all zero for the compared columns")
    return {n: v / total for n, v in raw.items()}
