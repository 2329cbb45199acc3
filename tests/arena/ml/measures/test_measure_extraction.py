"""Model extraction: fidelity of label-only surrogates grows with the query budget."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from tutela.arena.ml.measures import extraction
from tutela.errors import InputError


def _breast_cancer(seed: int) -> tuple[RandomForestClassifier, np.ndarray, np.ndarray]:
    """A random forest trained on 30% of the data; the attacker's pool and a test set."""
    X, y = load_breast_cancer(return_X_y=True)
    X_a, X_rest, y_a, y_rest = train_test_split(X, y, train_size=0.3, random_state=seed, stratify=y)
    pool, test = train_test_split(X_rest, test_size=120, random_state=seed, stratify=y_rest)
    target = RandomForestClassifier(n_estimators=50, random_state=seed).fit(X_a, y_a)
    return target, pool, test


def test_fidelity_rises_with_budget_on_breast_cancer() -> None:
    """Averaged over three splits, 279 queries copy the forest better than 10 do, above 90%."""
    first, last = [], []
    for seed in range(3):
        target, pool, test = _breast_cancer(seed)
        m = extraction(target.predict, pool, test, budgets=(10, 100, 1000), seed=seed)
        assert m.details["budgets"] == [10, 100, len(pool)]  # 1000 > pool: the pool's size
        assert m.queries == len(pool) + len(test)  # nested budgets reuse the answers
        assert m.id == "ml.extraction.surrogate" and m.atlas == "AML.T0024.002"
        assert m.exceeded  # >= 0.9 at the largest budget
        for key, value in m.metrics.items():
            if key in m.intervals:
                lo, hi = m.intervals[key]
                assert lo <= value <= hi
        first.append(m.metrics["fidelity@10"])
        last.append(m.metrics["fidelity"])
        json.dumps(m.to_dict(), allow_nan=False)
    assert np.mean(last) > np.mean(first) + 0.015
    assert min(last) >= 0.9


def test_fidelity_curve_on_digits_separates_small_from_large_budgets() -> None:
    """Ten classes: 25 queries copy little, 400 copy most; the intervals do not overlap."""
    X, y = load_digits(return_X_y=True)
    X_a, X_rest, y_a, _ = train_test_split(X, y, train_size=600, random_state=0, stratify=y)
    target = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_a, y_a)
    m = extraction(
        target.predict, X_rest[:900], X_rest[900:], budgets=(25, 100, 400), threshold=0.99
    )
    curve = [m.metrics[f"fidelity@{b}"] for b in (25, 100, 400)]
    assert curve[0] < curve[1] < curve[2]
    assert m.intervals["fidelity@400"][0] > m.intervals["fidelity@25"][1]
    assert m.metrics["fidelity"] > 0.8 > 0.2 > m.metrics["baseline"]
    assert not m.exceeded  # below the 0.99 asked for
    assert "400 label queries" in m.summary


def test_deterministic_under_seed_and_string_labels() -> None:
    """The same seed gives the same curve; a target answering text labels works alike."""
    X, _ = load_breast_cancer(return_X_y=True)

    def query(rows: np.ndarray) -> np.ndarray:
        return np.where(rows[:, 27] > 0.14, "malignant", "benign")

    a = extraction(query, X[:400], X[400:], budgets=(20, 60), seed=3)
    b = extraction(query, X[:400], X[400:], budgets=(20, 60), seed=3)
    assert a.to_dict() == b.to_dict()
    assert a.metrics["fidelity@60"] > 0.9  # one axis-aligned cut: a tree learns it


def test_bad_inputs_are_input_errors() -> None:
    """Shape mismatch, NaNs, tiny budgets and malformed answers fail with one clear line."""
    X = np.random.default_rng(0).normal(size=(50, 3))

    def ok(rows: np.ndarray) -> np.ndarray:
        return (rows[:, 0] > 0).astype(int)

    with pytest.raises(InputError, match="different numbers of features"):
        extraction(ok, X, X[:, :2])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        extraction(ok, bad, X)
    with pytest.raises(InputError) as err:
        extraction(ok, X, X, budgets=(5,))
    assert err.value.diagnostics().startswith("budgets: is too small")
    with pytest.raises(InputError, match="wrong shape"):
        extraction(lambda rows: np.zeros((len(rows), 2)), X, X, budgets=(10,))
