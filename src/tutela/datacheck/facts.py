"""Data facts: what `tutela data check` found in the datasets a version was trained on.

Each training dataset version (a ``trained_on`` link from the version under review)
counts as checked when it has data-check evidence recorded by ``ctx.at``; its newest
such evidence supplies the findings.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tutela.facts.common import (
    SEVERITIES,
    evidence_as_of,
    linked,
    same_content,
    severity_rank,
    versions_by_id,
)
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.store.models import Evidence, EvidenceKind, LinkKind

__all__ = ["DataFacts"]

# tutela.datacheck.service.PRODUCER, not imported: it pulls numpy into every gate.
PRODUCER = "datacheck"


class DataFacts:
    id: ClassVar[str] = "facts.data"
    namespace: ClassVar[str] = "data"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec(
            "checked",
            "bool",
            "At least one training dataset is linked and every one has data-check evidence.",
        ),
        FactSpec(
            "max_severity",
            "string",
            "Worst data-check finding over the checked training datasets: "
            + "/".join(SEVERITIES)
            + ".",
        ),
        FactSpec("max_severity_rank", "int", "max_severity as 0 (none) .. 5 (critical)."),
        FactSpec("findings", "int", "Data-check findings over the checked training datasets."),
        FactSpec("datasets", "list", "Dataset asset ids the version was trained on."),
        FactSpec("unchecked", "list", "Training dataset asset ids without data-check evidence."),
    )

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        if ctx.version is None:
            return {"checked": Fact(False, note="the asset has no version")}
        session = ctx.session
        trained = [
            o for _, o in linked(session, [ctx.version.id], "upstream", {LinkKind.TRAINED_ON})
        ]
        versions = versions_by_id(session, trained)
        # The same bytes registered under another asset (`tutela data check FILE` names
        # the dataset after the file) were checked too: a digest names the content.
        twins = {v: same_content(session, [v]) for v in trained}
        looked_at = [*trained, *(t for group in twins.values() for t in group)]
        by_version: dict[str, Evidence] = {}
        for ev in evidence_as_of(session, ctx.at, kind=EvidenceKind.SCAN, version_ids=looked_at):
            if ev.producer == PRODUCER and ev.version_id is not None:
                by_version.setdefault(ev.version_id, ev)  # newest first
        newest: dict[str, Evidence] = {}
        for v in trained:
            candidates = [by_version[x] for x in (v, *sorted(twins[v])) if x in by_version]
            if candidates:
                newest[v] = max(candidates, key=lambda e: e.created_at)
        datasets = sorted({versions[v].asset_id for v in trained if v in versions})
        unchecked = sorted({versions[v].asset_id for v in trained if v not in newest})
        used = [newest[v] for v in trained if v in newest]
        ids = tuple(e.id for e in used)
        labels: list[str] = []
        for ev in used:
            payload: dict[str, Any] = ev.payload or {}
            labels += [str(f.get("severity") or "info") for f in payload.get("findings") or []]
        worst = max((severity_rank(s) for s in labels), default=0)
        note: str | None = None
        if not trained:
            note = "no training dataset is linked to the version"
        elif unchecked:
            note = "not checked: " + ", ".join(unchecked)
        facts = {
            "checked": Fact(bool(trained) and not unchecked, ids, note=note),
            "datasets": Fact(datasets, ids, note=note),
            "unchecked": Fact(unchecked, ids, note=note),
        }
        if used:  # with no evidence at all, severities are unknown rather than "none"
            facts |= {
                "max_severity": Fact(SEVERITIES[worst], ids, note=note),
                "max_severity_rank": Fact(worst, ids, note=note),
                "findings": Fact(len(labels), ids, note=note),
            }
        return facts
