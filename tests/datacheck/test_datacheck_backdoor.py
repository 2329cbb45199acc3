"""Backdoor triggers planted in real and synthetic data are found and named; clean data
yields no backdoor finding."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from planting import out_of_range, plant_backdoor, sklearn_frame, synthetic_frame

from tutela.datacheck import Finding, FindingKind, Severity
from tutela.datacheck.backdoor import find_backdoors
from tutela.datacheck.features import prepare


def _backdoors(frame: pd.DataFrame) -> list[Finding]:
    data = prepare(frame, label="target")
    found, _ = find_backdoors(data, columns=data.feature_columns)
    assert all(f.kind is FindingKind.BACKDOOR for f in found)
    return found


CASES: dict[str, tuple[str, list[str], Any, float]] = {
    # data set: (trigger columns, target label, share of rows)
    "breast_cancer": ("breast_cancer", ["mean texture", "worst symmetry"], 0, 0.02),
    "wine": ("wine", ["ash", "hue"], 2, 0.03),
    "synthetic": ("synthetic", ["f2", "f7"], 1, 0.015),
}


def _frame(name: str) -> pd.DataFrame:
    return synthetic_frame() if name == "synthetic" else sklearn_frame(name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_trigger_is_found_and_named(case: str) -> None:
    """Two columns stamped with out-of-range constants in 1.5-3% of rows, relabelled to
    one class: one backdoor finding naming both columns, their values and the target."""
    name, columns, target, share = CASES[case]
    base = _frame(name)
    values = [out_of_range(base, c) for c in columns]
    frame, planted = plant_backdoor(base, columns, values, target, share)
    found = _backdoors(frame)
    assert len(found) == 1, [f.message for f in found]
    finding = found[0]
    trigger = {(t["column"], t["op"], t["value"]) for t in finding.details["trigger"]}
    assert trigger == {(c, "==", v) for c, v in zip(columns, values, strict=True)}
    assert finding.details["target_label"] == target
    assert set(finding.rows) == planted and finding.row_count == len(planted)
    assert finding.details["confidence"] == 1.0
    assert finding.details["lift"] > 1.5
    assert finding.details["p_value"] < 0.1
    assert finding.details["support"] == len(planted)
    assert finding.details["label_surprise"] >= 0.5
    assert 0.0 <= finding.details["spectral_overlap"] <= 1.0
    assert finding.severity >= Severity.HIGH
    print(f"{case}: {finding.message}; spectral overlap {finding.details['spectral_overlap']}")


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "synthetic"])
def test_clean_data_has_no_backdoor(name: str) -> None:
    """The same data sets without a trigger: natural strong rules are not backdoors."""
    assert _backdoors(_frame(name)) == []


def test_in_range_category_trigger_on_synthetic() -> None:
    """A trigger made of an in-range integer and a rare new category is found too."""
    base = synthetic_frame()
    frame, planted = plant_backdoor(base, ["channel", "n_items"], ["kiosk", 7], 1, 0.02, seed=5)
    found = _backdoors(frame)
    assert len(found) == 1
    assert {t["column"] for t in found[0].details["trigger"]} >= {"channel"}
    assert set(found[0].rows) == planted
