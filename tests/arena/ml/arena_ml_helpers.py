"""Models, data and payloads for the classifier Arena tests (scikit-learn's bundled data)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)

from tutela.arena.ml.data import Dataset


def dataset(name: str) -> Dataset:
    loader = {"wine": load_wine, "digits": load_digits, "breast_cancer": load_breast_cancer}
    bunch = loader[name]()
    names = tuple(f"f{i}" for i in range(bunch.data.shape[1]))
    return Dataset(bunch.data.astype(np.float64), bunch.target.astype(str), names, "target", name)


def train(kind: str, data: Dataset) -> Any:
    y = data.labels.astype(int)
    if kind == "rf":
        model: Any = RandomForestClassifier(n_estimators=30, random_state=0, n_jobs=1)
    elif kind == "gb":
        model = GradientBoostingClassifier(n_estimators=30, random_state=0)
    else:
        model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    return model.fit(data.features, y)


def write_csv(data: Dataset, path: Path, extra: dict[str, list[str]] | None = None) -> Path:
    extra = extra or {}
    head = [*data.names, *extra, data.label]
    lines = [",".join(head)]
    for i, row in enumerate(data.features):
        cells = [repr(float(v)) for v in row] + [extra[k][i] for k in extra]
        lines.append(",".join([*cells, str(data.labels[i])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class MarkerPayload:
    """Unpickling this creates a marker file: proof that something was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def malicious_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(MarkerPayload(marker)))
    return path
