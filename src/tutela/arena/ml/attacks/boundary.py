"""Decision-based evasion: a boundary search in the manner of HopSkipJumpAttack.

Chen, Jordan and Wainwright, "HopSkipJumpAttack: A Query-Efficient Decision-Based
Attack", IEEE S&P 2020, arXiv:1904.02144. Only the predicted label is used, so it works
on tree ensembles and anything else without gradients. Steps (L2 version, Algorithm 2):

1. start from an evading row: the nearest reference rows of another class (with the
   attacked row's immutable columns), else random rows inside the schema;
2. binary-search the segment to the original row to sit on the decision boundary;
3. estimate the boundary's normal by Monte-Carlo sign queries around that point
   (baseline-subtracted, paper eq. 9), step along it with a geometrically shrinking
   step size until the label is still wrong, and binary-search back to the boundary.

Adaptations for tabular models: every query is projected onto the feature schema
(immutable columns, ranges, whole numbers, categories), and the sampled directions are
measured after projection, so rounding and clipping are part of the estimate. Tree
ensembles are piecewise constant, so the probe radius grows when every sample falls on
the same side and shrinks when they are balanced. Trees read few features, so a pruning
pass puts features back to their original values while the row still evades. With an
Linf bound (``epsilon``), each iteration bisects the smallest Linf ball around the
original in which the point still evades, and the search stops once that ball is
inside the bound.
"""

from __future__ import annotations

import math
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

__all__ = ["BoundarySettings", "boundary_attack"]

ID = "ml.evasion.boundary"


@dataclass(frozen=True, slots=True)
class BoundarySettings:
    epsilon: float | None = None  # success needs scaled Linf <= epsilon (None: any evasion)
    starts: int = 8  # reference rows of other classes tried as starting points
    init_samples: int = 16  # random rows tried when no reference row evades
    grad_queries: int = 24  # first gradient estimate; grows with sqrt(iteration)
    max_grad_queries: int = 96
    tolerance: float = 0.01  # binary search stops at this fraction of the distance


class _Search:
    """One attacked row: the oracle, the constraints and the best point so far."""

    def __init__(
        self, x: NDArray[np.float64], label: str, budget: Budget, schema: FeatureSchema
    ) -> None:
        self.x = x
        self.label = label
        self.budget = budget
        self.schema = schema
        self.seen: dict[bytes, str] = {}  # label of every row queried, for the report

    def evades(self, rows: NDArray[np.float64]) -> NDArray[np.bool_]:
        import numpy as np

        labels = np.asarray(self.budget.predict(rows))
        for row, answer in zip(rows, labels, strict=True):
            self.seen[row.tobytes()] = str(answer)
        result: NDArray[np.bool_] = labels != self.label
        return result

    def dist(self, row: NDArray[np.float64]) -> float:
        return float(norms(self.schema, self.x, row)[0][0])

    def bisect(self, adversarial: NDArray[np.float64], tolerance: float) -> NDArray[np.float64]:
        """The evading point nearest the original on the projected segment."""
        lo, hi = 0.0, 1.0
        best = adversarial
        total = self.dist(adversarial)
        while (hi - lo) * total > tolerance * max(total, 1e-12) and self.budget.left > 0:
            mid = (lo + hi) / 2
            point = self.schema.project(self.x + mid * (adversarial - self.x), self.x)
            if self.evades(point[None, :])[0]:
                hi, best = mid, point
            else:
                lo = mid
        return best


def _start(
    search: _Search,
    rng: np.random.Generator,
    reference: NDArray[np.float64],
    reference_labels: NDArray[np.str_],
    settings: BoundarySettings,
) -> NDArray[np.float64] | None:
    import numpy as np

    schema = search.schema
    other = reference[reference_labels != search.label]
    if len(other):
        other = schema.project(other, search.x)
        distance = norms(schema, search.x, other)[0]
        nearest = other[np.argsort(distance)[: min(settings.starts, search.budget.left)]]
        hits = nearest[search.evades(nearest)] if len(nearest) else nearest
        if len(hits):
            first: NDArray[np.float64] = hits[0]  # nearest first
            return first
    for _ in range(4):
        n = min(settings.init_samples, search.budget.left)
        if n <= 0:
            return None
        rows = schema.sample(rng, search.x, n)
        hits = rows[search.evades(rows)]
        if len(hits):
            closest: NDArray[np.float64] = hits[int(np.argmin(norms(schema, search.x, hits)[0]))]
            return closest
    return None


def _prune(search: _Search, best: NDArray[np.float64], tolerance: float) -> NDArray[np.float64]:
    """Put features back to their original values while the row still evades: tree
    ensembles read few features, so much of a change is often waste. Two batched calls:
    every single revert, then growing sets of the reverts that worked, largest first."""
    import numpy as np

    x, schema = search.x, search.schema
    delta = np.abs(best - x) / schema.scale
    order = [int(j) for j in np.argsort(-delta) if delta[j] > 0][: search.budget.left]
    if not order:
        return best
    singles = np.repeat(best[None, :], len(order), axis=0)
    singles[np.arange(len(order)), order] = x[order]
    singles = schema.project(singles, x)
    keep = [j for j, ok in zip(order, search.evades(singles), strict=True) if ok]
    keep = keep[: search.budget.left]
    if not keep:
        return best
    grown = np.repeat(best[None, :], len(keep), axis=0)
    for m in range(len(keep)):
        grown[m, keep[: m + 1]] = x[keep[: m + 1]]
    grown = schema.project(grown, x)
    hits = np.flatnonzero(search.evades(grown))
    if not len(hits):
        return best
    return search.bisect(grown[hits[-1]], tolerance)


def _within(search: _Search, best: NDArray[np.float64], epsilon: float | None) -> bool:
    """With a bound, the search stops at the first evading row inside it."""
    return epsilon is not None and bool(norms(search.schema, search.x, best)[1][0] <= epsilon)


def _clip(search: _Search, best: NDArray[np.float64], epsilon: float | None) -> NDArray[np.float64]:
    """The L2 search may leave a few features beyond the Linf bound: pull the point back
    into the smallest Linf ball (bisected, down to the bound) in which it still evades."""
    if epsilon is None or search.budget.left <= 0:
        return best
    top = float(norms(search.schema, search.x, best)[1][0])
    if top <= epsilon:
        return best
    trial = limit_linf(search.schema, search.x, best, epsilon)
    if search.evades(trial[None, :])[0]:
        return trial
    lo, hi, found = epsilon, top, best
    for _ in range(6):
        if search.budget.left <= 0:
            break
        mid = (lo + hi) / 2
        trial = limit_linf(search.schema, search.x, best, mid)
        if search.evades(trial[None, :])[0]:
            hi, found = mid, trial
        else:
            lo = mid
    return found


def _gradient(
    search: _Search,
    rng: np.random.Generator,
    point: NDArray[np.float64],
    radius: float,
    n: int,
) -> tuple[NDArray[np.float64] | None, float]:
    """Estimated unit normal of the boundary at ``point`` (in scaled units), and the
    share of probes that evaded."""
    import numpy as np

    schema = search.schema
    mutable = schema.mutable
    noise = rng.standard_normal((n, len(point))) * mutable
    noise /= np.linalg.norm(noise, axis=1, keepdims=True) + 1e-12
    probes = schema.project(point + radius * noise * schema.scale, search.x)
    moved = (probes - point) / schema.scale
    length = np.linalg.norm(moved, axis=1, keepdims=True)
    keep = length[:, 0] > 0
    if not keep.any():
        return None, 0.0
    moved, probes = moved[keep] / length[keep], probes[keep]
    sign = np.where(search.evades(probes), 1.0, -1.0)
    share = float((sign > 0).mean())
    if 0.0 < share < 1.0:
        sign = sign - sign.mean()  # the baseline of eq. (9): lower variance
    direction = (sign[:, None] * moved).mean(axis=0)
    size = float(np.linalg.norm(direction))
    return (direction / size if size > 0 else None), share


def boundary_attack(
    x: NDArray[np.float64],
    label: str,
    *,
    row: int,
    budget: Budget,
    schema: FeatureSchema,
    reference: NDArray[np.float64],
    reference_labels: NDArray[np.str_],
    rng: np.random.Generator,
    settings: BoundarySettings = BoundarySettings(),
) -> EvasionResult:
    """Search for the smallest evading change of ``x`` within ``budget`` queries."""
    started = time.perf_counter()
    search = _Search(x, label, budget, schema)
    best = None
    try:
        start = _start(search, rng, reference, reference_labels, settings)
        if start is not None:
            best = _prune(search, search.bisect(start, settings.tolerance), settings.tolerance)
            radius = max(search.dist(best) / math.sqrt(max(int(schema.mutable.sum()), 1)), 1e-6)
            iteration = 0
            reserve = len(x) + 8  # for the last pruning pass
            while budget.left > reserve and not _within(search, best, settings.epsilon):
                best = _clip(search, best, settings.epsilon)
                if _within(search, best, settings.epsilon):
                    break
                iteration += 1
                distance = search.dist(best)
                n = min(
                    settings.grad_queries * int(math.sqrt(iteration)),
                    settings.max_grad_queries,
                    budget.left - reserve,
                )
                if n < 2:  # the Linf bisection above spent what the estimate needed
                    break
                direction, share = _gradient(search, rng, best, radius, n)
                # Piecewise-constant models: all probes on one side says the radius is
                # off scale, not that the boundary is flat.
                if share in (0.0, 1.0):
                    radius = min(radius * 2, distance)
                elif 0.3 < share < 0.7:
                    radius = max(radius / 2, 1e-6 * max(distance, 1e-6))
                if direction is None:
                    continue
                step = distance / math.sqrt(iteration)
                candidate = None
                while step > settings.tolerance * distance / 4:
                    trial = schema.project(best + step * direction * schema.scale, x)
                    if search.evades(trial[None, :])[0]:
                        candidate = trial
                        break
                    step /= 2
                if candidate is None:
                    continue
                refined = search.bisect(candidate, settings.tolerance)
                if search.dist(refined) < distance:
                    best = refined
            best = _prune(search, best, settings.tolerance)
            best = _clip(search, best, settings.epsilon)
    except BudgetExhausted:
        pass
    return _result(search, best, row, time.perf_counter() - started, settings.epsilon)


def _result(
    search: _Search,
    best: NDArray[np.float64] | None,
    row: int,
    seconds: float,
    epsilon: float | None,
) -> EvasionResult:
    import numpy as np

    result = EvasionResult(ID, row, search.label, search.budget.used, seconds=seconds)
    if best is None:
        return result
    result.new_label = search.seen.get(best.tobytes())
    l2, linf = norms(search.schema, search.x, best)
    result.evaded = True
    result.l2, result.linf = float(l2[0]), float(linf[0])
    result.success = epsilon is None or result.linf <= epsilon + 1e-9
    result.adversarial = best
    moved = np.abs(best - search.x) > 0
    result.changed = tuple(n for n, m in zip(search.schema.names, moved, strict=True) if m)
    return result
