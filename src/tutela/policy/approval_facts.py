"""Facts about approvals and waivers, as of the moment of evaluation.

Reads the approval requests and reviews of the version under review (and the stage being
gated, when one is), counting only what had happened at ``ctx.at`` so a gate re-run "as
of" an earlier time sees what was true then. Each fact cites the approval evidence rows
of the requests it was derived from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select

from tutela.catalog.waivers import active_waivers
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.store.models import ApprovalRequest, ApprovalReview, Evidence, EvidenceKind
from tutela.utc import as_utc

__all__ = ["ApprovalFacts"]


def _before(moment: datetime | None, at: datetime) -> bool:
    return moment is not None and as_utc(moment) <= at


class ApprovalFacts:
    """Who approved the promotion of this version, what is pending, and which waivers hold."""

    id: ClassVar[str] = "facts.approvals"
    namespace: ClassVar[str] = "approvals"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec(
            "roles",
            "list",
            "Distinct roles in which people approved an approved promotion of this version "
            "(to this stage, when a stage is gated).",
        ),
        FactSpec("approvers", "list", "Distinct people who approved those promotions."),
        FactSpec("count", "int", "How many distinct people approved those promotions."),
        FactSpec("pending", "int", "Promotion requests for this version still pending."),
        FactSpec(
            "rejected",
            "bool",
            "The latest decided promotion request for this version was rejected.",
        ),
        FactSpec("waivers", "list", "Ids of the waivers active on this asset at evaluation."),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        at = as_utc(ctx.at)
        query = select(ApprovalRequest).where(
            ApprovalRequest.asset_id == ctx.asset.id, ApprovalRequest.subject == "promote"
        )
        if ctx.version is not None:
            query = query.where(ApprovalRequest.version_id == ctx.version.id)
        else:
            query = query.where(ApprovalRequest.version_id.is_(None))
        if ctx.stage:
            query = query.where(ApprovalRequest.stage == ctx.stage)
        requests = [r for r in ctx.session.execute(query).scalars() if _before(r.created_at, at)]
        approved = [r for r in requests if r.status == "approved" and _before(r.decided_at, at)]
        pending = [r for r in requests if not _before(r.decided_at, at)]
        decided = sorted(
            (r for r in requests if _before(r.decided_at, at) and r.status != "withdrawn"),
            key=lambda r: as_utc(r.decided_at or r.created_at),
        )

        roles: list[str] = []
        approvers: list[str] = []
        if approved:
            reviews = ctx.session.execute(
                select(ApprovalReview)
                .where(
                    ApprovalReview.request_id.in_([r.id for r in approved]),
                    ApprovalReview.decision == "approve",
                )
                .order_by(ApprovalReview.created_at)
            ).scalars()
            for item in reviews:
                if item.role not in roles:
                    roles.append(item.role)
                if item.reviewer not in approvers:
                    approvers.append(item.reviewer)

        cited = self._evidence(ctx, {r.id for r in requests}, at)
        waivers = active_waivers(ctx.session, at=at, asset_id=ctx.asset.id)
        note = None if requests else "no promotion of this version was requested"
        return {
            "roles": Fact(roles, evidence=cited, note=note),
            "approvers": Fact(approvers, evidence=cited, note=note),
            "count": Fact(len(approvers), evidence=cited, note=note),
            "pending": Fact(len(pending), evidence=cited),
            "rejected": Fact(bool(decided) and decided[-1].status == "rejected", evidence=cited),
            "waivers": Fact([w.id for w in waivers]),
        }

    @staticmethod
    def _evidence(ctx: FactContext, request_ids: set[str], at: datetime) -> tuple[str, ...]:
        if not request_ids:
            return ()
        rows = ctx.session.execute(
            select(Evidence.id, Evidence.summary, Evidence.created_at)
            .where(Evidence.asset_id == ctx.asset.id, Evidence.kind == EvidenceKind.APPROVAL)
            .order_by(Evidence.created_at, Evidence.id)
        ).all()
        found: list[str] = []
        for evidence_id, summary, created_at in rows:
            data: dict[str, Any] = summary or {}
            if data.get("request") in request_ids and _before(created_at, at):
                found.append(evidence_id)
        return tuple(found)
