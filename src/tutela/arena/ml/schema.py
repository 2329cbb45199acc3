"""The feature schema: which columns an attacker may change, and to which values.

Declared in YAML or JSON (docs/arena-ml.md) or inferred from the reference data::

    version: 1
    features:
      age:     {type: integer, min: 18, max: 99, immutable: true}
      region:  {type: categorical, values: [0, 1, 2, 3]}
      income:  {type: float, min: 0}

A column the file does not name is inferred: ``integer`` when every observed value is a
whole number, else ``float``; its range is the observed minimum and maximum (an attack
that leaves the range of real data is not a realistic one). Declared fields override
inferred ones. Every candidate an attack sends goes through :meth:`FeatureSchema.project`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError
from tutela.errors import InputError, LimitExceeded

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Feature", "FeatureSchema", "build_schema", "load_schema_file"]

_KINDS = ("float", "integer", "categorical")
_MAX_SCHEMA_BYTES = 1 << 20
_MAX_CATEGORIES = 10_000


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    kind: str = "float"  # float | integer | categorical
    low: float = -math.inf
    high: float = math.inf
    immutable: bool = False
    values: tuple[float, ...] = ()  # categorical: the allowed codes

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "immutable": self.immutable}
        if math.isfinite(self.low):
            out["min"] = self.low
        if math.isfinite(self.high):
            out["max"] = self.high
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass(slots=True)
class FeatureSchema:
    """Per-feature constraints in model column order, plus the scale used to measure
    perturbations (each feature's standard deviation in the reference data)."""

    features: tuple[Feature, ...]
    scale: NDArray[np.float64]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def _arrays(self) -> dict[str, Any]:
        if not self._cache:
            import numpy as np

            self._cache["low"] = np.array([f.low for f in self.features], dtype=np.float64)
            self._cache["high"] = np.array([f.high for f in self.features], dtype=np.float64)
            self._cache["mutable"] = np.array([not f.immutable for f in self.features])
            self._cache["integer"] = np.array([f.kind == "integer" for f in self.features])
            self._cache["categorical"] = [
                (i, np.array(sorted(f.values), dtype=np.float64))
                for i, f in enumerate(self.features)
                if f.kind == "categorical"
            ]
        return self._cache

    @property
    def mutable(self) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = self._arrays()["mutable"]
        return mask

    @property
    def low(self) -> NDArray[np.float64]:
        low: NDArray[np.float64] = self._arrays()["low"]
        return low

    @property
    def high(self) -> NDArray[np.float64]:
        high: NDArray[np.float64] = self._arrays()["high"]
        return high

    def project(
        self, rows: NDArray[np.float64], original: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The nearest rows that keep every constraint: immutable columns as in
        ``original``, values inside ranges, whole numbers and allowed categories."""
        import numpy as np

        arrays = self._arrays()
        out = np.array(rows, dtype=np.float64, copy=True)
        out[..., ~arrays["mutable"]] = np.broadcast_to(original, out.shape)[..., ~arrays["mutable"]]
        out = np.clip(out, arrays["low"], arrays["high"])
        integer = arrays["integer"]
        if integer.any():
            low, high = np.ceil(arrays["low"][integer]), np.floor(arrays["high"][integer])
            out[..., integer] = np.clip(np.rint(out[..., integer]), low, high)
        for index, values in arrays["categorical"]:
            column = out[..., index]
            pos = np.clip(np.searchsorted(values, column), 1, len(values) - 1)
            left, right = values[pos - 1], values[pos]
            nearest = np.where(np.abs(column - left) <= np.abs(right - column), left, right)
            out[..., index] = nearest if len(values) > 1 else values[0]
        return out

    def sample(self, rng: np.random.Generator, original: NDArray[np.float64], n: int) -> Any:
        """``n`` random rows inside the constraints (immutable columns from ``original``)."""
        import numpy as np

        low = np.where(np.isfinite(self.low), self.low, original - 3 * self.scale)
        high = np.where(np.isfinite(self.high), self.high, original + 3 * self.scale)
        rows = rng.uniform(low, high, size=(n, len(self.features)))
        return self.project(rows, original)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "features": {f.name: f.to_dict() for f in self.features}}


def load_schema_file(path: Path) -> dict[str, dict[str, Any]]:
    """The ``features`` mapping of a YAML or JSON schema file, checked for shape."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the schema: {exc.strerror}", subject=str(path)) from None
    if size > _MAX_SCHEMA_BYTES:
        raise LimitExceeded(
            "schema file too large",
            subject=str(path),
            expected=f"at most {_MAX_SCHEMA_BYTES} bytes",
            found=str(size),
        )
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if path.suffix.lower() == ".json":
            loaded = json.loads(text)
        else:
            import yaml

            loaded = yaml.safe_load(text)
    except Exception as exc:  # yaml and json raise different types; both mean bad input
        raise InputError(
            f"the schema is not valid YAML/JSON: {exc}".splitlines()[0], subject=str(path)
        ) from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("features"), dict):
        raise InputError(
            "a schema is a mapping with a `features` mapping",
            subject=str(path),
            hint="see docs/arena-ml.md, 'Feature schema'",
        )
    if loaded.get("version", 1) != 1:
        raise InputError(
            "unsupported schema version",
            subject=str(path),
            expected="1",
            found=str(loaded.get("version")),
        )
    features: dict[str, dict[str, Any]] = {}
    for name, spec in loaded["features"].items():
        if not isinstance(spec, dict):
            raise InputError("each feature is a mapping", subject=f"{path}: {name}")
        features[str(name)] = spec
    return features


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("expected a number", subject=where, found=repr(value))
    return float(value)


def _declared(name: str, spec: Mapping[str, Any], inferred: Feature) -> Feature:
    unknown = set(spec) - {"type", "min", "max", "immutable", "values"}
    if unknown:
        raise InputError(
            "unknown schema field",
            subject=name,
            found=", ".join(sorted(unknown)),
            expected="type, min, max, immutable, values",
        )
    kind = str(spec.get("type", inferred.kind))
    if kind not in _KINDS:
        raise InputError(
            "unknown feature type", subject=name, found=kind, expected=", ".join(_KINDS)
        )
    values: tuple[float, ...] = ()
    if kind == "categorical":
        raw = spec.get("values")
        if not isinstance(raw, list) or not raw or len(raw) > _MAX_CATEGORIES:
            raise InputError(
                "a categorical feature lists its numeric codes in `values`",
                subject=name,
                expected=f"1 to {_MAX_CATEGORIES} numbers",
            )
        values = tuple(sorted({_number(v, name) for v in raw}))
    low = _number(spec["min"], name) if "min" in spec else inferred.low
    high = _number(spec["max"], name) if "max" in spec else inferred.high
    if low > high:
        raise InputError("min is above max", subject=name, found=f"{low} > {high}")
    immutable = spec.get("immutable", False)
    if not isinstance(immutable, bool):
        raise InputError("`immutable` is true or false", subject=name, found=repr(immutable))
    if values:
        low, high = min(values), max(values)
    return Feature(name, kind, low, high, immutable, values)


def _infer(name: str, column: NDArray[np.float64]) -> Feature:
    import numpy as np

    finite = column[np.isfinite(column)]
    if finite.size == 0:
        return Feature(name, "float", immutable=True)  # nothing known: never touched
    integral = bool(np.all(finite == np.rint(finite)))
    return Feature(
        name, "integer" if integral else "float", float(finite.min()), float(finite.max())
    )


def build_schema(
    names: Sequence[str],
    reference: NDArray[np.float64],
    declared: Mapping[str, Mapping[str, Any]] | None = None,
) -> FeatureSchema:
    """Infer every feature from ``reference`` (rows x features), then apply ``declared``."""
    import numpy as np

    declared = dict(declared or {})
    missing = sorted(set(declared) - set(names))
    if missing:
        raise MLArenaError(
            "the schema names columns the data does not have",
            found=", ".join(missing[:5]),
            expected="feature columns of the data",
        )
    features = []
    for index, name in enumerate(names):
        inferred = _infer(name, reference[:, index])
        spec = declared.get(name)
        features.append(inferred if spec is None else _declared(name, spec, inferred))
    with np.errstate(invalid="ignore"):
        scale = np.nanstd(reference, axis=0) if len(reference) else np.ones(len(names))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0).astype(np.float64)
    return FeatureSchema(tuple(features), scale)
