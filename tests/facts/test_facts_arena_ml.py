"""Classifier Arena facts from a real run over a scikit-learn model file (wine data),
admitted by the trust gate's scan, and turned off by a later revocation."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

from tutela.arena.ml.service import run_ml_arena
from tutela.arena.ml.trust import record_trust
from tutela.catalog.assets import add_version
from tutela.digest import file_digest
from tutela.facts.collect import collect_facts
from tutela.workspace import Workspace


def _files(tmp: Path) -> tuple[Path, Path]:
    bunch = load_wine()
    model = RandomForestClassifier(n_estimators=20, random_state=0, n_jobs=1)
    model.fit(bunch.data, bunch.target)
    path = tmp / "rf.joblib"
    joblib.dump(model, path)
    names = [f"f{i}" for i in range(bunch.data.shape[1])]
    rows = [",".join([*names, "target"])]
    for x, y in zip(bunch.data, bunch.target, strict=True):
        rows.append(",".join([*(repr(float(v)) for v in np.asarray(x)), str(y)]))
    csv = tmp / "wine.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, csv


def test_run_gives_evasion_measures_and_trust(tmp_path: Path) -> None:
    """After one run: evaluated, evasion rates per attack with their upper bounds, the
    calibration figures under stable keys, trusted by scan; a new version of the model is
    stale; revoking trust in the bytes turns ``trusted`` off."""
    ws = Workspace.init(tmp_path)
    try:
        path, csv = _files(tmp_path)
        result = run_ml_arena(
            path,
            csv,
            label="target",
            out_dir=tmp_path / "runs",
            attacks=["evasion", "calibration"],
            budget=100,
            samples=4,
            epsilon=2.0,
            workspace=ws,
            asset="model:wine-rf",
        )
        digest = file_digest(path).digest
        sheet = collect_facts(ws, "model:wine-rf", version=digest, namespaces=["arena_ml"])
        ml = sheet.activation()["arena_ml"]
        assert ml["evaluated"] is True and ml["runs"] == 1
        assert {"ml.evasion.boundary", "ml.calibration.confidence"} <= set(ml["attacks"])
        assert set(ml["evasion_rate"]) == {"boundary", "random_search"}
        summary = result.evasion["ml.evasion.boundary"]
        assert ml["evasion_rate"]["boundary"] == summary["success_rate"]
        assert ml["evasion_upper"]["boundary"] == summary["interval"]["high"]
        assert 0 <= ml["measures"]["calibration.ece"] <= 1
        assert "calibration.brier" in ml["measures"]
        assert isinstance(ml["exceeded"]["calibration"], bool)
        assert ml["trusted"] is True and ml["trust_basis"] == "scan"
        assert sheet.facts["arena_ml.measures"].evidence == (result.evidence_id,)

        add_version(ws, "model:wine-rf", "sha256:" + "e" * 64)
        newer = collect_facts(ws, "model:wine-rf", namespaces=["arena_ml"])
        assert newer.activation()["arena_ml"]["evaluated"] is False
        assert newer.facts["arena_ml.evaluated"].stale

        revoked = record_trust(
            ws, path, asset="model:wine-rf", reason="found a gadget", revoke=True
        )
        after = collect_facts(ws, "model:wine-rf", version=digest, namespaces=["arena_ml"])
        trusted = after.facts["arena_ml.trusted"]
        assert trusted.value is False and revoked.id in trusted.evidence
    finally:
        ws.close()
