"""Calling a black-box model: in batches, shape-checked, and counted.

The model may be a remote endpoint that charges per call, so every measurement reports
how many rows it sent and in how many calls.
"""

# Matrices are upper-case (X, P) and counts of replicates/groups B, G, as in the papers and
# scikit-learn; the public argument names (X_pool, X_members, ...) are the agreed interface.
# ruff: noqa: N803

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._checks import labels, probabilities
from tutela.errors import InputError

__all__ = ["DEFAULT_BATCH", "Counted"]

DEFAULT_BATCH = 4096


class Counted:
    """Wraps ``predict(X) -> labels`` or ``proba(X) -> (n, k)`` with batching and counting."""

    def __init__(
        self,
        fn: Callable[[NDArray[np.float64]], Any],
        *,
        name: str,
        kind: Literal["labels", "proba"],
        batch: int = DEFAULT_BATCH,
    ) -> None:
        if not callable(fn):
            raise InputError("is not callable", subject=name, expected="a function of a 2-D array")
        if int(batch) < 1:
            raise InputError("must be positive", subject="batch_size", found=str(batch))
        self._fn = fn
        self._name = name
        self._kind = kind
        self._batch = int(batch)
        self._k: int | None = None
        self.calls = 0
        self.rows = 0

    def __call__(self, X: NDArray[np.float64]) -> NDArray[Any]:
        parts = [self._one(X[i : i + self._batch]) for i in range(0, len(X), self._batch)]
        if not parts:
            return np.empty((0, self._k or 2)) if self._kind == "proba" else np.empty(0)
        return np.concatenate(parts, axis=0)

    def _one(self, X: NDArray[np.float64]) -> NDArray[Any]:
        self.calls += 1
        self.rows += len(X)
        out = self._fn(X)
        subject = f"{self._name} output"
        if self._kind == "labels":
            return labels(subject, out, len(X))
        proba = probabilities(subject, out, len(X))
        if self._k is None:
            self._k = proba.shape[1]
        elif proba.shape[1] != self._k:
            raise InputError(
                "changed its number of classes between calls",
                subject=subject,
                expected=str(self._k),
                found=str(proba.shape[1]),
            )
        return proba
