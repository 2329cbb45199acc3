"""The four questions, answered from real evidence: lineage from the SDK, drift from the
monitor, services linked by `calls`, and what is missing when the answer is not yes."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.evidence import record_evidence
from tutela.catalog.links import add_link_in
from tutela.lineage.sdk import run
from tutela.policy.status import inventory_status, model_status
from tutela.store.models import LinkKind, Version
from tutela.workspace import Workspace

CliRunner = Callable[..., Any]


def _train(ws: Workspace, tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    rng = np.random.default_rng(7)
    pd.DataFrame({"x": rng.normal(size=400), "y": rng.integers(0, 2, 400)}).to_csv(raw, index=False)
    model = tmp_path / "scorer.pkl"
    with run("train", workspace=ws) as r:
        r.input(raw, role="training")
        model.write_bytes(pickle.dumps({"w": 1.0}))
        r.output(model, kind="model", name="scorer")


def _verdicts(ws: Workspace, model: str, **kw: object) -> dict[str, str]:
    return dict(model_status(ws, model, **kw).verdicts)  # type: ignore[arg-type]


def test_a_bare_model_answers_no_with_what_is_missing(workspace: Workspace) -> None:
    add_asset(workspace, "model:bare", owner="ml-team")
    add_version(workspace, "model:bare", "sha256:" + "ab" * 32)
    status = model_status(workspace, "model:bare")
    assert status.verdicts == {
        "lineage": "no",
        "evaluated": "no",
        "drift": "no",
        "third_party": "yes",  # it calls nothing on record
    }
    by_q = {a.question: a for a in status.answers}
    assert any("tutela arena" in m for m in by_q["evaluated"].missing)
    assert any("monitor drift" in m for m in by_q["drift"].missing)
    assert status.owner == "ml-team"


def test_lineage_from_the_sdk_and_drift_from_the_monitor_make_yes(
    workspace: Workspace, tmp_path: Path
) -> None:
    from tutela.monitor.drift import DriftConfig, compare
    from tutela.monitor.sources import load_pair
    from tutela.monitor.storage import record_drift

    _train(workspace, tmp_path)
    assert _verdicts(workspace, "model:scorer")["lineage"] == "yes"

    rng = np.random.default_rng(1)
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    pd.DataFrame({"x": rng.normal(size=3000)}).to_csv(ref, index=False)
    pd.DataFrame({"x": rng.normal(size=3000)}).to_csv(cur, index=False)
    left, right = load_pair(str(ref), str(cur), workspace)
    report = compare(left, right, DriftConfig())
    record_drift(workspace, report, asset_id="model:scorer", reference="ref", current="cur")
    answers = {a.question: a for a in model_status(workspace, "model:scorer").answers}
    assert answers["drift"].verdict == "yes"
    assert answers["drift"].details["drift_last_result"] == "no drift"
    assert answers["drift"].evidence  # the drift evidence it rests on

    # Eight days on, the same check no longer shows drift would be caught today.
    later = datetime.now(UTC) + timedelta(days=8)
    assert _verdicts(workspace, "model:scorer", at=later)["drift"] == "partly"


def test_third_party_services_partly_governed(workspace: Workspace) -> None:
    for asset_id, n in (("model:bot", 1), ("service:llm-a", 2), ("service:llm-b", 3)):
        add_asset(workspace, asset_id)
        add_version(workspace, asset_id, "sha256:" + f"{n:064x}")
    with workspace.reader() as session:
        ids = {v.asset_id: v.id for v in session.query(Version).all()}
    with workspace.transaction() as tx:
        add_link_in(tx, LinkKind.CALLS, ids["model:bot"], ids["service:llm-a"])
        add_link_in(tx, LinkKind.CALLS, ids["model:bot"], ids["service:llm-b"])
    for kind, producer in (("canary", "monitor.canary"), ("evaluation", "arena")):
        record_evidence(
            workspace,
            asset_id="service:llm-a",
            kind=kind,
            producer=producer,
            producer_version="test",
            payload={"ok": True},
        )
    answer = {a.question: a for a in model_status(workspace, "model:bot").answers}["third_party"]
    assert answer.verdict == "partly"
    assert "service:llm-b: no canary" in answer.missing
    assert "service:llm-a: no approval" in answer.missing
    assert answer.details["services"]["service:llm-a"] == {
        "canary": True,
        "arena": True,
        "approval": False,
    }


def test_inventory_and_cli_json(workspace: Workspace, tmp_path: Path, cli: CliRunner) -> None:
    _train(workspace, tmp_path)
    add_asset(workspace, "model:other")
    assert [s.asset_id for s in inventory_status(workspace)] == ["model:other", "model:scorer"]
    result = cli("status", "model:scorer", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [a["question"] for a in doc["answers"]] == [
        "lineage",
        "evaluated",
        "drift",
        "third_party",
    ]
    assert doc["answers"][0]["verdict"] == "yes"
    result = cli("status", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert {d["asset"] for d in json.loads(result.stdout)} == {"model:scorer", "model:other"}
    result = cli("status", "model:nope", cwd=tmp_path)
    assert result.code == 2
    assert "model:nope" in result.stderr and "Traceback" not in result.stderr
    result = cli("status", cwd=tmp_path)
    assert result.code == 0 and "model:scorer" in result.stdout


@pytest.mark.usefixtures("pg_available")
def test_status_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    with Workspace.init(tmp_path, database_url=pg_url) as ws:
        _train(ws, tmp_path)
        assert _verdicts(ws, "model:scorer")["lineage"] == "yes"
