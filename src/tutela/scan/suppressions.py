"""Suppressions: accepted scan findings, keyed by fingerprint, with a justification and an expiry.

A suppression is a finding-scoped waiver (``tutela.catalog.waivers`` is the one
implementation): it lives in the store apart from the findings, so it survives every
rescan; each one is a ledger entry; each lapses by itself at its expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from tutela.catalog.waivers import (
    WaiverOut,
    add_waiver,
    list_waivers,
    parse_expiry,
    revoke_waiver,
)
from tutela.utc import as_utc
from tutela.workspace import Workspace

__all__ = [
    "SuppressionOut",
    "active_fingerprints",
    "add_suppression",
    "list_suppressions",
    "parse_expiry",
    "revoke_suppression",
]


class SuppressionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    fingerprint: str
    producer: str
    justification: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    approval_status: str | None = None

    def is_active(self, now: datetime | None = None) -> bool:
        moment = as_utc(now) if now is not None else datetime.now(UTC)
        if self.revoked_at is not None or self.approval_status not in (None, "approved"):
            return False
        return as_utc(self.expires_at) > moment


def _from_waiver(waiver: WaiverOut) -> SuppressionOut:
    return SuppressionOut(
        id=waiver.id,
        fingerprint=waiver.target,
        producer=waiver.producer,
        justification=waiver.justification,
        created_by=waiver.created_by,
        created_at=waiver.created_at,
        expires_at=waiver.expires_at,
        revoked_at=waiver.revoked_at,
        approval_status=waiver.approval_status,
    )


def add_suppression(
    ws: Workspace,
    fingerprint: str,
    *,
    justification: str,
    expires_at: datetime,
    producer: str = "scan",
    actor: str | None = None,
) -> SuppressionOut:
    waiver = add_waiver(
        ws,
        scope="finding",
        target=fingerprint,
        justification=justification,
        expires=expires_at,
        created_by=actor,
        producer=producer,
    )
    return _from_waiver(waiver)


def revoke_suppression(ws: Workspace, suppression_id: str, *, actor: str | None = None) -> None:
    revoke_waiver(ws, suppression_id, actor=actor)


def list_suppressions(ws: Workspace, *, producer: str | None = None) -> list[SuppressionOut]:
    found = list_waivers(ws, include_inactive=True, scope="finding", producer=producer)
    return [_from_waiver(w) for w in found]


def active_fingerprints(ws: Workspace, *, producer: str = "scan") -> dict[str, SuppressionOut]:
    """Finding fingerprint -> the suppression that accepts it now (any asset's)."""
    now = datetime.now(UTC)
    return {s.fingerprint: s for s in list_suppressions(ws, producer=producer) if s.is_active(now)}
