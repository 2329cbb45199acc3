"""The four questions, answered from facts for one model or the whole inventory.

1. Is the lineage of the training data known?
2. Has the model been evaluated against adversarial and misuse scenarios?
3. Can behavioural drift be detected before it reaches customers?
4. Are the third-party AI services it calls governed by the same standards?

Each answer is ``yes``, ``partly`` or ``no``, with the evidence that supports it and, when
it is not ``yes``, what is missing. Answers read facts only (never a producer), so a
third-party fact provider that adds evidence makes the answers richer without a change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tutela.catalog.assets import list_assets
from tutela.facts.collect import FactSheet, collect_facts
from tutela.store.models import AssetKind
from tutela.workspace import Workspace

__all__ = [
    "EVALUATION_MAX_AGE_DAYS",
    "MONITORING_MAX_AGE_DAYS",
    "QUESTIONS",
    "Answer",
    "ModelStatus",
    "answer_questions",
    "inventory_status",
    "model_status",
]

Verdict = Literal["yes", "partly", "no"]

# An evaluation older than a quarter no longer describes a model in a moving pipeline;
# a drift check older than a week cannot have caught last week's change.
EVALUATION_MAX_AGE_DAYS = 90.0
MONITORING_MAX_AGE_DAYS = 7.0

QUESTIONS: dict[str, str] = {
    "lineage": "Do we know the lineage of the data used to train this model?",
    "evaluated": "Has it been evaluated against adversarial and misuse scenarios?",
    "drift": "Can we detect behavioural drift before it reaches customers?",
    "third_party": "Are third-party AI services governed by the same standards?",
}


@dataclass(frozen=True)
class Answer:
    question: str
    verdict: Verdict
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": QUESTIONS[self.question],
            "verdict": self.verdict,
            "summary": self.summary,
            "details": self.details,
            "evidence": self.evidence,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class ModelStatus:
    asset_id: str
    owner: str | None
    risk_tier: str
    version: str | None
    at: datetime
    answers: list[Answer]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return {a.question: a.verdict for a in self.answers}

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset_id,
            "owner": self.owner,
            "risk_tier": self.risk_tier,
            "version": self.version,
            "at": self.at.isoformat(),
            "answers": [a.to_json() for a in self.answers],
            "fact_errors": self.errors,
        }


def _value(sheet: FactSheet, name: str, default: Any = None) -> Any:
    fact = sheet.get(name)
    return default if fact is None else fact.value


def _stale_note(sheet: FactSheet, names: Iterable[str]) -> list[str]:
    notes = []
    for name in names:
        fact = sheet.get(name)
        if fact is not None and fact.stale:
            notes.append(fact.note or f"{name} comes from an older version")
    return notes


def _lineage(sheet: FactSheet) -> Answer:
    names = ("lineage.known", "lineage.complete", "lineage.sources", "lineage.gaps")
    evidence = sheet.evidence_for(names)
    known = bool(_value(sheet, "lineage.known", False))
    complete = bool(_value(sheet, "lineage.complete", False))
    sources = list(_value(sheet, "lineage.sources", []) or [])
    gaps = [str(g) for g in _value(sheet, "lineage.gaps", []) or []]
    details = {"sources": sources, "gaps": gaps, "runs": _value(sheet, "lineage.runs", 0)}
    if complete:
        summary = f"complete back to {len(sources)} registered source(s)"
        return Answer("lineage", "yes", summary, details, evidence)
    if known:
        return Answer(
            "lineage",
            "partly",
            "lineage recorded but incomplete",
            details,
            evidence,
            gaps or ["every upstream path must end at a registered raw data source"],
        )
    return Answer(
        "lineage",
        "no",
        "no lineage recorded for this version",
        details,
        evidence,
        ["record the training run (`tutela lineage record`, the SDK or OpenLineage events)"],
    )


def _evaluated(sheet: FactSheet) -> Answer:
    names = (
        "arena.evaluated",
        "arena.suites",
        "arena.asr",
        "arena.age_days",
        "arena_ml.evaluated",
        "arena_ml.attacks",
        "arena_ml.age_days",
    )
    evidence = sheet.evidence_for(names)
    llm = bool(_value(sheet, "arena.evaluated", False))
    ml = bool(_value(sheet, "arena_ml.evaluated", False))
    ages = [
        float(age)
        for ok, age in (
            (llm, _value(sheet, "arena.age_days")),
            (ml, _value(sheet, "arena_ml.age_days")),
        )
        if ok and isinstance(age, int | float)
    ]
    details: dict[str, Any] = {
        "llm_suites": list(_value(sheet, "arena.suites", []) or []),
        "llm_attack_success": dict(_value(sheet, "arena.asr", {}) or {}),
        "llm_last_run_at": _iso(_value(sheet, "arena.last_run_at")),
        "ml_attacks": list(_value(sheet, "arena_ml.attacks", []) or []),
        "ml_last_run_at": _iso(_value(sheet, "arena_ml.last_run_at")),
        "version_evaluated": _value(sheet, "arena.version_evaluated", "") or None,
    }
    stale = _stale_note(sheet, ("arena.evaluated", "arena_ml.evaluated"))
    if (llm or ml) and ages and min(ages) <= EVALUATION_MAX_AGE_DAYS:
        kind = " and ".join(k for k, ok in (("LLM Arena", llm), ("classic-ML Arena", ml)) if ok)
        summary = f"{kind} run on this version {min(ages):.0f} day(s) ago"
        return Answer("evaluated", "yes", summary, details, evidence)
    if llm or ml:
        return Answer(
            "evaluated",
            "partly",
            "evaluated on this version, but not recently",
            details,
            evidence,
            [f"re-run the Arena (last run over {EVALUATION_MAX_AGE_DAYS:.0f} days ago)"],
        )
    if stale:
        return Answer(
            "evaluated",
            "partly",
            "evaluated only on an older version",
            details,
            evidence,
            [*stale, "run the Arena on the version under review"],
        )
    return Answer(
        "evaluated",
        "no",
        "no Arena run on record",
        details,
        evidence,
        ["run `tutela arena run` (LLM) or `tutela arena ml run` (classic ML) on this version"],
    )


def _drift(sheet: FactSheet) -> Answer:
    names = ("drift.configured", "drift.green", "drift.age_days", "drift.drifted_columns")
    canary_names = ("canary.baseline", "canary.changed", "canary.age_days")
    evidence = sheet.evidence_for(names + canary_names)
    configured = bool(_value(sheet, "drift.configured", False))
    canary = bool(_value(sheet, "canary.baseline", False))
    age = _value(sheet, "drift.age_days")
    canary_age = _value(sheet, "canary.age_days")
    details: dict[str, Any] = {
        "drift_configured": configured,
        "drift_last_check_at": _iso(_value(sheet, "drift.last_check_at")),
        "drift_last_result": (
            None
            if not configured
            else ("no drift" if _value(sheet, "drift.green", False) else "drift")
        ),
        "drifted_columns": list(_value(sheet, "drift.drifted_columns", []) or []),
        "canary_baseline": canary,
        "canary_changed": _value(sheet, "canary.changed"),
    }
    fresh = [
        a
        for ok, a in ((configured, age), (canary, canary_age))
        if ok and isinstance(a, int | float) and a <= MONITORING_MAX_AGE_DAYS
    ]
    if fresh:
        what = "drift checks" if configured else "service canaries"
        last = details["drift_last_result"] or (
            "service changed" if details["canary_changed"] else "no change"
        )
        summary = f"{what} ran within the last week (last result: {last})"
        return Answer("drift", "yes", summary, details, evidence)
    if configured or canary:
        return Answer(
            "drift",
            "partly",
            "monitoring is set up but has not run in the last week",
            details,
            evidence,
            ["run `tutela monitor drift` or `tutela monitor watch` on production windows"],
        )
    return Answer(
        "drift",
        "no",
        "no drift check or canary on record",
        details,
        evidence,
        ["profile production traffic and run `tutela monitor drift` against the training data"],
    )


def _third_party(sheet: FactSheet) -> Answer:
    names = (
        "services.called",
        "services.without_canary",
        "services.without_arena",
        "services.without_approval",
        "services.governed",
    )
    evidence = sheet.evidence_for(names)
    called = [str(s) for s in _value(sheet, "services.called", []) or []]
    lacks = {
        "canary": [str(s) for s in _value(sheet, "services.without_canary", []) or []],
        "arena": [str(s) for s in _value(sheet, "services.without_arena", []) or []],
        "approval": [str(s) for s in _value(sheet, "services.without_approval", []) or []],
    }
    per_service = {
        service: {what: service not in missing for what, missing in lacks.items()}
        for service in called
    }
    details = {"services": per_service}
    if not called:
        return Answer(
            "third_party",
            "yes",
            "calls no third-party AI service on record",
            details,
            evidence,
        )
    missing = [
        f"{service}: no {what}"
        for service, checks in per_service.items()
        for what, ok in checks.items()
        if not ok
    ]
    fully = [s for s, checks in per_service.items() if all(checks.values())]
    if not missing:
        summary = f"all {len(called)} service(s) have canaries, Arena runs and approvals"
        return Answer("third_party", "yes", summary, details, evidence)
    verdict: Verdict = "partly" if fully or len(missing) < 3 * len(called) else "no"
    summary = f"{len(fully)} of {len(called)} service(s) fully governed"
    return Answer("third_party", verdict, summary, details, evidence, missing)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (value or None)


_ANSWERERS: Sequence[Callable[[FactSheet], Answer]] = (
    _lineage,
    _evaluated,
    _drift,
    _third_party,
)


def answer_questions(sheet: FactSheet) -> list[Answer]:
    """The four answers for one fact sheet, in the order of :data:`QUESTIONS`."""
    return [answer(sheet) for answer in _ANSWERERS]


def model_status(
    ws: Workspace, asset_id: str, *, version: str | None = None, at: datetime | None = None
) -> ModelStatus:
    sheet = collect_facts(ws, asset_id, version=version, at=at)
    return ModelStatus(
        asset_id=sheet.asset.id,
        owner=sheet.asset.owner,
        risk_tier=sheet.asset.risk_tier.value,
        version=sheet.version.digest if sheet.version else None,
        at=sheet.at,
        answers=answer_questions(sheet),
        errors=dict(sheet.errors),
    )


def inventory_status(ws: Workspace, *, at: datetime | None = None) -> list[ModelStatus]:
    """Every model in the inventory, each answered at its latest version."""
    return [model_status(ws, asset.id, at=at) for asset in list_assets(ws, kind=AssetKind.MODEL)]
