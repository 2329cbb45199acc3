"""Lineage facts: is it known what the version under review was made from, down to the raw
data, and by which runs.

The walk follows provenance links upstream, as ``tutela lineage show`` does, but only
those that say what a version was built from: ``trained_on``, ``derived_from``,
``depends_on`` and ``deployed_as`` (a deployment is built from its model). Evaluation
sets and called services are not where a version came from. The lineage is complete
when every path ends at a raw source: a dataset version with nothing further upstream
that is a file, a folder or a named external dataset (an in-memory table with no
recorded origin is a gap), or code/environment reached through ``depends_on``. Any
other dead end (a base model with no recorded upstream), a run that did not succeed
or a walk cut short is a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.facts.common import evidence_as_of, linked, versions_by_id
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.lineage.graph import MAX_NODES
from tutela.store.models import (
    AssetKind,
    EvidenceKind,
    Link,
    LinkKind,
    Run,
    RunStatus,
    Version,
)

__all__ = ["VERIFY_PRODUCER", "LineageFacts"]

_PROVENANCE = frozenset(
    {LinkKind.TRAINED_ON, LinkKind.DERIVED_FROM, LinkKind.DEPENDS_ON, LinkKind.DEPLOYED_AS}
)
# Assets that are sources by nature when nothing is recorded upstream of them.
_SOURCE_KINDS = frozenset({AssetKind.DATASET, AssetKind.CODE, AssetKind.ENVIRONMENT})
# Evidence a recorded `tutela lineage verify` leaves (summary {"ok": bool}); read if present.
VERIFY_PRODUCER = "lineage.verify"


def _kind(asset_id: str) -> str:
    return asset_id.partition(":")[0]


def _ref(version: Version) -> str:
    return f"{version.asset_id}@{version.digest[:19]}"


class _Walk:
    """The upstream provenance graph of one version, breadth first, bounded."""

    def __init__(self, session: Session, root: str) -> None:
        self.depth: dict[str, int] = {root: 0}
        self.edges: list[Link] = []
        self.parents: dict[str, list[str]] = {}
        self.truncated = False
        frontier, level = [root], 0
        while frontier:
            level += 1
            nxt: list[str] = []
            for link, other in linked(session, frontier, "upstream", _PROVENANCE):
                self.edges.append(link)
                dependent = (
                    link.dst_version_id if other == link.src_version_id else link.src_version_id
                )
                self.parents.setdefault(dependent, []).append(other)
                if other in self.depth:
                    continue
                if len(self.depth) >= MAX_NODES:
                    self.truncated = True
                    continue
                self.depth[other] = level
                nxt.append(other)
            frontier = nxt
        self.versions = versions_by_id(session, self.depth)

    def leaves(self) -> list[str]:
        return sorted(v for v in self.depth if not self.parents.get(v))

    def run_ids(self) -> set[str]:
        ids = {link.run_id for link in self.edges if link.run_id}
        for version in self.versions.values():
            produced = (version.meta or {}).get("produced_by")
            if produced:
                ids.add(str(produced))
        return ids


def _leaf_gap(version: Version, reached_by: Iterable[LinkKind]) -> str | None:
    kind = _kind(version.asset_id)
    form = (version.meta or {}).get("form")
    if kind == AssetKind.DATASET.value:
        if form == "table":
            return f"{_ref(version)} is an in-memory table with no recorded origin"
        return None
    if kind in {k.value for k in _SOURCE_KINDS} and LinkKind.DEPENDS_ON in set(reached_by):
        return None
    return f"{_ref(version)} has no recorded upstream"


def _run_gaps(session: Session, run_ids: set[str]) -> list[str]:
    if not run_ids:
        return []
    runs = {r.id: r for r in session.execute(select(Run).where(Run.id.in_(run_ids))).scalars()}
    gaps = []
    for rid in sorted(run_ids):
        run = runs.get(rid)
        if run is None:
            gaps.append(f"run {rid} is not recorded")
        elif run.status is not RunStatus.SUCCEEDED:
            gaps.append(f"run {run.name} ({rid}) is {run.status.value}")
    return gaps


class LineageFacts:
    id: ClassVar[str] = "facts.lineage"
    namespace: ClassVar[str] = "lineage"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("known", "bool", "The version has at least one upstream provenance link."),
        FactSpec(
            "complete",
            "bool",
            "Every upstream path ends at a registered raw source, every run succeeded.",
        ),
        FactSpec("sources", "list", "Dataset asset ids at the ends of the upstream paths."),
        FactSpec("gaps", "list", "What is missing for the lineage to be complete."),
        FactSpec("runs", "int", "Runs that produced the versions in the upstream graph."),
        FactSpec("depth", "int", "Longest upstream path, in links."),
        FactSpec(
            "verified",
            "bool",
            "A recorded lineage verification found every file as recorded "
            "(present only when such evidence exists).",
        ),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        if ctx.version is None:
            return {"known": Fact(False, note="the asset has no version")}
        session = ctx.session
        walk = _Walk(session, ctx.version.id)
        reached: dict[str, list[LinkKind]] = {}
        for link in walk.edges:
            for end in (link.src_version_id, link.dst_version_id):
                reached.setdefault(end, []).append(link.kind)
        known = bool(walk.edges)
        gaps: list[str] = []
        sources: set[str] = set()
        if not known:
            gaps.append("no upstream lineage is recorded for the version")
        else:
            for vid in walk.leaves():
                version = walk.versions.get(vid)
                if version is None:
                    gaps.append(f"version {vid} is not registered")
                    continue
                gap = _leaf_gap(version, reached.get(vid, []))
                if gap is not None:
                    gaps.append(gap)
                elif _kind(version.asset_id) == AssetKind.DATASET.value:
                    sources.add(version.asset_id)
        run_ids = walk.run_ids()
        gaps += _run_gaps(session, run_ids)
        if walk.truncated:
            gaps.append(f"the upstream graph has more than {MAX_NODES} versions")
        note = "; ".join(gaps) if gaps else None
        facts: dict[str, Fact] = {
            "known": Fact(known, note=None if known else gaps[0]),
            "complete": Fact(not gaps, note=note),
            "sources": Fact(sorted(sources)),
            "gaps": Fact(gaps),
            "runs": Fact(len(run_ids)),
            "depth": Fact(max(walk.depth.values())),
        }
        checks = [
            e
            for e in evidence_as_of(
                session, ctx.at, kind=EvidenceKind.SCAN, version_ids=[ctx.version.id]
            )
            if e.producer == VERIFY_PRODUCER
        ]
        if checks:
            summary: dict[str, Any] = checks[0].summary or {}
            facts["verified"] = Fact(bool(summary.get("ok")), (checks[0].id,))
        return facts
