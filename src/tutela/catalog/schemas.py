"""What the catalog services return: pydantic models shared by the CLI, SDK and server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from tutela.store.models import AssetKind, EvidenceKind, LinkKind, RiskTier

__all__ = ["AssetDetail", "AssetOut", "EvidenceOut", "LinkOut", "VersionOut"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class AssetOut(_Out):
    id: str
    kind: AssetKind
    name: str
    owner: str | None
    risk_tier: RiskTier
    description: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class VersionOut(_Out):
    id: str
    asset_id: str
    digest: str
    location: str | None
    metadata: dict[str, Any]
    created_at: datetime


class LinkOut(_Out):
    id: str
    kind: LinkKind
    src_version_id: str
    dst_version_id: str
    run_id: str | None
    created_at: datetime


class EvidenceOut(_Out):
    id: str
    kind: EvidenceKind
    asset_id: str
    version_id: str | None
    version_digest: str | None
    producer: str
    producer_version: str
    summary: dict[str, Any]
    payload: dict[str, Any]
    fingerprint: str
    created_at: datetime
    observed_at: datetime
    expires_at: datetime | None


class AssetDetail(_Out):
    asset: AssetOut
    versions: list[VersionOut]
    evidence_counts: dict[str, int]
