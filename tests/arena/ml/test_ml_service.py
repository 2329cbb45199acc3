"""The classifier Arena end to end: run folder, scoring, evidence and ledger, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import joblib
import numpy as np
from arena_ml_helpers import malicious_pickle, train, write_csv

from tutela.arena.ml.data import Dataset
from tutela.arena.ml.service import run_ml_arena
from tutela.arena.runner import AttemptSink
from tutela.arena.scoring import compare, score
from tutela.catalog.evidence import list_evidence
from tutela.digest import file_digest
from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace


def test_run_records_evidence_on_the_model_version(
    workspace: Workspace, wine: Dataset, tmp_path: Path
) -> None:
    """A run over a joblib file writes the LLM Arena's files plus ml.json, and records one
    evaluation (producer arena.ml) on the model asset at the file's digest."""
    path = tmp_path / "rf.joblib"
    joblib.dump(train("rf", wine), path)
    csv = write_csv(wine, tmp_path / "wine.csv")
    result = run_ml_arena(
        path,
        csv,
        label="target",
        out_dir=tmp_path / "runs",
        attacks=["evasion", "calibration", "extraction"],
        budget=200,
        samples=6,
        epsilon=2.0,
        workspace=workspace,
        asset="model:wine-rf",
    )
    out = result.out_dir
    assert {p.name for p in out.iterdir()} >= {
        "attempts.jsonl",
        "score.json",
        "junit.xml",
        "report.html",
        "ml.json",
    }
    attempts = AttemptSink(out / "attempts.jsonl").load()
    assert len(attempts) == 6 + 6 + 2
    assert score(attempts).to_dict() == json.loads((out / "score.json").read_text())
    assert not compare(attempts, attempts).regressed
    cases = {c.get("name") for c in ET.parse(out / "junit.xml").getroot()}
    assert {
        "ml.evasion.boundary",
        "ml.evasion.random_search",
        "ml.calibration.confidence",
        "ml.extraction.surrogate",
    } <= cases
    assert "AML.T0015" in (out / "report.html").read_text()
    found = list_evidence(workspace, asset_id="model:wine-rf", kind="evaluation")
    assert [e.id for e in found] == [result.evidence_id]
    evidence = found[0]
    assert evidence.producer == "arena.ml"
    assert evidence.version_digest == file_digest(path).digest
    assert evidence.payload["evasion"]["ml.evasion.boundary"]["atlas"] == ["AML.T0015", "AML.T0043"]
    assert evidence.summary["attempts"] == len(attempts)
    scans = list_evidence(workspace, asset_id="model:wine-rf", kind="scan")
    assert scans and scans[0].version_digest == evidence.version_digest
    with workspace.reader() as session:
        entries = [e.data() for e in iter_entries(session)]
    assert any(
        e["action"] == "evidence.evaluation" and e["subject"] == "model:wine-rf" for e in entries
    )


def test_fairness_reads_sensitive_columns_the_model_does_not(wine: Dataset, tmp_path: Path) -> None:
    """A sensitive column left out of the features (--ignore) feeds the fairness
    measurement, which becomes one scored attempt with its metrics as detections."""
    from tutela.arena.ml.targets.pycallable import CallableTarget

    model = CallableTarget.from_estimator("model:wine", train("rf", wine))
    rng = np.random.default_rng(0)
    group = [str(g) for g in rng.integers(0, 2, len(wine.labels))]
    csv = write_csv(wine, tmp_path / "wine.csv", {"group": group})
    result = run_ml_arena(
        model,
        csv,
        label="target",
        out_dir=tmp_path,
        attacks=["fairness"],
        sensitive=["group"],
        ignore=["group"],
    )
    (attempt,) = result.attempts
    assert attempt.category == "fairness"
    assert attempt.outcome.value in ("succeeded", "resisted", "error")
    if attempt.outcome.value != "error":
        assert attempt.detections and all(
            d.detector.startswith(attempt.probe_id) for d in attempt.detections
        )


def test_cli_run_json_gate_and_refusal(cli, wine: Dataset, tmp_path: Path) -> None:
    """`tutela arena ml run --json` reports the run and --max-asr gates with exit 1; a
    malicious pickle is refused with exit 1 and one error line, its marker never made."""
    path = tmp_path / "rf.joblib"
    joblib.dump(train("rf", wine), path)
    csv = write_csv(wine, tmp_path / "wine.csv")
    common = [
        "--data",
        str(csv),
        "--label",
        "target",
        "--samples",
        "4",
        "--budget",
        "150",
        "--attacks",
        "evasion",
        "--out",
        str(tmp_path / "runs"),
    ]
    gated = cli(
        "arena",
        "ml",
        "run",
        str(path),
        *common,
        "--epsilon",
        "2",
        "--max-asr",
        "0",
        "--json",
        cwd=tmp_path,
    )
    # Boundary search with epsilon 2 evades at least one wine row: the gate at 0 fails.
    assert gated.code == 1, gated.stderr
    assert "exceeds --max-asr" in gated.stderr
    report = json.loads(gated.stdout)
    assert report["evasion"]["ml.evasion.boundary"]["samples"] == 4
    assert report["overall"]["trials"] == 8 and report["gate"] == {"max_asr": 0.0, "failed": True}
    assert report["version"] == file_digest(path).digest
    assert report["overall"]["succeeded"] >= 1
    marker = tmp_path / "marker"
    bad = malicious_pickle(tmp_path / "bad.pkl", marker)
    refused = cli("arena", "ml", "run", str(bad), *common, cwd=tmp_path)
    assert refused.code == 1
    assert "refused to load" in refused.stderr and "Traceback" not in refused.stderr
    assert not marker.exists()


def test_cli_trust_and_attacks(cli, tmp_path: Path) -> None:
    """`arena ml trust` records a decision in the workspace; `arena ml attacks --json`
    lists every attack and measurement with its ATLAS id."""
    assert cli("init", cwd=tmp_path).code == 0
    model = tmp_path / "m.pkl"
    model.write_bytes(b"\x80\x04K\x01.")  # a tiny pickle of the integer 1
    done = cli("arena", "ml", "trust", str(model), "--reason", "reviewed", "--json", cwd=tmp_path)
    assert done.code == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["kind"] == "decision" and decision["asset_id"] == "model:m.pkl"
    assert decision["payload"]["decision"] == "trust"
    listed = json.loads(cli("arena", "ml", "attacks", "--json", cwd=tmp_path).stdout)
    atlas = {row["id"]: row["atlas"] for row in listed}
    assert atlas["ml.evasion.boundary"] == ["AML.T0015", "AML.T0043"]
    assert atlas["ml.extraction.surrogate"] == ["AML.T0024.002"]


def test_arena_run_classifier_forwards_to_the_classifier_arena(
    cli, wine: Dataset, tmp_path: Path
) -> None:
    """`tutela arena run --classifier` is the classifier Arena: the same trust gate refuses a
    malicious pickle (marker never made); without --data and --label it is a usage error."""
    csv = write_csv(wine, tmp_path / "wine.csv")
    marker = tmp_path / "marker"
    bad = malicious_pickle(tmp_path / "bad.pkl", marker)
    refused = cli(
        "arena", "run", "--classifier", str(bad), "--data", str(csv), "--label", "target",
        "--out", str(tmp_path / "runs"), cwd=tmp_path,
    )  # fmt: skip
    assert refused.code == 1
    assert "refused to load" in refused.stderr and "Traceback" not in refused.stderr
    assert not marker.exists()
    missing = cli("arena", "run", "--classifier", str(bad), cwd=tmp_path)
    assert missing.code == 2 and "--data" in missing.stderr
    assert not marker.exists()
