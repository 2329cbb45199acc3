"""Membership inference: an overfitted forest leaks, held-out data against itself does not."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from tutela.arena.ml.measures import membership
from tutela.arena.ml.measures.membership import _evaluate
from tutela.errors import InputError


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[RandomForestClassifier, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fully grown forest on 300 digit images, and 1497 images it never saw."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_ho, y_tr, y_ho = train_test_split(X, y, train_size=300, random_state=0, stratify=y)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_tr, y_tr)
    return model, X_tr, y_tr, X_ho, y_ho


def test_overfitted_forest_leaks_membership() -> None:
    """Training rows have lower loss: AUC and advantage are well above chance, flagged."""
    model, X_tr, y_tr, X_ho, y_ho = _digits()
    m = membership(model.predict_proba, X_tr, y_tr, X_ho[:300], y_ho[:300])
    assert m.id == "ml.membership.threshold" and m.atlas == "AML.T0024.000"
    assert m.intervals["auc"][0] > 0.7
    assert m.intervals["advantage"][0] > 0.3
    assert m.exceeded
    assert m.metrics["member_accuracy"] > m.metrics["nonmember_accuracy"]
    assert m.metrics["mean_loss_members"] < m.metrics["mean_loss_nonmembers"]
    assert m.queries == 600
    json.dumps(m.to_dict(), allow_nan=False)


def test_no_members_means_no_signal() -> None:
    """Two halves of held-out data: the AUC interval holds 0.5, nothing is flagged."""
    model, _, _, X_ho, y_ho = _digits()
    m = membership(model.predict_proba, X_ho[:400], y_ho[:400], X_ho[400:800], y_ho[400:800])
    lo, hi = m.intervals["auc"]
    assert lo < 0.5 < hi
    assert m.intervals["advantage"][0] < 0.0 < m.intervals["advantage"][1]
    assert not m.exceeded


def test_shadow_models_attack_too() -> None:
    """With a shadow set, a learned attack runs as well and also finds the leak."""
    model, X_tr, y_tr, X_ho, y_ho = _digits()
    m = membership(
        model.predict_proba,
        X_tr,
        y_tr,
        X_ho[:300],
        y_ho[:300],
        shadow=(X_ho[300:900], y_ho[300:900]),
        shadow_estimator=RandomForestClassifier(n_estimators=30),
        shadow_models=2,
    )
    assert m.id == "ml.membership.shadow"
    assert m.intervals["shadow_auc"][0] > 0.65
    assert m.exceeded and m.details["strongest"] in {"threshold", "shadow"}


def test_cross_fitted_advantage_is_unbiased_without_signal() -> None:
    """Under no signal the reported advantage averages ~0 and its interval covers 0.

    The in-sample maximum of TPR - FPR would average about 0.12 on 100 + 100 rows.
    """
    rng = np.random.default_rng(0)
    adv, covered = [], 0
    for _ in range(200):
        res = _evaluate(rng.normal(size=100), rng.normal(size=100), rng)
        adv.append(res["advantage"])
        lo, hi = res["advantage_ci"]
        covered += lo <= 0.0 <= hi
    assert abs(float(np.mean(adv))) < 0.02
    assert covered >= 180  # nominal 95%: at least 90% of 200


def test_text_labels_with_classes() -> None:
    """Labels given as text map onto the probability columns through ``classes``."""
    model, X_tr, y_tr, X_ho, y_ho = _digits()
    as_int = membership(model.predict_proba, X_tr, y_tr, X_ho[:300], y_ho[:300])
    as_text = membership(
        model.predict_proba,
        X_tr,
        y_tr.astype(str),
        X_ho[:300],
        y_ho[:300].astype(str),
        classes=[str(c) for c in model.classes_],
    )
    assert as_text.metrics == as_int.metrics


def test_bad_inputs_are_input_errors() -> None:
    """Labels outside the columns, non-probabilities and tiny samples are refused."""
    model, X_tr, y_tr, X_ho, y_ho = _digits()
    with pytest.raises(InputError, match="outside the probability columns"):
        membership(model.predict_proba, X_tr, y_tr + 5, X_ho[:50], y_ho[:50])
    with pytest.raises(InputError, match="not column indices"):
        membership(model.predict_proba, X_tr, y_tr.astype(str), X_ho[:50], y_ho[:50].astype(str))
    with pytest.raises(InputError, match="not a probability"):
        membership(lambda rows: np.full((len(rows), 10), 3.0), X_tr, y_tr, X_ho[:50], y_ho[:50])
    with pytest.raises(InputError, match="too small"):
        membership(model.predict_proba, X_tr[:5], y_tr[:5], X_ho[:50], y_ho[:50])
