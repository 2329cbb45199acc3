"""Approval requests and reviews: separation of duties, decisions, waivers, facts, ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.evidence import list_evidence
from tutela.catalog.users import disable_user
from tutela.catalog.waivers import active_waivers, list_waivers
from tutela.errors import InputError, UsageError
from tutela.facts.collect import collect_facts
from tutela.policy.approvals import (
    SELF_REVIEW,
    get_request,
    grant_waiver,
    list_requests,
    request_approval,
    request_waiver,
    review,
    withdraw,
)
from tutela.workspace import Workspace

MODEL = "model:fraud-scorer"  # seeded by conftest, risk tier high
DIGEST = "sha256:" + "ab" * 32
Actions = Callable[[Workspace], list[str]]


def _promote(ws: Workspace, by: str = "eve", version: str | None = None) -> str:
    out = request_approval(
        ws,
        MODEL,
        version=version,
        stage="prod",
        reason="passed the red-team suite",
        requested_by=by,
    )
    return out.id


def test_high_risk_needs_engineer_and_risk_officer(team: Workspace) -> None:
    """Default roles follow the risk tier; the newest version is the one under review."""
    request = get_request(team, _promote(team))
    assert request.required_roles == ["engineer", "risk-officer"]
    assert request.version_digest == DIGEST and request.status == "pending"
    add_asset(team, "model:chatbot", risk_tier="limited", actor="eve")
    low = request_approval(
        team, "model:chatbot", stage="staging", reason="smoke tests", requested_by="eve"
    )
    assert low.required_roles == ["engineer"] and low.version_digest is None


def test_self_approval_is_refused(team: Workspace) -> None:
    """The requester cannot review their own request, whatever roles they hold."""
    request_id = _promote(team, by="sam")
    with pytest.raises(UsageError) as caught:
        review(team, request_id, reviewer="sam", decision="approve", comment="lgtm")
    assert caught.value.diagnostics() == SELF_REVIEW
    assert caught.value.exit_code == 2
    assert get_request(team, request_id).reviews == []


def test_two_roles_from_two_people_approve(team: Workspace, ledger_actions: Actions) -> None:
    """An engineer and a risk officer, distinct people, approve; each step is recorded."""
    request_id = _promote(team)
    first = review(team, request_id, reviewer="sam", decision="approve", comment="code ok")
    assert first.status == "pending" and first.missing_roles == ["risk-officer"]
    assert first.reviews[0].role == "engineer"  # sam's first role still needed
    done = review(team, request_id, reviewer="rita", decision="approve", comment="risk ok")
    assert done.status == "approved" and done.decided_at is not None
    assert done.approved_roles == ["engineer", "risk-officer"]
    acts = ledger_actions(team)
    assert acts.count("approval.request") == 1 and acts.count("approval.approve") == 2
    evidence = list_evidence(team, asset_id=MODEL, kind="approval")
    assert [e.summary["status"] for e in evidence] == ["approved", "pending", "pending"]
    assert evidence[0].summary["roles"] == ["engineer", "risk-officer"]
    assert all(e.version_digest == DIGEST for e in evidence)
    assert team.verify().ok


def test_one_person_counts_once(team: Workspace) -> None:
    """Holding two roles does not let one person give both approvals."""
    request_id = _promote(team)
    review(team, request_id, reviewer="sam", decision="approve", comment="as engineer")
    with pytest.raises(UsageError, match="one person counts once"):
        review(team, request_id, reviewer="sam", decision="approve", role="risk-officer")
    assert get_request(team, request_id).status == "pending"


def test_role_must_be_held_and_needed(team: Workspace) -> None:
    """A reviewer acts only in a role they hold that the request still needs."""
    request_id = _promote(team)
    with pytest.raises(UsageError, match="does not hold the role risk-officer"):
        review(team, request_id, reviewer="ada", decision="approve", role="risk-officer")
    with pytest.raises(UsageError, match="holds none of the roles"):
        review(team, request_id, reviewer="vic", decision="approve")
    review(team, request_id, reviewer="rita", decision="approve", comment="ok")
    with pytest.raises(UsageError, match="not needed"):
        review(team, request_id, reviewer="sam", decision="approve", role="risk-officer")


def test_unregistered_or_disabled_reviewer_is_refused(team: Workspace) -> None:
    """Only registered, enabled users review."""
    request_id = _promote(team)
    with pytest.raises(UsageError, match="mallory is not a registered user"):
        review(team, request_id, reviewer="mallory", decision="approve")
    disable_user(team, "rita", actor="ada")
    with pytest.raises(UsageError, match="user rita is disabled"):
        review(team, request_id, reviewer="rita", decision="approve")


def test_reject_closes(team: Workspace, ledger_actions: Actions) -> None:
    """A reject needs a comment and closes the request; no later review is possible."""
    request_id = _promote(team)
    with pytest.raises(InputError, match="needs a comment"):
        review(team, request_id, reviewer="rita", decision="reject", comment="  ")
    out = review(team, request_id, reviewer="rita", decision="reject", comment="ASR too high")
    assert out.status == "rejected" and out.reviews[0].comment == "ASR too high"
    with pytest.raises(UsageError, match="already rejected"):
        review(team, request_id, reviewer="sam", decision="approve")
    assert "approval.reject" in ledger_actions(team)
    assert [r.id for r in list_requests(team, status="rejected")] == [request_id]


def test_withdraw_and_duplicates(team: Workspace) -> None:
    """One pending request per version and stage; only the requester withdraws."""
    request_id = _promote(team)
    with pytest.raises(UsageError, match="already pending"):
        _promote(team, by="sam")
    with pytest.raises(UsageError, match="only the requester"):
        withdraw(team, request_id, actor="rita")
    assert withdraw(team, request_id, actor="eve").status == "withdrawn"
    assert get_request(team, _promote(team, by="sam")).status == "pending"
    with pytest.raises(InputError, match="no such version"):
        _promote(team, version="sha256:" + "cd" * 32)


def test_facts_follow_the_version_and_the_moment(team: Workspace) -> None:
    """approvals.* facts see approved promotions of this version, as of ``at``."""
    before = datetime.now(UTC)
    request_id = _promote(team)
    review(team, request_id, reviewer="sam", decision="approve")
    review(team, request_id, reviewer="rita", decision="approve", comment="ok")
    sheet = collect_facts(team, MODEL, stage="prod", namespaces=["approvals"])
    assert sheet.errors == {}
    assert sheet.facts["approvals.roles"].value == ["engineer", "risk-officer"]
    assert sheet.facts["approvals.approvers"].value == ["sam", "rita"]
    assert sheet.facts["approvals.count"].value == 2
    assert sheet.facts["approvals.pending"].value == 0
    assert sheet.facts["approvals.rejected"].value is False
    cited = set(sheet.facts["approvals.roles"].evidence)
    assert cited == {e.id for e in list_evidence(team, asset_id=MODEL, kind="approval")}
    earlier = collect_facts(team, MODEL, stage="prod", at=before, namespaces=["approvals"])
    assert earlier.facts["approvals.roles"].value == []
    other_stage = collect_facts(team, MODEL, stage="staging", namespaces=["approvals"])
    assert other_stage.facts["approvals.count"].value == 0
    add_version(team, MODEL, "sha256:" + "ee" * 32, actor="eve")  # a newer version
    newer = collect_facts(team, MODEL, stage="prod", namespaces=["approvals"])
    assert newer.facts["approvals.roles"].value == []


def test_waiver_through_approval(team: Workspace, ledger_actions: Actions) -> None:
    """A requested waiver counts only after a risk officer approves it."""
    waiver, request = request_waiver(
        team,
        scope="rule",
        target="arena.asr-max",
        justification="new guardrail deployed, re-test scheduled",
        expires=datetime.now(UTC) + timedelta(days=14),
        asset_id=MODEL,
        requested_by="eve",
    )
    assert request.required_roles == ["risk-officer"] and waiver.state() == "pending"
    now = datetime.now(UTC)
    with team.reader() as session:
        assert active_waivers(session, at=now, asset_id=MODEL) == []
    with pytest.raises(UsageError, match="a different person"):
        review(team, request.id, reviewer="eve", decision="approve")
    review(team, request.id, reviewer="rita", decision="approve", comment="accepted")
    (active,) = list_waivers(team, asset_id=MODEL)
    assert active.id == waiver.id and active.approved_by == "rita"
    sheet = collect_facts(team, MODEL, namespaces=["approvals"])
    assert sheet.facts["approvals.waivers"].value == [waiver.id]
    assert "waiver.approve" in ledger_actions(team)


def test_rejected_waiver_never_counts(team: Workspace) -> None:
    """A rejected waiver request leaves the waiver inactive."""
    waiver, request = request_waiver(
        team,
        scope="rule",
        target="arena.asr-max",
        justification="please accept this for a quarter",
        expires=datetime.now(UTC) + timedelta(days=90),
        asset_id=MODEL,
        requested_by="eve",
    )
    review(team, request.id, reviewer="rita", decision="reject", comment="no compensating control")
    assert list_waivers(team) == []
    (kept,) = list_waivers(team, include_inactive=True)
    assert kept.id == waiver.id and kept.state() == "rejected"


def test_grant_waiver_needs_a_risk_role(team: Workspace, tmp_path: Path) -> None:
    """Direct waivers need a risk officer or admin; they are approved by that person."""
    expires = datetime.now(UTC) + timedelta(days=7)
    fields = {"scope": "rule", "target": "scan.no-critical", "justification": "x" * 12}
    with pytest.raises(UsageError, match="no role that may accept a risk"):
        grant_waiver(team, expires=expires, actor="eve", **fields)
    with pytest.raises(UsageError, match="not a registered user"):
        grant_waiver(team, expires=expires, actor="mallory", **fields)
    out = grant_waiver(team, expires=expires, actor="rita", **fields)
    assert out.approved_by == "rita" and out.is_active()
    (tmp_path / "solo").mkdir()
    with Workspace.init(tmp_path / "solo") as solo:  # nobody registered: a personal workspace
        mine = grant_waiver(solo, expires=expires, actor="me", **fields)
        assert mine.approved_by is None and mine.is_active()
