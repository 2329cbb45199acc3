"""Waivers: a recorded decision to accept one finding (by fingerprint) or one policy rule.

A waiver names what it accepts (``scope`` finding or rule, ``target`` the fingerprint or
the rule id), why (a justification), who (created_by, approved_by), for which asset (or
every asset) and until when. Waivers live in the store (table ``suppressions``) apart from
the findings, so they survive every rescan, and lapse by themselves at their expiry: no
job has to run for a waiver to stop counting. Every change is a ledger entry, and a
waiver on an asset is also evidence about that asset.

A waiver requested through approval (``tutela waiver request``) is recorded at once but
counts only once its approval request is approved; scan suppressions and waivers added
directly by a risk officer count from the start.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.errors import InputError
from tutela.store.models import ApprovalRequest, EvidenceKind, Suppression
from tutela.utc import as_utc
from tutela.workspace import Transaction, Workspace

__all__ = [
    "WAIVER_SUBJECT_PREFIX",
    "WaiverOut",
    "WaiverScope",
    "active_waivers",
    "add_waiver",
    "add_waiver_in",
    "get_waiver",
    "list_waivers",
    "parse_expiry",
    "revoke_waiver",
    "validate_expiry",
]

WaiverScope = Literal["finding", "rule"]
WAIVER_SUBJECT_PREFIX = "waiver:"  # ApprovalRequest.subject of a waiver's approval

_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_MAX_DAYS = 366 * 2  # an acceptance is reviewed at least every two years
_MIN_REASON = 10
_PRODUCER_BY_SCOPE = {"finding": "scan", "rule": "policy"}


class WaiverOut(BaseModel):
    """A waiver as read from the store.

    ``approval_status`` is None for a waiver that needed no approval, else the status of
    its approval request (pending, approved, rejected, withdrawn).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    scope: str
    target: str
    producer: str
    asset_id: str | None
    justification: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    approval_status: str | None = None

    @field_validator("created_at", "expires_at", "approved_at", "revoked_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    def is_active(self, at: datetime | None = None) -> bool:
        """Counts at ``at``: not revoked, not lapsed, and approved when it needed approval."""
        moment = as_utc(at) if at is not None else datetime.now(UTC)
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        if self.approval_status not in (None, "approved"):
            return False
        return self.expires_at > moment

    def state(self, at: datetime | None = None) -> str:
        """One word for people: active, pending, rejected, withdrawn, revoked or lapsed."""
        moment = as_utc(at) if at is not None else datetime.now(UTC)
        if self.revoked_at is not None and self.revoked_at <= moment:
            return "revoked"
        if self.approval_status not in (None, "approved"):
            return str(self.approval_status)
        return "active" if self.expires_at > moment else "lapsed"


def _out(row: Suppression, approval_status: str | None) -> WaiverOut:
    return WaiverOut(
        id=row.id,
        scope=row.scope or "finding",
        target=row.fingerprint,
        producer=row.producer,
        asset_id=row.asset_id,
        justification=row.justification,
        created_by=row.created_by,
        created_at=row.created_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        approval_status=approval_status,
    )


def _approval_statuses(session: Session) -> dict[str, str]:
    """Waiver id -> status of its latest approval request (waivers that went through one)."""
    rows = session.execute(
        select(ApprovalRequest.subject, ApprovalRequest.status)
        .where(ApprovalRequest.subject.startswith(WAIVER_SUBJECT_PREFIX))
        .order_by(ApprovalRequest.created_at)
    ).all()
    return {subject[len(WAIVER_SUBJECT_PREFIX) :]: status for subject, status in rows}


# -- validation ------------------------------------------------------------------------


def parse_expiry(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO date or datetime in the future, at most two years ahead."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "cannot read the expiry", expected="an ISO date such as 2027-03-31", found=text
        ) from None
    return validate_expiry(moment, now=now, shown=text)


def validate_expiry(
    moment: datetime, *, now: datetime | None = None, shown: str | None = None
) -> datetime:
    moment = as_utc(moment)
    current = now or datetime.now(UTC)
    text = shown or moment.isoformat()
    if moment <= current:
        raise InputError("the expiry is in the past", found=text)
    if (moment - current).days > _MAX_DAYS:
        raise InputError(
            "the expiry is too far away", expected=f"within {_MAX_DAYS} days", found=text
        )
    return moment


def _validate_target(scope: str, target: str) -> None:
    if scope == "finding":
        if not _FINGERPRINT.match(target):
            raise InputError(
                "not a finding fingerprint", expected="sha256:<64 hex digits>", found=target
            )
    elif scope == "rule":
        if not _RULE_ID.match(target) or len(target) > 80:
            raise InputError(
                "not a rule id",
                expected="lower-case letters, digits, '.', '_' or '-', such as scan.no-critical",
                found=target,
            )
    else:
        raise InputError("unknown waiver scope", expected="finding or rule", found=scope)


def _validate_reason(justification: str) -> str:
    text = justification.strip()
    if len(text) < _MIN_REASON:
        raise InputError(
            "a waiver needs a justification",
            expected=f"at least {_MIN_REASON} characters of reason",
        )
    return text


# -- writes ----------------------------------------------------------------------------


def add_waiver_in(
    tx: Transaction,
    *,
    scope: str,
    target: str,
    justification: str,
    expires: datetime,
    asset_id: str | None = None,
    approved_by: str | None = None,
    producer: str | None = None,
    approval_status: str | None = None,
) -> WaiverOut:
    """Record a waiver inside an open transaction; ``tx.actor`` is its author."""
    _validate_target(scope, target)
    reason = _validate_reason(justification)
    expires_at = validate_expiry(expires)
    now = datetime.now(UTC)
    row = Suppression(
        id=str(uuid.uuid4()),
        scope=scope,
        fingerprint=target,
        producer=producer or _PRODUCER_BY_SCOPE[scope],
        asset_id=asset_id,
        justification=reason,
        created_by=tx.actor,
        created_at=now,
        expires_at=expires_at,
        revoked_at=None,
        approved_by=approved_by,
        approved_at=now if approved_by else None,
    )
    if asset_id is not None:
        from tutela.catalog.assets import require_asset

        require_asset(tx.session, asset_id)
    tx.session.add(row)
    tx.session.flush()
    out = _out(row, approval_status)
    tx.record("waiver.add", target, out.model_dump(mode="json"))
    _evidence(tx, out, "add")
    return out


def add_waiver(
    ws: Workspace,
    *,
    scope: str,
    target: str,
    justification: str,
    expires: datetime,
    asset_id: str | None = None,
    created_by: str | None,
    approved_by: str | None = None,
    producer: str | None = None,
) -> WaiverOut:
    """Record a waiver that counts at once (``approved_by``: who approved it, if anyone)."""
    with ws.transaction(created_by) as tx:
        return add_waiver_in(
            tx,
            scope=scope,
            target=target,
            justification=justification,
            expires=expires,
            asset_id=asset_id,
            approved_by=approved_by,
            producer=producer,
        )


def revoke_waiver(ws: Workspace, waiver_id: str, *, actor: str | None = None) -> WaiverOut:
    """Withdraw a waiver now; revoking twice is harmless (no second ledger entry)."""
    with ws.transaction(actor) as tx:
        row = tx.session.get(Suppression, waiver_id)
        if row is None:
            raise InputError("no such waiver", subject=waiver_id, hint="see `tutela waiver list`")
        status = _approval_statuses(tx.session).get(row.id)
        if row.revoked_at is not None:
            return _out(row, status)
        row.revoked_at = datetime.now(UTC)
        tx.session.flush()
        out = _out(row, status)
        tx.record("waiver.revoke", row.fingerprint, {"id": row.id, "scope": out.scope})
        _evidence(tx, out, "revoke")
        return out


def _evidence(tx: Transaction, waiver: WaiverOut, change: str) -> None:
    # A waiver about an asset is evidence about it: cards and gates show what was accepted.
    if waiver.asset_id is None:
        return
    from tutela.catalog.evidence import record_evidence_in
    from tutela.version import tutela_version

    payload: dict[str, Any] = {"change": change, "waiver": waiver.model_dump(mode="json")}
    record_evidence_in(
        tx,
        asset_id=waiver.asset_id,
        kind=EvidenceKind.WAIVER,
        producer="governance.waiver",
        producer_version=tutela_version(),
        payload=payload,
        summary={
            "change": change,
            "waiver": waiver.id,
            "scope": waiver.scope,
            "target": waiver.target,
            "expires_at": waiver.expires_at.isoformat(),
            "state": waiver.state(),
        },
        expires_at=waiver.expires_at,
    )


# -- reads -----------------------------------------------------------------------------


def get_waiver(session: Session, waiver_id: str) -> WaiverOut:
    row = session.get(Suppression, waiver_id)
    if row is None:
        raise InputError("no such waiver", subject=waiver_id, hint="see `tutela waiver list`")
    return _out(row, _approval_statuses(session).get(row.id))


def _select(
    session: Session, *, asset_id: str | None, scope: str | None, producer: str | None
) -> list[WaiverOut]:
    query = select(Suppression).order_by(Suppression.created_at, Suppression.id)
    if asset_id is not None:
        query = query.where((Suppression.asset_id == asset_id) | Suppression.asset_id.is_(None))
    if scope is not None:
        query = query.where(Suppression.scope == scope)
    if producer is not None:
        query = query.where(Suppression.producer == producer)
    statuses = _approval_statuses(session)
    return [_out(r, statuses.get(r.id)) for r in session.execute(query).scalars()]


def active_waivers(
    session: Session,
    *,
    at: datetime,
    asset_id: str | None = None,
    scope: str | None = None,
    producer: str | None = None,
) -> list[WaiverOut]:
    """Waivers that count at ``at``; with ``asset_id``, those for it or for every asset."""
    moment = as_utc(at)
    found = _select(session, asset_id=asset_id, scope=scope, producer=producer)
    return [w for w in found if w.is_active(moment)]


def list_waivers(
    ws: Workspace,
    *,
    include_inactive: bool = False,
    asset_id: str | None = None,
    scope: str | None = None,
    producer: str | None = None,
) -> list[WaiverOut]:
    with ws.reader() as session:
        found = _select(session, asset_id=asset_id, scope=scope, producer=producer)
    if include_inactive:
        return found
    now = datetime.now(UTC)
    return [w for w in found if w.is_active(now)]
