"""Robustness curves: accuracy falls as noise and missingness grow; constraints hold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from tutela.arena.ml.measures import robustness
from tutela.errors import InputError


def test_accuracy_falls_with_noise_and_missing_values_on_digits() -> None:
    """Pixel noise of 0.5, 1 and 2 std and 10-30% blanked pixels cost ever more accuracy."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_tr, y_tr)
    m = robustness(model.predict, X_te, y_te, noise_levels=(0.5, 1.0, 2.0))
    noise = [m.metrics[f"noise@{s}"] for s in ("0", "0.1", "0.5", "1", "2")]
    assert abs(noise[1] - noise[0]) < 0.01  # 0.1 std mostly rounds back to the same pixel
    assert noise[0] > noise[2] > noise[3] > noise[4] and noise[0] - noise[4] > 0.3
    assert m.intervals["noise@2"][1] < m.intervals["noise@0"][0]  # the fall is shown
    missing = [m.metrics[f"missing@{r}"] for r in ("0", "0.1", "0.2", "0.3")]
    assert missing == sorted(missing, reverse=True) and missing[0] > missing[-1]
    assert m.details["integer_columns"] == list(range(64))  # pixel counts are whole numbers
    assert m.queries == len(X_te) * (5 + 3)  # the clean pass is shared by both curves
    assert m.id == "ml.robustness.corruption" and not m.exceeded  # drops at 0.1 are small
    assert m.metrics["drop_missing"] > 0.005
    flagged = robustness(model.predict, X_te, y_te, noise_levels=(), threshold=0.005)
    assert flagged.exceeded  # the same drop, judged against a stricter threshold
    json.dumps(m.to_dict(), allow_nan=False)


def test_constraints_hold_in_every_row_the_model_sees() -> None:
    """Immutable columns never change, integers stay whole, values stay in range, and
    missing cells are filled with the given value."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :6].copy()
    X[:, 5] = np.round(X[:, 5] * 10)  # a whole-number column
    lower, upper = X.min(axis=0), X.max(axis=0)
    upper[0] = np.percentile(X[:, 0], 99.0)
    X[:, 0] = np.minimum(X[:, 0], upper[0])
    seen: list[np.ndarray] = []

    def predict(rows: np.ndarray) -> np.ndarray:
        seen.append(rows.copy())
        return (rows[:, 0] > 14.0).astype(int)

    fill = np.array([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])
    robustness(
        predict,
        X,
        y,
        noise_levels=(1.0,),
        missing_rates=(0.5,),
        upper=upper,
        immutable=[2],
        integer=[5],
        fill=fill,
    )
    noisy, blanked = seen[2], seen[-1]  # clean, 0.1, 1.0 std; ...; 50% missing
    assert np.array_equal(noisy[:, 2], X[:, 2]) and np.array_equal(blanked[:, 2], X[:, 2])
    assert np.all(noisy >= lower) and np.all(noisy <= upper)
    assert np.array_equal(noisy[:, 5], np.round(noisy[:, 5]))
    assert not np.array_equal(noisy[:, 0], X[:, 0])
    for j in (0, 1, 3, 4, 5):
        changed = blanked[:, j] != X[:, j]
        assert 0.4 < changed.mean() < 0.6 and np.all(blanked[changed, j] == fill[j])


def test_text_answers_compare_with_integer_labels() -> None:
    """A model answering "0"/"1" is scored like one answering 0/1."""
    X, y = load_breast_cancer(return_X_y=True)

    def as_int(rows: np.ndarray) -> np.ndarray:
        return (rows[:, 27] < 0.14).astype(int)

    def as_text(rows: np.ndarray) -> np.ndarray:
        return as_int(rows).astype(str)

    a = robustness(as_int, X, y, seed=4)
    b = robustness(as_text, X, y, seed=4)
    assert a.metrics == b.metrics and a.metrics["accuracy"] > 0.85


def test_declared_range_exceeded_by_the_data_widens_to_it() -> None:
    """An upper bound of 0 that the rows exceed becomes their maximum, and is reported."""
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    seen: list[np.ndarray] = []

    def predict(rows: np.ndarray) -> np.ndarray:
        seen.append(rows)
        return (rows[:, 0] > 0).astype(int)

    m = robustness(predict, X, y, upper=[0.0, 0.0, 10.0], noise_levels=(2.0,), missing_rates=())
    assert m.details["widened_columns"] == [0, 1]
    for rows in seen:
        assert np.all(rows[:, :2] <= X[:, :2].max(axis=0))


def test_bad_inputs_are_input_errors() -> None:
    """NaN rows, inverted ranges, values outside declared ranges and bad levels fail."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)

    def predict(rows: np.ndarray) -> np.ndarray:
        return (rows[:, 0] > 0).astype(int)

    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        robustness(predict, bad, y)
    with pytest.raises(InputError, match="above upper"):
        robustness(predict, X, y, lower=1.0, upper=0.0)
    with pytest.raises(InputError, match="out of range"):
        robustness(predict, X, y, missing_rates=(1.5,))
    with pytest.raises(InputError, match="does not exist"):
        robustness(predict, X, y, immutable=[7])
    with pytest.raises(InputError, match="wrong length"):
        robustness(predict, X, y[:-1])
