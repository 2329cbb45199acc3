"""Which evidence speaks about the version under review, for evaluation and monitoring facts.

A model is evaluated or watched either directly (evidence on ``model:X``) or through the
service or deployment it is exposed as, so the versions that count are the one under
review plus those linked to it by ``deployed_as`` (one hop, either direction). Evidence on
those versions, or version-less evidence on their assets, is *current*; evidence on any
other version of the same assets is *older*, and a fact derived from it is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tutela.facts.common import age_days, as_utc, digest_of, recorded_by, same_content
from tutela.facts.interface import Fact, FactContext
from tutela.store.models import Evidence, EvidenceKind, Link, LinkKind, Version

__all__ = ["Scope", "Seen", "older_note", "payloads", "scope_of", "seen", "timing"]


@dataclass(frozen=True, slots=True)
class Scope:
    versions: frozenset[str]  # the version under review and its deployed_as neighbours
    assets: frozenset[str]  # the assets those versions belong to (always the asset itself)
    related: frozenset[str]  # plus assets deployed_as-linked to any version of the asset

    def is_current(self, asset_id: str, version_id: str | None) -> bool:
        if version_id is None:
            return asset_id in self.assets
        return version_id in self.versions


def _deployed_as(session: Session, version_ids: Iterable[str]) -> set[str]:
    """Versions one ``deployed_as`` hop away, either direction: which end depends on which
    does not matter here, only that both are the same model at work."""
    ids = list(set(version_ids))
    if not ids:
        return set()
    rows = session.execute(
        select(Link.src_version_id, Link.dst_version_id).where(
            Link.kind == LinkKind.DEPLOYED_AS,
            or_(Link.src_version_id.in_(ids), Link.dst_version_id.in_(ids)),
        )
    ).all()
    return {dst if src in ids else src for src, dst in rows}


def _assets_of(session: Session, version_ids: Iterable[str]) -> set[str]:
    ids = list(set(version_ids))
    if not ids:
        return set()
    return set(session.execute(select(Version.asset_id).where(Version.id.in_(ids))).scalars())


def scope_of(ctx: FactContext) -> Scope:
    session = ctx.session
    mine = {ctx.version.id} if ctx.version is not None else set()
    versions = mine | _deployed_as(session, mine)
    versions |= same_content(session, versions)
    every = set(
        session.execute(select(Version.id).where(Version.asset_id == ctx.asset.id)).scalars()
    )
    assets = {ctx.asset.id} | _assets_of(session, versions)
    related = assets | _assets_of(session, _deployed_as(session, every))
    return Scope(frozenset(versions), frozenset(assets), frozenset(related))


@dataclass(frozen=True, slots=True)
class Seen:
    """One evidence row without its payload (payloads are read only for the rows used)."""

    id: str
    asset_id: str
    version_id: str | None
    producer: str
    at: datetime
    summary: dict[str, Any]
    current: bool


def seen(
    ctx: FactContext,
    kind: EvidenceKind,
    producers: Iterable[str],
    scope: Scope | None = None,
) -> list[Seen]:
    """Evidence of ``kind`` by ``producers`` on the scope's assets (the scope of the version
    under review when none is given), recorded no later than ``ctx.at``, newest first."""
    area = scope_of(ctx) if scope is None else scope
    rows = ctx.session.execute(
        select(
            Evidence.id,
            Evidence.asset_id,
            Evidence.version_id,
            Evidence.producer,
            Evidence.created_at,
            Evidence.summary,
        ).where(
            Evidence.asset_id.in_(sorted(area.related)),
            Evidence.kind == kind,
            Evidence.producer.in_(list(producers)),
        )
    ).all()
    out = [
        Seen(i, a, v, p, as_utc(c), dict(s or {}), area.is_current(a, v))
        for i, a, v, p, c, s in rows
        if recorded_by(c, ctx.at)
    ]
    return sorted(out, key=lambda s: (s.at, s.id), reverse=True)


def payloads(session: Session, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Evidence.id, Evidence.payload).where(Evidence.id.in_(wanted)))
    return {i: dict(p or {}) for i, p in rows.all()}


def timing(
    ctx: FactContext, newest: Seen, name: str, *, stale: bool = False, note: str | None = None
) -> dict[str, Fact]:
    """``name`` (when the newest evidence was recorded) and ``age_days`` (days from it to
    the evaluation moment), both citing it."""
    ids = (newest.id,)
    return {
        name: Fact(newest.at, ids, stale, note),
        "age_days": Fact(age_days(ctx.at, newest.at), ids, stale, note),
    }


def older_note(ctx: FactContext, newest: Seen, what: str) -> str:
    """Why facts derived from ``newest``, evidence about another version, are stale."""
    digest = digest_of(ctx.session, newest.version_id)
    return (
        f"{what} exist only for another version ({digest or 'unversioned'}); "
        "the version under review was not evaluated"
    )
