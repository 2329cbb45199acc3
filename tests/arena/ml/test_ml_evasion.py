"""Black-box evasion on tree ensembles: success rates within stated budgets, and every
query respecting the feature schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from arena_ml_helpers import dataset, train

from tutela.arena.ml.attacks.boundary import BoundarySettings, boundary_attack
from tutela.arena.ml.attacks.random_search import RandomSearchSettings, random_search_attack
from tutela.arena.ml.data import Dataset
from tutela.arena.ml.oracle import Budget, Counter
from tutela.arena.ml.schema import build_schema
from tutela.arena.ml.service import run_ml_arena
from tutela.arena.ml.targets.pycallable import CallableTarget


@pytest.mark.parametrize("kind", ["rf", "gb"])
def test_boundary_search_evades_tree_ensembles(kind: str, wine: Dataset, tmp_path: Path) -> None:
    """Decision-based boundary search: > 90% of 20 wine rows evade a random forest and a
    gradient-boosting model within 1,000 label queries, each feature moved <= 2 std."""
    model = CallableTarget.from_estimator(f"model:wine-{kind}", train(kind, wine))
    result = run_ml_arena(
        model,
        wine,
        out_dir=tmp_path,
        attacks=["boundary"],
        budget=1000,
        samples=20,
        epsilon=2.0,
        seed=1,
    )
    summary = result.evasion["ml.evasion.boundary"]
    assert summary["samples"] == 20 and summary["errors"] == 0
    assert summary["success_rate"] > 0.9, summary
    assert summary["median_linf"] <= 2.0
    assert all(row["queries"] <= 1000 for row in summary["rows"])
    assert result.score.by_probe["ml.evasion.boundary"].succeeded == summary["succeeded"]


@pytest.mark.parametrize("kind", ["rf", "gb"])
def test_random_search_evades_tree_ensembles(kind: str, tmp_path: Path) -> None:
    """Score-based random search: > 90% of 20 digits rows evade a random forest and a
    gradient-boosting model within 500 probability queries, Linf <= 1 std."""
    digits = dataset("digits")
    model = CallableTarget.from_estimator(f"model:digits-{kind}", train(kind, digits))
    result = run_ml_arena(
        model,
        digits,
        out_dir=tmp_path,
        attacks=["random_search"],
        budget=500,
        samples=20,
        epsilon=1.0,
        seed=2,
    )
    summary = result.evasion["ml.evasion.random_search"]
    assert summary["success_rate"] > 0.9, summary
    assert summary["median_linf"] <= 1.0 + 1e-9
    assert summary["interval"]["low"] > 0.6


def test_attacks_respect_the_schema(wine: Dataset) -> None:
    """Immutable columns never move, integer columns stay whole, values stay in range,
    and no attack exceeds its query budget."""
    model = train("rf", wine)
    target = CallableTarget.from_estimator("model:wine", model)
    declared = {
        "f0": {"immutable": True},
        "f12": {"type": "integer", "min": 300, "max": 1700},
        "f4": {"type": "integer"},
    }
    schema = build_schema(wine.names, wine.features, declared)
    counter = Counter(target)
    rng = np.random.default_rng(0)
    rows = [0, 60, 130]
    for row in rows:
        x = wine.features[row]
        label = str(target.predict(x[None, :])[0])
        found = [
            boundary_attack(
                x,
                label,
                row=row,
                budget=Budget(counter, 300),
                schema=schema,
                reference=wine.features,
                reference_labels=wine.labels,
                rng=rng,
                settings=BoundarySettings(),
            ),
            random_search_attack(
                x,
                label,
                row=row,
                budget=Budget(counter, 300),
                schema=schema,
                classes=target.classes,
                rng=rng,
                settings=RandomSearchSettings(epsilon=1.5),
            ),
        ]
        for result in found:
            assert result.queries <= 300
            if result.adversarial is None:
                continue
            adv = result.adversarial
            assert adv[0] == x[0]
            assert adv[12] == np.rint(adv[12]) and 300 <= adv[12] <= 1700
            assert adv[4] == np.rint(adv[4])
            assert np.all(adv >= schema.low) and np.all(adv <= schema.high)
            assert str(target.predict(adv[None, :])[0]) != label
            assert "f0" not in result.changed


def test_labels_only_target_reports_errors_not_resistance(wine: Dataset, tmp_path: Path) -> None:
    """A target without probabilities cannot be attacked score-based: those attempts are
    errors (never counted as resisted), while the decision-based attack still runs."""
    model = train("gb", wine)
    target = CallableTarget("model:labels-only", model.predict)
    result = run_ml_arena(
        target, wine, out_dir=tmp_path, attacks=["evasion"], budget=300, samples=5, epsilon=2.0
    )
    score = result.score.by_probe
    assert score["ml.evasion.random_search"].errors == 5
    assert score["ml.evasion.random_search"].trials == 0
    assert score["ml.evasion.boundary"].trials == 5


def test_a_failing_target_gives_errors_never_resisted(wine: Dataset, tmp_path: Path) -> None:
    """A target that fails mid-attack yields error attempts with the reason, not passes."""
    model = train("gb", wine)

    def flaky(rows: np.ndarray) -> np.ndarray:
        if len(rows) == 1:
            raise RuntimeError("backend unavailable")
        return model.predict(rows)

    target = CallableTarget("model:flaky", flaky)
    result = run_ml_arena(
        target, wine, out_dir=tmp_path, attacks=["boundary"], budget=200, samples=4
    )
    rate = result.score.by_probe["ml.evasion.boundary"]
    assert rate.errors == 4 and rate.trials == 0 and rate.asr is None
    assert all("backend unavailable" in (a.error or "") for a in result.attempts)


def test_boundary_search_never_overruns_its_budget(wine: Dataset) -> None:
    """For small budgets and a sweep of 60 to 111, the search ends cleanly within it (the Linf
    bisection must not leave the gradient estimate a negative number of queries)."""
    model = train("gb", wine)
    target = CallableTarget.from_estimator("model:wine", model)
    schema = build_schema(wine.names, wine.features)
    counter = Counter(target)
    for budget in (10, 11, 15, 20, 30, *range(60, 112)):
        for row in (0, 140):
            x = wine.features[row]
            label = str(model.predict(x[None, :])[0])
            result = boundary_attack(
                x,
                label,
                row=row,
                budget=Budget(counter, budget),
                schema=schema,
                reference=wine.features,
                reference_labels=wine.labels,
                rng=np.random.default_rng(row),
                settings=BoundarySettings(epsilon=0.3),
            )
            assert result.queries <= budget and result.error is None
