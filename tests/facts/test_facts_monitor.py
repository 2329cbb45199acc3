"""Drift and canary facts from the real monitor: drift checks over wine tables (one with a
shifted column), and canaries against the reference app over HTTP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

from tutela.arena.example_server import ExampleServer
from tutela.arena.service import target_digest
from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.links import add_link_in
from tutela.facts.collect import collect_facts
from tutela.monitor.alerts import parse_rules
from tutela.monitor.canary import run_canary
from tutela.monitor.canary_watch import WatchPlan, run_cycle
from tutela.monitor.drift_watch import DriftCheck
from tutela.store.models import LinkKind
from tutela.workspace import Workspace


def _tables(tmp: Path) -> None:
    frame = load_wine(as_frame=True).frame.drop(columns=["target"])
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:89]], frame.iloc[order[89:]].copy()
    ref.to_csv(tmp / "reference.csv", index=False)
    cur.to_csv(tmp / "same.csv", index=False)
    cur["alcohol"] = cur["alcohol"] + 1.5 * ref["alcohol"].std()
    cur.to_csv(tmp / "shifted.csv", index=False)


def _check(ws: Workspace, tmp: Path, current: str) -> str:
    """One `monitor watch` cycle: the drift check plus a rule whose alert is recorded."""
    check = DriftCheck("wine", "model:wine", str(tmp / "reference.csv"), str(tmp / current))
    rules = parse_rules(
        [{"name": "alcohol-moved", "metric": "drift.alcohol.effect", "op": ">", "threshold": 0.5}],
        "test",
    )
    (outcome,) = run_cycle(ws, WatchPlan([check], rules, [])).outcomes
    assert outcome.evidence_id is not None
    return outcome.evidence_id


def test_drift_green_then_drifted_then_green(tmp_path: Path) -> None:
    """Unchanged data: green. A 1.5-sigma shift in alcohol: not green, alcohol drifted,
    dataset drift, one open alert. Unchanged again: green and the alert is no longer open."""
    ws = Workspace.init(tmp_path)
    try:
        _tables(tmp_path)
        add_asset(ws, "model:wine")
        assert collect_facts(ws, "model:wine").activation()["drift"]["configured"] is False
        first = _check(ws, tmp_path, "same.csv")
        drift = collect_facts(ws, "model:wine", namespaces=["drift"]).activation()["drift"]
        assert drift["configured"] is True and drift["checks"] == 1
        assert drift["green"] is True and drift["drifted_columns"] == []
        assert drift["dataset_drift"] is False and drift["alerts_open"] == 0

        shifted = _check(ws, tmp_path, "shifted.csv")
        sheet = collect_facts(ws, "model:wine", namespaces=["drift"])
        drift = sheet.activation()["drift"]
        assert drift["green"] is False and drift["dataset_drift"] is True
        assert "alcohol" in drift["drifted_columns"]
        assert drift["checks"] == 2 and drift["alerts_open"] == 1
        assert sheet.facts["drift.green"].evidence == (shifted,)
        assert first not in sheet.facts["drift.green"].evidence

        _check(ws, tmp_path, "same.csv")
        drift = collect_facts(ws, "model:wine", namespaces=["drift"]).activation()["drift"]
        assert drift["green"] is True and drift["alerts_open"] == 0 and drift["checks"] == 3
    finally:
        ws.close()


def test_drift_on_the_deployment_reaches_the_model(tmp_path: Path) -> None:
    """Drift recorded on the deployment counts for the model version deployed as it."""
    ws = Workspace.init(tmp_path)
    try:
        _tables(tmp_path)
        for asset, n in (("model:wine", 1), ("deployment:wine-prod", 2)):
            add_asset(ws, asset)
            add_version(ws, asset, "sha256:" + f"{n:064x}")
        with ws.transaction() as tx:
            model, deployment = _version_ids(ws, "model:wine", "deployment:wine-prod")
            add_link_in(tx, LinkKind.DEPLOYED_AS, model, deployment)
        reference, shifted = str(tmp_path / "reference.csv"), str(tmp_path / "shifted.csv")
        check = DriftCheck("wine", "deployment:wine-prod", reference, shifted)
        evidence = check.run(ws).evidence_id
        sheet = collect_facts(ws, "model:wine", namespaces=["drift"])
        assert sheet.activation()["drift"]["green"] is False
        assert sheet.facts["drift.green"].evidence == (evidence,)
    finally:
        ws.close()


def _version_ids(ws: Workspace, *assets: str) -> list[str]:
    from sqlalchemy import select

    from tutela.store.models import Version

    with ws.reader() as session:
        found = {v.asset_id: v.id for v in session.execute(select(Version)).scalars()}
    return [found[a] for a in assets]


def _config(server: ExampleServer, model: str) -> dict[str, object]:
    return {"kind": "openai", "id": "vendor-chat", "base_url": server.base_url, "model": model}


def test_canary_on_a_called_service(tmp_path: Path) -> None:
    """A model calling a watched service: baseline first, unchanged; then the service
    declares another model and the model's canary facts say it changed."""
    ws = Workspace.init(tmp_path)
    try:
        add_asset(ws, "model:assistant")
        version = add_version(ws, "model:assistant", "sha256:" + "a" * 64)
        assert collect_facts(ws, "model:assistant").activation()["canary"]["services"] == []
        with ExampleServer(set()) as server:
            config = _config(server, "helpbot-2025")
            first = run_canary(config, workspace=ws, samples=3)
            with ws.transaction() as tx:
                (service,) = _version_ids(ws, "service:vendor-chat")
                add_link_in(tx, LinkKind.CALLS, version.id, service)
            sheet = collect_facts(ws, "model:assistant", namespaces=["canary"])
            canary = sheet.activation()["canary"]
            assert canary["services"] == ["service:vendor-chat"]
            assert canary["baseline"] is True and canary["changed"] is False
            assert canary["status"] == {"service:vendor-chat": "baseline"}
            assert sheet.facts["canary.baseline"].evidence == (first.evidence_id,)
            assert canary["age_days"] >= 0 and canary["checks"] == 1

            swapped = run_canary(_config(server, "helpbot-mini"), workspace=ws, samples=3)
        assert swapped.status == "changed"
        sheet = collect_facts(ws, "model:assistant", namespaces=["canary"])
        canary = sheet.activation()["canary"]
        assert canary["changed"] is True and canary["checks"] == 2
        assert canary["status"] == {"service:vendor-chat": "changed"}
        assert sheet.facts["canary.changed"].evidence == (swapped.evidence_id,)
        service_sheet = collect_facts(
            ws, "service:vendor-chat", version=target_digest(config), namespaces=["canary"]
        )
        assert service_sheet.activation()["canary"]["changed"] is True
    finally:
        ws.close()
