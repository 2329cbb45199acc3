"""Assets, versions and evidence are stored and each change lands in the ledger."""

from __future__ import annotations

import pytest

from tutela.catalog.assets import add_asset, add_version, get_asset, list_assets
from tutela.catalog.evidence import list_evidence, record_evidence
from tutela.errors import InputError, UsageError
from tutela.ledger.log import iter_entries
from tutela.store.models import AssetKind, RiskTier
from tutela.workspace import Workspace

DIGEST = "sha256:" + "ab" * 32


def _actions(ws: Workspace) -> list[str]:
    with ws.reader() as session:
        return [e.data()["action"] for e in iter_entries(session)]


def test_asset_lifecycle(workspace: Workspace) -> None:
    """An asset is added, listed by kind and tag, shown with versions and evidence counts."""
    out = add_asset(
        workspace, "model:fraud-scorer", owner="risk-team", risk_tier="high", tags=["pii", "eu"]
    )
    assert out.kind is AssetKind.MODEL and out.risk_tier is RiskTier.HIGH
    assert out.tags == ["eu", "pii"]
    add_asset(workspace, "dataset:transactions")
    assert [a.id for a in list_assets(workspace, kind="model")] == ["model:fraud-scorer"]
    assert [a.id for a in list_assets(workspace, tag="pii")] == ["model:fraud-scorer"]
    v1 = add_version(workspace, "model:fraud-scorer", DIGEST, location="models/fraud.pkl")
    again = add_version(workspace, "model:fraud-scorer", DIGEST)
    assert again.id == v1.id  # a version is named by its digest: adding it twice is one version
    record_evidence(
        workspace,
        asset_id="model:fraud-scorer",
        kind="scan",
        producer="scan.pickle",
        producer_version="1",
        payload={"findings": []},
        summary={"max_severity": None},
        version_digest=DIGEST,
    )
    detail = get_asset(workspace, "model:fraud-scorer")
    assert [v.digest for v in detail.versions] == [DIGEST]
    assert detail.evidence_counts == {"scan": 1}
    evidence = list_evidence(workspace, asset_id="model:fraud-scorer")
    assert evidence[0].version_digest == DIGEST
    assert evidence[0].fingerprint.startswith("sha256:")
    assert _actions(workspace) == [
        "workspace.init",
        "asset.add",
        "asset.add",
        "version.add",
        "evidence.scan",
    ]
    assert workspace.verify().ok


def test_rejected_changes_leave_no_trace(workspace: Workspace) -> None:
    """A failed change writes neither data nor a ledger entry."""
    add_asset(workspace, "model:a")
    with pytest.raises(UsageError):
        add_asset(workspace, "model:a")
    with pytest.raises(InputError):
        record_evidence(
            workspace,
            asset_id="model:a",
            kind="scan",
            producer="scan.x",
            producer_version="1",
            payload={"bad": float("nan")},
        )
    with pytest.raises(InputError):
        add_version(workspace, "model:a", "md5:abc")
    assert _actions(workspace) == ["workspace.init", "asset.add"]
    assert workspace.verify().ok


def test_exception_inside_transaction_rolls_back(workspace: Workspace) -> None:
    """An exception inside a transaction discards its entries: the ledger stays valid."""
    with pytest.raises(RuntimeError), workspace.transaction() as tx:
        tx.record("test.x", "model:x", {})
        raise RuntimeError("interrupted")
    assert _actions(workspace) == ["workspace.init"]
    report = workspace.verify()
    assert report.ok and report.entries == 1
