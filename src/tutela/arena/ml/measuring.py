"""Calling the measurements of :mod:`tutela.arena.ml.measures` with a run's data.

The measures package holds pure functions over arrays and black-box callables; this
module decides which data each one gets: extraction splits the reference rows into an
attacker's pool and a test half; membership compares the given training rows (members)
with the reference rows (non-members); fairness reads the sensitive columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from tutela.arena.ml.oracle import Counter
    from tutela.arena.ml.schema import FeatureSchema

__all__ = ["MEASURES", "MeasureInputs", "measure_info", "run_measure"]

MEASURES = ("extraction", "membership", "fairness", "calibration", "robustness")
CATEGORY = {
    "extraction": "extraction",
    "membership": "membership",
    "fairness": "fairness",
    "calibration": "calibration",
    "robustness": "robustness",
}


@dataclass
class MeasureInputs:
    counter: Counter
    features: NDArray[np.float64]
    labels: NDArray[np.str_]
    schema: FeatureSchema
    classes: tuple[str, ...]
    has_proba: bool
    seed: int
    budget: int
    groups: Mapping[str, Sequence[Any]]
    members: tuple[NDArray[np.float64], NDArray[np.str_]] | None = None


def measure_info(name: str) -> tuple[str, str]:
    """The stable id and ATLAS technique of measurement ``name`` (from its module)."""
    import importlib

    try:
        module = importlib.import_module(f"tutela.arena.ml.measures.{name}")
    except ImportError:
        return f"ml.{name}", "-"
    found = getattr(module, "ID", None) or getattr(module, "ID_THRESHOLD", f"ml.{name}")
    return str(found), str(getattr(module, "ATLAS", "-"))


def _module() -> Any:
    try:
        import tutela.arena.ml.measures as measures
    except ImportError as exc:  # written in parallel; a partial checkout may lack it
        raise MLArenaError(
            f"the measurements package is not available: {exc}", hint="use --attacks evasion"
        ) from None
    return measures


def _need_proba(inputs: MeasureInputs, name: str) -> None:
    if not inputs.has_proba:
        raise MLArenaError(f"{name} needs class probabilities; this target gives labels only")


def run_measure(name: str, inputs: MeasureInputs) -> Any:
    """The ``Measurement`` of ``name``; raises a ``TutelaError`` when it cannot run."""
    import numpy as np

    measures = _module()
    x, y, seed = inputs.features, inputs.labels, inputs.seed
    if name == "extraction":
        order = np.random.default_rng(seed).permutation(len(x))
        half = len(x) // 2
        pool, test = x[order[:half]], x[order[half:]]
        budgets = sorted({b for b in (50, 100, 250, 500, 1000, inputs.budget) if b <= len(pool)})
        return measures.extraction(
            inputs.counter.predict, pool, test, budgets=budgets or (len(pool),), seed=seed
        )
    if name == "membership":
        _need_proba(inputs, name)
        if inputs.members is None:
            raise MLArenaError(
                "membership inference needs the training rows",
                hint="give --members CSV (rows the model was trained on)",
            )
        xm, ym = inputs.members
        return measures.membership(
            inputs.counter.predict_proba, xm, ym, x, y, classes=list(inputs.classes), seed=seed
        )
    if name == "fairness":
        if not inputs.groups:
            raise MLArenaError("fairness needs at least one --sensitive column")
        predicted = inputs.counter.predict(x)
        proba = None
        if (
            inputs.has_proba
            and len(inputs.classes) == 2
            and list(inputs.classes) == sorted(inputs.classes)
        ):
            proba = inputs.counter.predict_proba(x)
        return measures.fairness(y, predicted, dict(inputs.groups), proba=proba, seed=seed)
    if name == "calibration":
        _need_proba(inputs, name)
        return measures.calibration(
            y, inputs.counter.predict_proba(x), classes=list(inputs.classes), seed=seed
        )
    if name == "robustness":
        schema = inputs.schema
        integer = np.array([f.kind != "float" for f in schema.features])
        finite_low = np.where(np.isfinite(schema.low), schema.low, np.nanmin(x, axis=0))
        finite_high = np.where(np.isfinite(schema.high), schema.high, np.nanmax(x, axis=0))
        return measures.robustness(
            inputs.counter.predict,
            x,
            y,
            lower=finite_low,
            upper=finite_high,
            integer=integer,
            immutable=~schema.mutable,
            seed=seed,
        )
    raise MLArenaError("unknown measurement", found=name, expected=", ".join(MEASURES))
