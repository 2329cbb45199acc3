"""Drift as a `tutela monitor watch` check: windows counted, own alerts, rules over history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

from tutela.catalog.evidence import list_evidence
from tutela.workspace import Workspace


def _tables(tmp: Path) -> None:
    frame = load_wine(as_frame=True).frame.drop(columns=["target"])
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:89]], frame.iloc[order[89:]].copy()
    ref.to_csv(tmp / "reference.csv", index=False)
    cur.to_csv(tmp / "same.csv", index=False)
    cur["alcohol"] = cur["alcohol"] + 1.5 * ref["alcohol"].std()
    cur.to_csv(tmp / "shifted.csv", index=False)


def _watch(tmp: Path, current: str) -> None:
    (tmp / "watch.yaml").write_text(
        "drift:\n"
        f"  - {{asset: 'model:wine', reference: reference.csv, current: {current}}}\n"
        "rules:\n"
        "  - {name: alcohol-moved, metric: drift.alcohol.effect, op: '>', threshold: 0.5,"
        " persistence: 2}\n"
        "deliver:\n  - {kind: stdout}\n"
    )


def test_unchanged_data_is_quiet_then_a_shift_alerts_and_persists(tmp_path: Path, cli) -> None:
    """Same distribution: no alert, exit 0. A 1.5-sigma shift: the check's own drift alert
    at once, and the persistence-2 rule only from the second shifted window on. Each cycle
    is one more window (alpha spending), recorded as drift evidence with its metrics."""
    Workspace.init(tmp_path).close()
    _tables(tmp_path)
    _watch(tmp_path, "same.csv")
    quiet = cli("monitor", "watch", "--config", "watch.yaml", "--once", "--json", cwd=tmp_path)
    assert quiet.code == 0, quiet.stderr
    out = json.loads(quiet.stdout)
    assert out["alerts"] == [] and out["checks"][0]["status"] == "ok"
    assert out["checks"][0]["details"]["window_index"] == 1

    _watch(tmp_path, "shifted.csv")
    first = cli("monitor", "watch", "--config", "watch.yaml", "--once", "--json", cwd=tmp_path)
    assert first.code == 1, first.stderr
    out = json.loads(first.stdout)
    assert [a["rule"] for a in out["alerts"]] == ["drift.dataset"]
    assert "alcohol" in out["alerts"][0]["message"]
    assert out["checks"][0]["details"]["window_index"] == 2

    second = cli("monitor", "watch", "--config", "watch.yaml", "--once", "--json", cwd=tmp_path)
    out = json.loads(second.stdout)
    assert sorted(a["rule"] for a in out["alerts"]) == ["alcohol-moved", "drift.dataset"]
    assert out["checks"][0]["details"]["window_index"] == 3

    with Workspace.open(tmp_path) as ws:
        decisions = list_evidence(ws, asset_id="model:wine", kind="drift", producer="monitor.drift")
        assert len(decisions) == 3
        assert ws.verify().ok


def test_a_bad_drift_entry_is_one_line(tmp_path: Path, cli) -> None:
    Workspace.init(tmp_path).close()
    (tmp_path / "watch.yaml").write_text("drift:\n  - {asset: 'model:x'}\n")
    bad = cli("monitor", "watch", "--config", "watch.yaml", "--once", cwd=tmp_path)
    assert bad.code == 2
    assert "reference" in bad.stderr and "Traceback" not in bad.stderr
