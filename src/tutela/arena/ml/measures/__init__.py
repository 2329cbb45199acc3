"""Measurements of a classifier: extraction, membership, fairness, calibration, robustness.

Pure functions over numpy arrays and black-box callables (``predict(X) -> labels``,
``proba(X) -> (n, n_classes)``), each returning a ``Measurement`` with 95% intervals and
a verdict against its threshold. Deterministic under ``seed``. See
docs/arena-ml-measures.md for the methods and the papers they follow.
"""

from tutela.arena.ml.measures.calibration import calibration
from tutela.arena.ml.measures.extraction import extraction
from tutela.arena.ml.measures.fairness import fairness
from tutela.arena.ml.measures.membership import membership
from tutela.arena.ml.measures.result import SCHEMA, Measurement
from tutela.arena.ml.measures.robustness import robustness

__all__ = [
    "SCHEMA",
    "Measurement",
    "calibration",
    "extraction",
    "fairness",
    "membership",
    "robustness",
]
