"""What every evasion attack shares: its result record and how perturbations are measured.

Perturbations are measured in units of each feature's standard deviation in the reference
data (``FeatureSchema.scale``), so a change of 1.0 in any feature means "one typical
spread" whatever its unit: L2 is the Euclidean norm of the scaled change, Linf its
largest component.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from tutela.arena.ml.schema import FeatureSchema

__all__ = ["EvasionResult", "limit_linf", "norms"]


@dataclass(slots=True)
class EvasionResult:
    """One attacked row. ``adversarial`` holds the best evading row found, if any."""

    attack: str
    row: int  # index of the row in the reference data
    label: str  # the model's prediction on the clean row
    queries: int
    success: bool = False  # evaded within the budget and the perturbation bound
    evaded: bool = False  # evaded at all (perhaps with a larger change than allowed)
    new_label: str | None = None
    l2: float | None = None
    linf: float | None = None
    changed: tuple[str, ...] = ()  # names of the features that moved
    adversarial: NDArray[np.float64] | None = None
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "row": self.row,
            "label": self.label,
            "new_label": self.new_label,
            "success": self.success,
            "evaded": self.evaded,
            "queries": self.queries,
            "l2": self.l2,
            "linf": self.linf,
            "changed": list(self.changed),
            "error": self.error,
            "seconds": round(self.seconds, 6),
        }


def norms(
    schema: FeatureSchema, original: NDArray[np.float64], rows: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scaled L2 and Linf distance of each row from ``original``."""
    import numpy as np

    delta = np.atleast_2d((rows - original) / schema.scale)
    return np.sqrt((delta * delta).sum(axis=1)), np.abs(delta).max(axis=1, initial=0.0)


def limit_linf(
    schema: FeatureSchema, original: NDArray[np.float64], rows: NDArray[np.float64], eps: float
) -> NDArray[np.float64]:
    """Rows pulled back inside the scaled Linf ball of radius ``eps`` around ``original``,
    still satisfying the schema (whole-number columns move by whole steps, a category
    that would land outside the ball stays as it was)."""
    import numpy as np

    limit = eps * schema.scale
    integer = np.array([f.kind == "integer" for f in schema.features])
    limit = np.where(integer, np.floor(limit + 1e-9), limit)
    out = schema.project(original + np.clip(rows - original, -limit, limit), original)
    beyond = np.abs(out - original) > limit + 1e-9
    return np.where(beyond, original, out)
