"""Scan facts from real `tutela scan` evidence: severities, waivers as of a moment, staleness,
and artifacts the version depends on.

The malicious sample is raw pickle bytes whose payload would only create a marker file;
the scanner never loads it, and every test checks the marker never appears.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tutela.catalog.links import add_link_in
from tutela.facts.collect import collect_facts
from tutela.scan.service import run_scan
from tutela.scan.suppressions import add_suppression, revoke_suppression
from tutela.store.models import LinkKind
from tutela.workspace import Workspace


def evil_pickle(marker: Path) -> bytes:
    """posix.system('touch MARKER') via STACK_GLOBAL + REDUCE, protocol 4."""
    cmd = f"touch {marker}".encode()
    body = (
        b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
        + b"\x8c"
        + bytes([len(cmd)])
        + cmd
        + b"\x94\x85\x94R\x94."
    )
    return b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "MARKER"
    yield path
    assert not path.exists(), "the scanner executed a payload"


def _scan(ws: Workspace, path: Path, asset: str) -> None:
    run_scan([path], workspace=ws, asset=asset, workers=0)


def test_dangerous_pickle_is_critical_until_waived(
    workspace: Workspace, tmp_path: Path, marker: Path
) -> None:
    """A denied call is a critical open finding; a waiver removes it while active; after its
    expiry (evaluated as of a later moment) it counts again; revoking ends it too."""
    model = tmp_path / "model.pkl"
    model.write_bytes(evil_pickle(marker))
    _scan(workspace, model, "model:fraud")

    sheet = collect_facts(workspace, "model:fraud", namespaces=["scan"])
    assert sheet.errors == {}
    assert sheet.get("scan.scanned") is not None and sheet.get("scan.scanned").value is True  # type: ignore[union-attr]
    values = sheet.activation()["scan"]
    assert values["max_severity"] == "critical"
    assert values["max_severity_rank"] == 5
    assert values["open_findings"] >= 1
    assert values["findings_at_or_above"]["high"] == values["open_findings"]
    assert values["findings_at_or_above"]["critical"] >= 1
    assert values["waived_findings"] == 0
    assert values["artifacts"] == ["model:fraud"]
    assert 0 <= values["age_days"] < 1
    evidence = sheet.evidence_for(["scan.max_severity"])
    assert len(evidence) == 1

    payload_findings = _findings(workspace, evidence[0])
    expires = datetime.now(UTC) + timedelta(days=10)
    waivers = [
        add_suppression(
            workspace,
            f["fingerprint"],
            justification="test fixture reviewed by security",
            expires_at=expires,
        )
        for f in payload_findings
    ]
    now = collect_facts(workspace, "model:fraud", namespaces=["scan"]).activation()["scan"]
    assert now["max_severity"] == "none"
    assert now["open_findings"] == 0
    assert now["findings_at_or_above"]["high"] == 0
    assert now["waived_findings"] == len(payload_findings)

    later = collect_facts(
        workspace, "model:fraud", namespaces=["scan"], at=expires + timedelta(days=1)
    ).activation()["scan"]
    assert later["max_severity"] == "critical"
    assert later["waived_findings"] == 0
    assert later["age_days"] > 10

    revoke_suppression(workspace, waivers[0].id)
    after_revoke = collect_facts(workspace, "model:fraud", namespaces=["scan"]).activation()
    assert after_revoke["scan"]["open_findings"] >= 1


def _findings(ws: Workspace, evidence_id: str) -> list[dict[str, str]]:
    from tutela.store.models import Evidence

    with ws.reader() as session:
        row = session.get(Evidence, evidence_id)
        assert row is not None
        return list(row.payload["findings"])


def test_clean_model_and_new_unscanned_version_is_stale(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A clean scan says none; a newer version with no scan is not scanned, and its facts
    come from the older version's evidence marked stale with a note naming it."""
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    _scan(workspace, model, "model:clean")
    first = collect_facts(workspace, "model:clean")
    assert first.activation()["scan"]["max_severity"] == "none"
    assert first.activation()["scan"]["scanned"] is True
    old_digest = first.version.digest  # type: ignore[union-attr]

    from tutela.catalog.assets import add_version

    add_version(workspace, "model:clean", "sha256:" + "ab" * 32)
    sheet = collect_facts(workspace, "model:clean", namespaces=["scan"])
    scanned = sheet.get("scan.scanned")
    assert scanned is not None and scanned.value is False and scanned.stale
    assert scanned.note == f"last scanned version {old_digest} is older"
    assert sheet.get("scan.max_severity").stale  # type: ignore[union-attr]
    assert sheet.to_json()["facts"]["scan.scanned"]["stale"] is True


def test_never_scanned_leaves_severity_unknown(workspace: Workspace) -> None:
    from tutela.catalog.assets import add_asset, add_version

    add_asset(workspace, "model:raw")
    add_version(workspace, "model:raw", "sha256:" + "cd" * 32)
    sheet = collect_facts(workspace, "model:raw", namespaces=["scan"])
    assert sheet.activation() == {"scan": {"scanned": False}}


def test_dependency_findings_count_for_the_version(
    workspace: Workspace, tmp_path: Path, marker: Path
) -> None:
    """A clean fine-tune derived from a dangerous base model inherits its critical finding;
    a data check (kind scan, producer datacheck) is never read as a model scan."""
    base = tmp_path / "base.pkl"
    base.write_bytes(evil_pickle(marker))
    tuned = tmp_path / "tuned.pkl"
    tuned.write_bytes(pickle.dumps({"w": [3.0]}, protocol=4))
    _scan(workspace, base, "model:base")
    _scan(workspace, tuned, "model:tuned")
    own = collect_facts(workspace, "model:tuned", namespaces=["scan"]).activation()["scan"]
    assert own["max_severity"] == "none"
    base_v = collect_facts(workspace, "model:base").version
    tuned_v = collect_facts(workspace, "model:tuned").version
    assert base_v is not None and tuned_v is not None
    with workspace.transaction() as tx:
        add_link_in(tx, LinkKind.DERIVED_FROM, tuned_v.id, base_v.id)
    sheet = collect_facts(workspace, "model:tuned", namespaces=["scan"])
    values = sheet.activation()["scan"]
    assert values["max_severity"] == "critical"
    assert values["artifacts"] == ["model:base", "model:tuned"]
    assert len(sheet.evidence_for(["scan.max_severity"])) == 2


def test_asset_scoped_waiver_and_as_of_before_it(
    workspace: Workspace, tmp_path: Path, marker: Path
) -> None:
    """A waiver for another asset does not cover this one; one for this asset does, but not
    when the gate is evaluated as of a moment before the waiver was recorded."""
    from tutela.catalog.assets import add_asset
    from tutela.catalog.waivers import add_waiver

    model = tmp_path / "model.pkl"
    model.write_bytes(evil_pickle(marker))
    _scan(workspace, model, "model:fraud")
    add_asset(workspace, "model:other")
    sheet = collect_facts(workspace, "model:fraud", namespaces=["scan"])
    fingerprints = [
        f["fingerprint"] for f in _findings(workspace, sheet.evidence_for(["scan.scanned"])[0])
    ]
    before_waivers = datetime.now(UTC)
    expires = datetime.now(UTC) + timedelta(days=5)
    for fp in fingerprints:
        add_waiver(
            workspace,
            scope="finding",
            target=fp,
            justification="accepted for another model only",
            expires=expires,
            asset_id="model:other",
            created_by="risk-officer",
        )
    assert collect_facts(workspace, "model:fraud").activation()["scan"]["waived_findings"] == 0
    for fp in fingerprints:
        add_waiver(
            workspace,
            scope="finding",
            target=fp,
            justification="accepted for this model by risk",
            expires=expires,
            asset_id="model:fraud",
            created_by="risk-officer",
        )
    now = collect_facts(workspace, "model:fraud").activation()["scan"]
    assert now["open_findings"] == 0 and now["waived_findings"] == len(fingerprints)
    then = collect_facts(workspace, "model:fraud", at=before_waivers).activation()["scan"]
    assert then["max_severity"] == "critical" and then["waived_findings"] == 0


def test_truncated_pickle_is_inconclusive(workspace: Workspace, tmp_path: Path) -> None:
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(pickle.dumps(list(range(100)), protocol=2)[:-7])
    _scan(workspace, cut, "model:cut")
    values = collect_facts(workspace, "model:cut", namespaces=["scan"]).activation()["scan"]
    assert values["scanned"] is True
    assert values["inconclusive"] is True
