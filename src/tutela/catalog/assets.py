"""Assets and their versions: register, list, show. Every change is a ledger entry."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.catalog.schemas import AssetDetail, AssetOut, VersionOut
from tutela.digest import parse_digest
from tutela.errors import InputError, UsageError
from tutela.store.models import Asset, AssetKind, Evidence, RiskTier, Version
from tutela.workspace import Transaction, Workspace

__all__ = [
    "add_asset",
    "add_asset_in",
    "add_version",
    "ensure_asset_in",
    "ensure_version",
    "get_asset",
    "list_assets",
    "parse_asset_id",
    "require_asset",
    "update_asset",
]

# kind:name — names allow Hugging Face style "org/model" and dotted versions; '@' is
# reserved for ASSET@VERSION references and white space never appears.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:+]{0,199}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:=]{0,63}$")
_MAX_OWNER = 255  # the column's width


def parse_asset_id(asset_id: str) -> tuple[AssetKind, str]:
    kind_text, sep, name = asset_id.partition(":")
    kinds = ", ".join(k.value for k in AssetKind)
    if not sep:
        raise InputError(
            "an asset id is KIND:NAME", subject=asset_id, expected=f"a kind of {kinds}"
        )
    try:
        kind = AssetKind(kind_text)
    except ValueError:
        raise InputError(
            "unknown asset kind", subject=asset_id, expected=kinds, found=kind_text
        ) from None
    if not _NAME.match(name):
        raise InputError(
            "invalid asset name",
            subject=asset_id,
            expected="letters, digits and . _ - / : + (no spaces or @), at most 200 characters",
        )
    return kind, name


def _tags(tags: Iterable[str]) -> list[str]:
    out = sorted(set(tags))
    for tag in out:
        if not _TAG.match(tag):
            raise InputError(
                "invalid tag", found=repr(tag), expected="letters, digits, . _ - / : ="
            )
    return out


def _tier(risk_tier: RiskTier | str) -> RiskTier:
    try:
        return RiskTier(risk_tier)
    except ValueError:
        raise InputError(
            "unknown risk tier",
            found=str(risk_tier),
            expected=", ".join(t.value for t in RiskTier),
        ) from None


def _now() -> datetime:
    return datetime.now(UTC)


def _asset_out(asset: Asset) -> AssetOut:
    return AssetOut.model_validate(asset)


def _version_out(version: Version) -> VersionOut:
    return VersionOut(
        id=version.id,
        asset_id=version.asset_id,
        digest=version.digest,
        location=version.location,
        metadata=version.meta,
        created_at=version.created_at,
    )


def add_asset_in(
    tx: Transaction,
    asset_id: str,
    *,
    name: str | None = None,
    owner: str | None = None,
    risk_tier: RiskTier | str = RiskTier.UNASSESSED,
    description: str | None = None,
    tags: Iterable[str] = (),
) -> AssetOut:
    """Register a new asset inside an open transaction; an existing id is an error."""
    kind, default_name = parse_asset_id(asset_id)
    tier = _tier(risk_tier)
    if tx.session.get(Asset, asset_id) is not None:
        raise UsageError("the asset already exists", subject=asset_id)
    now = _now()
    asset = Asset(
        id=asset_id,
        kind=kind,
        name=name or default_name,
        owner=owner,
        risk_tier=tier,
        description=description,
        tags=_tags(tags),
        created_at=now,
        updated_at=now,
    )
    tx.session.add(asset)
    tx.session.flush()
    out = _asset_out(asset)
    tx.record("asset.add", asset_id, out.model_dump(mode="json"))
    return out


def ensure_asset_in(
    tx: Transaction, asset_id: str, *, description: str | None = None, tags: Iterable[str] = ()
) -> AssetOut:
    """The asset, registered first (unassessed, no owner) when a producer meets it new.

    First writer wins: ``Workspace.transaction`` holds the ledger lock before this check,
    so a concurrent writer that registered the asset has committed and is seen here.
    """
    existing = tx.session.get(Asset, asset_id)
    if existing is not None:
        return _asset_out(existing)
    return add_asset_in(tx, asset_id, description=description, tags=tags)


def add_asset(
    ws: Workspace,
    asset_id: str,
    *,
    name: str | None = None,
    owner: str | None = None,
    risk_tier: RiskTier | str = RiskTier.UNASSESSED,
    description: str | None = None,
    tags: Iterable[str] = (),
    actor: str | None = None,
) -> AssetOut:
    """Register a new asset. An existing id is an error: assets are never overwritten."""
    with ws.transaction(actor) as tx:
        return add_asset_in(
            tx,
            asset_id,
            name=name,
            owner=owner,
            risk_tier=risk_tier,
            description=description,
            tags=tags,
        )


def update_asset(
    ws: Workspace,
    asset_id: str,
    *,
    owner: str | None = None,
    risk_tier: RiskTier | str | None = None,
    description: str | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    actor: str | None = None,
) -> AssetOut:
    """Change an asset's owner, risk tier, description or tags; None leaves a field as is.

    An empty ``owner`` or ``description`` clears it. Only a real change is recorded: one
    ``asset.update`` entry holding the changed fields before and after.
    """
    tier = None if risk_tier is None else _tier(risk_tier)
    if owner is not None and len(owner) > _MAX_OWNER:
        raise InputError(
            "the owner is too long", subject=asset_id, expected=f"at most {_MAX_OWNER} characters"
        )
    adding, removing = _tags(add_tags), sorted(set(remove_tags))
    both = set(adding) & set(removing)
    if both:
        raise UsageError(
            "a tag cannot be both added and removed",
            subject=asset_id,
            found=", ".join(sorted(both)),
        )
    with ws.transaction(actor) as tx:
        asset = require_asset(tx.session, asset_id)
        wanted: dict[str, Any] = {}
        if owner is not None:
            wanted["owner"] = owner or None
        if tier is not None:
            wanted["risk_tier"] = tier
        if description is not None:
            wanted["description"] = description or None
        if adding or removing:
            wanted["tags"] = sorted((set(asset.tags or []) | set(adding)) - set(removing))
        changed = {k: v for k, v in wanted.items() if getattr(asset, k) != v}
        if not changed:
            return _asset_out(asset)
        before = {k: _plain(getattr(asset, k)) for k in changed}
        for key, value in changed.items():
            setattr(asset, key, value)
        asset.updated_at = _now()
        tx.session.flush()
        # Reload so both timestamps come back as the database returns them to readers.
        tx.session.refresh(asset)
        tx.record(
            "asset.update",
            asset_id,
            {"before": before, "after": {k: _plain(v) for k, v in changed.items()}},
        )
        return _asset_out(asset)


def _plain(value: Any) -> Any:
    """A field value as the ledger's JSON holds it (the tier by its name)."""
    return value.value if isinstance(value, RiskTier) else value


def list_assets(
    ws: Workspace, *, kind: AssetKind | str | None = None, tag: str | None = None
) -> list[AssetOut]:
    with ws.reader() as session:
        query = select(Asset).order_by(Asset.id)
        if kind is not None:
            query = query.where(Asset.kind == AssetKind(kind))
        assets = [_asset_out(a) for a in session.execute(query).scalars()]
    if tag is not None:
        assets = [a for a in assets if tag in a.tags]
    return assets


def require_asset(session: Session, asset_id: str) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise InputError(
            "no such asset", subject=asset_id, hint="see `tutela asset list` or add it first"
        )
    return asset


def get_asset(ws: Workspace, asset_id: str) -> AssetDetail:
    with ws.reader() as session:
        asset = require_asset(session, asset_id)
        versions = session.execute(
            select(Version).where(Version.asset_id == asset_id).order_by(Version.created_at)
        ).scalars()
        counts = session.execute(
            select(Evidence.kind, func.count())
            .where(Evidence.asset_id == asset_id)
            .group_by(Evidence.kind)
        ).all()
        return AssetDetail(
            asset=_asset_out(asset),
            versions=[_version_out(v) for v in versions],
            evidence_counts={str(kind.value): int(n) for kind, n in counts},
        )


def ensure_version(
    tx: Transaction,
    asset_id: str,
    digest: str,
    *,
    location: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Version:
    """The version of ``asset_id`` named ``digest``, created (and recorded) if new."""
    parse_digest(digest)
    require_asset(tx.session, asset_id)
    version = tx.session.execute(
        select(Version).where(Version.asset_id == asset_id, Version.digest == digest)
    ).scalar_one_or_none()
    if version is not None:
        return version
    version = Version(
        id=str(uuid.uuid4()),
        asset_id=asset_id,
        digest=digest,
        location=location,
        meta=dict(metadata or {}),
        created_at=_now(),
    )
    tx.session.add(version)
    tx.session.flush()
    tx.record("version.add", f"{asset_id}@{digest}", _version_out(version).model_dump(mode="json"))
    return version


def add_version(
    ws: Workspace,
    asset_id: str,
    digest: str,
    *,
    location: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> VersionOut:
    with ws.transaction(actor) as tx:
        return _version_out(
            ensure_version(tx, asset_id, digest, location=location, metadata=metadata)
        )
