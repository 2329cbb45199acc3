"""Service facts: which third-party services the version calls, and whether each is governed.

A service is called when the version under review ``calls`` it, or when a deployment the
version is ``deployed_as`` calls it (one hop). Each called service is expected to have a
recent canary (evidence kind ``canary`` within 30 days), an Arena evaluation (evidence
kind ``evaluation``) and an approved approval request. Evidence is read by kind, so
this module does not depend on the producers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from sqlalchemy import select

from tutela.facts.common import as_utc, evidence_as_of, linked, recorded_by, services_called
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.store.models import ApprovalRequest, EvidenceKind, LinkKind

__all__ = ["CANARY_WINDOW", "ServiceFacts"]

CANARY_WINDOW = timedelta(days=30)


class ServiceFacts:
    id: ClassVar[str] = "facts.services"
    namespace: ClassVar[str] = "services"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("called", "list", "Service asset ids the version (or its deployment) calls."),
        FactSpec(
            "without_canary", "list", "Called services with no canary evidence in the last 30 days."
        ),
        FactSpec("without_arena", "list", "Called services with no evaluation evidence."),
        FactSpec("without_approval", "list", "Called services with no approved approval request."),
        FactSpec(
            "governed",
            "bool",
            "Every called service has a canary, an evaluation and an approval (true if none).",
        ),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        if ctx.version is None:
            return {}
        session = ctx.session
        here = ctx.version.id
        deployments = [
            other
            for link, other in linked(session, [here], "downstream", {LinkKind.DEPLOYED_AS})
            if link.src_version_id == here
        ]
        called = sorted(services_called(session, [here, *deployments]))
        canaries = [
            e
            for e in evidence_as_of(session, ctx.at, kind=EvidenceKind.CANARY, asset_ids=called)
            if as_utc(e.created_at) >= ctx.at - CANARY_WINDOW
        ]
        arenas = evidence_as_of(session, ctx.at, kind=EvidenceKind.EVALUATION, asset_ids=called)
        approved = (
            session.execute(
                select(ApprovalRequest).where(
                    ApprovalRequest.asset_id.in_(called), ApprovalRequest.status == "approved"
                )
            )
            .scalars()
            .all()
            if called
            else []
        )
        with_approval = {
            r.asset_id for r in approved if recorded_by(r.decided_at or r.created_at, ctx.at)
        }
        no_canary = sorted(set(called) - {e.asset_id for e in canaries})
        no_arena = sorted(set(called) - {e.asset_id for e in arenas})
        no_approval = sorted(set(called) - with_approval)
        ids = tuple(e.id for e in [*canaries, *arenas])
        governed = not (no_canary or no_arena or no_approval)
        gaps = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("no canary in 30 days", no_canary),
                ("no Arena evaluation", no_arena),
                ("no approval", no_approval),
            )
            if names
        ]
        return {
            "called": Fact(called),
            "without_canary": Fact(no_canary, tuple(e.id for e in canaries)),
            "without_arena": Fact(no_arena, tuple(e.id for e in arenas)),
            "without_approval": Fact(no_approval),
            "governed": Fact(governed, ids, note="; ".join(gaps) or None),
        }
