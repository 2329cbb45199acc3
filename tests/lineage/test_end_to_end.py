"""End to end: raw files -> preprocessing run -> training run (scikit-learn) -> saved model."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
from lineage_support import ledger_actions, lineage_cli
from sklearn.linear_model import LogisticRegression

from tutela.catalog.runs import list_runs
from tutela.lineage.graph import downstream, upstream
from tutela.lineage.sdk import run
from tutela.lineage.verify import verify
from tutela.store.models import LinkKind, RunStatus
from tutela.workspace import Workspace


def _pipeline(ws: Workspace, root: Path) -> dict[str, Path]:
    data = root / "data"
    data.mkdir()
    raw_a, raw_b = data / "raw_a.csv", data / "raw_b.csv"
    raw_a.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(60)))
    raw_b.write_text("x1,x2,label\n" + "".join(f"{i},{i % 5},{(i + 1) % 2}\n" for i in range(40)))
    features = data / "features.parquet"
    with run("preprocess", params={"dropna": True}, workspace=ws) as r:
        r.input(raw_a)
        r.input(raw_b)
        frame = pd.concat([pd.read_csv(raw_a), pd.read_csv(raw_b)], ignore_index=True)
        frame.to_parquet(features)
        r.output(features, name="features")
    model_path = root / "fraud.pkl"
    with run("train-fraud", params={"C": 0.5}, workspace=ws) as r:
        r.input(features, role="training")
        frame = pd.read_parquet(features)
        model = LogisticRegression(C=0.5).fit(frame[["x1", "x2"]], frame["label"])
        with model_path.open("wb") as handle:
            pickle.dump(model, handle)
        r.output(model_path, kind="model", name="fraud-scorer")
        r.metric("accuracy", float(model.score(frame[["x1", "x2"]], frame["label"])))
    return {"raw_a": raw_a, "raw_b": raw_b, "features": features, "model": model_path}


def test_show_impact_verify_answer_for_the_pipeline(workspace: Workspace, tmp_path: Path) -> None:
    """show reaches both raw files through both runs, impact reaches the model, verify names
    the raw file after it is modified and the features file after it is deleted."""
    paths = _pipeline(workspace, tmp_path)

    graph = upstream(workspace, "model:fraud-scorer")
    assert graph.asset_ids() == {
        "model:fraud-scorer",
        "dataset:features",
        "dataset:raw_a",
        "dataset:raw_b",
    }
    by_asset = {n.asset_id: n for n in graph.nodes}
    assert by_asset["dataset:raw_a"].depth == 2
    assert by_asset["dataset:raw_a"].location == str(paths["raw_a"])
    kinds = {(graph.node(e.src).asset_id, e.kind, graph.node(e.dst).asset_id) for e in graph.edges}
    assert kinds == {
        ("model:fraud-scorer", LinkKind.TRAINED_ON, "dataset:features"),
        ("dataset:features", LinkKind.DERIVED_FROM, "dataset:raw_a"),
        ("dataset:features", LinkKind.DERIVED_FROM, "dataset:raw_b"),
    }
    runs = {r.name: r for r in graph.runs}
    assert set(runs) == {"preprocess", "train-fraud"}
    assert runs["train-fraud"].params == {"C": 0.5}
    assert runs["train-fraud"].status is RunStatus.SUCCEEDED
    assert 0.0 <= runs["train-fraud"].metrics["accuracy"] <= 1.0
    assert runs["train-fraud"].environment_digest is not None
    assert runs["preprocess"].actor

    impact = downstream(workspace, "dataset:raw_a")
    assert impact.asset_ids() == {"dataset:raw_a", "dataset:features", "model:fraud-scorer"}
    assert "dataset:raw_b" not in downstream(workspace, "dataset:raw_b").asset_ids() - {
        "dataset:raw_b"
    }

    report = verify(workspace, "model:fraud-scorer")
    assert report.ok, report.problems()
    assert {c.asset_id for c in report.checks if c.status == "ok"} == graph.asset_ids()

    paths["raw_a"].write_text(paths["raw_a"].read_text() + "999,1,1\n")
    report = verify(workspace, "model:fraud-scorer")
    assert [(c.asset_id, c.status, c.location) for c in report.problems()] == [
        ("dataset:raw_a", "changed", str(paths["raw_a"]))
    ]

    paths["features"].unlink()
    statuses = {(c.asset_id, c.status) for c in verify(workspace, "model:fraud-scorer").problems()}
    assert statuses == {("dataset:raw_a", "changed"), ("dataset:features", "missing")}


def test_every_run_and_link_is_in_the_ledger(workspace: Workspace, tmp_path: Path) -> None:
    """Runs start and end, inputs, outputs and links are ledger entries; the ledger verifies."""
    _pipeline(workspace, tmp_path)
    actions = [a for a, _, _ in ledger_actions(workspace)]
    assert actions.count("run.start") == 2
    assert actions.count("run.end") == 2
    assert actions.count("run.input") == 3
    assert actions.count("run.output") == 2
    assert actions.count("link.add") == 3
    assert workspace.verify().ok


def test_cli_show_impact_verify(workspace: Workspace, tmp_path: Path) -> None:
    """The CLI renders tree, JSON, Mermaid and DOT, and verify exits 1 naming the raw file."""
    paths = _pipeline(workspace, tmp_path)
    tree = lineage_cli("show", "model:fraud-scorer", workspace=tmp_path)
    assert tree.exit_code == 0, tree.output
    for expected in ("model:fraud-scorer", "trained_on", "dataset:raw_b", "train-fraud"):
        assert expected in tree.output

    as_json = json.loads(
        lineage_cli("show", "model:fraud-scorer", "--json", workspace=tmp_path).output
    )
    assert {n["asset_id"] for n in as_json["nodes"]} >= {"dataset:raw_a", "dataset:raw_b"}

    mermaid = lineage_cli("impact", "dataset:raw_a", "-f", "mermaid", workspace=tmp_path).output
    assert mermaid.startswith("flowchart LR") and "model:fraud-scorer" in mermaid
    dot = lineage_cli("show", "model:fraud-scorer", "-f", "dot", workspace=tmp_path).output
    assert dot.startswith("digraph lineage {") and "trained_on" in dot

    assert lineage_cli("verify", "model:fraud-scorer", workspace=tmp_path).exit_code == 0
    paths["raw_a"].write_bytes(b"tampered\n")
    result = lineage_cli("verify", "model:fraud-scorer", "--json", workspace=tmp_path)
    assert result.exit_code == 1
    problems = [c for c in json.loads(result.output)["checks"] if c["status"] != "ok"]
    assert [(c["asset_id"], c["status"]) for c in problems] == [("dataset:raw_a", "changed")]

    listed = lineage_cli("runs", "--json", workspace=tmp_path)
    assert {r["name"] for r in json.loads(listed.output)} == {"preprocess", "train-fraud"}


def test_failed_run_is_recorded_and_reraised(workspace: Workspace, tmp_path: Path) -> None:
    """An exception inside the block records a failed run with the error, then propagates."""
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    with pytest.raises(ZeroDivisionError), run("boom", workspace=workspace) as r:
        r.input(source)
        r.metric("loss", float("nan"))
        _ = 1 / 0
    (found,) = list_runs(workspace, name="boom")
    assert found.status is RunStatus.FAILED
    assert found.ended_at is not None
    assert found.context["error"]["type"] == "builtins.ZeroDivisionError"
    assert found.context["metrics"] == {"loss": "nan"}
    assert [e["asset_id"] for e in found.context["inputs"]] == ["dataset:in"]
