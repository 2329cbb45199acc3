"""Gates: decide whether one version may be promoted to a stage, and record the decision.

``run_gate`` loads the policy (rejecting a malformed one before anything is evaluated),
collects the facts about the version being promoted as of ``at``, applies the rule
waivers in force at ``at``, and records the decision as Evidence (kind ``decision``,
producer ``policy.gate``) with its ledger entry in one transaction. The payload holds
every rule's result with the facts and evidence ids it looked at, and the digests of the
policy files, so the decision can be re-checked later against the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutela.catalog.evidence import record_evidence_in
from tutela.catalog.waivers import active_waivers
from tutela.errors import InputError, UsageError
from tutela.facts.collect import FactSheet, collect_facts, fact_catalogue
from tutela.policy.evaluate import PolicyEvaluation, evaluate_policy
from tutela.policy.loader import Policy, load_policy
from tutela.policy.schema import STAGES
from tutela.utc import as_utc, iso_z
from tutela.version import tutela_version
from tutela.workspace import Workspace

__all__ = [
    "POLICY_DIR",
    "POLICY_FILE",
    "PRODUCER",
    "GateDecision",
    "evaluate_gate",
    "find_policy",
    "run_gate",
]

PRODUCER = "policy.gate"
POLICY_FILE = "tutela.policy.yaml"
POLICY_DIR = "tutela.policy"


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    asset_id: str
    version: str | None
    stage: str
    tier: str
    at: datetime
    evaluation: PolicyEvaluation
    policy: Policy
    evidence_id: str
    facts_errors: dict[str, str]

    @property
    def failed_rules(self) -> list[str]:
        return self.evaluation.failed_rules

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "asset": self.asset_id,
            "version": self.version,
            "stage": self.stage,
            "risk_tier": self.tier,
            "at": iso_z(self.at),
            "failed_rules": self.failed_rules,
            "waived_rules": self.evaluation.waived_rules,
            "counts": self.evaluation.counts(),
            "reasons": list(self.evaluation.reasons),
            "rules": [r.to_json() for r in self.evaluation.results],
            "policy": {"files": self.policy.digests(), "names": list(self.policy.names)},
            "facts_errors": self.facts_errors,
            "evidence_id": self.evidence_id,
        }


def find_policy(*places: Path) -> Path:
    """The first ``tutela.policy.yaml`` or ``tutela.policy/`` in ``places``, in order.

    There is no silent fallback to the built-in default: a gate without a policy the
    project chose is an error, not a pass.
    """
    for place in dict.fromkeys(p.resolve() for p in places):
        for candidate in (place / POLICY_FILE, place / POLICY_DIR):
            if candidate.exists():
                return candidate
    raise InputError(
        "no policy found",
        subject=", ".join(str(p) for p in places),
        expected=f"{POLICY_FILE} or a {POLICY_DIR}/ folder, or --policy PATH",
        hint="write one with `tutela policy init`",
    )


def evaluate_gate(
    ws: Workspace,
    asset_id: str,
    *,
    stage: str,
    version: str | None = None,
    policy_path: Path | None = None,
    at: datetime | None = None,
) -> tuple[PolicyEvaluation, FactSheet, Policy]:
    """What the gate would decide, without recording it (the risk register reads this)."""
    if stage not in STAGES:
        raise UsageError("unknown stage", found=stage, expected=", ".join(STAGES))
    moment = as_utc(at) if at is not None else datetime.now(UTC)
    path = policy_path if policy_path is not None else find_policy(Path.cwd(), ws.layout.root)
    policy = load_policy(path, fact_catalogue(ws))
    sheet = collect_facts(ws, asset_id, version=version, at=moment, stage=stage)
    with ws.reader() as session:
        waivers = active_waivers(session, at=moment, asset_id=asset_id, scope="rule")
    evaluation = evaluate_policy(
        policy,
        sheet,
        tier=str(sheet.asset.risk_tier),
        stage=stage,
        waivers=waivers,
        asset_id=asset_id,
    )
    return evaluation, sheet, policy


def run_gate(
    ws: Workspace,
    asset_id: str,
    *,
    stage: str,
    version: str | None = None,
    policy_path: Path | None = None,
    at: datetime | None = None,
    actor: str | None = None,
) -> GateDecision:
    evaluation, sheet, policy = evaluate_gate(
        ws, asset_id, stage=stage, version=version, policy_path=policy_path, at=at
    )
    moment = sheet.at
    tier = str(sheet.asset.risk_tier)
    digest = sheet.version.digest if sheet.version is not None else None
    payload = _payload(evaluation, policy, sheet, stage, moment)
    summary = {
        "passed": evaluation.passed,
        "failed_rules": evaluation.failed_rules,
        "waived_rules": evaluation.waived_rules,
        "stage": stage,
    }
    with ws.transaction(actor) as tx:
        evidence = record_evidence_in(
            tx,
            asset_id=asset_id,
            kind="decision",
            producer=PRODUCER,
            producer_version=tutela_version(),
            payload=payload,
            summary=summary,
            version_digest=digest,
        )
    return GateDecision(
        passed=evaluation.passed,
        asset_id=asset_id,
        version=digest,
        stage=stage,
        tier=tier,
        at=moment,
        evaluation=evaluation,
        policy=policy,
        evidence_id=evidence.id,
        facts_errors=dict(sheet.errors),
    )


def _payload(
    evaluation: PolicyEvaluation, policy: Policy, sheet: FactSheet, stage: str, at: datetime
) -> dict[str, Any]:
    return {
        "decision": "pass" if evaluation.passed else "fail",
        "stage": stage,
        "at": iso_z(at),
        "asset": sheet.asset.id,
        "risk_tier": str(sheet.asset.risk_tier),
        "version": sheet.version.digest if sheet.version else None,
        "reasons": list(evaluation.reasons),
        "rules": [r.to_json() for r in evaluation.results],
        "policy": {"files": policy.digests(), "names": list(policy.names)},
        "facts_errors": dict(sorted(sheet.errors.items())),
    }
