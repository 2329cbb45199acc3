"""Query accounting: every row sent to a target is one query, counted per attack.

Attacks talk to a :class:`Budget`, never to the classifier directly, so the number of
queries they report is the number the target answered, and no attack can exceed its
budget (a batch that would is refused before it is sent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutela.arena.ml.interface import BudgetExhausted, Classifier

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Budget", "Counter"]


class Counter:
    """Total rows and calls a classifier answered during a run."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self.queries = 0
        self.calls = 0

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        self.queries += len(rows)
        self.calls += 1
        return self.classifier.predict(rows)

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        self.queries += len(rows)
        self.calls += 1
        return self.classifier.predict_proba(rows)


class Budget:
    """At most ``limit`` queries for one attacked sample."""

    def __init__(self, counter: Counter, limit: int) -> None:
        self.counter = counter
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> int:
        return self.limit - self.used

    def _take(self, n: int) -> None:
        if n > self.left:
            raise BudgetExhausted(f"query budget of {self.limit} spent")
        self.used += n

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        self._take(len(rows))
        return self.counter.predict(rows)

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        self._take(len(rows))
        return self.counter.predict_proba(rows)
