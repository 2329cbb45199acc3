"""Label errors by confident learning: planted label noise is found with precision >= 0.8."""

from __future__ import annotations

import pytest
from planting import flip_labels, precision_recall, sklearn_frame, synthetic_frame

from tutela.datacheck.features import prepare
from tutela.datacheck.labels import find_label_errors


@pytest.mark.parametrize(
    ("name", "model"),
    [("breast_cancer", "auto"), ("wine", "auto"), ("digits", "auto")],
)
def test_flipped_labels_found_with_high_precision(name: str, model: str) -> None:
    """5% of labels flipped to another class; the flagged rows are mostly those."""
    noisy, truth = flip_labels(sklearn_frame(name), 0.05)
    found, why = find_label_errors(prepare(noisy, label="target"), model=model)
    assert why is None and len(found) == 1
    finding = found[0]
    rows = set(finding.rows)
    assert finding.row_count == len(rows)  # not truncated
    precision, recall = precision_recall(rows, truth)
    print(f"{name}: precision {precision:.2f} recall {recall:.2f} ({len(rows)} flagged)")
    assert precision >= 0.8
    assert recall >= 0.5
    example = finding.details["examples"][0]
    assert example["given"] != example["suggested"]
    assert finding.details["model"] == "logistic"  # auto picks it on these data sets


@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_clean_labels_flag_few_rows(name: str) -> None:
    """Without planted noise at most 1.5% of rows are flagged (the hard, ambiguous ones)."""
    frame = sklearn_frame(name)
    found, _ = find_label_errors(prepare(frame, label="target"))
    flagged = found[0].row_count if found else 0
    print(f"{name}: {flagged} of {len(frame)} clean rows flagged")
    assert flagged <= 0.015 * len(frame)


def test_auto_picks_the_better_fitting_model() -> None:
    """On non-linear synthetic data "auto" chooses gradient boosting, and says so."""
    found, _ = find_label_errors(prepare(synthetic_frame(), label="target"))
    losses = found[0].details["out_of_fold_log_loss"]
    assert found[0].details["model"] == "hgb" and losses["hgb"] < losses["logistic"]
