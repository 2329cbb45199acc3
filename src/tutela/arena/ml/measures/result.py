"""The one result type of every measurement: metrics, 95% intervals and a verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SCHEMA", "Measurement", "json_safe"]

# Stored with every payload so evidence written today stays readable as fields are added.
SCHEMA = "tutela.arena.ml.measure/1"


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one measurement found about one model.

    ``metrics`` are point estimates (NaN when undefined, e.g. a TPR in a group without
    positives); ``intervals`` hold the 95% interval of the metrics that have one.
    ``exceeded`` is the verdict against ``threshold``; each measurement's docstring says
    which statistic it compares. ``queries`` counts rows sent to the model and ``calls``
    the batches they went in; both are 0 for measurements on given predictions.
    """

    id: str
    atlas: str
    category: str
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    exceeded: bool
    summary: str
    threshold: float
    queries: int = 0
    calls: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy: NaN and infinities become ``None``, numpy scalars Python ones."""
        return {
            "schema": SCHEMA,
            "id": self.id,
            "atlas": self.atlas,
            "category": self.category,
            "metrics": json_safe(self.metrics),
            "intervals": {
                k: [json_safe(lo), json_safe(hi)] for k, (lo, hi) in self.intervals.items()
            },
            "exceeded": self.exceeded,
            "summary": self.summary,
            "threshold": json_safe(self.threshold),
            "queries": self.queries,
            "calls": self.calls,
            "params": json_safe(self.params),
            "details": json_safe(self.details),
        }


def json_safe(value: Any) -> Any:
    """Recursively turn numpy values, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
