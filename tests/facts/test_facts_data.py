"""Data facts from real `tutela data check` evidence on the datasets a model was trained on."""

from __future__ import annotations

import pickle
from pathlib import Path

from tutela.datacheck import facts as data_facts
from tutela.datacheck.service import PRODUCER, check_dataset
from tutela.facts.collect import collect_facts
from tutela.lineage.sdk import run
from tutela.workspace import Workspace


def test_training_datasets_checked_or_not(workspace: Workspace, tmp_path: Path) -> None:
    """Two training files; until both are checked the model's data is unchecked; duplicated
    rows in one show up as findings with their severity."""
    dup = tmp_path / "dup.csv"
    dup.write_text("a,b,target\n" + "1,2,0\n" * 20 + "".join(f"{i},{i * 3},1\n" for i in range(20)))
    clean = tmp_path / "clean.csv"
    clean.write_text("a,b,target\n" + "".join(f"{i},{i * 7 % 11},{i % 2}\n" for i in range(40)))
    model = tmp_path / "m.pkl"
    with run("train", workspace=workspace) as r:
        r.input(dup, role="training")
        r.input(clean, role="training")
        model.write_bytes(pickle.dumps({"w": 1}))
        r.output(model, kind="model", name="m")

    before = collect_facts(workspace, "model:m", namespaces=["data"]).activation()["data"]
    assert before["checked"] is False
    assert before["datasets"] == ["dataset:clean", "dataset:dup"]
    assert before["unchecked"] == ["dataset:clean", "dataset:dup"]
    assert "max_severity" not in before

    report = check_dataset(dup, workspace=workspace, asset="dataset:dup", checks=["duplicate"])
    assert report.findings
    mid = collect_facts(workspace, "model:m", namespaces=["data"]).activation()["data"]
    assert mid["checked"] is False and mid["unchecked"] == ["dataset:clean"]
    assert mid["findings"] == len(report.findings)

    check_dataset(clean, workspace=workspace, asset="dataset:clean", checks=["duplicate"])
    sheet = collect_facts(workspace, "model:m", namespaces=["data"])
    after = sheet.activation()["data"]
    assert after["checked"] is True and after["unchecked"] == []
    top = report.max_severity()
    assert top is not None
    assert after["max_severity"] == top.label()
    assert after["max_severity_rank"] == int(top) + 1
    assert report.evidence_id in sheet.evidence_for(["data.findings"])


def test_producer_id_matches_the_service() -> None:
    assert data_facts.PRODUCER == PRODUCER
