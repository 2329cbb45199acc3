"""MLflow import against a real MLflow store that the test creates with mlflow itself."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from lineage_support import lineage_cli
from sklearn.linear_model import LogisticRegression

from tutela.catalog.runs import list_runs
from tutela.lineage.graph import upstream
from tutela.lineage.mlflow_import import import_mlflow
from tutela.lineage.sdk import run
from tutela.store.models import LinkKind, RunStatus
from tutela.workspace import Workspace

mlflow = pytest.importorskip("mlflow", reason="mlflow (mlflow-skinny) is not installed")


def _store(root: Path) -> tuple[str, Path]:
    """An MLflow sqlite store with one training run: params, a metric, an input, a model."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    train = root / "train.csv"
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    frame.to_csv(train, index=False)
    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment("fraud", artifact_location=(root / "art").as_uri())
        with mlflow.start_run(run_name="train", experiment_id=experiment):
            mlflow.log_param("C", 1.0)
            mlflow.log_metric("auc", 0.91)
            mlflow.log_input(
                mlflow.data.from_pandas(frame, source=str(train), name="train"), context="training"
            )
            notes = root / "notes.txt"
            notes.write_text("threshold 0.5\n")
            mlflow.log_artifact(str(notes))
            model = LogisticRegression().fit(frame[["a"]], frame["y"])
            mlflow.sklearn.log_model(model, name="scorer", pip_requirements=["scikit-learn"])
    finally:
        mlflow.set_tracking_uri("")
    return uri, train


def test_import_turns_mlflow_runs_into_runs_and_links(workspace: Workspace, tmp_path: Path) -> None:
    """Params, metrics, the training input (joined by content with an SDK run that read the
    same file), the logged model and a plain artifact all arrive; a re-import skips."""
    store = tmp_path / "mlstore"
    store.mkdir()
    uri, train = _store(store)
    with run("prepare", workspace=workspace) as r:
        r.output(train, name="training-set")

    summary = import_mlflow(workspace, uri)
    assert (summary.imported, summary.skipped, summary.inputs, summary.outputs) == (1, 0, 1, 2)
    (imported,) = [r for r in list_runs(workspace) if r.name.startswith("mlflow:")]
    assert imported.name == "mlflow:fraud/train"
    assert imported.status is RunStatus.SUCCEEDED
    assert imported.params == {"C": "1.0"}
    assert imported.context["metrics"] == {"auc": 0.91}
    assert imported.actor

    graph = upstream(workspace, "model:train-scorer")
    assert "dataset:training-set" in graph.asset_ids()  # same bytes as the SDK's output
    assert any(e.kind is LinkKind.TRAINED_ON for e in graph.edges)
    assert {o["asset_id"] for o in imported.context["outputs"]} == {
        "model:train-scorer",
        "dataset:train/notes.txt",
    }

    again = lineage_cli("import-mlflow", uri, "--json", workspace=tmp_path)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["skipped"] == 1


def test_remote_tracking_uris_are_refused(workspace: Workspace) -> None:
    """Only local stores are read: an HTTP tracking server is a usage error, not a request."""
    result = lineage_cli("import-mlflow", "http://127.0.0.1:5000", workspace=workspace.layout.root)
    assert result.exit_code != 0
    assert "only local MLflow stores" in str(result.exception)
    assert os.environ.get("MLFLOW_ALLOW_FILE_STORE") is None
