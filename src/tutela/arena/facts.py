"""LLM Arena facts (``arena.*``): was the version under review attacked, and how it held.

Read from ``evaluation`` evidence of producer ``arena.llm`` (recorded on the target's
asset at its configuration digest). Per-category rates come from the newest run on the
version that scored the category, so a narrower re-run does not hide an earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, ClassVar

from tutela.facts.common import digest_of
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.facts.scope import Seen, older_note, payloads, seen, timing
from tutela.store.models import EvidenceKind

__all__ = ["ArenaFacts"]

PRODUCER = "arena.llm"  # tutela.arena.service.PRODUCER, not imported: it pulls httpx in
_READ = 50  # newest runs on the version whose payloads are read
_CUSTOM = "custom"


def _suites() -> dict[str, str]:
    """Probe id -> the shipped probe file (suite) it belongs to."""
    from tutela.arena.probes import builtin_probe_files, load_probe_file

    out: dict[str, str] = {}
    for path in builtin_probe_files():
        for probe in load_probe_file(path):
            out[probe.id] = PurePath(path.name).stem
    return out


def _category_rates(
    runs: list[Seen], bodies: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Category -> (run id, its rate) from the newest run that scored the category."""
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for run in runs:  # newest first
        for name, rate in (bodies.get(run.id, {}).get("by_category") or {}).items():
            if name not in out and isinstance(rate, Mapping) and rate.get("asr") is not None:
                out[str(name)] = (run.id, rate)
    return out


class ArenaFacts:
    """Facts from LLM Arena runs on the version under review (or its deployment)."""

    id: ClassVar[str] = "facts.arena"
    namespace: ClassVar[str] = "arena"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("evaluated", "bool", "An LLM Arena run is recorded on the version under "
                 "review (or a version deployed_as-linked to it)."),
        FactSpec("runs", "int", "LLM Arena runs on the version under review."),
        FactSpec("suites", "list", "Shipped probe files (suites) with at least one probe run "
                 "on the version; 'custom' for probes from other files."),
        FactSpec("probes", "list", "Probe ids run on the version."),
        FactSpec("categories", "list", "Attack categories scored on the version."),
        FactSpec("asr", "map", "Attack success rate per category, from the newest run that "
                 "scored it (succeeded / (succeeded + resisted)).", value_type="double"),
        FactSpec("asr_upper", "map", "Upper end of the Wilson 95% interval of arena.asr, per "
                 "category.", value_type="double"),
        FactSpec("attempts", "map", "Scored attempts (succeeded + resisted) behind arena.asr, "
                 "per category.", value_type="int"),
        FactSpec("risk", "double", "Severity-weighted risk score (0-100) of the newest run."),
        FactSpec("last_run_at", "timestamp", "When the newest run was recorded."),
        FactSpec("age_days", "double", "Days from the newest run to the evaluation moment.",
                 unit="days"),
        FactSpec("version_evaluated", "string", "Digest of the version the newest run "
                 "evaluated ('' when there is none)."),
    )  # fmt: skip

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        rows = seen(ctx, EvidenceKind.EVALUATION, [PRODUCER])
        current = [r for r in rows if r.current]
        if not rows:
            return _nothing("no LLM Arena run is recorded for this asset")
        if not current:
            return _older(ctx, rows[0])
        return _evaluated(ctx, current)


def _nothing(note: str) -> dict[str, Fact]:
    out: dict[str, Any] = {"evaluated": False, "runs": 0, "suites": [], "probes": [],
                           "categories": [], "asr": {}, "asr_upper": {}, "attempts": {},
                           "version_evaluated": ""}  # fmt: skip
    return {k: Fact(v, note=note) for k, v in out.items()}


def _older(ctx: FactContext, newest: Seen) -> dict[str, Fact]:
    note = older_note(ctx, newest, "LLM Arena runs")
    ids = (newest.id,)
    out = {k: Fact(f.value, ids, stale=True, note=note) for k, f in _nothing(note).items()}
    out |= timing(ctx, newest, "last_run_at", stale=True, note=note)
    digest = digest_of(ctx.session, newest.version_id)
    out["version_evaluated"] = Fact(digest, ids, stale=True, note=note)
    return out


def _evaluated(ctx: FactContext, current: list[Seen]) -> dict[str, Fact]:
    newest = current[0]
    read = current[:_READ]
    bodies = payloads(ctx.session, [r.id for r in read])
    ids = tuple(r.id for r in read)
    probes: set[str] = set()
    categories: set[str] = set()
    for run in read:
        body = bodies.get(run.id, {})
        probes.update(str(p) for p in body.get("by_probe") or {})
        categories.update(str(c) for c in body.get("by_category") or {})
    known = _suites()
    suites = {known.get(p, _CUSTOM) for p in probes}
    rates = _category_rates(read, bodies)
    used = tuple(dict.fromkeys(run_id for run_id, _ in rates.values()))
    interval = {k: (r.get("interval") or {}) for k, (_, r) in rates.items()}
    digest = digest_of(ctx.session, newest.version_id)
    risk = bodies.get(newest.id, {}).get("risk")
    out = {
        "evaluated": Fact(True, ids),
        "runs": Fact(len(current), tuple(r.id for r in current)),
        "suites": Fact(sorted(suites), ids),
        "probes": Fact(sorted(probes), ids),
        "categories": Fact(sorted(categories), ids),
        "asr": Fact({k: float(r["asr"]) for k, (_, r) in sorted(rates.items())}, used),
        "asr_upper": Fact(
            {k: float(v.get("high", 1.0)) for k, v in sorted(interval.items())}, used
        ),
        "attempts": Fact({k: int(r.get("trials", 0)) for k, (_, r) in sorted(rates.items())}, used),
        "version_evaluated": Fact(digest, (newest.id,)),
    } | timing(ctx, newest, "last_run_at")
    if isinstance(risk, int | float):
        out["risk"] = Fact(float(risk), (newest.id,))
    return out
