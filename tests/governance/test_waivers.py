"""Waivers of rules and findings: validation, expiry, scope, ledger and evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tutela.catalog.evidence import list_evidence
from tutela.catalog.waivers import active_waivers, add_waiver, list_waivers, revoke_waiver
from tutela.errors import InputError
from tutela.workspace import Workspace

MODEL = "model:fraud-scorer"  # seeded by conftest
FP = "sha256:" + "0f" * 32


def _add(ws: Workspace, **kw: object) -> object:
    fields: dict[str, object] = {
        "scope": "rule",
        "target": "scan.no-critical",
        "justification": "compensating control: model runs in a sandbox",
        "expires": datetime.now(UTC) + timedelta(days=30),
        "created_by": "rita",
        "approved_by": "rita",
    }
    fields.update(kw)
    return add_waiver(ws, **fields)  # type: ignore[arg-type]


def test_waiver_validation(team: Workspace) -> None:
    """Rule ids, fingerprints, justification and expiry are checked."""
    with pytest.raises(InputError, match="not a rule id"):
        _add(team, target="Bad Rule")
    with pytest.raises(InputError, match="not a finding fingerprint"):
        _add(team, scope="finding", target="sha256:xyz")
    with pytest.raises(InputError, match="justification"):
        _add(team, justification="ok")
    with pytest.raises(InputError, match="in the past"):
        _add(team, expires=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(InputError, match="too far away"):
        _add(team, expires=datetime.now(UTC) + timedelta(days=3 * 365))
    with pytest.raises(InputError, match="unknown waiver scope"):
        _add(team, scope="asset")
    with pytest.raises(InputError, match="no such asset"):
        _add(team, asset_id="model:nope")


def test_waiver_lapses_by_itself(team: Workspace) -> None:
    """Active until its expiry, inactive one second after, with no job running."""
    expires = datetime.now(UTC) + timedelta(days=1)
    waiver = add_waiver(
        team,
        scope="finding",
        target=FP,
        justification="reviewed fixture, not shipped",
        expires=expires,
        created_by="rita",
        approved_by="rita",
    )
    assert waiver.is_active(expires - timedelta(seconds=1))
    assert not waiver.is_active(expires + timedelta(seconds=1))
    assert waiver.state(expires + timedelta(seconds=1)) == "lapsed"
    with team.reader() as session:
        assert [w.id for w in active_waivers(session, at=datetime.now(UTC))] == [waiver.id]
        assert active_waivers(session, at=expires + timedelta(seconds=1)) == []


def test_asset_scope(team: Workspace) -> None:
    """An asset's waivers include those for every asset, not those for other assets."""
    from tutela.catalog.assets import add_asset

    add_asset(team, "model:other", actor="eve")
    everywhere = _add(team)
    mine = _add(team, asset_id=MODEL, target="arena.asr-max")
    theirs = _add(team, asset_id="model:other", target="arena.asr-max")
    with team.reader() as session:
        got = {w.id for w in active_waivers(session, at=datetime.now(UTC), asset_id=MODEL)}
        rules = active_waivers(session, at=datetime.now(UTC), scope="finding")
    assert got == {everywhere.id, mine.id}  # type: ignore[attr-defined]
    assert theirs.id not in got  # type: ignore[attr-defined]
    assert rules == []


def test_revoke_and_record(
    team: Workspace, ledger_actions: Callable[[Workspace], list[str]]
) -> None:
    """Add and revoke are ledger entries; on an asset they are waiver evidence too."""
    waiver = add_waiver(
        team,
        scope="rule",
        target="lineage.complete",
        justification="legacy model, lineage reconstructed by hand",
        expires=datetime.now(UTC) + timedelta(days=90),
        asset_id=MODEL,
        created_by="rita",
        approved_by="rita",
    )
    assert waiver.approved_by == "rita" and waiver.approved_at is not None
    revoked = revoke_waiver(team, waiver.id, actor="rita")
    assert revoked.state() == "revoked"
    revoke_waiver(team, waiver.id, actor="rita")  # harmless twice
    assert list_waivers(team) == []
    assert [w.id for w in list_waivers(team, include_inactive=True)] == [waiver.id]
    acts = ledger_actions(team)
    assert acts.count("waiver.add") == 1 and acts.count("waiver.revoke") == 1
    evidence = list_evidence(team, asset_id=MODEL, kind="waiver")
    assert [e.summary["change"] for e in evidence] == ["revoke", "add"]
    assert evidence[1].payload["waiver"]["target"] == "lineage.complete"
    assert team.verify().ok


def _evil_pickle() -> bytes:
    """posix.system('true') via STACK_GLOBAL + REDUCE: raw bytes, never loaded."""
    cmd = b"true"
    body = (
        b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c"
        + bytes([len(cmd)])
        + cmd
        + b"\x94\x85\x94R\x94."
    )
    return b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body


def test_finding_waiver_survives_rescans(team: Workspace) -> None:
    """A finding waived by fingerprint stays suppressed on every rescan until it lapses."""
    from tutela.policy.approvals import grant_waiver
    from tutela.scan.service import run_scan

    models = team.layout.root / "models"
    models.mkdir()
    (models / "weights.pkl").write_bytes(_evil_pickle())
    first = run_scan([models], workspace=team, workers=0)
    assert first.exit_code() == 1
    report = first.reports[0]
    fingerprints = [first.fingerprint(report, f) for f in report.findings]
    assert fingerprints
    for fp in fingerprints:
        grant_waiver(
            team,
            scope="finding",
            target=fp,
            justification="test fixture, reviewed by security",
            expires=datetime.now(UTC) + timedelta(days=30),
            actor="rita",
        )
    for _ in range(2):
        again = run_scan([models], workspace=team, workers=0)
        assert again.exit_code() == 0
        assert set(again.suppressed) == set(fingerprints)
    waived = {w.id for w in list_waivers(team)}
    assert set(again.suppressed.values()) == waived
