"""Feature-value conditions and their row masks: the items that backdoor rule mining uses.

Each column becomes a set of conditions (items):

* discrete columns (at most 20 distinct values, booleans, categoricals): ``col == v``;
* continuous numeric columns: decile bins ``a <= col < b``; every exact value repeated at
  least ``min_count`` times (``col == v``), because backdoor triggers are usually constants
  stamped into rows; and the far tails ``col > Q3 + 3 IQR`` / ``col < Q1 - 3 IQR``;
* ``col is missing`` wherever values are missing.

An item is *unusual* when its selection needs no label: a rare discrete value, an exact
constant outside the fences, a far tail, missingness. Unusual items form the first,
smaller family of hypotheses in ``backdoor`` (independent filtering, Bourgon, Gentleman,
Huber 2010, PNAS 107(21)).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["Condition", "Items", "build_items"]

MAX_DISCRETE: Final = 20
MAX_VALUES_PER_COLUMN: Final = 50
FENCE: Final = 3.0
_KIND_RANK: Final = {"value": 0, "range": 1, "missing": 2, "bin": 3}


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    op: str  # "==", ">", "<", "in [a, b)", "is missing"
    value: Any
    kind: str  # value | range | bin | missing
    continuous: bool = False

    def rank(self) -> int:
        return _KIND_RANK[self.kind]

    def mask(self, frame: Any) -> npt.NDArray[np.bool_]:
        """The rows of ``frame`` (any rows, not only those mined) where the condition holds."""
        import pandas as pd

        series = frame[self.column]
        missing: npt.NDArray[np.bool_] = np.asarray(series.isna().to_numpy(), dtype=bool)
        if self.kind == "missing":
            return missing
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if not numeric:
            text = series.astype("string").fillna("\x00missing").to_numpy(dtype=object)
            same: npt.NDArray[np.bool_] = np.asarray(text == self.value, dtype=bool)
            return same & ~missing
        x = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if self.op == ">":
                return np.asarray(x > self.value)
            if self.op == "<":
                return np.asarray(x < self.value)
            if self.kind == "bin":
                low, high = self.value
                return np.asarray((x >= low) & (x <= high))
            return np.asarray(x == self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "op": self.op, "value": self.value}

    def text(self) -> str:
        if self.op == "is missing":
            return f"{self.column} is missing"
        if self.kind == "bin":
            return f"{self.value[0]:.6g} <= {self.column} < {self.value[1]:.6g}"
        value = f"{self.value:.6g}" if isinstance(self.value, float) else repr(self.value)
        return f"{self.column} {self.op} {value}"


@dataclass
class Items:
    conditions: list[Condition]
    masks: npt.NDArray[np.bool_]  # rows x items
    unusual: npt.NDArray[np.bool_]

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.masks.sum(axis=0), dtype=np.int64)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Builder:
    def __init__(self, n: int, min_count: int, max_count: int) -> None:
        self.n, self.min_count, self.max_count = n, min_count, max_count
        self.conditions: list[Condition] = []
        self.masks: list[npt.NDArray[np.bool_]] = []
        self.unusual: list[bool] = []

    def add(self, cond: Condition, mask: npt.NDArray[np.bool_], unusual: bool) -> None:
        count = int(mask.sum())
        if count < self.min_count or count == self.n:
            return
        self.conditions.append(cond)
        self.masks.append(mask)
        self.unusual.append(unusual and count <= self.max_count)

    def discrete(self, name: str, values: npt.NDArray[Any], present: npt.NDArray[np.bool_]) -> None:
        uniq, counts = np.unique(values[present], return_counts=True)
        for i in np.argsort(-counts)[:MAX_VALUES_PER_COLUMN]:
            if counts[i] >= self.min_count:
                self.add(
                    Condition(name, "==", _plain(uniq[i]), "value"), values == uniq[i], unusual=True
                )

    def continuous(self, name: str, x: npt.NDArray[np.float64]) -> None:
        present = ~np.isnan(x)
        vals = x[present]
        q1, q3 = np.quantile(vals, [0.25, 0.75])
        iqr = q3 - q1
        lo, hi = (q1 - FENCE * iqr, q3 + FENCE * iqr) if iqr > 0 else (-np.inf, np.inf)
        uniq, counts = np.unique(vals, return_counts=True)
        repeated = np.flatnonzero(counts >= self.min_count)
        for i in repeated[np.argsort(-counts[repeated])][:MAX_VALUES_PER_COLUMN]:
            v = float(uniq[i])
            outside = v > hi or v < lo
            self.add(Condition(name, "==", v, "value", continuous=True), x == v, outside)
        if np.isfinite(hi):
            self.add(Condition(name, ">", float(hi), "range"), present & (x > hi), True)
            self.add(Condition(name, "<", float(lo), "range"), present & (x < lo), True)
        edges = np.unique(np.quantile(vals, np.linspace(0, 1, 11)))
        for k, (a, b) in enumerate(itertools.pairwise(edges)):
            last = k == len(edges) - 2
            mask = present & (x >= a) & ((x <= b) if last else (x < b))
            self.add(Condition(name, "in [a, b)", [float(a), float(b)], "bin"), mask, False)


def build_items(
    frame: Any, columns: Sequence[str], *, min_count: int, max_count: int, max_items: int = 4000
) -> Items:
    """The conditions over ``columns`` holding for at least ``min_count`` rows (at most
    ``max_items``: columns are taken in order until the budget is spent)."""
    import pandas as pd

    n = len(frame)
    builder = _Builder(n, min_count, max_count)
    for name in columns:
        if len(builder.conditions) >= max_items:
            break
        series = frame[name]
        missing = series.isna().to_numpy()
        if missing.any():
            builder.add(Condition(name, "is missing", None, "missing"), missing, True)
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if numeric:
            x = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
            if np.unique(x[~missing]).size > MAX_DISCRETE:
                builder.continuous(name, x)
                continue
            builder.discrete(name, x, ~missing)
            continue
        values = series.astype("string").fillna("\x00missing").to_numpy(dtype=object)
        builder.discrete(name, values, ~missing)
    masks = np.column_stack(builder.masks) if builder.masks else np.zeros((n, 0), bool)
    return Items(builder.conditions, masks, np.asarray(builder.unusual, dtype=bool))
