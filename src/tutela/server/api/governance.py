"""Policy gates, approvals and waivers: tutela.policy.* and tutela.catalog.waivers.

Separation of duties lives in the approval service (a requester never reviews their
own request); the routes only check that the caller holds a role that may act at all.
Gates evaluate the server's own policy: a client never names a policy file to read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tutela.errors import UsageError
from tutela.server.api._lazy import capability
from tutela.server.auth import ENGINEER, RISK_OFFICER, ActingWorkspace, reader, writer
from tutela.server.errors import Forbidden
from tutela.workspace import Workspace

router = APIRouter(tags=["governance"])

Reader = Annotated[Workspace, Depends(reader)]
Contributor = Annotated[ActingWorkspace, Depends(writer(ENGINEER, RISK_OFFICER))]
Officer = Annotated[ActingWorkspace, Depends(writer(RISK_OFFICER))]


def _approvals() -> Any:
    return capability("tutela.policy.approvals", "approvals")


def _waivers() -> Any:
    return capability("tutela.catalog.waivers", "waivers")


class GateIn(BaseModel):
    asset_id: str = Field(min_length=1, max_length=255)
    stage: str = Field(min_length=1, max_length=32, examples=["prod"])
    version: str | None = Field(default=None, max_length=80)


class ApprovalIn(BaseModel):
    asset_id: str = Field(min_length=1, max_length=255)
    stage: str = Field(min_length=1, max_length=32, examples=["prod"])
    reason: str = Field(min_length=1, max_length=10_000)
    version: str | None = Field(default=None, max_length=80)
    required_roles: list[str] | None = Field(default=None, max_length=4)


class ReviewIn(BaseModel):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=10_000)
    role: str | None = Field(default=None, max_length=32)


class WaiverIn(BaseModel):
    scope: Literal["finding", "rule"]
    target: str = Field(min_length=1, max_length=255, description="Finding fingerprint or rule id")
    justification: str = Field(min_length=1, max_length=10_000)
    expires: datetime
    asset_id: str = Field(min_length=1, max_length=255)
    required_roles: list[str] | None = Field(default=None, max_length=4)


class GrantIn(BaseModel):
    scope: Literal["finding", "rule"]
    target: str = Field(min_length=1, max_length=255)
    justification: str = Field(min_length=1, max_length=10_000)
    expires: datetime
    asset_id: str | None = Field(default=None, max_length=255)


# -- gates -----------------------------------------------------------------------------


def _policy_path(ws: Workspace) -> Any:
    # The workspace's own policy only: never the server's working directory.
    gate = capability("tutela.policy.gate", "policy gates")
    return gate.find_policy(ws.layout.root)


@router.get("/policy", summary="The policy gates evaluate: files, digests and rules")
def policy(ws: Reader) -> dict[str, Any]:
    loader = capability("tutela.policy.loader", "policies")
    collect = capability("tutela.facts.collect", "facts")
    loaded = loader.load_policy(_policy_path(ws), collect.fact_catalogue(ws))
    return {
        "files": loaded.digests(),
        "names": list(loaded.names),
        "rules": [
            {**r.rule.model_dump(mode="json", exclude_none=True), "location": r.location()}
            for r in loaded.rules
        ],
    }


@router.post("/gates", summary="Evaluate the promotion gate and record the decision")
def run_gate(body: GateIn, ws: Contributor) -> dict[str, Any]:
    gate = capability("tutela.policy.gate", "policy gates")
    decision = gate.run_gate(
        ws,
        body.asset_id,
        stage=body.stage,
        version=body.version,
        policy_path=_policy_path(ws),
        actor=ws.actor,
    )
    return dict(decision.to_json())


# -- approvals -------------------------------------------------------------------------


@router.get("/approvals", summary="Approval requests")
def list_approvals(
    ws: Reader,
    status: Annotated[str | None, Query(max_length=16)] = None,
    asset_id: Annotated[str | None, Query(max_length=255)] = None,
) -> list[Any]:
    return list(_approvals().list_requests(ws, status=status, asset_id=asset_id))


@router.get("/approvals/{request_id}", summary="One approval request with its reviews")
def get_approval(request_id: str, ws: Reader) -> Any:
    return _approvals().get_request(ws, request_id)


@router.post("/approvals", status_code=201, summary="Request approval to promote a version")
def request_approval(body: ApprovalIn, ws: Contributor) -> Any:
    return _approvals().request_approval(
        ws,
        body.asset_id,
        version=body.version,
        stage=body.stage,
        reason=body.reason,
        required_roles=body.required_roles,
        requested_by=ws.actor,
    )


@router.post("/approvals/{request_id}/review", summary="Approve or reject (not your own)")
def review(request_id: str, body: ReviewIn, ws: Contributor) -> Any:
    approvals = _approvals()
    try:
        return approvals.review(
            ws,
            request_id,
            reviewer=ws.actor,
            decision=body.decision,
            comment=body.comment,
            role=body.role,
        )
    except UsageError as exc:
        # Separation of duties is a permission, not a malformed request: answer 403.
        if exc.problem == approvals.SELF_REVIEW:
            raise Forbidden(exc.problem, subject=request_id) from None
        raise


@router.post("/approvals/{request_id}/withdraw", summary="Withdraw your pending request")
def withdraw(request_id: str, ws: Contributor) -> Any:
    return _approvals().withdraw(ws, request_id, actor=ws.actor)


# -- waivers ---------------------------------------------------------------------------


@router.get("/waivers", summary="Waivers (active only unless include_inactive)")
def list_waivers(
    ws: Reader,
    include_inactive: bool = False,
    asset_id: Annotated[str | None, Query(max_length=255)] = None,
) -> list[Any]:
    return list(_waivers().list_waivers(ws, include_inactive=include_inactive, asset_id=asset_id))


@router.post("/waivers", status_code=201, summary="Request a waiver (counts once approved)")
def request_waiver(body: WaiverIn, ws: Contributor) -> dict[str, Any]:
    waiver, approval = _approvals().request_waiver(
        ws,
        scope=body.scope,
        target=body.target,
        justification=body.justification,
        expires=body.expires,
        asset_id=body.asset_id,
        requested_by=ws.actor,
        required_roles=body.required_roles,
    )
    return {"waiver": waiver, "approval": approval}


@router.post("/waivers/grant", status_code=201, summary="Grant a waiver at once (risk officer)")
def grant_waiver(body: GrantIn, ws: Officer) -> Any:
    return _approvals().grant_waiver(
        ws,
        scope=body.scope,
        target=body.target,
        justification=body.justification,
        expires=body.expires,
        asset_id=body.asset_id,
        actor=ws.actor,
    )


@router.delete("/waivers/{waiver_id}", summary="Revoke a waiver (risk officer)")
def revoke_waiver(waiver_id: str, ws: Officer) -> Any:
    return _waivers().revoke_waiver(ws, waiver_id, actor=ws.actor)
