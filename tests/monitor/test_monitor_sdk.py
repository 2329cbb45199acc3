"""`tutela.monitor.log` windows, and performance when labels arrive later."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

import tutela.monitor as monitor
from tutela.catalog.evidence import list_evidence
from tutela.monitor.storage import list_windows, load_window
from tutela.workspace import Workspace


def test_log_appends_to_the_window_and_closes_it_by_count(workspace: Workspace) -> None:
    iris = load_iris(as_frame=True)
    inputs = iris.data
    outputs = pd.DataFrame({"species": iris.target.astype(str)})
    results = [
        monitor.log(
            "iris",
            inputs.iloc[i : i + 50],
            outputs.iloc[i : i + 50],
            workspace=workspace,
            window_rows=100,
        )
        for i in range(0, 150, 50)
    ]
    assert [r.rows_in_window for r in results] == [50, 0, 50]
    assert results[1].closed is not None and results[0].closed is None
    windows = list_windows(workspace, "model:iris")
    assert len(windows) == 1 and windows[0].rows == 100
    profile, _ = load_window(workspace, windows[0].evidence_id)
    assert set(profile.columns) == {*inputs.columns, "output.species"}
    sepal = profile.columns["sepal length (cm)"]
    assert sepal.count == 100
    assert abs(sepal.moments.mean - inputs["sepal length (cm)"].iloc[:100].mean()) < 1e-12


def test_labels_joined_by_id_record_performance(workspace: Workspace) -> None:
    rng = np.random.default_rng(0)
    ids = [f"req-{i}" for i in range(200)]
    truth = rng.integers(0, 2, 200)
    predicted = np.where(rng.random(200) < 0.8, truth, 1 - truth)  # about 80% right
    monitor.log(
        "model:clf",
        pd.DataFrame({"x": rng.normal(size=200)}),
        pd.DataFrame({"y": predicted}),
        ids=ids,
        workspace=workspace,
    )
    # Labels arrive later, in another order, some for requests never seen.
    order = rng.permutation(200)[:150]
    late_ids = [ids[i] for i in order] + ["unknown-1"]
    late = [int(truth[i]) for i in order] + [1]
    result = monitor.log_labels("model:clf", late_ids, late, workspace=workspace)
    expected = float(np.mean(predicted[order] == truth[order]))
    assert result["n"] == 150 and result["unmatched_labels"] == 1
    assert result["accuracy"] == expected
    assert result["accuracy_low"] < expected < result["accuracy_high"]
    stored = list_evidence(workspace, asset_id="model:clf", producer="monitor.performance")
    assert len(stored) == 1 and stored[0].payload["accuracy"] == expected
    # Joined predictions are consumed: the same labels again match nothing new.
    again = monitor.log_labels("model:clf", late_ids, late, workspace=workspace)
    assert again["n"] == 0


def test_reference_from_lineage_is_the_models_training_table(workspace: Workspace) -> None:
    from tutela.lineage.sdk import run
    from tutela.monitor.drift import compare
    from tutela.monitor.ingest import profile_rows
    from tutela.monitor.sources import load_profile

    root = workspace.layout.root
    iris = load_iris(as_frame=True).frame
    train = root / "train.parquet"
    iris.to_parquet(train)
    model = root / "model.bin"
    model.write_bytes(b"weights")
    with run("train-iris", workspace=workspace) as r:
        r.input(train, role="training")
        r.output(model, kind="model", name="iris")
    reference = load_profile("lineage:iris", workspace)
    assert reference.rows == 150
    shifted = iris.assign(**{"petal width (cm)": iris["petal width (cm)"] + 1.0})
    report = compare(reference, profile_rows(shifted))
    assert report.drifted_columns == ["petal width (cm)"]
