"""Facts about the asset itself: who owns it, how risky it is, which version is reviewed."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import func, select

from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.store.models import Version

__all__ = ["AssetFacts"]


class AssetFacts:
    id: ClassVar[str] = "facts.asset"
    namespace: ClassVar[str] = "asset"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("id", "string", "The asset id, KIND:NAME."),
        FactSpec("kind", "string", "model, dataset, service, code, environment or deployment."),
        FactSpec("name", "string", "The asset's display name."),
        FactSpec("owner", "string", 'The owner, "" when none is set.'),
        FactSpec(
            "risk_tier",
            "string",
            "prohibited, high, limited, minimal or unassessed (EU AI Act style).",
        ),
        FactSpec("stage", "string", 'The deployment stage being gated, "" when none.'),
        FactSpec("version_digest", "string", 'Digest of the version under review, "" when none.'),
        FactSpec("version_count", "int", "How many versions of the asset are recorded."),
        FactSpec("tags", "list", "The asset's tags."),
        FactSpec("has_version", "bool", "The asset has a version to review."),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        asset, version = ctx.asset, ctx.version
        count = ctx.session.execute(
            select(func.count()).select_from(Version).where(Version.asset_id == asset.id)
        ).scalar_one()
        return {
            "id": Fact(asset.id),
            "kind": Fact(asset.kind.value),
            "name": Fact(asset.name),
            "owner": Fact(asset.owner or "", note=None if asset.owner else "no owner is set"),
            "risk_tier": Fact(asset.risk_tier.value),
            "stage": Fact(ctx.stage or ""),
            "version_digest": Fact(version.digest if version else ""),
            "version_count": Fact(int(count)),
            "tags": Fact(list(asset.tags)),
            "has_version": Fact(
                version is not None,
                note=None if version else "the asset has no recorded version",
            ),
        }
