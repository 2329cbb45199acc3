"""Distances between two distributions held as profiles, with intervals and p-values.

Numbers are compared on a common grid of the two sketches' quantiles; categories on their
counts. Every function here is pure numpy/scipy over small arrays (a few hundred cells), so
a comparison costs the same for a thousand rows as for ten million.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# scipy.special, not scipy.stats: the same functions for a third of the import time.
from scipy.special import gammaincc, kolmogorov, ndtr  # type: ignore[import-untyped]

from tutela.monitor.profile import CategoricalProfile, NumericProfile

__all__ = ["CategoricalDistances", "NumericDistances", "categorical", "numeric"]

Array = npt.NDArray[np.float64]
GRID = 513  # quantiles taken from each sketch to build the comparison grid
BINS = 20  # reference-quantile bins for PSI, Jensen-Shannon and Hellinger
PSI_FLOOR = 1e-4  # PSI is undefined for an empty bin: floor the masses (a common convention)
LN2 = float(np.log(2.0))
EXACT_RESAMPLE = 2_000  # below this many rows, bootstrap with exact multinomial draws


@dataclass
class NumericDistances:
    w1: float  # Wasserstein-1 / reference std, debiased for sample size
    w1_raw: float
    w1_low: float
    w1_high: float
    sketch_margin: float
    js: float  # Jensen-Shannon distance, log base 2, on BINS reference-quantile bins
    hellinger: float
    psi: float
    ks: float
    p_ks: float
    p_mean: float
    p_scale: float
    scale: float


@dataclass
class CategoricalDistances:
    js: float  # debiased Jensen-Shannon distance, log base 2
    js_raw: float
    js_low: float
    js_high: float
    hellinger: float
    psi: float
    chi2: float
    dof: int
    p_chi2: float
    levels: int


def _js_divergence(p: Array, q: Array) -> Array:
    """Jensen-Shannon divergence in bits, row-wise over the last axis."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log2(p / m), 0.0)
        b = np.where(q > 0, q * np.log2(q / m), 0.0)
    return np.asarray(0.5 * (a.sum(axis=-1) + b.sum(axis=-1)), dtype=np.float64)


def _hellinger(p: Array, q: Array) -> float:
    return float(np.sqrt(max(0.0, 1.0 - float(np.sqrt(p * q).sum()))))


def _psi(p: Array, q: Array) -> float:
    a, b = np.maximum(p, PSI_FLOOR), np.maximum(q, PSI_FLOOR)
    return float(((b - a) * np.log(b / a)).sum())


def _js_bias(levels: int, n: float, m: float) -> float:
    # Plug-in JSD between two samples of one distribution has expectation
    # (K-1)(1/n + 1/m) / 8 nats to first order (chi-square approximation).
    return max(levels - 1, 0) * (1.0 / n + 1.0 / m) / (8.0 * LN2)


def _grid(ref: NumericProfile, cur: NumericProfile) -> Array:
    u = np.linspace(0.0, 1.0, GRID)
    points = np.concatenate([ref.quantiles(u), cur.quantiles(u)])
    return np.unique(points[np.isfinite(points)])


def _w1_rows(f: Array, g: Array, dx: Array) -> Array:
    return np.asarray(np.abs(f[..., :-1] - g[..., :-1]) @ dx, dtype=np.float64)


def numeric(
    ref: NumericProfile,
    cur: NumericProfile,
    *,
    rng: np.random.Generator,
    bootstrap: int,
    confidence: float,
) -> NumericDistances:
    n, m = float(ref.moments.n), float(cur.moments.n)
    scale = ref.moments.std or cur.moments.std or max(abs(ref.moments.mean), 1.0)
    x = _grid(ref, cur)
    f, g = ref.cdf(x), cur.cdf(x)
    dx = np.diff(x)
    w1_raw = float(_w1_rows(f, g, dx)) / scale
    # Under "no change" sqrt(nm/(n+m)) W1 tends to the integral of |Brownian bridge(F)|,
    # whose mean is sqrt(2/pi) * integral sqrt(F(1-F)) dx: remove it in quadrature.
    spread = float(np.sqrt(np.clip(f[:-1] * (1 - f[:-1]), 0, None)) @ dx) / scale
    bias = np.sqrt(2.0 / np.pi) * spread * np.sqrt(1.0 / n + 1.0 / m)
    w1 = float(np.sqrt(max(0.0, w1_raw**2 - bias**2)))
    # The sketches' CDFs are each off by at most their rank error: over the grid that is at
    # most (eps_ref + eps_cur) times the grid's central width (rigorous for the central 99%).
    eps = ref.rank_error + cur.rank_error
    lo_x, hi_x = np.interp(
        [0.005, 0.995], np.concatenate([[0.0], f, [1.0]]), np.concatenate([[x[0]], x, [x[-1]]])
    )
    margin = eps * float(hi_x - lo_x) / scale
    # Parametric bootstrap of both samples over the grid's cells: the sampling interval.
    p_cells = np.diff(np.concatenate([[0.0], f, [1.0]]))
    q_cells = np.diff(np.concatenate([[0.0], g, [1.0]]))
    fb = np.cumsum(_resample(rng, n, p_cells, bootstrap), axis=1)[:, :-1]
    gb = np.cumsum(_resample(rng, m, q_cells, bootstrap), axis=1)[:, :-1]
    draws = np.sqrt(np.maximum(0.0, (_w1_rows(fb, gb, dx) / scale) ** 2 - bias**2))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail]) if bootstrap else (w1, w1)
    # Shift the bootstrap interval so it is centred on the estimate (basic-percentile mix).
    centre = float(np.median(draws)) if bootstrap else w1
    low, high = max(0.0, w1 - (centre - low) - margin), w1 + (high - centre) + margin

    # Binned distances on the reference's quantile bins.
    edges = np.unique(ref.quantiles(np.linspace(0, 1, BINS + 1)[1:-1]))
    pb = np.diff(np.concatenate([[0.0], ref.cdf(edges), [1.0]]))
    qb = np.diff(np.concatenate([[0.0], cur.cdf(edges), [1.0]]))
    pb, qb = np.clip(pb, 0, None), np.clip(qb, 0, None)
    pb, qb = pb / pb.sum(), qb / qb.sum()
    js = float(np.sqrt(max(0.0, float(_js_divergence(pb, qb)) - _js_bias(len(pb), n, m))))

    ks = float(np.max(np.abs(f - g))) if x.size else 0.0
    effective = np.sqrt(n * m / (n + m))
    # The sketch error is subtracted before the KS test, so a sketch alone never rejects.
    p_ks = float(kolmogorov(max(0.0, ks - eps) * effective))
    a, b = ref.moments, cur.moments
    se_mean = np.sqrt(a.var / n + b.var / m)
    p_mean = float(2 * ndtr(-abs(b.mean - a.mean) / se_mean)) if se_mean > 0 else 1.0
    p_scale = _scale_test(ref, cur)
    return NumericDistances(
        w1,
        w1_raw,
        float(low),
        float(high),
        margin,
        js,
        _hellinger(pb, qb),
        _psi(pb, qb),
        ks,
        p_ks,
        p_mean,
        p_scale,
        float(scale),
    )


def _scale_test(ref: NumericProfile, cur: NumericProfile) -> float:
    """Two-sided test of equal variances on the log ratio, robust to kurtosis."""
    a, b = ref.moments, cur.moments
    if a.n < 4 or b.n < 4 or a.var <= 0 or b.var <= 0:
        return 1.0
    # Var(log s^2) ~ (kappa - 1) / n (Box 1953); the pooled kurtosis keeps a heavy tail
    # in one sample from making the test over-confident.
    kappa = max((a.kurtosis * a.n + b.kurtosis * b.n) / (a.n + b.n), 1.0 + 1e-9)
    se = np.sqrt((kappa - 1.0) * (1.0 / a.n + 1.0 / b.n))
    return float(2 * ndtr(-abs(np.log(b.var / a.var)) / se))


def _resample(rng: np.random.Generator, n: float, p: Array, size: int) -> Array:
    """Bootstrap draws of a multinomial's shares: exact for small n, Gaussian for large n."""
    if size == 0:
        return np.empty((0, p.size))
    p = np.clip(p, 0, None)
    p = p / p.sum()
    if n < EXACT_RESAMPLE:
        # Draw the n items of each replicate directly: B*n uniforms beat B*K binomials.
        cells = np.searchsorted(np.cumsum(p), rng.random((size, int(n))), side="right")
        cells = np.minimum(cells, p.size - 1) + (np.arange(size) * p.size)[:, None]
        counts = np.bincount(cells.ravel(), minlength=size * p.size).reshape(size, p.size)
        return np.asarray(counts / n, dtype=np.float64)
    # Same mean and covariance, (diag(p) - p p^T) / n, for a fraction of the cost.
    root = np.sqrt(p)
    noise = rng.standard_normal((size, p.size)) * root
    noise -= noise.sum(axis=1, keepdims=True) * p
    return np.asarray(np.clip(p + noise / np.sqrt(n), 0, None), dtype=np.float64)


def categorical(
    ref: CategoricalProfile,
    cur: CategoricalProfile,
    *,
    rng: np.random.Generator,
    bootstrap: int,
    confidence: float,
) -> CategoricalDistances:
    fr, fc = ref.frequencies(), cur.frequencies()
    n = float(ref.count - ref.missing)
    m = float(cur.count - cur.missing)
    keys = list(dict.fromkeys([*fr, *fc]))
    a = np.array([fr.get(k, 0.0) for k in keys] + [max(0.0, n - sum(fr.values()))])
    b = np.array([fc.get(k, 0.0) for k in keys] + [max(0.0, m - sum(fc.values()))])
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    p, q = a / max(a.sum(), 1.0), b / max(b.sum(), 1.0)
    levels = int(keep.sum())
    bias = _js_bias(levels, max(n, 1.0), max(m, 1.0))
    js_raw = float(np.sqrt(float(_js_divergence(p, q))))
    js = float(np.sqrt(max(0.0, js_raw**2 - bias)))
    if bootstrap and n > 0 and m > 0:
        pb = _resample(rng, n, p, bootstrap)
        qb = _resample(rng, m, q, bootstrap)
        draws = np.sqrt(np.maximum(0.0, _js_divergence(pb, qb) - bias))
        tail = (1.0 - confidence) / 2.0
        low, high = np.quantile(draws, [tail, 1.0 - tail])
        centre = float(np.median(draws))
        low, high = max(0.0, js - (centre - low)), js + (high - centre)
    else:
        low, high = js, js
    chi2, dof, p_chi2 = _chi_square(a, b)
    return CategoricalDistances(
        js, js_raw, float(low), float(high), _hellinger(p, q), _psi(p, q), chi2, dof, p_chi2, levels
    )


def _chi_square(a: Array, b: Array) -> tuple[float, int, float]:
    """Chi-square test of homogeneity, rare levels pooled so every expected count is >= 5."""
    total = a.sum() + b.sum()
    if a.sum() == 0 or b.sum() == 0:
        return 0.0, 0, 1.0
    share = (a + b) / total
    rare = share * min(a.sum(), b.sum()) < 5.0
    if rare.any():
        a = np.append(a[~rare], a[rare].sum())
        b = np.append(b[~rare], b[rare].sum())
        if a[-1] + b[-1] == 0:
            a, b = a[:-1], b[:-1]
    if a.size < 2:
        return 0.0, 0, 1.0
    table = np.vstack([a, b])
    expected = table.sum(axis=0) * table.sum(axis=1)[:, None] / table.sum()
    chi2 = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
    dof = a.size - 1
    return chi2, dof, float(gammaincc(dof / 2.0, chi2 / 2.0))
