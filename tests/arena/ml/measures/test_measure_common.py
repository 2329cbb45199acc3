"""The statistics under every measurement, the result format and the call counter."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from tutela.arena.ml.measures import SCHEMA, Measurement
from tutela.arena.ml.measures._calls import Counted
from tutela.arena.ml.measures._stats import (
    absolute,
    agresti_min_paired,
    basic_interval,
    bonferroni_z,
    delong,
    midranks,
    newcombe_difference,
)
from tutela.errors import InputError


def test_newcombe_matches_the_papers_worked_examples() -> None:
    """Method 10 of Newcombe (1998), Table II, reproduced to four decimals."""
    cases = {
        (56, 70, 48, 80): (0.0524, 0.3339),
        (9, 10, 3, 10): (0.1705, 0.8090),
        (6, 7, 2, 7): (0.0582, 0.8062),
        (5, 56, 0, 29): (-0.0381, 0.1926),
    }
    for (x1, n1, x2, n2), expected in cases.items():
        got = newcombe_difference(x1, n1, x2, n2)
        assert got == pytest.approx(expected, abs=6e-5)


def test_delong_agrees_with_scikit_learn_and_the_bootstrap() -> None:
    """AUC equals roc_auc_score with ties; the DeLong SE matches a bootstrap SE within 5%."""
    rng = np.random.default_rng(0)
    pos = np.round(rng.normal(1.0, 1.0, 60), 1)  # rounded: plenty of ties
    neg = np.round(rng.normal(0.0, 1.0, 90), 1)
    auc, se = delong(pos, neg)
    truth = np.r_[np.ones(60), np.zeros(90)]
    assert auc == pytest.approx(roc_auc_score(truth, np.r_[pos, neg]), abs=1e-12)
    boot = [delong(rng.choice(pos, 60), rng.choice(neg, 90))[0] for _ in range(2000)]
    assert se == pytest.approx(float(np.std(boot)), rel=0.05)


def test_midranks_equal_scipy_rankdata() -> None:
    """Average ranks for ties, as scipy computes them."""
    x = np.round(np.random.default_rng(1).normal(size=500), 1)
    assert np.array_equal(midranks(x), rankdata(x))


def test_paired_interval_does_not_collapse_without_discordant_pairs() -> None:
    """Agresti-Min keeps a positive width when both runs agree on every row."""
    lo, hi = agresti_min_paired(0, 0, 200)
    assert lo < 0 < hi and hi - lo > 0.005
    lo, hi = agresti_min_paired(30, 5, 200)
    assert lo > 0 and hi < 1


def test_interval_helpers() -> None:
    """|d| intervals, Bonferroni quantiles and reflected bootstrap bounds."""
    assert absolute((0.1, 0.3)) == (0.1, 0.3)
    assert absolute((-0.3, -0.1)) == (0.1, 0.3)
    assert absolute((-0.1, 0.3)) == (0.0, 0.3)
    assert bonferroni_z(1) == pytest.approx(1.959964, abs=1e-6)
    assert bonferroni_z(3) == pytest.approx(2.393980, abs=1e-5)
    samples = np.linspace(0.2, 0.4, 1001)  # replicates above the estimate: biased upwards
    lo, hi = basic_interval(0.25, samples, 0.0, 1.0)
    assert lo == pytest.approx(0.5 - 0.395, abs=1e-9) and hi == pytest.approx(0.5 - 0.205, abs=1e-9)
    assert all(math.isnan(v) for v in basic_interval(0.1, np.array([np.nan])))


def test_measurement_to_dict_is_strict_json() -> None:
    """NaN, numpy scalars and tuples become plain JSON; the schema id travels along."""
    m = Measurement(
        id="ml.test",
        atlas="AML.T0000",
        category="test",
        metrics={"a": float(np.float64(0.5)), "b": math.nan},
        intervals={"a": (0.25, 0.75)},
        exceeded=False,
        summary="one line",
        threshold=0.1,
        details={"arr": np.arange(3), "x": np.int64(4), "inf": math.inf},
    )
    data = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert data["schema"] == SCHEMA
    assert data["metrics"] == {"a": 0.5, "b": None}
    assert data["intervals"] == {"a": [0.25, 0.75]}
    assert data["details"] == {"arr": [0, 1, 2], "x": 4, "inf": None}
    with pytest.raises(AttributeError):
        m.exceeded = True  # type: ignore[misc]


def test_counted_batches_counts_and_checks_shapes() -> None:
    """Rows go in batches; each answer's shape and range is checked."""
    seen: list[int] = []

    def labels(rows: np.ndarray) -> np.ndarray:
        seen.append(len(rows))
        return (rows[:, 0] > 0).astype(int)

    counted = Counted(labels, name="predict", kind="labels", batch=100)
    out = counted(np.random.default_rng(0).normal(size=(250, 3)))
    assert out.shape == (250,) and seen == [100, 100, 50]
    assert (counted.calls, counted.rows) == (3, 250)

    with pytest.raises(InputError, match="wrong length"):
        Counted(lambda rows: np.zeros(len(rows) - 1), name="predict", kind="labels")(
            np.zeros((5, 2))
        )
    with pytest.raises(InputError, match="not a probability"):
        Counted(lambda rows: np.full((len(rows), 2), 2.0), name="proba", kind="proba")(
            np.zeros((5, 2))
        )
    with pytest.raises(InputError, match="not callable"):
        Counted(42, name="predict", kind="labels")  # type: ignore[arg-type]
