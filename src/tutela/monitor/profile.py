"""Mergeable per-column profiles: what a window of rows looks like, without the rows.

A numeric column keeps exact moments (count, mean, M2..M4, merged with the pairwise
formulas of Chan et al. 1979 and Pébay 2008), min/max and a KLL quantile sketch (Karnin,
Lang & Liberty 2016; Apache DataSketches ``kll_floats_sketch``). A categorical column keeps
exact counts up to ``CATEGORY_CAP`` distinct values, then a DataSketches frequent-items
sketch (Misra-Gries with error bounds). ``merge(profile(A), profile(B))`` equals
``profile(A ∪ B)``: exactly for counts and categories, to floating-point rounding for the
moments, and within the sketch's stated rank error for quantiles. A value beyond
``VALUE_LIMIT`` (float32's range, which the sketch stores) counts as missing, like NaN and
infinities.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from datasketches import (  # type: ignore[import-untyped]
    frequent_strings_sketch,
    kll_floats_sketch,
)

from tutela.errors import InputError

__all__ = [
    "CATEGORY_CAP",
    "FORMAT",
    "KLL_K",
    "VALUE_LIMIT",
    "CategoricalProfile",
    "Moments",
    "NumericProfile",
    "TableProfile",
]

FORMAT = "tutela.monitor.profile/1"
# k=400 gives a normalised rank error of 0.68% (single quantile, 99% confidence) and 0.86%
# for all ranks at once (DataSketches' "pmf" bound); a 1M-row column serialises to ~4.8 KB.
KLL_K = 400
CATEGORY_CAP = 5000
FREQ_LG_MAX = 12  # frequent-items sketch with 4096 counters when a column outgrows the cap
MAX_PROFILE_BYTES = 64 << 20  # a stored profile larger than this is refused on load
# The largest magnitude a numeric profile holds. The KLL sketch stores float32, so a larger
# finite float64 would become an infinity there, and its square and fourth power would
# overflow the float64 moments; such a value counts as missing, as an infinity does (the
# missing-rate test still reports a column that starts producing them). Below this bound
# the fourth-power sums stay finite for any realistic row count (a deviation's fourth
# power is at most (2 * VALUE_LIMIT)**4 = 2.1e155).
VALUE_LIMIT = float(np.finfo(np.float32).max)


@dataclass
class Moments:
    """Exact count, mean and central moment sums, mergeable (Chan/Pébay)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    m3: float = 0.0
    m4: float = 0.0

    @classmethod
    def of(cls, x: npt.NDArray[np.float64]) -> Moments:
        n = int(x.size)
        if n == 0:
            return cls()
        mean = float(x.mean())
        d = x - mean
        d2 = d * d
        # einsum sums products without temporaries and, unlike @, never calls a threaded BLAS.
        return cls(
            n,
            mean,
            float(np.einsum("i,i->", d, d)),
            float(np.einsum("i,i->", d2, d)),
            float(np.einsum("i,i->", d2, d2)),
        )

    def merge(self, other: Moments) -> Moments:
        if other.n == 0:
            return Moments(self.n, self.mean, self.m2, self.m3, self.m4)
        if self.n == 0:
            return Moments(other.n, other.mean, other.m2, other.m3, other.m4)
        na, nb = float(self.n), float(other.n)
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * nb / n
        m2 = self.m2 + other.m2 + delta * delta * na * nb / n
        m3 = (
            self.m3
            + other.m3
            + delta**3 * na * nb * (na - nb) / n**2
            + 3.0 * delta * (na * other.m2 - nb * self.m2) / n
        )
        m4 = (
            self.m4
            + other.m4
            + delta**4 * na * nb * (na * na - na * nb + nb * nb) / n**3
            + 6.0 * delta * delta * (na * na * other.m2 + nb * nb * self.m2) / n**2
            + 4.0 * delta * (na * other.m3 - nb * self.m3) / n
        )
        return Moments(self.n + other.n, mean, m2, m3, m4)

    @property
    def var(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0

    @property
    def std(self) -> float:
        return float(np.sqrt(self.var))

    @property
    def kurtosis(self) -> float:
        """Plain (non-excess) kurtosis; 3 for a normal distribution."""
        if self.n < 4 or self.m2 <= 0:
            return 3.0
        return self.n * self.m4 / (self.m2 * self.m2)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass
class NumericProfile:
    """A numeric column: rows seen, missing, moments, min/max and a KLL sketch."""

    count: int = 0
    missing: int = 0
    moments: Moments = field(default_factory=Moments)
    sketch: kll_floats_sketch = field(default_factory=lambda: kll_floats_sketch(KLL_K))

    kind = "numeric"

    def update(self, values: npt.NDArray[np.float64], missing: int) -> None:
        """Add present values; those a profile cannot hold (see :data:`VALUE_LIMIT`) and
        any NaN or infinity count as missing instead."""
        inside = np.abs(values) <= VALUE_LIMIT  # False for NaN, like every comparison
        if not inside.all():
            missing += int(values.size - np.count_nonzero(inside))
            values = values[inside]
        self.count += int(values.size) + missing
        self.missing += missing
        if values.size:
            self.moments = self.moments.merge(Moments.of(values))
            self.sketch.update(values.astype(np.float32, copy=False))

    def merge(self, other: NumericProfile) -> NumericProfile:
        sketch = kll_floats_sketch.deserialize(self.sketch.serialize())
        sketch.merge(other.sketch)
        return NumericProfile(
            self.count + other.count,
            self.missing + other.missing,
            self.moments.merge(other.moments),
            sketch,
        )

    @property
    def rank_error(self) -> float:
        """Bound on the sketch's CDF error over all ranks at once (0 when it holds every value)."""
        if not self.sketch.is_estimation_mode():
            return 0.0
        return float(kll_floats_sketch.get_normalized_rank_error(self.sketch.k, True))

    def cdf(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Fraction of present values <= each point (sorted, strictly increasing points)."""
        if self.sketch.is_empty():
            return np.zeros(points.size)
        split = np.asarray(points, dtype=np.float32)
        # The sketch wants strictly increasing split points; float32 rounding can merge two.
        keep = np.concatenate([[True], np.diff(split) > 0])
        values = np.asarray(self.sketch.get_cdf(split[keep].tolist(), True), dtype=np.float64)
        out = np.empty(points.size)
        out[keep] = values[:-1]
        # A point merged into its predecessor by rounding has that predecessor's CDF.
        idx = np.maximum.accumulate(np.where(keep, np.arange(points.size), 0))
        return out[idx] if not keep.all() else out

    def quantiles(self, ranks: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self.sketch.is_empty():
            return np.full(ranks.size, np.nan)
        return np.asarray(self.sketch.get_quantiles(ranks.tolist(), True), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        m = self.moments
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "moments": [m.n, m.mean, m.m2, m.m3, m.m4],
            "kll": _b64(self.sketch.serialize()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericProfile:
        n, mean, m2, m3, m4 = data["moments"]
        sketch = kll_floats_sketch.deserialize(base64.b64decode(data["kll"]))
        return cls(
            int(data["count"]), int(data["missing"]), Moments(int(n), mean, m2, m3, m4), sketch
        )


@dataclass
class CategoricalProfile:
    """A categorical column: exact counts up to a cap, then a frequent-items sketch."""

    count: int = 0
    missing: int = 0
    counts: dict[str, int] | None = field(default_factory=dict)
    sketch: frequent_strings_sketch | None = None

    kind = "categorical"

    def update(self, values: dict[str, int], missing: int) -> None:
        self.count += sum(values.values()) + missing
        self.missing += missing
        self._add(values)

    def _add(self, values: dict[str, int]) -> None:
        if self.counts is not None:
            for key, c in values.items():
                self.counts[key] = self.counts.get(key, 0) + c
            if len(self.counts) > CATEGORY_CAP:
                self._to_sketch()
            return
        assert self.sketch is not None
        for key, c in values.items():
            self.sketch.update(key, c)

    def _to_sketch(self) -> None:
        sketch = frequent_strings_sketch(FREQ_LG_MAX)
        for key, c in (self.counts or {}).items():
            sketch.update(key, c)
        self.counts, self.sketch = None, sketch

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        out = CategoricalProfile(
            self.count + other.count,
            self.missing + other.missing,
            dict(self.counts) if self.counts is not None else None,
            _copy_freq(self.sketch),
        )
        if other.counts is not None:
            out._add(other.counts)
        else:
            assert other.sketch is not None
            if out.counts is not None:
                out._to_sketch()
            assert out.sketch is not None
            out.sketch.merge(other.sketch)
        return out

    @property
    def exact(self) -> bool:
        return self.counts is not None

    def frequencies(self) -> dict[str, float]:
        """Estimated count per value; values a sketch could not keep are left out."""
        if self.counts is not None:
            return {k: float(v) for k, v in self.counts.items()}
        assert self.sketch is not None
        items = self.sketch.get_frequent_items(_no_false_negatives())
        return {str(item[0]): float(item[1]) for item in items}

    @property
    def count_error(self) -> float:
        """Largest error of any single estimated count (0 when counts are exact)."""
        return 0.0 if self.sketch is None else float(self.sketch.epsilon * self.sketch.total_weight)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "count": self.count, "missing": self.missing}
        if self.counts is not None:
            body["counts"] = self.counts
        else:
            assert self.sketch is not None
            body["freq"] = _b64(self.sketch.serialize())
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        if "counts" in data:
            counts = {str(k): int(v) for k, v in data["counts"].items()}
            return cls(int(data["count"]), int(data["missing"]), counts, None)
        sketch = frequent_strings_sketch.deserialize(base64.b64decode(data["freq"]))
        return cls(int(data["count"]), int(data["missing"]), None, sketch)


def _copy_freq(sketch: frequent_strings_sketch | None) -> frequent_strings_sketch | None:
    return None if sketch is None else frequent_strings_sketch.deserialize(sketch.serialize())


def _no_false_negatives() -> Any:
    from datasketches import frequent_items_error_type

    return frequent_items_error_type.NO_FALSE_NEGATIVES


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass
class TableProfile:
    """Profiles of every column of one window, plus an optional row reservoir."""

    rows: int = 0
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    reservoir: ReservoirRows | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: TableProfile) -> TableProfile:
        columns: dict[str, ColumnProfile] = {}
        for name in dict.fromkeys([*self.columns, *other.columns]):
            a, b = self.columns.get(name), other.columns.get(name)
            columns[name] = _merge_column(name, a, b)
        reservoir = self.reservoir
        if self.reservoir is not None and other.reservoir is not None:
            reservoir = self.reservoir.merge(other.reservoir)
        elif reservoir is None:
            reservoir = other.reservoir
        return TableProfile(self.rows + other.rows, columns, reservoir, dict(self.meta))

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "format": FORMAT,
            "rows": self.rows,
            "meta": self.meta,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }
        if self.reservoir is not None:
            body["reservoir"] = self.reservoir.to_dict()
        raw = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        return zlib.compress(raw, 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TableProfile:
        try:
            raw = zlib.decompressobj().decompress(blob, MAX_PROFILE_BYTES)
            body = json.loads(raw)
        except (zlib.error, ValueError) as exc:
            raise InputError("not a Tutela profile", found=str(exc).splitlines()[0]) from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise InputError("not a Tutela profile", expected=FORMAT)
        columns: dict[str, ColumnProfile] = {}
        for name, data in body["columns"].items():
            kind = data.get("kind")
            columns[name] = (
                NumericProfile.from_dict(data)
                if kind == "numeric"
                else CategoricalProfile.from_dict(data)
            )
        reservoir = body.get("reservoir")
        return cls(
            int(body["rows"]),
            columns,
            ReservoirRows.from_dict(reservoir) if reservoir else None,
            dict(body.get("meta") or {}),
        )


def _merge_column(name: str, a: ColumnProfile | None, b: ColumnProfile | None) -> ColumnProfile:
    if a is None:
        assert b is not None
        return b
    if b is None:
        return a
    if isinstance(a, NumericProfile) and isinstance(b, NumericProfile):
        return a.merge(b)
    if isinstance(a, CategoricalProfile) and isinstance(b, CategoricalProfile):
        return a.merge(b)
    raise InputError(
        "a column changed type between profiles",
        subject=name,
        expected=a.kind,
        found=b.kind,
        hint="profile it under another name or cast it consistently",
    )


@dataclass
class ReservoirRows:
    """A uniform sample of whole rows (Vitter's algorithm R, merged by weighted draws)."""

    capacity: int
    seen: int = 0
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    seed: int = 0

    def add(self, table: Any) -> None:
        """Offer every row of a pyarrow table; only the kept rows become Python values."""
        n = int(table.num_rows)
        if n == 0:
            return
        if not self.columns:
            self.columns = list(table.column_names)
        rng = np.random.default_rng([self.seed, self.seen])
        fill = max(0, min(n, self.capacity - len(self.rows)))
        later = np.arange(fill, n)
        # Row number t (1-based) replaces a uniformly drawn slot with probability capacity / t.
        draws = rng.integers(0, self.seen + later + 1) if later.size else later
        accepted = later[draws < self.capacity]
        slots = draws[draws < self.capacity]
        taken = np.concatenate([np.arange(fill), accepted]).astype(np.int64)
        picked = table.select(self.columns).take(taken).to_pylist()
        values = [[_plain(row[c]) for c in self.columns] for row in picked]
        self.rows.extend(values[:fill])
        for slot, row in zip(slots.tolist(), values[fill:], strict=True):
            self.rows[slot] = row
        self.seen += n

    def merge(self, other: ReservoirRows) -> ReservoirRows:
        seen = self.seen + other.seen
        cap = min(self.capacity, other.capacity)
        rng = np.random.default_rng([self.seed, seen])
        # Each slot of the merged sample comes from A with probability seen_A / seen.
        from_a = int(rng.binomial(cap, self.seen / seen)) if seen else 0
        from_a = min(from_a, len(self.rows))
        from_b = min(cap - from_a, len(other.rows))
        pick_a: list[int] = rng.choice(len(self.rows), size=from_a, replace=False).tolist()
        pick_b: list[int] = rng.choice(len(other.rows), size=from_b, replace=False).tolist()
        index = {name: i for i, name in enumerate(other.columns)}
        rows = [self.rows[i] for i in pick_a]
        for i in pick_b:
            src = other.rows[i]
            rows.append([src[index[c]] if c in index else None for c in self.columns])
        return ReservoirRows(cap, seen, list(self.columns), rows, self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "seen": self.seen,
            "columns": self.columns,
            "rows": self.rows,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReservoirRows:
        return cls(
            int(data["capacity"]),
            int(data["seen"]),
            list(data["columns"]),
            [list(r) for r in data["rows"]],
            int(data.get("seed", 0)),
        )


def _plain(value: Any) -> Any:
    """A JSON-safe cell: NaN and infinities become None, anything unusual its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    return str(value)
