"""Scan results become evidence on each artifact's version (named by its digest)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tutela.catalog.assets import ensure_asset_in, parse_asset_id
from tutela.catalog.evidence import record_evidence_in
from tutela.errors import InputError
from tutela.scan.interface import FileReport
from tutela.scan.outcome import ScanOutcome, artifact_name, is_model_artifact, scanner_version
from tutela.store.models import AssetKind
from tutela.workspace import Workspace

__all__ = ["PRODUCER", "record_outcome"]

PRODUCER = "scan"


def _auto_asset_id(report: FileReport, base: Path) -> str:
    name = artifact_name(report.path, base).lstrip("/")
    cleaned = "".join(c if c.isalnum() or c in "._-/+" else "_" for c in name)
    return f"model:{cleaned.lstrip('._-/+') or 'artifact'}"[:200]


def _fingerprint(outcome: ScanOutcome, report: FileReport) -> str:
    # Stable across rescans of the same bytes with the same findings: timings excluded.
    basis = {
        "digest": report.digest,
        "verdict": report.verdict.value,
        "findings": sorted(outcome.fingerprint(report, f) for f in report.findings),
        "scanner": scanner_version(),
    }
    return "sha256:" + hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def record_outcome(ws: Workspace, outcome: ScanOutcome, *, asset: str | None = None) -> None:
    """One evidence record per model artifact, in one transaction with the ledger."""
    if asset is not None:
        kind, _ = parse_asset_id(asset)
        if kind is not AssetKind.MODEL:
            raise InputError("scan results belong to a model asset", subject=asset)
    with ws.transaction() as tx:
        for report in outcome.reports:
            if not is_model_artifact(report):
                continue
            asset_id = asset or _auto_asset_id(report, outcome.base)
            ensure_asset_in(
                tx,
                asset_id,
                description="Model artifact first seen by `tutela scan` at "
                + artifact_name(report.path, outcome.base),
                tags=["source:scan"],
            )
            active = outcome.active(report)
            top = max((f.severity for f in active), default=None)
            evidence = record_evidence_in(
                tx,
                asset_id=asset_id,
                kind="scan",
                producer=PRODUCER,
                producer_version=scanner_version(),
                payload=outcome.report_dict(report),
                summary={
                    "verdict": report.verdict.value,
                    "max_severity": top.label() if top is not None else None,
                    "findings": len(active),
                    "suppressed": len(report.findings) - len(active),
                    "format": report.format,
                },
                version_digest=report.digest,
                location=report.path,
                fingerprint=_fingerprint(outcome, report),
            )
            outcome.recorded.append(evidence.id)
