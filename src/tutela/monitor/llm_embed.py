"""MiniLM sentence embeddings (the Arena's offline encoder) and an embedding-drift test.

The encoder is loaded once per process (about 1.5 s) and keeps a bounded cache of the texts
it has embedded, so deterministic services that repeat answers cost one forward pass per
distinct answer. Drift between two sets of embeddings is the unbiased MMD^2 under a
Gaussian (RBF) kernel whose bandwidth is the median pairwise distance of the pooled sample
(Gretton et al., JMLR 2012), with a permutation p-value.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from tutela.arena.refusal_model import RefusalModel

__all__ = ["Embedder", "EmbeddingDrift", "embedding_drift", "shared_embedder"]

_CACHE = 20_000


class Embedder:
    """The MiniLM encoder with the refusal head, plus an LRU cache of embeddings by text."""

    def __init__(self, model: RefusalModel) -> None:
        self.model = model
        self._cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Unit-length 384-d embeddings, one row per text (distinct texts embedded once)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for text, vector in zip(missing, self.model.encoder.embed(missing), strict=True):
            self._cache[text] = tuple(vector)
            if len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        rows = []
        for text in texts:
            self._cache.move_to_end(text)
            rows.append(self._cache[text])
        return np.asarray(rows, dtype=np.float64).reshape(len(texts), 384)

    def compliance_probability(self, embeddings: NDArray[np.float64]) -> list[float]:
        """P(complied) from the Arena's refusal head, for precomputed embeddings."""
        return [self.model.head.probability(list(map(float, row))) for row in embeddings]


# One encoder per process: loading costs seconds and the weights are read-only.
@functools.cache
def shared_embedder() -> Embedder:
    """The process-wide embedder; raises ``RefusalModelUnavailable`` without the extra."""
    from tutela.arena.refusal_model import RefusalModel

    return Embedder(RefusalModel.load())


@dataclass(frozen=True, slots=True)
class EmbeddingDrift:
    """MMD between two embedding samples: the distance, its permutation p-value, and the
    95th percentile of the permutation null (the distance that would be unremarkable)."""

    mmd: float
    p_value: float
    null_q95: float
    bandwidth: float
    n_reference: int
    n_current: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "mmd": self.mmd,
            "p_value": self.p_value,
            "null_q95": self.null_q95,
            "bandwidth": self.bandwidth,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }


def embedding_drift(
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    *,
    permutations: int = 500,
    seed: int = 0,
) -> EmbeddingDrift:
    """RBF-kernel MMD (sqrt of the unbiased MMD^2, floored at 0) with a permutation p-value."""
    n, m = len(reference), len(current)
    if n < 2 or m < 2:
        return EmbeddingDrift(0.0, 1.0, 0.0, 0.0, n, m)
    pooled = np.vstack([reference, current])
    sq = np.sum(pooled * pooled, axis=1)
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * pooled @ pooled.T, 0.0)
    upper = dist2[np.triu_indices(len(pooled), k=1)]
    positive = upper[upper > 1e-12]
    bandwidth = float(np.sqrt(np.median(positive))) if positive.size else 1.0
    kernel = np.exp(-dist2 / (2.0 * bandwidth * bandwidth))
    np.fill_diagonal(kernel, 0.0)  # the unbiased statistic leaves out i == j terms
    rng = np.random.default_rng(seed)
    labels = np.zeros((permutations + 1, n + m))
    labels[:, :n] = 1.0
    labels[1:] = rng.permuted(labels[1:], axis=1)
    other = 1.0 - labels
    kx = labels @ kernel
    xx = np.einsum("bi,bi->b", kx, labels) / (n * (n - 1))
    yy = np.einsum("bi,bi->b", other @ kernel, other) / (m * (m - 1))
    xy = np.einsum("bi,bi->b", kx, other) / (n * m)
    stats = xx + yy - 2.0 * xy
    p = float((1 + np.sum(stats[1:] >= stats[0] - 1e-12)) / (permutations + 1))
    root = float(np.sqrt(max(stats[0], 0.0)))
    q95 = float(np.sqrt(max(np.quantile(stats[1:], 0.95), 0.0)))
    return EmbeddingDrift(root, p, q95, bandwidth, n, m)
