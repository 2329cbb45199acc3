"""Calibration: a calibrated model passes, an overconfident one is flagged with intervals."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tutela.arena.ml.measures import calibration
from tutela.errors import InputError


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = tuple(
        train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    )  # type: ignore[assignment]
    return out


def test_calibrated_model_passes_and_naive_bayes_is_overconfident() -> None:
    """Logistic regression on digits is calibrated; Gaussian naive Bayes claims ~99% and is
    right ~83% of the time; isotonic recalibration of the same naive Bayes fixes it."""
    X_tr, X_te, y_tr, y_te = _digits()
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_tr, y_tr)
    good = calibration(y_te, logistic.predict_proba(X_te))
    assert not good.exceeded and good.metrics["ece"] < 0.05
    assert good.id == "ml.calibration.confidence"

    nb = GaussianNB().fit(X_tr, y_tr)
    bad = calibration(y_te, nb.predict_proba(X_te))
    assert bad.exceeded and bad.intervals["ece"][0] > 0.1
    assert bad.intervals["overconfidence"][0] > 0.1  # confidence above accuracy, shown
    assert bad.metrics["overconfidence_wrong"] > 0.9  # near-certain when wrong
    assert bad.metrics["brier"] > good.metrics["brier"]

    fixed = CalibratedClassifierCV(GaussianNB(), method="isotonic").fit(X_tr, y_tr)
    recal = calibration(y_te, fixed.predict_proba(X_te))
    assert not recal.exceeded
    assert recal.intervals["ece"][1] < bad.intervals["ece"][0]
    for m in (good, bad, recal):
        for key, value in m.metrics.items():
            lo, hi = m.intervals[key]
            assert lo <= value <= hi, key
        json.dumps(m.to_dict(), allow_nan=False)


def _ece_by_loop(y: np.ndarray, proba: np.ndarray, bins: int) -> float:
    """An independent, unvectorised ECE: right-closed equal-width bins on the top label."""
    conf, hit = proba.max(axis=1), proba.argmax(axis=1) == y
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        rows = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if rows.any():
            total += rows.sum() / len(y) * abs(hit[rows].mean() - conf[rows].mean())
    return total


def test_ece_and_brier_match_independent_definitions() -> None:
    """ECE equals a plain loop; Brier equals twice scikit-learn's for two classes."""
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    p1 = GaussianNB().fit(X_tr, y_tr).predict_proba(X_te)[:, 1]
    m = calibration(y_te, p1, bins=10)  # 1-D input: P(class 1)
    P = np.column_stack([1 - p1, p1])
    assert m.metrics["ece"] == pytest.approx(_ece_by_loop(y_te, P, 10), abs=1e-12)
    assert m.metrics["brier"] == pytest.approx(2 * brier_score_loss(y_te, p1), abs=1e-12)
    q = calibration(y_te, p1, bins=10, strategy="quantile")
    assert q.params["strategy"] == "quantile" and q.details["reliability"]


def test_deterministic_under_seed_with_class_names() -> None:
    """Same seed, same intervals; another seed moves them slightly; text labels map."""
    X_tr, X_te, y_tr, y_te = _digits()
    P = GaussianNB().fit(X_tr, y_tr).predict_proba(X_te)
    a = calibration(y_te, P, seed=1)
    b = calibration(y_te.astype(str), P, seed=1, classes=[str(c) for c in range(10)])
    c = calibration(y_te, P, seed=2)
    assert a.to_dict() == b.to_dict()
    assert a.metrics == c.metrics and a.intervals != c.intervals


def test_bad_inputs_are_input_errors() -> None:
    """Out-of-range probabilities, wrong shapes and bad settings are refused."""
    y = np.array([0, 1, 1, 0])
    with pytest.raises(InputError, match="not a probability"):
        calibration(y, np.array([0.2, 1.3, 0.5, 0.1]))
    with pytest.raises(InputError, match="wrong shape"):
        calibration(y, np.full((3, 2), 0.5))
    with pytest.raises(InputError, match="NaN"):
        calibration(y, np.array([0.2, np.nan, 0.5, 0.1]))
    with pytest.raises(InputError, match="out of range"):
        calibration(y, np.array([0.2, 0.3, 0.5, 0.1]), bins=1)
    with pytest.raises(InputError, match="unknown"):
        calibration(y, np.array([0.2, 0.3, 0.5, 0.1]), strategy="kmeans")  # type: ignore[arg-type]
