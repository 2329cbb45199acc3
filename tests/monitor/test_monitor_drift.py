"""The decision rule: effect size, sketch error, multiple testing, alpha over windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tutela.errors import InputError
from tutela.monitor.drift import DriftConfig, benjamini_hochberg, compare, window_alpha
from tutela.monitor.ingest import profile_rows


def _shifted(n: int, shift: float, seed: int) -> tuple[object, object]:
    rng = np.random.default_rng(seed)
    return (
        profile_rows({"x": rng.normal(0, 1, n)}),
        profile_rows({"x": rng.normal(shift, 1, n)}),
    )


@pytest.mark.parametrize("n", [1_000, 100_000, 1_000_000])
def test_material_shift_alarms_and_trivial_shift_does_not_at_every_size(n: int) -> None:
    material = compare(*_shifted(n, 0.2 if n > 1_000 else 0.3, seed=n))  # type: ignore[arg-type]
    trivial = compare(*_shifted(n, 0.01, seed=n + 1))  # type: ignore[arg-type]
    assert material.drifted_columns == ["x"]
    assert trivial.drifted_columns == []
    if n >= 1_000_000:
        # At this size the trivial shift is statistically certain, yet it does not matter.
        assert trivial.columns[0].metrics["p_mean"] < 1e-3
        assert trivial.columns[0].effect < 0.05


def test_sketched_w1_agrees_with_exact_w1() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.lognormal(0, 1, 300_000), rng.lognormal(0.1, 1, 300_000)
    report = compare(profile_rows({"x": a}), profile_rows({"x": b}))
    exact = stats.wasserstein_distance(a, b) / a.std(ddof=1)
    col = report.columns[0]
    assert col.metrics["w1_norm_raw"] == pytest.approx(exact, abs=col.metrics["sketch_margin"])
    assert col.low <= exact <= col.high
    assert col.metrics["ks"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=0.02)


def test_sketch_error_never_makes_a_large_unchanged_table_drift() -> None:
    rng = np.random.default_rng(12)
    columns = {
        "heavy": lambda: rng.standard_t(2, 500_000),
        "skewed": lambda: rng.lognormal(0, 2, 500_000),
        "levels": lambda: np.char.add("c", rng.integers(0, 1000, 500_000).astype(str)),
    }
    ref = profile_rows({k: f() for k, f in columns.items()})
    cur = profile_rows({k: f() for k, f in columns.items()})
    report = compare(ref, cur)
    assert not report.drifted, report.drifted_columns
    ks = next(c for c in report.columns if c.column == "heavy").metrics
    assert ks["p_ks"] > 0.05  # the KS statistic is reduced by the sketches' rank error


def test_min_effect_per_column_changes_the_decision() -> None:
    ref, cur = _shifted(200_000, 0.2, seed=13)
    assert compare(ref, cur).drifted  # type: ignore[arg-type]
    relaxed = compare(ref, cur, DriftConfig(min_effect={"x": 0.5}))  # type: ignore[arg-type]
    assert not relaxed.drifted and relaxed.columns[0].min_effect == 0.5


def test_benjamini_hochberg_matches_the_textbook_procedure() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    adjusted = benjamini_hochberg(p)
    # Reference values from statsmodels' multipletests(method="fdr_bh").
    assert adjusted == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.5])


def test_alpha_spent_over_windows_sums_to_alpha() -> None:
    total = sum(window_alpha(0.05, t) for t in range(1, 200_000))
    assert total == pytest.approx(0.05, rel=1e-4) and total < 0.05
    assert window_alpha(0.05, 2) == pytest.approx(0.05 * 6 / (4 * math.pi**2))


def test_repeated_windows_of_an_unchanged_stream_stay_quiet() -> None:
    rng = np.random.default_rng(14)
    reference = profile_rows({"a": rng.normal(size=5000), "b": rng.exponential(size=5000)})
    alarms = 0
    for t in range(1, 31):
        window = profile_rows({"a": rng.normal(size=2000), "b": rng.exponential(size=2000)})
        alarms += compare(reference, window, DriftConfig(window_index=t, bootstrap=0)).drifted
    assert alarms == 0


def test_report_metrics_are_flat_named_floats() -> None:
    ref, cur = _shifted(20_000, 0.3, seed=15)
    metrics = compare(ref, cur).metrics()  # type: ignore[arg-type]
    assert metrics["drift.dataset.drifted"] == 1.0
    assert metrics["drift.x.drifted"] == 1.0
    assert metrics["drift.x.effect"] > 0.2
    assert all(isinstance(v, float) for v in metrics.values())


def test_domain_classifier_on_samples_sees_a_joint_change() -> None:
    rng = np.random.default_rng(16)
    x = rng.normal(size=4000)
    y_same = x + rng.normal(scale=0.3, size=4000)
    # Current: the same marginals, the relation between the two columns reversed.
    ref = profile_rows({"x": x[:2000], "y": y_same[:2000]}, reservoir=1000)
    cur = profile_rows({"x": x[2000:], "y": -y_same[2000:]}, reservoir=1000)
    report = compare(ref, cur, DriftConfig(columns=["x"]))
    assert report.domain is not None and report.domain["low"] > 0.6
    assert report.drifted and report.drifted_columns == []


def test_bad_configuration_is_an_input_error() -> None:
    ref, cur = _shifted(100, 0.0, seed=17)
    with pytest.raises(InputError):
        compare(ref, cur, DriftConfig(alpha=2))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        compare(ref, cur, DriftConfig(columns=["nope"]))  # type: ignore[arg-type]
