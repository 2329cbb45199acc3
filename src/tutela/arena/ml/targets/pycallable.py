"""A Python callable as a target (the SDK's way in: any function of a 2-D array)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CallableTarget"]


class CallableTarget:
    """``predict(rows) -> labels`` and optionally ``predict_proba(rows) -> probabilities``
    (columns in the order of ``classes``)."""

    def __init__(
        self,
        target_id: str,
        predict: Callable[[Any], Any] | None = None,
        *,
        predict_proba: Callable[[Any], Any] | None = None,
        classes: Sequence[Any] = (),
    ) -> None:
        if predict is None and predict_proba is None:
            raise MLArenaError("a callable target needs predict or predict_proba")
        if predict_proba is not None and not classes:
            raise MLArenaError(
                "predict_proba needs the class order",
                subject=target_id,
                hint="pass classes=[...] in the order of its columns",
            )
        self.id = target_id
        self._predict = predict
        self._proba = predict_proba
        self.classes: tuple[str, ...] = tuple(str(c) for c in classes)
        self.has_proba = predict_proba is not None

    @classmethod
    def from_estimator(cls, target_id: str, estimator: Any) -> CallableTarget:
        """An in-memory scikit-learn estimator (the caller already trusts it)."""
        proba = getattr(estimator, "predict_proba", None)
        return cls(
            target_id,
            estimator.predict,
            predict_proba=proba,
            classes=list(getattr(estimator, "classes_", ())),
        )

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        import numpy as np

        if self._predict is None:
            best: NDArray[np.str_] = np.asarray(self.classes)[
                self.predict_proba(rows).argmax(axis=1)
            ]
            return best
        labels: NDArray[np.str_] = np.asarray(self._predict(rows)).astype(str).ravel()
        if len(labels) != len(rows):
            raise MLArenaError(
                "the callable returned the wrong number of labels",
                subject=self.id,
                expected=str(len(rows)),
                found=str(len(labels)),
            )
        return labels

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        if self._proba is None:
            raise MLArenaError("this target gives labels only", subject=self.id)
        proba: NDArray[np.float64] = np.asarray(self._proba(rows), dtype=np.float64)
        if proba.shape != (len(rows), len(self.classes)):
            raise MLArenaError(
                "the callable returned probabilities of the wrong shape",
                subject=self.id,
                expected=f"({len(rows)}, {len(self.classes)})",
                found=str(proba.shape),
            )
        return proba

    def close(self) -> None:
        return None
