"""Score-based evasion: random search on the vertices of a scaled Linf ball.

After Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a query-efficient
black-box adversarial attack via random search", ECCV 2020, arXiv:1912.00049: keep the
best point so far, propose changes that push a random subset of features to a corner
of the ball (``x ± epsilon · std``), and accept a proposal when the margin loss
``p(original class) − max p(other class)`` does not grow. The subset shrinks as the
budget is spent (the paper's schedule for ``p``). Images have squares; tabular rows have
no spatial structure, so the subset is a random set of mutable columns. Accepting equal
losses lets the search walk across the flat plateaus of tree ensembles. Proposals are
sent in batches (one call per batch) and projected onto the schema, then pulled back
into the ball, so every query respects the constraints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tutela.arena.ml.attacks.common import EvasionResult, limit_linf, norms
from tutela.arena.ml.interface import BudgetExhausted

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from tutela.arena.ml.oracle import Budget
    from tutela.arena.ml.schema import FeatureSchema

__all__ = ["RandomSearchSettings", "random_search_attack"]

ID = "ml.evasion.random_search"


@dataclass(frozen=True, slots=True)
class RandomSearchSettings:
    epsilon: float = 1.0  # radius of the scaled Linf ball
    batch: int = 16  # proposals per call
    start_fraction: float = 0.3  # share of mutable features changed at first


def _fraction(settings: RandomSearchSettings, used: int, limit: int) -> float:
    # The paper halves p at fixed shares of the budget (its schedule for 10,000 queries,
    # rescaled to the budget at hand).
    progress = used / max(limit, 1)
    halvings = sum(progress > mark for mark in (0.05, 0.1, 0.2, 0.4, 0.6, 0.8))
    return float(settings.start_fraction / 2**halvings)


def random_search_attack(
    x: NDArray[np.float64],
    label: str,
    *,
    row: int,
    budget: Budget,
    schema: FeatureSchema,
    classes: tuple[str, ...],
    rng: np.random.Generator,
    settings: RandomSearchSettings = RandomSearchSettings(),
) -> EvasionResult:
    """Search the Linf ball of radius ``settings.epsilon`` for a row of another class."""
    import numpy as np

    started = time.perf_counter()
    result = EvasionResult(ID, row, label, 0)
    if label not in classes:
        result.error = f"the model's label {label!r} is not among its probability columns"
        return result
    k = classes.index(label)
    mutable = np.flatnonzero(schema.mutable)
    eps = settings.epsilon

    def margins(rows: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        proba = np.asarray(budget.predict_proba(rows), dtype=np.float64)
        others = np.delete(proba, k, axis=1)
        best_other = others.max(axis=1) if others.shape[1] else np.zeros(len(rows))
        return proba[:, k] - best_other, proba.argmax(axis=1)

    best, best_margin, best_class = x, np.inf, k
    try:
        if len(mutable) == 0:
            raise BudgetExhausted("nothing may change")
        signs = rng.choice([-1.0, 1.0], size=len(x)) * schema.mutable
        first = limit_linf(schema, x, x + eps * signs * schema.scale, eps)
        found, top = margins(np.stack([x, first]))
        pick = int(np.argmin(found))
        best, best_margin, best_class = (x, first)[pick], found[pick], int(top[pick])
        while best_class == k and budget.left > 0:
            n = min(settings.batch, budget.left)
            size = max(1, round(_fraction(settings, budget.used, budget.limit) * len(mutable)))
            proposals = np.repeat(best[None, :], n, axis=0)
            for proposal in proposals:
                chosen = rng.choice(mutable, size=min(size, len(mutable)), replace=False)
                corner = rng.choice([-1.0, 1.0], size=len(chosen))
                proposal[chosen] = x[chosen] + eps * corner * schema.scale[chosen]
            proposals = limit_linf(schema, x, proposals, eps)
            found, top = margins(proposals)
            pick = int(np.argmin(found))
            if found[pick] <= best_margin:
                best, best_margin, best_class = proposals[pick], found[pick], int(top[pick])
    except BudgetExhausted:
        pass
    result.queries = budget.used
    result.seconds = time.perf_counter() - started
    if best_class != k:
        l2, linf = norms(schema, x, best)
        result.success = result.evaded = True
        result.new_label = classes[best_class]
        result.l2, result.linf = float(l2[0]), float(linf[0])
        result.adversarial = best
        moved = np.abs(best - x) > 0
        result.changed = tuple(n for n, m in zip(schema.names, moved, strict=True) if m)
    return result
