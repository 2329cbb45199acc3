"""Approvals: a request, reviews by role from distinct people, and a decision.

A request asks for something about an asset: promoting a version to a stage
(``promote``) or accepting a waiver (``waiver:<id>``). It names the roles whose approval
is needed. Separation of duties is enforced here, not in a front: the requester never
reviews their own request, a reviewer must be a registered, enabled user holding the
role they act in, and one person counts once however many roles they hold. One reject
closes the request; it is approved when every required role has an approval from a
different person. Every step is a ledger entry and approval evidence on the asset.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.users import ROLES, UserOut, require_enabled_user
from tutela.catalog.waivers import (
    WAIVER_SUBJECT_PREFIX,
    WaiverOut,
    add_waiver,
    add_waiver_in,
)
from tutela.errors import InputError, UsageError
from tutela.store.models import (
    ApprovalRequest,
    ApprovalReview,
    EvidenceKind,
    RiskTier,
    Suppression,
    User,
    Version,
)
from tutela.utc import as_utc
from tutela.workspace import Transaction, Workspace

__all__ = [
    "SELF_REVIEW",
    "ApprovalOut",
    "ReviewOut",
    "default_roles",
    "get_request",
    "grant_waiver",
    "list_requests",
    "request_approval",
    "request_waiver",
    "review",
    "withdraw",
]

SELF_REVIEW = "you requested this approval; a different person must review it"
STATUSES = ("pending", "approved", "rejected", "withdrawn")
DECISIONS = ("approve", "reject")
# Roles that may accept a risk on their own (waivers added without a request).
WAIVER_ROLES = ("risk-officer", "admin")
_STAGE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_PRODUCER = "governance.approval"


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    reviewer: str
    role: str
    decision: str
    comment: str
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)


class ApprovalOut(BaseModel):
    """A request with its reviews; ``missing_roles`` are those still without an approval."""

    model_config = ConfigDict(frozen=True)

    id: str
    asset_id: str
    version_id: str | None
    version_digest: str | None
    subject: str
    stage: str | None
    reason: str
    requested_by: str
    required_roles: list[str]
    status: str
    created_at: datetime
    decided_at: datetime | None
    reviews: list[ReviewOut]

    @field_validator("created_at", "decided_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    @property
    def approved_roles(self) -> list[str]:
        return [r.role for r in self.reviews if r.decision == "approve"]

    @property
    def missing_roles(self) -> list[str]:
        done = set(self.approved_roles)
        return [role for role in self.required_roles if role not in done]

    @property
    def waiver_id(self) -> str | None:
        if self.subject.startswith(WAIVER_SUBJECT_PREFIX):
            return self.subject[len(WAIVER_SUBJECT_PREFIX) :]
        return None


# -- reading ---------------------------------------------------------------------------


def _load(session: Session, request: ApprovalRequest) -> ApprovalOut:
    reviews = session.execute(
        select(ApprovalReview)
        .where(ApprovalReview.request_id == request.id)
        .order_by(ApprovalReview.created_at, ApprovalReview.id)
    ).scalars()
    digest = None
    if request.version_id is not None:
        version = session.get(Version, request.version_id)
        digest = version.digest if version is not None else None
    return ApprovalOut(
        id=request.id,
        asset_id=request.asset_id,
        version_id=request.version_id,
        version_digest=digest,
        subject=request.subject,
        stage=request.stage,
        reason=request.reason,
        requested_by=request.requested_by,
        required_roles=list(request.required_roles or []),
        status=request.status,
        created_at=request.created_at,
        decided_at=request.decided_at,
        reviews=[ReviewOut.model_validate(r) for r in reviews],
    )


def _require_request(session: Session, request_id: str) -> ApprovalRequest:
    row = session.get(ApprovalRequest, request_id)
    if row is None:
        raise InputError(
            "no such approval request", subject=request_id, hint="see `tutela approve list`"
        )
    return row


def get_request(ws: Workspace, request_id: str) -> ApprovalOut:
    with ws.reader() as session:
        return _load(session, _require_request(session, request_id))


def list_requests(
    ws: Workspace, *, status: str | None = None, asset_id: str | None = None
) -> list[ApprovalOut]:
    if status is not None and status not in STATUSES:
        raise InputError("unknown status", expected=", ".join(STATUSES), found=status)
    with ws.reader() as session:
        query = select(ApprovalRequest).order_by(ApprovalRequest.created_at, ApprovalRequest.id)
        if status is not None:
            query = query.where(ApprovalRequest.status == status)
        if asset_id is not None:
            query = query.where(ApprovalRequest.asset_id == asset_id)
        return [_load(session, r) for r in session.execute(query).scalars()]


# -- requesting ------------------------------------------------------------------------


def default_roles(risk_tier: RiskTier | str) -> list[str]:
    """Who must approve a promotion: a risk officer too for high-risk assets."""
    if RiskTier(risk_tier) is RiskTier.HIGH:
        return ["engineer", "risk-officer"]
    return ["engineer"]


def _required(roles: Iterable[str] | None, fallback: list[str]) -> list[str]:
    chosen: list[str] = []
    for role in roles or ():
        if role not in ROLES or role == "viewer":
            raise InputError(
                "not a role that can approve",
                expected=", ".join(r for r in ROLES if r != "viewer"),
                found=role,
            )
        if role not in chosen:
            chosen.append(role)
    return chosen or list(fallback)


def _reason(text: str, what: str) -> str:
    reason = text.strip()
    if not reason:
        raise InputError(f"{what} needs a reason", expected="a sentence saying why")
    return reason


def _resolve_version(session: Session, asset_id: str, digest: str | None) -> Version | None:
    query = select(Version).where(Version.asset_id == asset_id)
    if digest is not None:
        version = session.execute(query.where(Version.digest == digest)).scalar_one_or_none()
        if version is None:
            raise InputError(
                "no such version of the asset",
                subject=asset_id,
                found=digest,
                hint=f"see `tutela asset show {asset_id}`",
            )
        return version
    # The version under review defaults to the newest one recorded.
    latest = query.order_by(Version.created_at.desc(), Version.id.desc()).limit(1)
    return session.execute(latest).scalar_one_or_none()


def _open_request(
    tx: Transaction,
    *,
    asset_id: str,
    version: Version | None,
    subject: str,
    stage: str | None,
    reason: str,
    roles: list[str],
) -> ApprovalOut:
    row = ApprovalRequest(
        id=str(uuid.uuid4()),
        asset_id=asset_id,
        version_id=version.id if version else None,
        subject=subject,
        stage=stage,
        reason=reason,
        requested_by=tx.actor,
        required_roles=roles,
        status="pending",
        created_at=datetime.now(UTC),
        decided_at=None,
    )
    tx.session.add(row)
    tx.session.flush()
    out = _load(tx.session, row)
    _step(tx, out, "request", {"by": tx.actor})
    return out


def request_approval(
    ws: Workspace,
    asset_id: str,
    *,
    version: str | None = None,
    stage: str,
    reason: str,
    required_roles: Sequence[str] | None = None,
    requested_by: str,
) -> ApprovalOut:
    """Ask for a version of ``asset_id`` (default: its newest) to be promoted to ``stage``."""
    from tutela.catalog.assets import require_asset

    if not _STAGE.match(stage):
        raise InputError("not a stage name", expected="such as dev, staging or prod", found=stage)
    text = _reason(reason, "an approval request")
    with ws.transaction(requested_by) as tx:
        asset = require_asset(tx.session, asset_id)
        roles = _required(required_roles, default_roles(asset.risk_tier))
        row = _resolve_version(tx.session, asset_id, version)
        same_version = (
            ApprovalRequest.version_id == row.id
            if row is not None
            else ApprovalRequest.version_id.is_(None)
        )
        clash = tx.session.execute(
            select(ApprovalRequest.id).where(
                ApprovalRequest.asset_id == asset_id,
                ApprovalRequest.subject == "promote",
                ApprovalRequest.stage == stage,
                ApprovalRequest.status == "pending",
                same_version,
            )
        ).scalar()
        if clash is not None:
            raise UsageError(
                "a request for this version and stage is already pending",
                subject=clash,
                hint=f"review it, or withdraw it with `tutela approve withdraw {clash}`",
            )
        return _open_request(
            tx,
            asset_id=asset_id,
            version=row,
            subject="promote",
            stage=stage,
            reason=text,
            roles=roles,
        )


def request_waiver(
    ws: Workspace,
    *,
    scope: str,
    target: str,
    justification: str,
    expires: datetime,
    asset_id: str,
    requested_by: str,
    required_roles: Sequence[str] | None = None,
) -> tuple[WaiverOut, ApprovalOut]:
    """Record a waiver that counts only once approved (default: by a risk officer)."""
    with ws.transaction(requested_by) as tx:
        waiver = add_waiver_in(
            tx,
            scope=scope,
            target=target,
            justification=justification,
            expires=expires,
            asset_id=asset_id,
            approval_status="pending",
        )
        request = _open_request(
            tx,
            asset_id=asset_id,
            version=None,
            subject=f"{WAIVER_SUBJECT_PREFIX}{waiver.id}",
            stage=None,
            reason=waiver.justification,
            roles=_required(required_roles, ["risk-officer"]),
        )
    return waiver, request


def grant_waiver(
    ws: Workspace,
    *,
    scope: str,
    target: str,
    justification: str,
    expires: datetime,
    asset_id: str | None = None,
    actor: str,
) -> WaiverOut:
    """A waiver that counts at once, approved by ``actor`` (a risk officer or an admin).

    A workspace with no registered users has nobody to hold a role yet: there the waiver
    is recorded as the actor's own decision (the ledger names them) with no approver.
    """
    with ws.reader() as session:
        anyone = session.execute(select(User.name).limit(1)).scalar() is not None
        if anyone:
            user = require_enabled_user(session, actor, why="only a user can accept a risk")
            if not any(user.has_role(r) for r in WAIVER_ROLES):
                raise UsageError(
                    f"{actor} holds no role that may accept a risk",
                    expected=" or ".join(WAIVER_ROLES),
                    found=", ".join(user.roles),
                    hint="ask for one with `tutela waiver request`",
                )
    return add_waiver(
        ws,
        scope=scope,
        target=target,
        justification=justification,
        expires=expires,
        asset_id=asset_id,
        created_by=actor,
        approved_by=actor if anyone else None,
    )


# -- reviewing -------------------------------------------------------------------------


def _pick_role(user: UserOut, request: ApprovalOut, role: str | None) -> str:
    needed = request.missing_roles
    if role is not None:
        if not user.has_role(role):
            raise UsageError(
                f"{user.name} does not hold the role {role}",
                found=", ".join(user.roles) or "no roles",
            )
        if role not in needed:
            raise UsageError(
                f"the role {role} is not needed by this request",
                expected=", ".join(needed) or "nothing more",
            )
        return role
    for candidate in user.roles:
        if candidate in needed:
            return candidate
    raise UsageError(
        f"{user.name} holds none of the roles this request still needs",
        expected=", ".join(needed),
        found=", ".join(user.roles) or "no roles",
    )


def review(
    ws: Workspace,
    request_id: str,
    *,
    reviewer: str,
    decision: str,
    comment: str = "",
    role: str | None = None,
) -> ApprovalOut:
    """Approve or reject a pending request as ``reviewer`` acting in ``role``."""
    if decision not in DECISIONS:
        raise InputError("unknown decision", expected=" or ".join(DECISIONS), found=decision)
    text = comment.strip()
    if decision == "reject" and not text:
        raise InputError("a rejection needs a comment", expected="a sentence saying why")
    with ws.transaction(reviewer) as tx:
        row = _require_request(tx.session, request_id)
        request = _load(tx.session, row)
        if request.status != "pending":
            raise UsageError(f"the request is already {request.status}", subject=request_id)
        if reviewer == request.requested_by:
            raise UsageError(SELF_REVIEW)
        user = require_enabled_user(tx.session, reviewer, why="only a user can review")
        earlier = next((r for r in request.reviews if r.reviewer == reviewer), None)
        if earlier is not None:
            raise UsageError(
                f"{reviewer} already reviewed this request as {earlier.role}; "
                "one person counts once",
                hint="another person must give the remaining approvals",
            )
        acting = _pick_role(user, request, role)
        now = datetime.now(UTC)
        tx.session.add(
            ApprovalReview(
                id=str(uuid.uuid4()),
                request_id=row.id,
                reviewer=reviewer,
                role=acting,
                decision=decision,
                comment=text,
                created_at=now,
            )
        )
        if decision == "reject":
            row.status, row.decided_at = "rejected", now
        elif not _load_missing(tx.session, row):
            row.status, row.decided_at = "approved", now
            _approve_waiver(tx, row, reviewer, now)
        tx.session.flush()
        out = _load(tx.session, row)
        _step(tx, out, decision, {"by": reviewer, "role": acting, "comment": text})
        return out


def _load_missing(session: Session, row: ApprovalRequest) -> list[str]:
    session.flush()
    return _load(session, row).missing_roles


def _approve_waiver(tx: Transaction, row: ApprovalRequest, approver: str, now: datetime) -> None:
    if not row.subject.startswith(WAIVER_SUBJECT_PREFIX):
        return
    waiver = tx.session.get(Suppression, row.subject[len(WAIVER_SUBJECT_PREFIX) :])
    if waiver is not None:
        waiver.approved_by, waiver.approved_at = approver, now
        tx.record("waiver.approve", waiver.fingerprint, {"id": waiver.id, "by": approver})


def withdraw(ws: Workspace, request_id: str, *, actor: str) -> ApprovalOut:
    """The requester takes back a pending request; it can no longer be reviewed."""
    with ws.transaction(actor) as tx:
        row = _require_request(tx.session, request_id)
        if row.status != "pending":
            raise UsageError(f"the request is already {row.status}", subject=request_id)
        if actor != row.requested_by:
            raise UsageError(
                f"only the requester ({row.requested_by}) can withdraw this request",
                hint="a reviewer can reject it instead",
            )
        row.status, row.decided_at = "withdrawn", datetime.now(UTC)
        tx.session.flush()
        out = _load(tx.session, row)
        _step(tx, out, "withdraw", {"by": actor})
        return out


# -- the record ------------------------------------------------------------------------


def _step(tx: Transaction, request: ApprovalOut, step: str, detail: dict[str, Any]) -> None:
    """Each step: one ledger entry and one approval evidence on the asset (its version)."""
    from tutela.catalog.evidence import record_evidence_in
    from tutela.version import tutela_version

    body = request.model_dump(mode="json")
    tx.record(f"approval.{step}", request.id, {"step": step, **detail, "request": body})
    record_evidence_in(
        tx,
        asset_id=request.asset_id,
        kind=EvidenceKind.APPROVAL,
        producer=_PRODUCER,
        producer_version=tutela_version(),
        payload={"step": step, **detail, "request": body},
        summary={
            "request": request.id,
            "subject": request.subject,
            "step": step,
            "status": request.status,
            "stage": request.stage,
            "roles": request.approved_roles,
            "required_roles": request.required_roles,
        },
        version_digest=request.version_digest,
    )
