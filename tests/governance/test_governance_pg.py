"""The governance flows on PostgreSQL: users, approvals, waivers, rescans, facts, ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tutela.catalog.evidence import list_evidence
from tutela.catalog.waivers import active_waivers, list_waivers
from tutela.errors import UsageError
from tutela.facts.collect import collect_facts
from tutela.policy.approvals import (
    SELF_REVIEW,
    request_approval,
    request_waiver,
    review,
)
from tutela.workspace import Workspace

pytestmark = pytest.mark.postgres

MODEL = "model:fraud-scorer"


@pytest.fixture
def pg_team(tmp_path: Path, pg_url: str, seed: Callable[[Workspace], None]) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path, database_url=pg_url)
    try:
        seed(ws)
        yield ws
    finally:
        ws.close()


def test_approval_flow_on_postgres(
    pg_team: Workspace, ledger_actions: Callable[[Workspace], list[str]]
) -> None:
    """Self-review refused, one person once, two people approve; facts and ledger agree."""
    request = request_approval(
        pg_team, MODEL, stage="prod", reason="red-team passed", requested_by="eve"
    )
    with pytest.raises(UsageError) as caught:
        review(pg_team, request.id, reviewer="eve", decision="approve")
    assert caught.value.diagnostics() == SELF_REVIEW
    review(pg_team, request.id, reviewer="sam", decision="approve", comment="ok")
    with pytest.raises(UsageError, match="one person counts once"):
        review(pg_team, request.id, reviewer="sam", decision="approve", role="risk-officer")
    with pytest.raises(UsageError, match="not a registered user"):
        review(pg_team, request.id, reviewer="mallory", decision="approve")
    done = review(pg_team, request.id, reviewer="rita", decision="approve", comment="ok")
    assert done.status == "approved"
    sheet = collect_facts(pg_team, MODEL, stage="prod", namespaces=["approvals"])
    assert sheet.facts["approvals.roles"].value == ["engineer", "risk-officer"]
    assert len(sheet.facts["approvals.roles"].evidence) == 3
    acts = ledger_actions(pg_team)
    assert acts.count("approval.request") == 1 and acts.count("approval.approve") == 2
    assert len(list_evidence(pg_team, asset_id=MODEL, kind="approval")) == 3
    assert pg_team.verify().ok


def test_reject_and_waiver_on_postgres(pg_team: Workspace) -> None:
    """A reject closes; a requested waiver counts only once approved, and lapses."""
    request = request_approval(pg_team, MODEL, stage="staging", reason="try it", requested_by="eve")
    closed = review(pg_team, request.id, reviewer="rita", decision="reject", comment="no eval")
    assert closed.status == "rejected"
    expires = datetime.now(UTC) + timedelta(days=10)
    waiver, asked = request_waiver(
        pg_team,
        scope="rule",
        target="arena.asr-max",
        justification="guardrail deployed, retest booked",
        expires=expires,
        asset_id=MODEL,
        requested_by="eve",
    )
    with pg_team.reader() as session:
        assert active_waivers(session, at=datetime.now(UTC), asset_id=MODEL) == []
    review(pg_team, asked.id, reviewer="rita", decision="approve")
    with pg_team.reader() as session:
        now = [w.id for w in active_waivers(session, at=datetime.now(UTC), asset_id=MODEL)]
        later = active_waivers(session, at=expires + timedelta(seconds=1), asset_id=MODEL)
    assert now == [waiver.id] and later == []


def test_finding_waiver_survives_rescan_on_postgres(pg_team: Workspace) -> None:
    """The real scan, twice: the waived finding stays suppressed by fingerprint."""
    from tutela.policy.approvals import grant_waiver
    from tutela.scan.service import run_scan

    cmd = b"true"
    body = (
        b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c"
        + bytes([len(cmd)])
        + cmd
        + b"\x94\x85\x94R\x94."
    )
    models = pg_team.layout.root / "models"
    models.mkdir()
    (models / "w.pkl").write_bytes(b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body)
    first = run_scan([models], workspace=pg_team, workers=0)
    report = first.reports[0]
    fingerprints = {first.fingerprint(report, f) for f in report.findings}
    for fp in fingerprints:
        grant_waiver(
            pg_team,
            scope="finding",
            target=fp,
            justification="fixture, reviewed by security",
            expires=datetime.now(UTC) + timedelta(days=30),
            actor="rita",
        )
    for _ in range(2):
        again = run_scan([models], workspace=pg_team, workers=0)
        assert again.exit_code() == 0 and set(again.suppressed) == fingerprints
    assert len(list_waivers(pg_team)) == len(fingerprints)
