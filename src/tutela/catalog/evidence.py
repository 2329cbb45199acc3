"""Evidence: what a capability found about an asset version, recorded with the ledger."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tutela.catalog.assets import ensure_asset_in, ensure_version, require_asset
from tutela.catalog.schemas import EvidenceOut
from tutela.errors import InputError
from tutela.ledger.canonical import canonical_json
from tutela.store.models import Evidence, EvidenceKind, Version
from tutela.workspace import Transaction, Workspace

__all__ = ["list_evidence", "record_evidence", "record_evidence_in", "record_on_asset"]


def _out(evidence: Evidence, digest: str | None) -> EvidenceOut:
    return EvidenceOut(
        id=evidence.id,
        kind=evidence.kind,
        asset_id=evidence.asset_id,
        version_id=evidence.version_id,
        version_digest=digest,
        producer=evidence.producer,
        producer_version=evidence.producer_version,
        summary=evidence.summary,
        payload=evidence.payload,
        fingerprint=evidence.fingerprint,
        created_at=evidence.created_at,
        observed_at=evidence.observed_at,
        expires_at=evidence.expires_at,
    )


def record_evidence_in(
    tx: Transaction,
    *,
    asset_id: str,
    kind: EvidenceKind | str,
    producer: str,
    producer_version: str,
    payload: Mapping[str, Any],
    summary: Mapping[str, Any] | None = None,
    version_digest: str | None = None,
    location: str | None = None,
    fingerprint: str | None = None,
    observed_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> EvidenceOut:
    """Record evidence inside an open transaction (producers batch several this way)."""
    try:
        evidence_kind = EvidenceKind(kind)
    except ValueError:
        raise InputError(
            "unknown evidence kind",
            found=str(kind),
            expected=", ".join(k.value for k in EvidenceKind),
        ) from None
    if not producer:
        raise InputError("evidence needs a producer id (the plugin that made it)")
    require_asset(tx.session, asset_id)
    version = (
        ensure_version(tx, asset_id, version_digest, location=location) if version_digest else None
    )
    body = canonical_json(dict(payload))  # validates the payload is plain JSON, once
    now = datetime.now(UTC)
    evidence = Evidence(
        id=str(uuid.uuid4()),
        kind=evidence_kind,
        asset_id=asset_id,
        version_id=version.id if version else None,
        producer=producer,
        producer_version=producer_version,
        summary=dict(summary or {}),
        payload=dict(payload),
        fingerprint=fingerprint or "sha256:" + hashlib.sha256(body).hexdigest(),
        created_at=now,
        observed_at=observed_at or now,
        expires_at=expires_at,
    )
    tx.session.add(evidence)
    tx.session.flush()
    out = _out(evidence, version.digest if version else None)
    tx.record(f"evidence.{evidence_kind.value}", asset_id, out.model_dump(mode="json"))
    return out


def record_evidence(ws: Workspace, *, actor: str | None = None, **fields: Any) -> EvidenceOut:
    with ws.transaction(actor) as tx:
        return record_evidence_in(tx, **fields)


def record_on_asset(
    ws: Workspace,
    *,
    asset_id: str,
    description: str,
    tags: list[str],
    kind: EvidenceKind | str,
    producer: str,
    payload: Mapping[str, Any],
    summary: Mapping[str, Any] | None = None,
    version_digest: str | None = None,
    location: str | None = None,
) -> EvidenceOut:
    """One producer's evidence in one transaction, registering the asset when it is new.

    How most producers record: the asset may be met for the first time, and the evidence
    and its ledger entry must land together with it or not at all.
    """
    from tutela.version import tutela_version

    with ws.transaction() as tx:
        ensure_asset_in(tx, asset_id, description=description, tags=tags)
        return record_evidence_in(
            tx,
            asset_id=asset_id,
            kind=kind,
            producer=producer,
            producer_version=tutela_version(),
            payload=payload,
            summary=summary,
            version_digest=version_digest,
            location=location,
        )


def list_evidence(
    ws: Workspace,
    *,
    asset_id: str | None = None,
    kind: EvidenceKind | str | None = None,
    producer: str | None = None,
    limit: int = 100,
) -> list[EvidenceOut]:
    if limit < 1:
        raise InputError("limit must be at least 1", found=str(limit))
    with ws.reader() as session:
        query = (
            select(Evidence, Version.digest)
            .outerjoin(Version, Evidence.version_id == Version.id)
            .order_by(Evidence.created_at.desc(), Evidence.id)
            .limit(limit)
        )
        if asset_id is not None:
            require_asset(session, asset_id)
            query = query.where(Evidence.asset_id == asset_id)
        if kind is not None:
            query = query.where(Evidence.kind == EvidenceKind(kind))
        if producer is not None:
            query = query.where(Evidence.producer == producer)
        return [_out(ev, digest) for ev, digest in session.execute(query).all()]
