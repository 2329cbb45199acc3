"""Fairness gaps: a planted bias is reported with its interval; a fair model is not flagged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tutela.arena.ml.measures import fairness
from tutela.errors import InputError


def _population(n: int = 3000, seed: int = 0) -> dict[str, np.ndarray]:
    """Applicants with one merit score; the true outcome does not depend on sex or region."""
    rng = np.random.default_rng(seed)
    merit = rng.normal(size=n)
    return {
        "merit": merit,
        "y": (merit + rng.normal(0.0, 0.5, n) > 0).astype(int),
        "sex": rng.choice(["f", "m"], n),
        "region": rng.choice(["north", "south", "east"], n),
    }


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_planted_gap_is_reported_with_its_interval() -> None:
    """A decision that favours one sex shows DP, TPR, FPR and calibration gaps above 0.1."""
    d = _population()
    score = _sigmoid(3.0 * (d["merit"] + 0.8 * (d["sex"] == "m") - 0.4))
    pred = (score > 0.5).astype(int)
    m = fairness(d["y"], pred, {"sex": d["sex"], "region": d["region"]}, proba=score)
    assert m.exceeded and m.atlas == "AML.T0048.002"
    for gap in ("demographic_parity", "tpr_gap", "fpr_gap", "equalised_odds", "calibration_gap"):
        lo, hi = m.intervals[f"sex.{gap}"]
        assert 0.1 < lo <= m.metrics[f"sex.{gap}"] <= hi < 0.5
        assert m.intervals[f"region.{gap}"][0] <= 0.1  # region was never used
    sex = m.details["attributes"]["sex"]
    assert sex["gaps"]["demographic_parity"]["highest"] == "m"
    # The reported gap is the plain difference of the two groups' selection rates.
    rates = {g: pred[d["sex"] == g].mean() for g in ("f", "m")}
    assert m.metrics["sex.demographic_parity"] == pytest.approx(rates["m"] - rates["f"])
    assert "sex." in m.summary and "region." not in " ".join(m.details["flagged"])
    json.dumps(m.to_dict(), allow_nan=False)


def test_fair_model_is_not_flagged() -> None:
    """The same population scored on merit alone: every lower bound stays below 0.1."""
    d = _population(seed=1)
    score = _sigmoid(3.0 * d["merit"])
    m = fairness(
        d["y"], (score > 0.5).astype(int), {"sex": d["sex"], "region": d["region"]}, proba=score
    )
    assert not m.exceeded
    assert all(lo <= 0.1 for lo, _ in m.intervals.values())
    assert m.metrics["sex.demographic_parity"] < 0.05


def test_false_alarm_rate_under_no_gap_is_small() -> None:
    """Equal rates in two groups of 150: a lower bound above 0 in about 5% of 300 samples.

    The interval of |d| excludes 0 exactly when the two-sided 95% interval of d does.
    """
    rng = np.random.default_rng(2)
    alarms = 0
    for _ in range(300):
        y = rng.integers(0, 2, 300)
        pred = np.where(rng.random(300) < 0.8, y, 1 - y)
        m = fairness(y, pred, {"g": np.repeat(["a", "b"], 150)}, threshold=0.0)
        alarms += m.intervals["g.demographic_parity"][0] > 0.0
    assert alarms <= 24  # nominal 15; 24 is beyond the binomial's 99th percentile


def test_text_labels_positive_and_undefined_rates() -> None:
    """Text outcomes need a favourable label; a group without positives has no TPR."""
    y = np.array(["deny", "grant"] * 20 + ["deny"] * 20)
    pred = np.array(["grant"] * 60)
    groups = {"club": np.array(["x"] * 40 + ["y"] * 20)}
    m = fairness(y, pred, groups, positive="grant")
    assert m.params["positive"] == "grant"
    assert math.isnan(m.metrics["club.tpr_gap"])  # group y has no positive outcome
    assert m.metrics["club.fpr_gap"] == pytest.approx(0.0)
    assert json.loads(json.dumps(m.to_dict(), allow_nan=False))["metrics"]["club.tpr_gap"] is None
    with pytest.raises(InputError, match="favourable"):
        fairness(np.array([0, 1, 2, 1]), np.array([0, 1, 2, 2]), {"g": np.array(list("aabb"))})


def test_bad_inputs_are_input_errors() -> None:
    """One group, missing labels, wrong lengths and non-probabilities are refused."""
    y = np.array([0, 1] * 10)
    with pytest.raises(InputError, match="single group"):
        fairness(y, y, {"g": np.array(["a"] * 20)})
    with pytest.raises(InputError, match="missing labels"):
        fairness(y, y, {"g": np.array(["a", None] * 10, dtype=object)})
    with pytest.raises(InputError, match="wrong length"):
        fairness(y, y[:-1], {"g": np.array(["a", "b"] * 10)})
    with pytest.raises(InputError, match="no sensitive attribute"):
        fairness(y, y, {})
    with pytest.raises(InputError, match="not a probability"):
        fairness(y, y, {"g": np.array(["a", "b"] * 10)}, proba=np.full(20, 1.5))
