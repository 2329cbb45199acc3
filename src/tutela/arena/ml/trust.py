"""The trust gate: an estimator file is loaded only after a clean scan or a recorded
trust decision, and then only in a worker process.

Trust is about bytes, so decisions are looked up by the file's digest, whatever asset
name they were recorded under. The latest decision wins: ``trust`` opens the gate even
when the scanner has findings (a person looked and took responsibility, in the ledger),
``revoke`` closes it even when the scan is clean. With no decision, the file is scanned
(``tutela.scan``) and must have no active finding at low severity or above and nothing
left uninspected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import ModelRefused
from tutela.errors import InputError

if TYPE_CHECKING:
    from tutela.catalog.schemas import EvidenceOut
    from tutela.workspace import Workspace

__all__ = ["PRODUCER", "Admission", "ScanVerdict", "admit", "latest_decision", "record_trust"]

PRODUCER = "arena.ml.trust"


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    clean: bool
    digest: str | None
    problems: tuple[str, ...] = ()  # short lines naming what blocked it
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Admission:
    """Why a file may be loaded: ``basis`` is "scan" or "decision"."""

    basis: str
    digest: str
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"basis": self.basis, "digest": self.digest, "evidence": list(self.evidence)}


Scanner = Callable[[Path, "Workspace | None", str], ScanVerdict]


def scan_with_tutela(path: Path, workspace: Workspace | None, asset: str) -> ScanVerdict:
    """Run ``tutela.scan`` on one file (recording the scan when there is a workspace)."""
    from tutela.scan.interface import Severity
    from tutela.scan.service import run_scan

    outcome = run_scan([path], workspace=workspace, asset=asset, fail_on=Severity.LOW)
    report = outcome.reports[0]
    problems = [f"{f.severity.label()} {f.rule_id}: {f.message}" for f in outcome.active(report)]
    problems += [f"not fully inspected: {why}" for why in report.inconclusive]
    if report.error:
        problems.append(f"scan error: {report.error}")
    return ScanVerdict(
        outcome.exit_code() == 0 and not problems,
        report.digest,
        tuple(problems),
        tuple(outcome.recorded),
    )


def latest_decision(ws: Workspace, digest: str) -> tuple[str, str] | None:
    """The newest trust decision on any version with ``digest``: (decision, evidence id)."""
    from sqlalchemy import select

    from tutela.store.models import Evidence, EvidenceKind, Version

    with ws.reader() as session:
        row = session.execute(
            select(Evidence)
            .join(Version, Evidence.version_id == Version.id)
            .where(
                Version.digest == digest,
                Evidence.kind == EvidenceKind.DECISION,
                Evidence.producer == PRODUCER,
            )
            .order_by(Evidence.created_at.desc(), Evidence.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            return None
        return str(row.payload.get("decision")), row.id


def admit(
    path: Path,
    digest: str,
    *,
    asset: str,
    workspace: Workspace | None = None,
    scanner: Scanner = scan_with_tutela,
) -> Admission:
    """Admission for the file at ``path`` (whose bytes hash to ``digest``), or
    ``ModelRefused``. Nothing is loaded here."""
    if workspace is not None:
        decision = latest_decision(workspace, digest)
        if decision is not None and decision[0] == "trust":
            return Admission("decision", digest, (decision[1],))
        if decision is not None:
            raise ModelRefused(
                "trust in this model file was revoked",
                subject=str(path),
                found=f"decision {decision[1]}",
                hint="record a new decision with `tutela arena ml trust`",
            )
    verdict = scanner(path, workspace, asset)
    if verdict.digest is not None and verdict.digest != digest:
        raise ModelRefused("the file changed while it was being checked", subject=str(path))
    if not verdict.clean:
        raise ModelRefused(
            "refused to load: the scan is not clean and no trust decision is recorded",
            subject=str(path),
            found="; ".join(verdict.problems[:3]) or "an unclean scan",
            hint="inspect it with `tutela scan`; to load it anyway, record a decision with "
            "`tutela arena ml trust MODEL --reason ...`",
        )
    return Admission("scan", digest, verdict.evidence)


def record_trust(
    ws: Workspace, path: Path, *, asset: str, reason: str, revoke: bool = False
) -> EvidenceOut:
    """Record (in the ledger) that a person trusts, or no longer trusts, these bytes."""
    from tutela.catalog.evidence import record_on_asset
    from tutela.digest import file_digest

    if not reason.strip():
        raise InputError("a trust decision needs a reason", hint="--reason 'who checked what'")
    digest = file_digest(path).digest
    decision = "revoke" if revoke else "trust"
    return record_on_asset(
        ws,
        asset_id=asset,
        description="Model evaluated in the classifier Arena",
        tags=["source:arena"],
        kind="decision",
        producer=PRODUCER,
        payload={
            "decision": decision,
            "scope": "arena.ml.load",
            "reason": reason,
            "path": str(path),
        },
        summary={"decision": decision},
        version_digest=digest,
        location=str(path),
    )
