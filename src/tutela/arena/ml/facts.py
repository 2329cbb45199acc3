"""Classifier Arena facts (``arena_ml.*``): evasion rates, measurements and the trust gate.

Read from ``evaluation`` evidence of producer ``arena.ml`` (recorded on the model at the
file's digest, or on ``service:…`` at an HTTP target's configuration digest). Each figure
comes from the newest run on the version that produced it; the trust facts describe the
newest run, and a trust decision revoked since then (``arena.ml.trust``) turns them off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import select

from tutela.facts.common import as_utc, recorded_by
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.facts.scope import Seen, older_note, payloads, seen, timing
from tutela.store.models import Evidence, EvidenceKind, Version

__all__ = ["MLArenaFacts"]

PRODUCER = "arena.ml"  # tutela.arena.ml.service.PRODUCER
TRUST_PRODUCER = "arena.ml.trust"  # tutela.arena.ml.trust.PRODUCER
_EVASION = "ml.evasion."
_READ = 50


def _category(measured: Mapping[str, Any]) -> str:
    found = measured.get("category")
    if isinstance(found, str) and found:
        return found
    parts = str(measured.get("id", "")).split(".")  # "ml.calibration.confidence"
    return parts[1] if len(parts) > 1 else str(measured.get("id", ""))


class _Latest:
    """Per-key values from the newest run that has each key, and which runs were used."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.used: dict[str, None] = {}

    def offer(self, key: str, value: Any, run_id: str) -> None:
        if key not in self.values and value is not None:
            self.values[key] = value
            self.used[run_id] = None

    def fact(self) -> Fact:
        return Fact(dict(sorted(self.values.items())), tuple(self.used))


class MLArenaFacts:
    """Facts from classifier Arena runs on the version under review (or its deployment)."""

    id: ClassVar[str] = "facts.arena_ml"
    namespace: ClassVar[str] = "arena_ml"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("evaluated", "bool", "A classifier Arena run is recorded on the version under "
                 "review (or a version deployed_as-linked to it)."),
        FactSpec("runs", "int", "Classifier Arena runs on the version under review."),
        FactSpec("attacks", "list", "Attack and measurement ids run on the version "
                 "(ml.evasion.boundary, ml.calibration.confidence, ...)."),
        FactSpec("evasion_rate", "map", "Evasion success rate per attack (boundary, "
                 "random_search), from the newest run with that attack.", value_type="double"),
        FactSpec("evasion_upper", "map", "Upper end of the Wilson 95% interval of "
                 "arena_ml.evasion_rate.", value_type="double"),
        FactSpec("measures", "map", "Measured figures keyed '<category>.<metric>' "
                 "(calibration.ece, membership.threshold.advantage, "
                 "fairness.<column>.demographic_parity, extraction.fidelity, "
                 "robustness.drop_noise, ...), newest run per measurement.",
                 value_type="double"),
        FactSpec("exceeded", "map", "Per measurement category: its statistic exceeded the "
                 "measurement's threshold.", value_type="bool"),
        FactSpec("trusted", "bool", "The newest run loaded the model file only after the "
                 "trust gate passed (clean scan or recorded trust), not revoked since."),
        FactSpec("trust_basis", "string", "Why the model file was admitted: 'scan', "
                 "'decision', or 'none' when no file was loaded (HTTP or in-process target)."),
        FactSpec("last_run_at", "timestamp", "When the newest run was recorded."),
        FactSpec("age_days", "double", "Days from the newest run to the evaluation moment.",
                 unit="days"),
    )  # fmt: skip

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        rows = seen(ctx, EvidenceKind.EVALUATION, [PRODUCER])
        current = [r for r in rows if r.current]
        if not rows:
            return _nothing("no classifier Arena run is recorded for this asset")
        if not current:
            return _older(ctx, rows[0])
        return _evaluated(ctx, current)


def _nothing(note: str, ids: tuple[str, ...] = (), *, stale: bool = False) -> dict[str, Fact]:
    out: dict[str, Any] = {"evaluated": False, "runs": 0, "attacks": [], "evasion_rate": {},
                           "evasion_upper": {}, "measures": {}, "exceeded": {}}  # fmt: skip
    return {k: Fact(v, ids, stale, note) for k, v in out.items()}


def _older(ctx: FactContext, newest: Seen) -> dict[str, Fact]:
    note = older_note(ctx, newest, "classifier Arena runs")
    stale = _nothing(note, (newest.id,), stale=True)
    return stale | timing(ctx, newest, "last_run_at", stale=True, note=note)


def _evaluated(ctx: FactContext, current: list[Seen]) -> dict[str, Fact]:
    newest = current[0]
    read = current[:_READ]
    bodies = payloads(ctx.session, [r.id for r in read])
    attacks: set[str] = set()
    rate, upper, measures, exceeded = _Latest(), _Latest(), _Latest(), _Latest()
    for run in read:  # newest first
        body = bodies.get(run.id, {})
        attacks.update(str(p) for p in body.get("by_probe") or {})
        for attack, found in (body.get("evasion") or {}).items():
            short = str(attack).removeprefix(_EVASION)
            rate.offer(short, _number(found.get("success_rate")), run.id)
            upper.offer(short, _number((found.get("interval") or {}).get("high")), run.id)
        for measured in body.get("measurements") or []:
            if not isinstance(measured, Mapping) or "error" in measured:
                continue
            category = _category(measured)
            exceeded.offer(category, measured.get("exceeded"), run.id)
            for metric, value in (measured.get("metrics") or {}).items():
                measures.offer(f"{category}.{metric}", _number(value), run.id)
    out = {
        "evaluated": Fact(True, tuple(r.id for r in read)),
        "runs": Fact(len(current), tuple(r.id for r in current)),
        "attacks": Fact(sorted(attacks), tuple(r.id for r in read)),
        "evasion_rate": rate.fact(),
        "evasion_upper": upper.fact(),
        "measures": measures.fact(),
        "exceeded": Fact(
            {k: bool(v) for k, v in sorted(exceeded.values.items())}, tuple(exceeded.used)
        ),
    }
    out.update(timing(ctx, newest, "last_run_at"))
    out.update(_trust(ctx, newest, bodies.get(newest.id, {})))
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _trust(ctx: FactContext, run: Seen, body: Mapping[str, Any]) -> dict[str, Fact]:
    admission = body.get("admission")
    if not isinstance(admission, Mapping) or not admission.get("basis"):
        note = f"no model file was loaded (target kind {body.get('kind', 'unknown')})"
        return {
            "trusted": Fact(False, (run.id,), note=note),
            "trust_basis": Fact("none", (run.id,), note=note),
        }
    basis = str(admission["basis"])
    ids = (run.id, *(str(e) for e in admission.get("evidence") or []))
    decision = _latest_decision(ctx, str(admission.get("digest", "")))
    if decision is not None and decision[0] != "trust":
        note = "trust in this model file was revoked after the run"
        return {
            "trusted": Fact(False, (*ids, decision[1]), note=note),
            "trust_basis": Fact(basis, ids),
        }
    return {"trusted": Fact(True, ids), "trust_basis": Fact(basis, ids)}


def _latest_decision(ctx: FactContext, digest: str) -> tuple[str, str] | None:
    """The newest trust decision on these bytes recorded by ``ctx.at``: (decision, id)."""
    if not digest:
        return None
    rows = ctx.session.execute(
        select(Evidence.id, Evidence.created_at, Evidence.payload)
        .join(Version, Evidence.version_id == Version.id)
        .where(
            Version.digest == digest,
            Evidence.kind == EvidenceKind.DECISION,
            Evidence.producer == TRUST_PRODUCER,
        )
    ).all()
    dated = [(as_utc(c), i, p) for i, c, p in rows if recorded_by(c, ctx.at)]
    if not dated:
        return None
    _, evidence_id, payload = max(dated, key=lambda d: (d[0], d[1]))
    return str((payload or {}).get("decision")), evidence_id
