"""`tutela data check` end to end: --json, evidence on the dataset version in the store and
ledger (SQLite and PostgreSQL), exit codes, and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from planting import out_of_range, plant_backdoor, sklearn_frame

from tutela.catalog.evidence import list_evidence
from tutela.datacheck import Severity, check_dataset
from tutela.digest import file_digest
from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace


def _poisoned_wine(path: Path) -> set[int]:
    """Wine with a backdoor, three copied rows, and an e-mail column; returns trigger rows."""
    base = sklearn_frame("wine")
    values = [out_of_range(base, "ash"), out_of_range(base, "hue")]
    frame, planted = plant_backdoor(base, ["ash", "hue"], values, 2, 0.03)
    frame["contact"] = [f"grower{i}@vineyard.example" for i in range(len(frame))]
    frame = pd.concat([frame, frame.iloc[[0, 1, 2]]], ignore_index=True)
    frame.to_csv(path, index=False)
    return planted


def test_service_records_evidence_on_the_dataset_version(workspace: Workspace,
                                                        tmp_path: Path) -> None:  # fmt: skip
    """One scan evidence record on dataset:<file>@<file digest>, written with the ledger."""
    path = tmp_path / "wine.csv"
    planted = _poisoned_wine(path)
    report = check_dataset(path, labels="target", workspace=workspace,
                           checks=["duplicate", "pii", "backdoor"])  # fmt: skip
    assert report.evidence_id is not None
    (evidence,) = list_evidence(workspace, asset_id="dataset:wine.csv")
    assert evidence.id == report.evidence_id
    assert evidence.kind.value == "scan" and evidence.producer == "datacheck"
    assert evidence.version_digest == file_digest(path).digest == report.digest
    assert evidence.summary["max_severity"] == "critical"
    assert evidence.summary["findings.backdoor"] == 1
    kinds = {f["kind"] for f in evidence.payload["findings"]}
    assert kinds == {"duplicate", "pii", "backdoor"}
    backdoor = next(f for f in evidence.payload["findings"] if f["kind"] == "backdoor")
    assert set(backdoor["rows"]) == planted
    with workspace.reader() as session:
        actions = [e.data()["action"] for e in iter_entries(session)]
    assert actions.count("evidence.scan") == 1 and "version.add" in actions
    assert workspace.verify().ok
    assert report.failed(Severity.HIGH)


def test_cli_json_records_and_fails_on_high(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--json lists every finding with kind, rows and columns; exit 1 on high findings."""
    path = tmp_path / "wine.csv"
    planted = _poisoned_wine(path)
    test = tmp_path / "held_out.parquet"
    sklearn_frame("wine").iloc[[10, 11]].to_parquet(test)
    Workspace.init(tmp_path).close()  # found from the cwd; both databases: the test above
    result = cli("data", "check", str(path), "--labels", "target", "--test", str(test),
                 "--id", "contact", "--model", "logistic", "--json", cwd=tmp_path)  # fmt: skip
    assert result.code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dataset"] == str(path) and doc["digest"] == file_digest(path).digest
    assert doc["rows"] == 181 and "contact" in doc["columns"]
    by_kind = doc["summary"]["by_kind"]
    assert by_kind["backdoor"] == 1 and by_kind["pii"] == 1 and by_kind["duplicate"] >= 1
    assert by_kind["leakage"] >= 1
    backdoor = next(f for f in doc["findings"] if f["kind"] == "backdoor")
    assert {t["column"] for t in backdoor["trigger"]} == {"ash", "hue"}
    assert backdoor["target_label"] == 2 and set(backdoor["rows"]) == planted
    for finding in doc["findings"]:
        assert {"kind", "severity", "rows", "row_count", "columns", "message"} <= set(finding)
    assert "vineyard.example" not in result.stdout  # PII is reported, never echoed
    assert doc["evidence"] is not None
    with Workspace.open(tmp_path) as ws:
        recorded = list_evidence(ws, asset_id="dataset:wine.csv")
        assert [e.id for e in recorded] == [doc["evidence"]]
        assert recorded[0].version_digest == doc["digest"]


def test_cli_without_workspace_prints_and_says_so(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No workspace: results are printed, a note says nothing was recorded; clean is 0."""
    path = tmp_path / "iris.parquet"
    sklearn_frame("iris").to_parquet(path)
    result = cli("data", "check", str(path), "--labels", "target", "--check", "pii",
                 "--check", "imbalance", cwd=tmp_path)  # fmt: skip
    assert result.code == 0, result.stderr
    assert "not recorded" in result.stderr
    assert "0 findings" in result.stdout


def test_cli_malformed_file_is_one_line_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    result = cli("data", "check", str(path), "--no-record", cwd=tmp_path)
    assert result.code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "broken.parquet" in lines[0] and "Traceback" not in result.stderr
    missing = cli("data", "check", str(tmp_path / "nope.csv"), "--no-record", cwd=tmp_path)
    assert missing.code == 2 and len(missing.stderr.strip().splitlines()) == 1
