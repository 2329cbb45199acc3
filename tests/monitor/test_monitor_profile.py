"""Profiles merge like the union of their rows, and round-trip through bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_digits

from tutela.errors import InputError
from tutela.monitor.ingest import profile_batches, profile_rows
from tutela.monitor.profile import (
    CATEGORY_CAP,
    CategoricalProfile,
    NumericProfile,
    TableProfile,
)


def _cancer_table() -> pa.Table:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    frame.loc[frame.index % 7 == 0, "mean area"] = np.nan  # some missing values
    return pa.Table.from_pandas(frame, preserve_index=False)


def test_merge_of_parts_equals_profile_of_union() -> None:
    table = _cancer_table()
    whole = profile_batches([table])
    parts = [profile_batches([table.slice(i, 100)]) for i in range(0, table.num_rows, 100)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.rows == whole.rows == table.num_rows
    assert set(merged.columns) == set(whole.columns)
    for name, col in whole.columns.items():
        other = merged.columns[name]
        assert (other.count, other.missing) == (col.count, col.missing)
        if isinstance(col, NumericProfile):
            assert isinstance(other, NumericProfile)
            a, b = col.moments, other.moments
            assert b.n == a.n
            assert b.mean == pytest.approx(a.mean, rel=1e-12, abs=1e-12)
            for x, y in ((a.m2, b.m2), (a.m3, b.m3), (a.m4, b.m4)):
                assert y == pytest.approx(x, rel=1e-9, abs=1e-9)
        else:
            assert isinstance(col, CategoricalProfile) and isinstance(other, CategoricalProfile)
            assert other.counts == col.counts
    # Missing values were counted where they were planted.
    assert whole.columns["mean area"].missing == len(range(0, table.num_rows, 7))


def test_merged_quantiles_stay_within_the_stated_rank_error() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(0, 1, 400_000)
    whole = profile_rows({"x": values})
    merged = profile_rows({"x": values[:150_000]}).merge(profile_rows({"x": values[150_000:]}))
    col = merged.columns["x"]
    assert isinstance(col, NumericProfile)
    ranks = np.linspace(0.01, 0.99, 99)
    estimates = col.quantiles(ranks)
    true_ranks = np.searchsorted(np.sort(values), estimates, side="right") / values.size
    assert np.max(np.abs(true_ranks - ranks)) <= col.rank_error
    assert col.rank_error > 0  # the sketch is really in estimation mode here
    assert whole.columns["x"].count == col.count == values.size


def test_categorical_profile_switches_to_a_sketch_past_the_cap() -> None:
    digits = load_digits()
    labels = np.char.add("d", digits.target.astype(str))
    small = profile_rows({"digit": labels})
    col = small.columns["digit"]
    assert isinstance(col, CategoricalProfile) and col.exact
    assert sum(col.frequencies().values()) == labels.size
    many = np.char.add("id", np.arange(CATEGORY_CAP + 50).astype(str))
    a = profile_rows({"k": np.concatenate([many, np.repeat("hot", 5000)])})
    b = profile_rows({"k": np.repeat("hot", 3000)})
    merged = a.merge(b).columns["k"]
    assert isinstance(merged, CategoricalProfile) and not merged.exact
    hot = merged.frequencies()["hot"]
    assert abs(hot - 8000) <= merged.count_error
    assert merged.count == many.size + 8000


def test_profiles_round_trip_and_reject_garbage() -> None:
    table = _cancer_table()
    profile = profile_batches([table], reservoir=50)
    again = TableProfile.from_bytes(profile.to_bytes())
    assert again.rows == profile.rows
    assert again.reservoir is not None and len(again.reservoir.rows) == 50
    for name, col in profile.columns.items():
        assert again.columns[name].to_dict() == col.to_dict()
    with pytest.raises(InputError):
        TableProfile.from_bytes(b"not a profile")


def test_reservoir_merge_keeps_capacity_and_is_proportional() -> None:
    big = profile_rows({"x": np.zeros(9000)}, reservoir=400)
    small = profile_rows({"x": np.ones(1000)}, reservoir=400)
    merged = big.merge(small).reservoir
    assert merged is not None and len(merged.rows) == 400 and merged.seen == 10_000
    ones = sum(row[0] == 1.0 for row in merged.rows)
    assert 15 <= ones <= 70  # about 10% of the sample comes from the 10% of rows


def test_type_change_between_profiles_is_a_clear_error() -> None:
    a = profile_rows({"x": np.arange(10.0)})
    b = profile_rows({"x": np.array(["a"] * 10)})
    with pytest.raises(InputError, match="changed type"):
        a.merge(b)
