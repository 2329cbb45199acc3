"""The risk register: each model's open risks, with owner and age.

Three sources, all read, none recorded:
- policy rules that fail for the model at a stage (the gate's evaluation, not recorded);
- unresolved findings (scan and data-check findings that no waiver covers);
- waivers that lapsed without being renewed: the accepted risk is back, unaccepted.

Age is how long the risk has been open as far as the store can tell: a failing rule since
the first recorded gate decision it failed in after it last passed (else since the version
was registered), a finding since the oldest evidence that reported it, a lapsed waiver
since it lapsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tutela.catalog.assets import list_assets
from tutela.catalog.waivers import WaiverOut, list_waivers
from tutela.facts.collect import FactSheet
from tutela.policy.gate import PRODUCER as GATE_PRODUCER
from tutela.policy.gate import evaluate_gate
from tutela.store.models import AssetKind, Evidence, EvidenceKind
from tutela.utc import as_utc
from tutela.workspace import Workspace

__all__ = ["Risk", "risk_register"]


@dataclass(frozen=True)
class Risk:
    asset_id: str
    owner: str | None
    kind: str  # policy_rule | finding | lapsed_waiver
    key: str  # rule id, fact name or waiver id: stable across runs
    title: str
    severity: str
    since: datetime
    age_days: float
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset_id,
            "owner": self.owner,
            "kind": self.kind,
            "key": self.key,
            "title": self.title,
            "severity": self.severity,
            "since": self.since.isoformat(),
            "age_days": round(self.age_days, 2),
            "evidence": list(self.evidence),
        }


def _age(since: datetime, at: datetime) -> float:
    return max(0.0, (at - as_utc(since)).total_seconds() / 86400.0)


def _decisions(ws: Workspace, asset_id: str, stage: str) -> list[tuple[datetime, dict[str, Any]]]:
    """Recorded gate decisions for the asset at the stage, oldest first: (when, rule outcomes)."""
    with ws.reader() as session:
        rows = session.execute(
            select(Evidence.observed_at, Evidence.payload)
            .where(
                Evidence.asset_id == asset_id,
                Evidence.kind == EvidenceKind.DECISION,
                Evidence.producer == GATE_PRODUCER,
            )
            .order_by(Evidence.observed_at)
        ).all()
    out = []
    for when, payload in rows:
        if payload.get("stage") != stage:
            continue
        outcomes = {str(r.get("id")): str(r.get("outcome")) for r in payload.get("rules", []) or []}
        out.append((as_utc(when), outcomes))
    return out


def _failing_since(
    decisions: list[tuple[datetime, dict[str, Any]]], rule_id: str, fallback: datetime
) -> datetime:
    since: datetime | None = None
    for when, outcomes in decisions:
        outcome = outcomes.get(rule_id)
        if outcome in ("fail", "error"):
            since = since or when
        elif outcome is not None:
            since = None  # it passed (or was waived) after failing: the clock restarts
    return since or fallback


def _evidence_since(ws: Workspace, ids: Iterable[str], fallback: datetime) -> datetime:
    wanted = list(ids)
    if not wanted:
        return fallback
    with ws.reader() as session:
        times = session.execute(
            select(Evidence.observed_at).where(Evidence.id.in_(wanted))
        ).scalars()
        found = [as_utc(t) for t in times]
    return min(found) if found else fallback


def _finding_risks(ws: Workspace, sheet: FactSheet, at: datetime) -> list[Risk]:
    risks = []
    for namespace, count_name, what in (
        ("scan", "open_findings", "open scan finding(s)"),
        ("data", "findings", "open data-check finding(s)"),
    ):
        count = sheet.get(f"{namespace}.{count_name}")
        worst = sheet.get(f"{namespace}.max_severity")
        if count is None or not isinstance(count.value, int) or count.value <= 0:
            continue
        severity = str(worst.value) if worst is not None else "unknown"
        fallback = sheet.version.created_at if sheet.version else at
        since = _evidence_since(ws, count.evidence, fallback)
        risks.append(
            Risk(
                asset_id=sheet.asset.id,
                owner=sheet.asset.owner,
                kind="finding",
                key=f"{namespace}.{count_name}",
                title=f"{count.value} {what}, worst {severity}",
                severity=severity,
                since=since,
                age_days=_age(since, at),
                evidence=count.evidence,
            )
        )
    return risks


def _lapsed(waivers: list[WaiverOut], at: datetime) -> list[WaiverOut]:
    """Waivers whose expiry passed with no active waiver for the same target."""
    active = {(w.scope, w.target) for w in waivers if w.is_active(at)}
    lapsed = [
        w
        for w in waivers
        if w.revoked_at is None
        and w.approval_status in (None, "approved")
        and as_utc(w.expires_at) <= at
        and (w.scope, w.target) not in active
    ]
    latest: dict[tuple[str, str], WaiverOut] = {}
    for waiver in lapsed:
        key = (waiver.scope, waiver.target)
        if key not in latest or waiver.expires_at > latest[key].expires_at:
            latest[key] = waiver
    return list(latest.values())


def _waiver_risks(ws: Workspace, asset_id: str, owner: str | None, at: datetime) -> list[Risk]:
    waivers = [
        w
        for w in list_waivers(ws, include_inactive=True, asset_id=asset_id)
        if w.asset_id == asset_id
    ]
    return [
        Risk(
            asset_id=asset_id,
            owner=owner,
            kind="lapsed_waiver",
            key=w.id,
            title=f"waiver of {w.scope} {w.target} lapsed ({w.justification})",
            severity="medium",
            since=as_utc(w.expires_at),
            age_days=_age(w.expires_at, at),
        )
        for w in _lapsed(waivers, at)
    ]


def _model_risks(
    ws: Workspace, asset_id: str, *, stage: str, policy_path: Path | None, at: datetime
) -> list[Risk]:
    evaluation, sheet, _ = evaluate_gate(ws, asset_id, stage=stage, policy_path=policy_path, at=at)
    owner = sheet.asset.owner
    fallback = sheet.version.created_at if sheet.version else sheet.asset.created_at
    decisions = _decisions(ws, asset_id, stage)
    risks = []
    for result in evaluation.results:
        if not result.blocking:
            continue
        since = _failing_since(decisions, result.rule_id, as_utc(fallback))
        risks.append(
            Risk(
                asset_id=asset_id,
                owner=owner,
                kind="policy_rule",
                key=result.rule_id,
                title=f"{result.rule_id}: {result.message}",
                severity=result.severity,
                since=since,
                age_days=_age(since, at),
                evidence=tuple(result.evidence),
            )
        )
    risks.extend(_finding_risks(ws, sheet, at))
    risks.extend(_waiver_risks(ws, asset_id, owner, at))
    return risks


def risk_register(
    ws: Workspace,
    *,
    asset_id: str | None = None,
    stage: str = "prod",
    policy_path: Path | None = None,
    at: datetime | None = None,
) -> list[Risk]:
    """Open risks of one model or of every model, oldest first within each model."""
    moment = as_utc(at) if at is not None else datetime.now(UTC)
    ids = [asset_id] if asset_id else [a.id for a in list_assets(ws, kind=AssetKind.MODEL)]
    out: list[Risk] = []
    for one in ids:
        risks = _model_risks(ws, one, stage=stage, policy_path=policy_path, at=moment)
        out.extend(sorted(risks, key=lambda r: r.since))
    return out
