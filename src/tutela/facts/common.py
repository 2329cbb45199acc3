"""Small pieces every built-in fact provider needs: times, severities, evidence lookups."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.links import LinkDirection, linked_versions
from tutela.store.models import AssetKind, Evidence, EvidenceKind, Link, LinkKind, Version
from tutela.utc import as_utc

__all__ = [
    "SEVERITIES",
    "age_days",
    "as_utc",
    "at_or_above",
    "digest_of",
    "evidence_as_of",
    "linked",
    "recorded_by",
    "same_content",
    "services_called",
    "severity_rank",
    "versions_by_id",
]

# Ranked so a rule can compare: 0 is "nothing found", 5 the worst.
SEVERITIES: tuple[str, ...] = ("none", "info", "low", "medium", "high", "critical")


def recorded_by(moment: datetime, at: datetime) -> bool:
    """Whether what was recorded at ``moment`` counts at ``at``. Nothing recorded later
    does, so a gate re-run as of a past moment gets the answer it would have got then."""
    return as_utc(moment) <= as_utc(at)


def age_days(at: datetime, moment: datetime) -> float:
    """Days from ``moment`` to ``at``."""
    return (as_utc(at) - as_utc(moment)).total_seconds() / 86400.0


def severity_rank(label: str | None) -> int:
    """0 for none (or an unknown label, which no producer writes), up to 5 for critical."""
    if not label:
        return 0
    text = label.strip().lower()
    return SEVERITIES.index(text) if text in SEVERITIES else 0


def at_or_above(labels: Iterable[str]) -> dict[str, int]:
    """Count of findings at or above each severity: ``{"high": 2, "critical": 1, ...}``."""
    ranks = [severity_rank(label) for label in labels]
    return {name: sum(1 for r in ranks if r >= i) for i, name in enumerate(SEVERITIES) if i > 0}


def linked(
    session: Session,
    version_ids: Collection[str],
    direction: LinkDirection,
    kinds: Collection[LinkKind],
) -> list[tuple[Link, str]]:
    """One hop of links of the given kinds, each with the version at its other end."""
    return [
        (link, other)
        for link, other in linked_versions(session, version_ids, direction)
        if link.kind in kinds
    ]


def same_content(session: Session, version_ids: Collection[str]) -> set[str]:
    """Versions of any asset whose digest equals one of these versions' digests.

    Versions are named by content: a scan of ``models/x.pkl`` registered under the file's
    own asset and the model a training run registered are the same bytes, so evidence
    about one is evidence about the other.
    """
    ids = list(set(version_ids))
    if not ids:
        return set()
    digests = select(Version.digest).where(Version.id.in_(ids)).scalar_subquery()
    found = session.execute(select(Version.id).where(Version.digest.in_(digests))).scalars()
    return set(found) - set(ids)


def versions_by_id(session: Session, ids: Iterable[str]) -> dict[str, Version]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Version).where(Version.id.in_(wanted))).scalars()
    return {v.id: v for v in rows}


def digest_of(session: Session, version_id: str | None) -> str:
    """The version's digest, "" when there is no such version."""
    version = session.get(Version, version_id) if version_id else None
    return version.digest if version is not None else ""


def services_called(session: Session, version_ids: Collection[str]) -> set[str]:
    """Service asset ids the given versions ``calls`` (one hop)."""
    targets = [other for _, other in linked(session, version_ids, "upstream", {LinkKind.CALLS})]
    prefix = AssetKind.SERVICE.value + ":"
    return {
        v.asset_id
        for v in versions_by_id(session, targets).values()
        if v.asset_id.startswith(prefix)
    }


def evidence_as_of(
    session: Session,
    at: datetime,
    *,
    kind: EvidenceKind,
    version_ids: Collection[str] | None = None,
    asset_ids: Collection[str] | None = None,
) -> list[Evidence]:
    """Evidence recorded by ``at`` (see :func:`recorded_by`), newest first."""
    query = select(Evidence).where(Evidence.kind == kind)
    if version_ids is not None:
        if not version_ids:
            return []
        query = query.where(Evidence.version_id.in_(list(version_ids)))
    if asset_ids is not None:
        if not asset_ids:
            return []
        query = query.where(Evidence.asset_id.in_(list(asset_ids)))
    rows = session.execute(query.order_by(Evidence.created_at.desc(), Evidence.id)).scalars()
    return [e for e in rows if recorded_by(e.created_at, at)]
