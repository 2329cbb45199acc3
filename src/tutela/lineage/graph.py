"""Lineage queries: the upstream graph of a version, the downstream impact of an asset.

Both walk the links breadth first from the versions an ``ASSET[@DIGEST]`` reference
names, with a bound on the number of versions visited (a truncated graph says so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.assets import require_asset
from tutela.catalog.links import depends_on_source, downstream_of, upstream_of
from tutela.errors import InputError
from tutela.store.models import Link, LinkKind, Run, RunStatus, Version
from tutela.utc import as_utc
from tutela.workspace import Workspace

__all__ = [
    "Edge",
    "LineageGraph",
    "Node",
    "RunInfo",
    "downstream",
    "parse_ref",
    "resolve_versions",
    "upstream",
]

MAX_NODES = 10_000
Direction = Literal["upstream", "downstream"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Node(_Frozen):
    version_id: str
    asset_id: str
    asset_kind: str
    digest: str
    location: str | None
    form: str | None
    created_at: datetime
    depth: int
    metadata: dict[str, Any]


class Edge(_Frozen):
    """A stored link: ``src KIND dst`` (see catalog.links for the reading)."""

    kind: LinkKind
    src: str
    dst: str
    run_id: str | None


class RunInfo(_Frozen):
    id: str
    name: str
    status: RunStatus
    actor: str
    started_at: datetime
    ended_at: datetime | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    code_commit: str | None
    code_dirty: bool | None
    environment_digest: str | None


class LineageGraph(_Frozen):
    direction: Direction
    ref: str
    roots: list[str]
    nodes: list[Node]
    edges: list[Edge]
    runs: list[RunInfo]
    truncated: bool

    def node(self, version_id: str) -> Node:
        for node in self.nodes:
            if node.version_id == version_id:
                return node
        raise KeyError(version_id)

    def asset_ids(self) -> set[str]:
        return {n.asset_id for n in self.nodes}

    def children(self, version_id: str) -> list[tuple[Edge, str]]:
        """The next versions in the graph's direction, with the edge leading to each."""
        out: list[tuple[Edge, str]] = []
        for edge in self.edges:
            reverse = depends_on_source(edge.kind)
            dependent, dependency = (edge.dst, edge.src) if reverse else (edge.src, edge.dst)
            if self.direction == "upstream" and dependent == version_id:
                out.append((edge, dependency))
            elif self.direction == "downstream" and dependency == version_id:
                out.append((edge, dependent))
        return out


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``ASSET`` or ``ASSET@sha256:<hex>`` (a unique prefix of the hex is accepted)."""
    asset_id, sep, digest = ref.partition("@")
    if sep and not digest:
        raise InputError("nothing after '@'", subject=ref, expected="ASSET@sha256:<hex>")
    return asset_id, (digest or None)


def resolve_versions(session: Session, ref: str, *, latest_only: bool) -> list[Version]:
    asset_id, digest = parse_ref(ref)
    require_asset(session, asset_id)
    query = select(Version).where(Version.asset_id == asset_id)
    if digest is not None:
        prefix = digest if digest.startswith("sha256:") else "sha256:" + digest
        found = [v for v in session.execute(query).scalars() if v.digest.startswith(prefix)]
        if not found:
            raise InputError("no such version", subject=ref, hint="see `tutela asset show`")
        if len(found) > 1:
            raise InputError("the digest prefix is ambiguous", subject=ref)
        return found
    versions = list(
        session.execute(query.order_by(Version.created_at.desc(), Version.id)).scalars()
    )
    if not versions:
        raise InputError("the asset has no recorded version", subject=asset_id)
    return versions[:1] if latest_only else versions


def _walk(
    ws: Workspace,
    ref: str,
    direction: Direction,
    step: Callable[[Session, Iterable[str]], list[tuple[Link, str]]],
    *,
    latest_only: bool,
    max_depth: int | None,
) -> LineageGraph:
    with ws.reader() as session:
        roots = resolve_versions(session, ref, latest_only=latest_only)
        depth: dict[str, int] = {v.id: 0 for v in roots}
        edges: dict[str, Edge] = {}
        frontier = [v.id for v in roots]
        level = 0
        truncated = False
        while frontier and (max_depth is None or level < max_depth):
            level += 1
            nxt: list[str] = []
            for link, other in step(session, frontier):
                edges[link.id] = Edge(
                    kind=link.kind,
                    src=link.src_version_id,
                    dst=link.dst_version_id,
                    run_id=link.run_id,
                )
                if other not in depth:
                    if len(depth) >= MAX_NODES:
                        truncated = True
                        continue
                    depth[other] = level
                    nxt.append(other)
            frontier = nxt
        if frontier and max_depth is not None:
            truncated = truncated or bool(step(session, frontier))
        kept = [e for e in edges.values() if e.src in depth and e.dst in depth]
        versions = session.execute(select(Version).where(Version.id.in_(list(depth)))).scalars()
        nodes = sorted(
            (
                Node(
                    version_id=v.id,
                    asset_id=v.asset_id,
                    asset_kind=v.asset_id.partition(":")[0],
                    digest=v.digest,
                    location=v.location,
                    form=(v.meta or {}).get("form"),
                    created_at=as_utc(v.created_at),
                    depth=depth[v.id],
                    metadata=dict(v.meta or {}),
                )
                for v in versions
            ),
            key=lambda n: (n.depth, n.asset_id, n.digest),
        )
        run_ids = sorted(
            {e.run_id for e in kept if e.run_id}
            | {str(n.metadata["produced_by"]) for n in nodes if n.metadata.get("produced_by")}
        )
        runs = [_run_info(r) for r in _runs(session, run_ids)]
    return LineageGraph(
        direction=direction,
        ref=ref,
        roots=[v.id for v in roots],
        nodes=nodes,
        edges=sorted(kept, key=lambda e: (e.src, e.kind.value, e.dst, e.run_id or "")),
        runs=runs,
        truncated=truncated,
    )


def _runs(session: Session, run_ids: list[str]) -> list[Run]:
    if not run_ids:
        return []
    query = select(Run).where(Run.id.in_(run_ids)).order_by(Run.started_at, Run.id)
    return list(session.execute(query).scalars())


def _run_info(run: Run) -> RunInfo:
    context = run.context or {}
    code = context.get("code") or {}
    env = context.get("environment") or {}
    return RunInfo(
        id=run.id,
        name=run.name,
        status=run.status,
        actor=run.actor,
        started_at=as_utc(run.started_at),
        ended_at=as_utc(run.ended_at) if run.ended_at else None,
        params=dict(run.params or {}),
        metrics=dict(context.get("metrics") or {}),
        code_commit=code.get("commit"),
        code_dirty=code.get("dirty"),
        environment_digest=env.get("digest"),
    )


def upstream(ws: Workspace, ref: str, *, max_depth: int | None = None) -> LineageGraph:
    """Everything the version ``ref`` names (default: the asset's latest) came from."""
    return _walk(ws, ref, "upstream", upstream_of, latest_only=True, max_depth=max_depth)


def downstream(ws: Workspace, ref: str, *, max_depth: int | None = None) -> LineageGraph:
    """Everything built from ``ref`` (default: every version of the asset)."""
    return _walk(ws, ref, "downstream", downstream_of, latest_only=False, max_depth=max_depth)
