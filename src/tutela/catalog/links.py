"""Lineage links between versions. Every new link is a ledger entry.

A link reads ``src KIND dst``: ``model@v trained_on dataset@v``. For every kind except
``deployed_as`` the source depends on the destination; ``model@v deployed_as
deployment@v`` reads the other way (the deployment depends on the model).
:func:`linked_versions` (and its shorthands :func:`upstream_of`, :func:`downstream_of`)
hides that difference from callers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tutela.catalog.schemas import LinkOut
from tutela.errors import InputError
from tutela.store.models import Link, LinkKind, Run, Version
from tutela.workspace import Transaction

__all__ = [
    "LinkDirection",
    "add_link_in",
    "depends_on_source",
    "downstream_of",
    "link_out",
    "linked_versions",
    "upstream_of",
]

LinkDirection = Literal["upstream", "downstream"]


def depends_on_source(kind: LinkKind) -> bool:
    """True when the destination depends on the source (only ``deployed_as``)."""
    return kind is LinkKind.DEPLOYED_AS


def link_out(link: Link) -> LinkOut:
    created = link.created_at if link.created_at.tzinfo else link.created_at.replace(tzinfo=UTC)
    return LinkOut(
        id=link.id,
        kind=link.kind,
        src_version_id=link.src_version_id,
        dst_version_id=link.dst_version_id,
        run_id=link.run_id,
        created_at=created,
    )


def add_link_in(
    tx: Transaction,
    kind: LinkKind | str,
    src_version_id: str,
    dst_version_id: str,
    *,
    run_id: str | None = None,
) -> LinkOut:
    """The link ``src KIND dst`` made by ``run_id``, created (and recorded) if new."""
    try:
        link_kind = LinkKind(kind)
    except ValueError:
        raise InputError(
            "unknown link kind", found=str(kind), expected=", ".join(k.value for k in LinkKind)
        ) from None
    if src_version_id == dst_version_id:
        raise InputError("a version cannot be linked to itself", subject=src_version_id)
    versions = {
        v.id: v
        for v in tx.session.execute(
            select(Version).where(Version.id.in_([src_version_id, dst_version_id]))
        ).scalars()
    }
    for vid in (src_version_id, dst_version_id):
        if vid not in versions:
            raise InputError("no such version", subject=vid)
    if run_id is not None and tx.session.get(Run, run_id) is None:
        raise InputError("no such run", subject=f"run:{run_id}")
    query = select(Link).where(
        Link.kind == link_kind,
        Link.src_version_id == src_version_id,
        Link.dst_version_id == dst_version_id,
        Link.run_id.is_(None) if run_id is None else Link.run_id == run_id,
    )
    existing = tx.session.execute(query).scalar_one_or_none()
    if existing is not None:
        return link_out(existing)
    link = Link(
        id=str(uuid.uuid4()),
        kind=link_kind,
        src_version_id=src_version_id,
        dst_version_id=dst_version_id,
        run_id=run_id,
        created_at=datetime.now(UTC),
    )
    tx.session.add(link)
    tx.session.flush()
    out = link_out(link)
    src, dst = versions[src_version_id], versions[dst_version_id]
    tx.record(
        "link.add",
        f"{src.asset_id}@{src.digest}",
        {
            **out.model_dump(mode="json"),
            "src": f"{src.asset_id}@{src.digest}",
            "dst": f"{dst.asset_id}@{dst.digest}",
        },
    )
    return out


def linked_versions(
    session: Session, version_ids: Iterable[str], direction: LinkDirection
) -> list[tuple[Link, str]]:
    """Links by which the given versions depend on others (``upstream``) or others depend on
    them (``downstream``), each with the other version's id."""
    ids = list(set(version_ids))
    if not ids:
        return []
    upstream = direction == "upstream"
    # An ordinary link's dependent is its source; deployed_as flips the ends.
    near, far = (
        (Link.src_version_id, Link.dst_version_id)
        if upstream
        else (Link.dst_version_id, Link.src_version_id)
    )
    query = select(Link).where(
        or_(
            and_(near.in_(ids), Link.kind != LinkKind.DEPLOYED_AS),
            and_(far.in_(ids), Link.kind == LinkKind.DEPLOYED_AS),
        )
    )
    out: list[tuple[Link, str]] = []
    for link in session.execute(query).scalars():
        to_destination = upstream != depends_on_source(link.kind)
        other = link.dst_version_id if to_destination else link.src_version_id
        out.append((link, other))
    return out


def upstream_of(session: Session, version_ids: Iterable[str]) -> list[tuple[Link, str]]:
    """Links by which the given versions depend on others, with the other version's id."""
    return linked_versions(session, version_ids, "upstream")


def downstream_of(session: Session, version_ids: Iterable[str]) -> list[tuple[Link, str]]:
    """Links by which others depend on the given versions, with the other version's id."""
    return linked_versions(session, version_ids, "downstream")
