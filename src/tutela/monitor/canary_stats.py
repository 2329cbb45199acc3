"""Two-sample tests for canary answers: Model Equality Testing with a string kernel.

Following Gao, Liang and Guestrin, "Model Equality Testing: Which Model Is This API
Serving?" (ICLR 2025, arXiv:2410.20247): the baseline and the current run each hold about
ten sampled answers per fixed prompt; the statistic is the unbiased MMD^2 between the two
samples under a kernel on (prompt, answer) pairs that is zero across different prompts and
a string kernel within one. With that kernel the joint MMD^2 is the (equally weighted)
mean of per-prompt MMD^2, so we compute it per prompt. The p-value comes from a stratified
permutation test (answers are shuffled between runs within each prompt), which is exact
under H0 (both runs sampled the same distribution) whatever the kernel.

Kernels: ``hamming`` as in the paper (the share of character positions that agree after
truncating / padding both answers to ``length`` characters) and ``ngram`` (cosine of
character 3-gram counts, robust to insertions that shift every later position).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "KERNELS",
    "PermutationResult",
    "hamming_kernel",
    "length_test",
    "mmd_test",
    "ngram_kernel",
]

Matrix = NDArray[np.float64]
_PAD = 0  # code point used for padding: two answers that both ended agree there


def hamming_kernel(texts: Sequence[str], length: int = 1000) -> Matrix:
    """K[i, j] = share of the first ``length`` character positions where i and j agree."""
    codes = np.zeros((len(texts), length), dtype=np.int32)
    for i, text in enumerate(texts):
        chunk = text[:length]
        if chunk:
            codes[i, : len(chunk)] = np.frombuffer(chunk.encode("utf-32-le"), dtype=np.int32)
    out = np.empty((len(texts), len(texts)))
    for i in range(len(texts)):
        out[i] = (codes == codes[i]).mean(axis=1)
    return out


def _grams(text: str, n: int) -> Counter[str]:
    padded = f"\x02{text}\x03"
    return Counter(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))


def ngram_kernel(texts: Sequence[str], length: int = 1000, n: int = 3) -> Matrix:
    """K[i, j] = cosine similarity of character n-gram counts of the first ``length`` chars."""
    counts = [_grams(t[:length], n) for t in texts]
    norms = [math.sqrt(sum(v * v for v in c.values())) or 1.0 for c in counts]
    out = np.eye(len(texts))
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            small, large = sorted((counts[i], counts[j]), key=len)
            dot = sum(v * large.get(k, 0) for k, v in small.items())
            out[i, j] = out[j, i] = dot / (norms[i] * norms[j])
    return out


KERNELS: dict[str, Callable[[Sequence[str], int], Matrix]] = {
    "hamming": hamming_kernel,
    "ngram": ngram_kernel,
}


@dataclass(frozen=True, slots=True)
class PermutationResult:
    """The observed statistic, its permutation p-value, and the same per group (prompt)."""

    statistic: float
    p_value: float
    permutations: int
    groups: tuple[str, ...]
    group_statistics: tuple[float, ...]
    group_p_values: tuple[float, ...]


def _label_draws(n: int, m: int, draws: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Row 0 is the observed split (first n = baseline); rows 1.. are random relabellings."""
    base = np.zeros(n + m)
    base[:n] = 1.0
    out = np.tile(base, (draws + 1, 1))
    out[1:] = rng.permuted(out[1:], axis=1)
    return out


def _mmd2(kernel: Matrix, ax: NDArray[np.float64], n: int, m: int) -> NDArray[np.float64]:
    """Unbiased MMD^2 for every labelling row of ``ax`` (1 = first sample, 0 = second)."""
    ay = 1.0 - ax
    diag = np.diag(kernel)
    kx = ax @ kernel
    xx = np.einsum("bi,bi->b", kx, ax) - ax @ diag
    yy = np.einsum("bi,bi->b", ay @ kernel, ay) - ay @ diag
    xy = np.einsum("bi,bi->b", kx, ay)
    result: NDArray[np.float64] = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (n * m)
    return result


def _p(stats: NDArray[np.float64]) -> float:
    # (1 + #{T_b >= T_obs}) / (1 + B): a valid p-value, never 0. The tolerance keeps ties
    # (identical answers give exactly equal statistics) on the conservative side.
    observed = stats[0]
    return float((1 + np.sum(stats[1:] >= observed - 1e-12)) / len(stats))


def _stratified(
    groups: Sequence[tuple[str, Sequence[object], Sequence[object]]],
    per_group: Callable[[Sequence[object], NDArray[np.float64], int, int], NDArray[np.float64]],
    permutations: int,
    seed: int,
) -> PermutationResult:
    rng = np.random.default_rng(seed)
    names: list[str] = []
    rows: list[NDArray[np.float64]] = []
    for name, first, second in groups:
        n, m = len(first), len(second)
        if n < 2 or m < 2:
            continue  # an unbiased MMD needs two answers on each side
        labels = _label_draws(n, m, permutations, rng)
        rows.append(per_group([*first, *second], labels, n, m))
        names.append(name)
    if not rows:
        return PermutationResult(0.0, 1.0, permutations, (), (), ())
    matrix = np.vstack(rows)  # groups x (1 + permutations)
    total = matrix.mean(axis=0)
    return PermutationResult(
        statistic=float(total[0]),
        p_value=_p(total),
        permutations=permutations,
        groups=tuple(names),
        group_statistics=tuple(float(r[0]) for r in matrix),
        group_p_values=tuple(_p(r) for r in matrix),
    )


def mmd_test(
    groups: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    *,
    kernel: str = "hamming",
    length: int = 1000,
    permutations: int = 1000,
    seed: int = 0,
) -> PermutationResult:
    """MET: mean per-prompt unbiased MMD^2 of (baseline, current) answers, permutation p."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}")
    make = KERNELS[kernel]

    def per_group(
        texts: Sequence[object], labels: NDArray[np.float64], n: int, m: int
    ) -> NDArray[np.float64]:
        return _mmd2(make([str(t) for t in texts], length), labels, n, m)

    return _stratified(groups, per_group, permutations, seed)


def length_test(
    groups: Sequence[tuple[str, Sequence[int], Sequence[int]]],
    *,
    permutations: int = 1000,
    seed: int = 1,
) -> PermutationResult:
    """Mean over prompts of |difference in mean log(1 + length)|, stratified permutation p."""

    def per_group(
        values: Sequence[object], labels: NDArray[np.float64], n: int, m: int
    ) -> NDArray[np.float64]:
        logs = np.log1p(np.asarray(values, dtype=np.float64))
        diff: NDArray[np.float64] = np.abs(labels @ logs / n - (1.0 - labels) @ logs / m)
        return diff

    return _stratified(groups, per_group, permutations, seed)
