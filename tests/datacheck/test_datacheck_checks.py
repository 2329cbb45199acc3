"""Duplicates, leakage, outliers, imbalance and PII: found when planted, silent when clean."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from planting import sklearn_frame

from tutela.datacheck.duplicates import find_duplicates, find_leakage
from tutela.datacheck.features import prepare
from tutela.datacheck.imbalance import find_imbalance
from tutela.datacheck.outliers import find_outliers
from tutela.datacheck.pii import find_pii, iban_valid, luhn_valid


def _checks(findings: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {f.check: f for f in findings}


def test_exact_and_near_duplicates_found() -> None:
    """Copied rows and copies nudged by 0.1% of a standard deviation are both reported."""
    wine = sklearn_frame("wine")
    features = [c for c in wine.columns if c != "target"]
    exact = wine.iloc[[3, 50, 120]]
    near = wine.iloc[[10, 90]].copy()
    near[features] = near[features] + 0.001 * wine[features].std()
    frame = pd.concat([wine, exact, near], ignore_index=True)
    found = _checks(find_duplicates(prepare(frame, label="target")))
    dup = found["duplicate.exact"]
    assert dup.details["group_count"] == 3
    assert {3, 50, 120, 178, 179, 180} == set(dup.rows)
    pairs = found["duplicate.near"].details["pairs"]
    assert sorted(pairs) == [[10, 181], [90, 182]]


def test_rows_alike_only_through_filled_missing_values_are_not_near_duplicates() -> None:
    """Missing numbers are filled with the median; rows that match only because both
    lack most of their values are not near duplicates, while a real near copy still is."""
    wine = sklearn_frame("wine")
    features = [c for c in wine.columns if c != "target"]
    gappy = wine.iloc[[20, 21]].copy()
    gappy[features[1:]] = np.nan  # only the first feature is left, and it differs slightly
    gappy[features[0]] = wine[features[0]].median() + np.array([0.0, 0.001])
    near = wine.iloc[[10]].copy()
    near[features] = near[features] + 0.001 * wine[features].std()
    frame = pd.concat([wine, gappy, near], ignore_index=True)
    found = _checks(find_duplicates(prepare(frame, label="target")))
    assert sorted(found["duplicate.near"].details["pairs"]) == [[10, 180]]


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_clean_data_has_no_duplicates(name: str) -> None:
    assert find_duplicates(prepare(sklearn_frame(name), label="target")) == []


def test_label_conflicts_are_leakage() -> None:
    """Identical features with a different label: a leakage.label_conflict finding."""
    wine = sklearn_frame("wine")
    twin = wine.iloc[[7]].copy()
    twin["target"] = (twin["target"] + 1) % 3
    found = _checks(find_duplicates(prepare(pd.concat([wine, twin], ignore_index=True),
                                            label="target")))  # fmt: skip
    assert set(found["leakage.label_conflict"].rows) == {7, 178}
    assert "duplicate.exact" not in found


def test_train_test_leakage_exact_and_near() -> None:
    """Test rows copied from training data (some with float noise) are reported."""
    frame = sklearn_frame("breast_cancer")
    train, held = frame.iloc[:450].reset_index(drop=True), frame.iloc[450:].reset_index(drop=True)
    features = [c for c in frame.columns if c != "target"]
    leaked_exact = train.iloc[[5, 6, 7]]
    leaked_near = train.iloc[[100, 200]].copy()
    leaked_near[features] = leaked_near[features] * (1 + 1e-4)
    test = pd.concat([held, leaked_exact, leaked_near], ignore_index=True)
    data = prepare(train, label="target")
    found = _checks(find_leakage(data, test))
    assert set(found["leakage.test_exact"].rows) == {5, 6, 7}
    assert found["leakage.test_exact"].details["test_row_count"] == 3
    assert set(found["leakage.test_near"].rows) == {100, 200}
    assert find_leakage(data, held) == []


def test_outliers_found_when_planted_and_not_on_clean_data() -> None:
    """Gross errors (a value 50x its column's spread) are flagged; clean wine is not."""
    wine = sklearn_frame("wine")
    assert find_outliers(prepare(wine, label="target")) == []
    assert find_outliers(prepare(sklearn_frame("diabetes"))) == []
    broken = wine.copy()
    broken.loc[[4, 77], "magnesium"] = broken["magnesium"].max() * 50
    broken.loc[140, ["alcohol", "hue", "proline"]] = [-40.0, 30.0, 90_000.0]
    found = find_outliers(prepare(broken, label="target"))
    assert len(found) == 1
    assert {4, 77, 140} <= set(found[0].rows) and found[0].row_count <= 5
    assert "magnesium" in found[0].columns


def test_imbalance_found_and_balanced_data_is_silent() -> None:
    cancer = sklearn_frame("breast_cancer")
    rng = np.random.default_rng(0)
    malignant = np.flatnonzero(cancer["target"].to_numpy() == 0)
    keep = np.r_[np.flatnonzero(cancer["target"].to_numpy() == 1), rng.choice(malignant, 20)]
    skewed = cancer.iloc[np.sort(keep)].reset_index(drop=True)
    (finding,) = find_imbalance(prepare(skewed, label="target"))
    assert finding.details["minority_classes"] == [0]
    assert finding.details["imbalance_ratio"] == pytest.approx(357 / 20)
    assert finding.details["class_counts"] == {"0": 20, "1": 357}
    assert find_imbalance(prepare(sklearn_frame("iris"), label="target")) == []


def _people(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "email": [f"person{i}@mail.example.org" for i in range(rows)],
        "phone": [f"+44 20 7946 {i:04d}" for i in range(rows)],
        "card": [["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009"][i % 3]
                 for i in range(rows)],
        "iban": [["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"][i % 2]
                 for i in range(rows)],
        "ssn": [f"{123 + i % 500:03d}-45-{6789 + i:04d}" for i in range(rows)],
        "ip": [f"10.{i % 250}.{(7 * i) % 250}.{i % 200 + 1}" for i in range(rows)],
        "score": rng.random(rows),
    })  # fmt: skip


def test_pii_columns_found_without_values() -> None:
    frame = _people()
    found = find_pii(frame, list(frame.columns))
    kinds = {(f.columns[0], f.details["pii_type"]) for f in found}
    assert kinds == {("email", "email"), ("phone", "phone"), ("card", "credit_card"),
                     ("iban", "iban"), ("ssn", "us_ssn"), ("ip", "ip_address")}  # fmt: skip
    text = json.dumps([f.to_dict() for f in found])
    assert "person0@" not in text and "4111" not in text and "DE89" not in text


def test_lookalike_values_are_not_pii() -> None:
    """Version strings, order numbers, non-Luhn 16-digit ids, bad IBANs and SSN-like codes
    that the SSA never issues are not reported."""
    rows = 200
    rng = np.random.default_rng(1)
    ids = []
    while len(ids) < rows:
        candidate = f"4{rng.integers(10**14, 10**15):015d}"
        if not luhn_valid(candidate):
            ids.append(candidate)
    frame = pd.DataFrame({
        "version": [f"1.{i % 9}.{i % 7}" for i in range(rows)],
        "order": [f"ORD-{i:06d}" for i in range(rows)],
        "account": ids,
        "iban_like": ["DE89 3704 0044 0532 0130 01"] * rows,
        "code": [f"9{i % 90 + 10:02d}-00-{i:04d}" for i in range(rows)],
        "note": ["call me at the office"] * rows,
        "count": rng.integers(0, 10**6, rows),
    })  # fmt: skip
    assert find_pii(frame, list(frame.columns)) == []


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82WEST12345698765433")


def test_time_limit_skips_checks_and_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A check that would start after the time limit is listed as skipped, not run."""
    from tutela.datacheck import Limits, check_dataset

    path = tmp_path / "wine.csv"
    sklearn_frame("wine").to_csv(path, index=False)
    report = check_dataset(path, labels="target", limits=Limits(max_seconds=1e-9))
    assert report.findings == []
    assert set(report.skipped) == {"label_error", "duplicate", "leakage", "outlier",
                                   "imbalance", "pii", "backdoor"}  # fmt: skip
    assert all("time limit" in why for why in report.skipped.values())


def test_conditions_evaluate_like_their_mined_masks() -> None:
    """A trigger's conditions select the same rows when re-evaluated on the full frame."""
    from tutela.datacheck.rules import build_items

    frame = sklearn_frame("wine")
    frame.loc[[5, 6, 7], "ash"] = 9.5
    frame["region"] = ["north", "south", None, "east"] * 44 + ["west", "west"]
    columns = [c for c in frame.columns if c != "target"]
    items = build_items(frame, columns, min_count=3, max_count=9)
    assert any(c.column == "ash" and c.value == 9.5 for c in items.conditions)
    for i, cond in enumerate(items.conditions):
        if cond.kind != "bin":  # bins: the top edge is inclusive only for the last bin
            assert (cond.mask(frame) == items.masks[:, i]).all(), cond.text()
