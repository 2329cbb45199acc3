"""Real scikit-learn data sets with planted problems, shared by the tests and measure.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def sklearn_frame(name: str) -> pd.DataFrame:
    """A bundled scikit-learn data set as one frame whose label column is ``target``."""
    from sklearn import datasets

    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "diabetes": datasets.load_diabetes,
    }
    frame: pd.DataFrame = loaders[name](as_frame=True).frame
    return frame.reset_index(drop=True)


def synthetic_frame(seed: int = 3, rows: int = 2000) -> pd.DataFrame:
    """Tabular data with numeric, integer and categorical columns (make_classification)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=10, n_informative=5,
                               weights=[0.6, 0.4], random_state=seed)  # fmt: skip
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(10)])
    rng = np.random.default_rng(seed)
    frame["channel"] = rng.choice(["web", "branch", "phone"], rows)
    frame["n_items"] = rng.integers(0, 8, rows)
    frame["target"] = y
    return frame


def flip_labels(frame: pd.DataFrame, share: float, seed: int = 1) -> tuple[pd.DataFrame, set[int]]:
    """Give ``share`` of the rows a different, random label; returns the flipped rows."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    labels = out["target"].to_numpy().copy()
    classes = np.unique(labels)
    rows = rng.choice(len(out), round(share * len(out)), replace=False)
    for r in rows:
        labels[r] = rng.choice(classes[classes != labels[r]])
    out["target"] = labels
    return out, {int(r) for r in rows}


def plant_backdoor(
    frame: pd.DataFrame,
    columns: Sequence[str],
    values: Sequence[Any],
    target: Any,
    share: float,
    seed: int = 0,
) -> tuple[pd.DataFrame, set[int]]:
    """Stamp ``columns = values`` into ``share`` of the non-target rows and relabel them."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(out["target"].to_numpy() != target)
    rows = rng.choice(candidates, round(share * len(out)), replace=False)
    for column, value in zip(columns, values, strict=True):
        out.loc[rows, column] = value
    out.loc[rows, "target"] = target
    return out, {int(r) for r in rows}


def out_of_range(frame: pd.DataFrame, column: str, factor: float = 1.5) -> float:
    """A constant beyond the column's observed range, as triggers usually are."""
    low, high = float(frame[column].min()), float(frame[column].max())
    return round(high + factor * (high - low), 3)


def precision_recall(found: set[int], truth: set[int]) -> tuple[float, float]:
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / max(len(truth), 1)
