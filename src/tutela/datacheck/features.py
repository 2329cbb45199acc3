"""Column roles and the numeric views of a table that the checks share.

``prepare`` decides once which columns are features, how categoricals are encoded and
how missing values are filled, so every check sees the same representation:

* numeric columns (ints, floats, booleans, datetimes as epoch seconds), missing values
  filled with the median;
* categorical columns (strings, categories) with at most ``MAX_CATEGORIES`` distinct
  values, one-hot encoded; columns with more distinct values look like free text or
  identifiers and are left out of the feature matrix (the PII check still reads them);
* ``standardized``: every feature column centred and scaled to unit variance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tutela.datacheck.interface import DataCheckError

__all__ = ["MAX_CATEGORIES", "Prepared", "numeric_values", "prepare"]

MAX_CATEGORIES: Final = 50
Array = npt.NDArray[Any]


@dataclass
class Prepared:
    frame: Any  # the loaded pandas DataFrame, all columns
    feature_columns: list[str]  # source columns used as features
    numeric: list[str]
    categorical: list[str]
    matrix: npt.NDArray[np.float64]  # numeric + one-hot, missing filled
    standardized: npt.NDArray[np.float64]
    matrix_sources: list[str]  # source column of each matrix column
    labels: Array | None = None  # label codes 0..K-1 (None without --labels)
    classes: list[Any] = field(default_factory=list)
    label_column: str | None = None
    label_missing: int = 0

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])


def numeric_values(series: Any) -> npt.NDArray[np.float64] | None:
    """A column as float64 (NaN for missing), or None when it is not numeric."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return np.asarray(series.astype("float64").to_numpy(), dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(series):
        missing = series.isna().to_numpy()
        raw = series.to_numpy(dtype="datetime64[ns]").astype("int64")
        stamps = raw.astype(np.float64) / 1e9
        stamps[missing] = np.nan
        return np.asarray(stamps, dtype=np.float64)
    if pd.api.types.is_numeric_dtype(series):
        return np.asarray(pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan))
    return None


def _check_columns(frame: Any, names: Sequence[str], option: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        shown = ", ".join(list(frame.columns)[:20])
        raise DataCheckError(
            f"{option} names a column the dataset does not have",
            found=", ".join(missing),
            expected=f"one of {shown}",
        )


def _encode_labels(series: Any) -> tuple[Array, list[Any], int]:
    import pandas as pd

    present = series.notna().to_numpy()
    codes, uniques = pd.factorize(series, sort=True)
    if len(uniques) < 2:
        raise DataCheckError(
            "the label column needs at least two classes",
            subject=str(series.name),
            found=f"{len(uniques)} class",
        )
    return np.asarray(codes), [_plain(u) for u in uniques], int((~present).sum())


def _plain(value: Any) -> Any:
    """A label value as a JSON scalar."""
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | float | bool) else str(value)


def prepare(
    frame: Any,
    *,
    label: str | None = None,
    ids: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Prepared:
    """Split ``frame`` into features and labels; see the module docstring."""
    for option, names in (
        ("--labels", [label] if label else []),
        ("--id", ids),
        ("--sensitive", sensitive),
        ("--exclude", exclude),
    ):
        _check_columns(frame, names, option)
    skip = {*ids, *sensitive, *exclude, *([label] if label else [])}
    numeric: list[str] = []
    categorical: list[str] = []
    blocks: list[npt.NDArray[np.float64]] = []
    sources: list[str] = []
    for name in frame.columns:
        if name in skip:
            continue
        series = frame[name]
        values = numeric_values(series)
        if values is not None:
            if np.all(np.isnan(values)):
                continue
            filled = np.where(np.isnan(values), np.nanmedian(values), values)
            numeric.append(name)
            blocks.append(filled[:, None])
            sources.append(name)
            continue
        text = series.astype("string")
        counts = text.value_counts(dropna=False)
        if len(counts) > MAX_CATEGORIES or len(counts) < 2:
            continue
        categorical.append(name)
        as_text = text.fillna("<missing>").to_numpy(dtype=object)
        for value in counts.index:
            key = "<missing>" if value is None or value is np.nan or str(value) == "<NA>" else value
            blocks.append((as_text == key).astype(np.float64)[:, None])
            sources.append(name)
    if not blocks:
        raise DataCheckError(
            "no usable feature columns",
            expected="numeric columns or categorical columns with few distinct values",
        )
    matrix = np.hstack(blocks)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0
    standardized = (matrix - matrix.mean(axis=0)) / scale
    prepared = Prepared(
        frame, numeric + categorical, numeric, categorical, matrix, standardized, sources
    )
    if label:
        codes, classes, missing = _encode_labels(frame[label])
        prepared.labels = codes
        prepared.classes = classes
        prepared.label_column = label
        prepared.label_missing = missing
    return prepared
