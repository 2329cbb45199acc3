"""Shared types of the classifier Arena: the classifier protocol, errors, the attack catalog.

A classifier answers a batch of feature rows (a 2-D float array) with labels, and, when
it can, class probabilities in the order of ``classes``. Labels travel as strings so a
model trained on integers and a CSV read as text compare alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tutela.arena.interface import ArenaError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ATTACKS",
    "AttackInfo",
    "BudgetExhausted",
    "Classifier",
    "MLArenaError",
    "ModelRefused",
]


class MLArenaError(ArenaError):
    code = "arena.ml"


class ModelRefused(MLArenaError):
    """A model file that was neither scanned clean nor explicitly trusted: never loaded."""

    code = "arena.ml.refused"
    exit_code = 1


class BudgetExhausted(MLArenaError):
    """The query budget of one attack ran out (caught by the attacks, never shown)."""


class Classifier(Protocol):
    """A black box: batches of rows in, labels (and maybe probabilities) out."""

    id: str
    classes: tuple[str, ...]  # order of the probability columns; may be empty
    has_proba: bool

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]: ...

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AttackInfo:
    """What one attack or measurement is, for reports and the evidence payload."""

    id: str
    category: str
    atlas: tuple[str, ...]
    severity: str
    reference: str
    needs_proba: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "category": self.category,
            "atlas": list(self.atlas),
            "severity": self.severity,
            "reference": self.reference,
            "needs_proba": self.needs_proba,
        }


# MITRE ATLAS: AML.T0015 "Evade ML Model", AML.T0043 "Craft Adversarial Data".
ATTACKS: dict[str, AttackInfo] = {
    "ml.evasion.boundary": AttackInfo(
        id="ml.evasion.boundary",
        category="evasion",
        atlas=("AML.T0015", "AML.T0043"),
        severity="high",
        reference="Chen, Jordan, Wainwright. HopSkipJumpAttack: a query-efficient "
        "decision-based attack. IEEE S&P 2020. arXiv:1904.02144",
    ),
    "ml.evasion.random_search": AttackInfo(
        id="ml.evasion.random_search",
        category="evasion",
        atlas=("AML.T0015", "AML.T0043"),
        severity="high",
        reference="Andriushchenko, Croce, Flammarion, Hein. Square Attack: a query-efficient "
        "black-box adversarial attack via random search. ECCV 2020. arXiv:1912.00049",
        needs_proba=True,
    ),
}
