"""Scan facts: what `tutela scan` found in the version under review and what it is built on.

The version itself and every artifact version it depends on, derives from or deploys
(one hop) are looked at; for each, its newest scan evidence recorded by ``ctx.at``.
A finding counts as open unless a finding waiver for its fingerprint is active at
``ctx.at``, so a waiver's expiry shows up when the gate is re-run after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.waivers import WaiverOut, active_waivers
from tutela.facts.common import (
    SEVERITIES,
    age_days,
    as_utc,
    at_or_above,
    digest_of,
    evidence_as_of,
    linked,
    recorded_by,
    same_content,
    severity_rank,
)
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.store.models import Evidence, EvidenceKind, LinkKind, Version

__all__ = ["ScanFacts"]

# Artifacts whose bytes end up in the version under review (a deployment runs its model).
_ARTIFACT_LINKS = frozenset({LinkKind.DEPENDS_ON, LinkKind.DERIVED_FROM, LinkKind.DEPLOYED_AS})
_INCONCLUSIVE = frozenset({"inconclusive", "error"})


def _is_scan(evidence: Evidence) -> bool:
    # data checks record kind "scan" too, under their own producer
    return evidence.producer == "scan" or evidence.producer.startswith("scan.")


def _finding_waivers(session: Session, at: datetime) -> list[WaiverOut]:
    """Finding waivers that count at ``at``. One recorded after ``at`` does not: re-running
    a gate as of a past moment gives the answer it gave then."""
    return [
        w for w in active_waivers(session, at=at, scope="finding") if recorded_by(w.created_at, at)
    ]


@dataclass(frozen=True)
class _Tally:
    open: list[str]  # severity labels of open findings
    waived: int
    inconclusive: bool


def _tally(evidence: Iterable[Evidence], waivers: list[WaiverOut]) -> _Tally:
    open_: list[str] = []
    waived = 0
    inconclusive = False
    for ev in evidence:
        payload: dict[str, Any] = ev.payload or {}
        if payload.get("verdict") in _INCONCLUSIVE or payload.get("inconclusive"):
            inconclusive = True
        applicable = {w.target for w in waivers if w.asset_id is None or w.asset_id == ev.asset_id}
        for finding in payload.get("findings") or []:
            if finding.get("fingerprint") in applicable:
                waived += 1
            else:
                open_.append(str(finding.get("severity") or "info"))
    return _Tally(open_, waived, inconclusive)


def _stale_scan(session: Session, ctx: FactContext, version: Version) -> Evidence | None:
    """The newest scan of an older version of the same asset, when there is one."""
    older = [
        v.id
        for v in session.execute(select(Version).where(Version.asset_id == version.asset_id))
        .scalars()
        .all()
        if v.id != version.id and as_utc(v.created_at) <= as_utc(version.created_at)
    ]
    found = [
        e
        for e in evidence_as_of(session, ctx.at, kind=EvidenceKind.SCAN, version_ids=older)
        if _is_scan(e)
    ]
    return found[0] if found else None


class ScanFacts:
    id: ClassVar[str] = "facts.scan"
    namespace: ClassVar[str] = "scan"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("scanned", "bool", "The version under review has scan evidence."),
        FactSpec(
            "max_severity",
            "string",
            "Worst open (not waived) finding over the version and its artifacts: "
            + "/".join(SEVERITIES)
            + ".",
        ),
        FactSpec("max_severity_rank", "int", "max_severity as 0 (none) .. 5 (critical)."),
        FactSpec("open_findings", "int", "Findings not covered by an active waiver."),
        FactSpec(
            "findings_at_or_above",
            "map",
            "Open findings at or above each severity, e.g. findings_at_or_above.high.",
            value_type="int",
        ),
        FactSpec("waived_findings", "int", "Findings covered by a waiver active at the time."),
        FactSpec("inconclusive", "bool", "Part of some artifact could not be inspected."),
        FactSpec("last_scan_at", "timestamp", "When the version under review was last scanned."),
        FactSpec(
            "age_days", "double", "Days from the last scan to the evaluation time.", unit="days"
        ),
        FactSpec("artifacts", "list", "Asset ids whose scan evidence was used."),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        if ctx.version is None:
            return {"scanned": Fact(False, note="the asset has no version to scan")}
        session = ctx.session
        here = ctx.version.id
        related = [other for _, other in linked(session, [here], "upstream", _ARTIFACT_LINKS)]
        related += sorted(same_content(session, [here, *related]))
        # A twin (same bytes under another asset) scanned counts as this version scanned.
        scans = [
            e
            for e in evidence_as_of(
                session, ctx.at, kind=EvidenceKind.SCAN, version_ids=[here, *related]
            )
            if _is_scan(e)
        ]
        newest: dict[str, Evidence] = {}
        for ev in scans:  # newest first: a rescan supersedes earlier results
            if ev.version_id is not None:
                newest.setdefault(ev.version_id, ev)
        twins = same_content(session, [here])
        own = newest.get(here) or next((newest[v] for v in sorted(twins) if v in newest), None)
        stale: Evidence | None = None
        note: str | None = None
        if own is None:
            version = session.get(Version, here)
            stale = _stale_scan(session, ctx, version) if version is not None else None
            if stale is not None:
                digest = digest_of(session, stale.version_id) or "?"
                note = f"last scanned version {digest} is older"
            else:
                note = "the version under review has no scan evidence"
        used = [e for e in ([own] if own else [stale] if stale else []) if e is not None]
        used += [newest[v] for v in related if v in newest]
        ids = tuple(e.id for e in used)
        is_stale = own is None and stale is not None
        facts: dict[str, Fact] = {
            "scanned": Fact(own is not None, (own.id,) if own else ids, is_stale, note)
        }
        if not used:
            return facts  # nothing scanned at all: severity facts are unknown, not "none"
        tally = _tally(used, _finding_waivers(session, ctx.at))
        worst = max((severity_rank(s) for s in tally.open), default=0)

        def fact(value: Any) -> Fact:
            return Fact(value, ids, is_stale, note)

        facts |= {
            "max_severity": fact(SEVERITIES[worst]),
            "max_severity_rank": fact(worst),
            "open_findings": fact(len(tally.open)),
            "findings_at_or_above": fact(at_or_above(tally.open)),
            "waived_findings": fact(tally.waived),
            "inconclusive": fact(tally.inconclusive),
            "artifacts": fact(sorted({e.asset_id for e in used})),
        }
        latest = own or stale
        if latest is not None:
            when = as_utc(latest.created_at)
            age = round(age_days(ctx.at, when), 6)
            facts["last_scan_at"] = Fact(when, (latest.id,), is_stale, note)
            facts["age_days"] = Fact(age, (latest.id,), is_stale, note)
        return facts
