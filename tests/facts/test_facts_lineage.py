"""Lineage facts from lineage recorded by the real SDK: complete down to raw files, or not."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd

from tutela.facts.collect import collect_facts
from tutela.lineage.sdk import run
from tutela.workspace import Workspace


def _raw(path: Path, rows: int) -> Path:
    path.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(rows)))
    return path


def test_file_pipeline_is_complete(workspace: Workspace, tmp_path: Path) -> None:
    """raw files -> preprocess -> features -> train -> model: complete, two sources, two runs."""
    raw_a, raw_b = _raw(tmp_path / "raw_a.csv", 30), _raw(tmp_path / "raw_b.csv", 20)
    features = tmp_path / "features.csv"
    with run("preprocess", workspace=workspace) as r:
        r.input(raw_a)
        r.input(raw_b)
        pd.concat([pd.read_csv(raw_a), pd.read_csv(raw_b)]).to_csv(features, index=False)
        r.output(features, name="features")
    model = tmp_path / "model.pkl"
    with run("train", workspace=workspace) as r:
        r.input(features, role="training")
        model.write_bytes(pickle.dumps({"w": 1.0}))
        r.output(model, kind="model", name="scorer")

    sheet = collect_facts(workspace, "model:scorer", namespaces=["lineage"])
    facts = sheet.activation()["lineage"]
    assert facts["known"] is True
    assert facts["complete"] is True, facts["gaps"]
    assert facts["gaps"] == []
    assert facts["sources"] == ["dataset:raw_a", "dataset:raw_b"]
    assert facts["runs"] == 2
    assert facts["depth"] == 2
    assert "verified" not in facts  # no recorded verification: unknown, not false


def test_in_memory_origin_and_failed_run_are_gaps(workspace: Workspace, tmp_path: Path) -> None:
    """A model trained on a DataFrame built in memory has a gap naming the table, and a run
    that failed after recording its output is named too."""
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    model = tmp_path / "model.pkl"
    try:
        with run("train-mem", workspace=workspace) as r:
            r.input(frame, role="training")
            model.write_bytes(pickle.dumps({"w": 2.0}))
            r.output(model, kind="model", name="mem-model")
            raise RuntimeError("evaluation crashed")
    except RuntimeError:
        pass
    facts = collect_facts(workspace, "model:mem-model", namespaces=["lineage"]).activation()
    lineage = facts["lineage"]
    assert lineage["known"] is True
    assert lineage["complete"] is False
    assert any("in-memory table" in g for g in lineage["gaps"])
    assert any("train-mem" in g and "failed" in g for g in lineage["gaps"])
    assert lineage["sources"] == []


def test_no_lineage_is_unknown(workspace: Workspace) -> None:
    from tutela.catalog.assets import add_asset, add_version

    add_asset(workspace, "model:orphan")
    add_version(workspace, "model:orphan", "sha256:" + "ef" * 32)
    sheet = collect_facts(workspace, "model:orphan", namespaces=["lineage"])
    lineage = sheet.activation()["lineage"]
    assert lineage["known"] is False and lineage["complete"] is False
    assert lineage["gaps"] == ["no upstream lineage is recorded for the version"]
    assert lineage["depth"] == 0
