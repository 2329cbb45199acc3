"""Shifts planted in scikit-learn datasets are found; unshifted splits raise no alarm.

Sample sizes are the datasets' own: each split is half of the rows (breast cancer 284/285,
digits 898/899, diabetes 221/221), so these are the sizes the detection claims hold at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from tutela.monitor.drift import DriftConfig, DriftReport, compare
from tutela.monitor.ingest import profile_rows


def _cancer() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    return frame.drop(columns=["target"])


def _digits() -> pd.DataFrame:
    data = load_digits(as_frame=True)
    frame = data.frame.drop(columns=["target"]).iloc[:, 16:40].copy()  # 24 pixel features
    frame["digit"] = np.char.add("d", data.target.to_numpy().astype(str))
    return frame


def _split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return frame.iloc[order[:half]].reset_index(drop=True), frame.iloc[order[half:]].reset_index(
        drop=True
    )


def _drift(
    reference: pd.DataFrame, current: pd.DataFrame, seed: int = 0, bootstrap: int = 200
) -> DriftReport:
    config = DriftConfig(seed=seed, bootstrap=bootstrap)
    return compare(profile_rows(reference), profile_rows(current), config)


@pytest.mark.parametrize("loader", [_cancer, _digits, lambda: load_diabetes(as_frame=True).frame])
def test_unshifted_splits_raise_no_alarm_in_95_percent_of_trials(loader: object) -> None:
    frame = loader()  # type: ignore[operator]
    trials = 40
    # The decision reads p-values and point effects only; the bootstrap (intervals) is skipped.
    alarms = sum(
        _drift(*_split(frame, seed), seed=seed, bootstrap=0).drifted for seed in range(trials)
    )
    assert alarms <= trials * 0.05


def test_covariate_shift_by_quantile_subsampling_is_found() -> None:
    reference, pool = _split(_cancer(), 1)
    # Keep current rows with a probability that rises with the feature's quantile.
    rank = pool["mean radius"].rank(pct=True).to_numpy()
    keep = np.random.default_rng(1).random(len(pool)) < 0.15 + 0.85 * rank
    report = _drift(reference, pool[keep])
    assert "mean radius" in report.drifted_columns
    assert report.drifted
    unrelated = {"fractal dimension error", "symmetry error", "texture error"}
    assert not unrelated & set(report.drifted_columns)


def test_gaussian_noise_on_one_feature_is_found_and_only_there() -> None:
    reference, current = _split(_cancer(), 2)
    col = "worst texture"
    noise = np.random.default_rng(2).normal(0, reference[col].std(), len(current))
    current = current.assign(**{col: current[col] + noise})
    report = _drift(reference, current)
    assert report.drifted_columns == [col]
    found = next(c for c in report.columns if c.column == col)
    assert found.effect >= found.min_effect and found.metrics["std_ratio"] > 1.2


def test_category_frequency_shift_is_found() -> None:
    reference, current = _split(_digits(), 3)
    # Current traffic sees mostly low digits: drop 80% of the rows showing 5..9.
    high = current["digit"].isin([f"d{k}" for k in range(5, 10)]).to_numpy()
    keep = ~high | (np.random.default_rng(3).random(len(current)) < 0.2)
    report = _drift(reference, current[keep])
    assert "digit" in report.drifted_columns


def test_label_shift_is_found_as_drift_of_the_label_column() -> None:
    reference, current = _split(_cancer(), 4)
    malignant = current[current["diagnosis"] == "malignant"]
    current = pd.concat([current, malignant, malignant], ignore_index=True)
    report = _drift(reference[["diagnosis"]], current[["diagnosis"]])
    assert report.drifted_columns == ["diagnosis"]


def test_missing_values_are_found() -> None:
    reference, current = _split(load_diabetes(as_frame=True).frame, 5)
    current = current.copy()
    holes = np.random.default_rng(5).random(len(current)) < 0.2
    current.loc[holes, "bmi"] = np.nan
    report = _drift(reference, current)
    assert report.drifted_columns == ["bmi"]
    bmi = next(c for c in report.columns if c.column == "bmi")
    assert bmi.missing_current > 0.1 and bmi.missing_reference == 0


def test_importance_weights_decide_the_dataset_level() -> None:
    columns = ["area error", "mean radius", "mean texture", "worst smoothness"]
    reference, current = _split(_cancer()[columns], 6)
    noise = np.random.default_rng(6).normal(0, 2 * reference["area error"].std(), len(current))
    current = current.assign(**{"area error": current["area error"] + noise})
    pr, pc = profile_rows(reference), profile_rows(current)
    unimportant = {name: 1.0 for name in columns}
    unimportant["area error"] = 0.0
    quiet = compare(pr, pc, DriftConfig(importances=unimportant))
    assert quiet.drifted_columns == ["area error"] and not quiet.drifted
    loud = compare(pr, pc, DriftConfig(importances={"area error": 5.0, "mean radius": 1.0}))
    assert loud.drifted and loud.drifted_share == pytest.approx(5 / 6)
    equal = compare(pr, pc)  # no importances: equal weights
    assert equal.drifted and equal.drifted_share == pytest.approx(1 / 4)
