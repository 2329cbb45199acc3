"""Assess one model against a compliance framework: per item satisfied, partly, missing or manual.

Every check of the crosswalk catalogue is a CEL expression over the facts and the declared
card fields. A check reading a fact nobody recorded is false with the reason "no evidence
for <fact>"; a passing check cites the evidence ids behind the facts it names. The
completeness score counts what can be checked automatically: ``(satisfied + 0.5 * partly)
/ automatable items``; manual items are listed with what a person must provide.

:func:`assess_declared` needs no store, so a third-party card (CycloneDX, SPDX, Hugging
Face) can be scored against the same catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from tutela.cards.catalogue import CARD_FIELDS, Catalogue, Check, Item, Source, load_framework
from tutela.facts.cel import CompiledExpression, compile_expression

if TYPE_CHECKING:
    from tutela.facts.collect import FactSheet
    from tutela.workspace import Workspace

__all__ = [
    "PRODUCER",
    "CheckResult",
    "ComplianceReport",
    "Inputs",
    "ItemResult",
    "ItemStatus",
    "assess",
    "assess_declared",
    "card_namespace",
    "evaluate",
    "gather_inputs",
    "inputs_from_sheet",
]

PRODUCER = "cards.comply"
ItemStatus = Literal["satisfied", "partly", "missing", "manual"]
_WEIGHT: dict[ItemStatus, float] = {"satisfied": 1.0, "partly": 0.5, "missing": 0.0}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CheckResult(_Out):
    id: str
    description: str
    expression: str
    passed: bool
    reason: str | None = None  # why it failed, for people
    evidence: list[str] = []  # ids behind the check's evidence facts
    stale: list[str] = []  # facts read from evidence about an older version


class ItemResult(_Out):
    id: str
    title: str
    summary: str
    source: Source
    status: ItemStatus
    checks: list[CheckResult]
    evidence: list[str]  # ids behind the passing checks
    missing: list[str]  # what would satisfy it: the failing checks' descriptions
    provide: str | None  # what a person must provide (manual items, or advice)
    weight: float | None  # this item's share of the score's numerator; None for manual
    explanation: str


class ComplianceReport(_Out):
    framework: str  # the CLI key, "eu-ai-act"
    framework_id: str  # the item-id prefix, "EU-AI-Act"
    title: str
    document: str
    url: str
    asset_id: str | None
    version: str | None
    at: datetime | None
    items: list[ItemResult]
    counts: dict[str, int]
    automatable: int
    score: float  # 0..1
    score_explanation: str
    recorded_as: str | None = None  # the card evidence id, when recorded

    def item(self, item_id: str) -> ItemResult | None:
        return next((i for i in self.items if i.id == item_id), None)


@dataclass(frozen=True)
class Inputs:
    """What an assessment reads: the activation, and the evidence behind each fact."""

    activation: Mapping[str, Mapping[str, Any]]
    evidence: Mapping[str, Sequence[str]] = field(default_factory=dict)
    stale: frozenset[str] = frozenset()
    asset_id: str | None = None
    version: str | None = None
    at: datetime | None = None


def card_namespace(declared: Mapping[str, Any]) -> dict[str, str]:
    """The ``card`` namespace: every declared field as a string, "" when not declared."""
    out: dict[str, str] = {}
    for name in CARD_FIELDS:
        value = declared.get(name)
        out[name] = "" if value is None else str(value).strip()
    return out


def inputs_from_sheet(
    sheet: FactSheet,
    declared: Mapping[str, Any] | None = None,
    *,
    declared_sources: Mapping[str, str] | None = None,
) -> Inputs:
    """Inputs from a fact sheet; ``declared_sources`` names where each card field was declared."""
    activation: dict[str, Mapping[str, Any]] = dict(sheet.activation())
    evidence: dict[str, Sequence[str]] = {n: f.evidence for n, f in sheet.facts.items()}
    if declared is not None:
        activation["card"] = card_namespace(declared)
        for key, source in (declared_sources or {}).items():
            evidence[f"card.{key}"] = (source,)
    return Inputs(
        activation=activation,
        evidence=evidence,
        stale=frozenset(name for name, fact in sheet.facts.items() if fact.stale),
        asset_id=sheet.asset.id,
        version=sheet.version.digest if sheet.version else None,
        at=sheet.at,
    )


def gather_inputs(
    ws: Workspace,
    asset_id: str,
    *,
    version: str | None = None,
    at: datetime | None = None,
    declared: Mapping[str, Any] | None = None,
    declared_source: str | None = None,
) -> Inputs:
    """Facts from the store; the card is ``declared`` when given, else the asset's own.

    The asset's own declared fields come from its card file and ``tutela card set``; each
    field cites where it was declared (a path or an evidence id). ``declared_source`` is
    cited for every field of a ``declared`` mapping (e.g. the file it was read from).
    """
    from tutela.cards.declared import load_declared_sources
    from tutela.facts.collect import collect_facts

    sheet = collect_facts(ws, asset_id, version=version, at=at)
    if declared is None:
        found = load_declared_sources(ws, asset_id)
        return inputs_from_sheet(
            sheet,
            {k: d.value for k, d in found.items()},
            declared_sources={k: d.source for k, d in found.items()},
        )
    sources = {k: declared_source for k in declared if declared_source and declared.get(k)}
    return inputs_from_sheet(sheet, declared, declared_sources=sources)


@cache
def _compiled(text: str, source: str) -> CompiledExpression:
    return compile_expression(text, source=source)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value(activation: Mapping[str, Mapping[str, Any]], name: str) -> Any:
    namespace, _, key = name.partition(".")
    return activation.get(namespace, {}).get(key)


def _undeclared(inputs: Inputs, name: str) -> bool:
    return name.startswith("card.") and _value(inputs.activation, name) == ""


def _run_check(item: Item, check: Check, inputs: Inputs) -> CheckResult:
    expr = _compiled(check.expression, f"{item.id}#{check.id}")
    result = expr.evaluate(inputs.activation)
    cited = check.evidence_facts or tuple(sorted(expr.references()))
    evidence = list(dict.fromkeys(i for name in cited for i in inputs.evidence.get(name, ())))
    stale = sorted(name for name in expr.references() if name in inputs.stale)
    passed = result.ok and result.value is True
    reason: str | None = None
    if not passed:
        absent = sorted({".".join(p.split(".")[:2]) for p in result.missing})
        refs = sorted(expr.references())
        if absent:
            reason = "no evidence for " + ", ".join(absent)
        elif result.ok and refs and all(_undeclared(inputs, name) for name in refs):
            reason = "not declared: " + ", ".join(refs)
        elif not result.ok:
            reason = result.error
        else:
            shown = ", ".join(
                f"{name} = {_show(_value(inputs.activation, name))}"
                for name in sorted(expr.references())
            )
            reason = f"not met ({shown})" if shown else "not met"
    return CheckResult(
        id=check.id,
        description=check.description,
        expression=check.expression,
        passed=passed,
        reason=reason,
        evidence=evidence if passed else [],
        stale=stale,
    )


def _explain(status: ItemStatus, checks: list[CheckResult], provide: str | None) -> str:
    passed = sum(c.passed for c in checks)
    if status == "manual":
        return f"manual: not scored; provide {provide}"
    share = f"{passed} of {len(checks)} checks pass"
    weight = _WEIGHT[status]
    return f"{status} ({share}): counts {weight:g} toward the score"


def _assess_item(item: Item, inputs: Inputs) -> ItemResult:
    if item.manual:
        checks: list[CheckResult] = []
        status: ItemStatus = "manual"
    else:
        checks = [_run_check(item, check, inputs) for check in item.checks]
        passed = sum(c.passed for c in checks)
        status = "satisfied" if passed == len(checks) else "partly" if passed else "missing"
    evidence = list(dict.fromkeys(i for c in checks if c.passed for i in c.evidence))
    return ItemResult(
        id=item.id,
        title=item.title,
        summary=item.summary,
        source=item.source,
        status=status,
        checks=checks,
        evidence=evidence,
        missing=[c.description for c in checks if not c.passed],
        provide=item.provide,
        weight=None if status == "manual" else _WEIGHT[status],
        explanation=_explain(status, checks, item.provide),
    )


def evaluate(catalogue: Catalogue, inputs: Inputs) -> ComplianceReport:
    """The report for one framework over one set of inputs (pure: no store, no clock)."""
    items = [_assess_item(item, inputs) for item in catalogue.items]
    counts = {s: sum(i.status == s for i in items) for s in ("satisfied", "partly", "missing")}
    counts["manual"] = sum(i.status == "manual" for i in items)
    automatable = len(items) - counts["manual"]
    numerator = counts["satisfied"] + 0.5 * counts["partly"]
    score = numerator / automatable if automatable else 0.0
    explanation = (
        f"score = (satisfied {counts['satisfied']} + 0.5 x partly {counts['partly']}) / "
        f"automatable {automatable} = {score:.3f}; {counts['manual']} manual item(s) not scored"
    )
    fw = catalogue.framework
    return ComplianceReport(
        framework=fw.key,
        framework_id=fw.id,
        title=fw.title,
        document=fw.document,
        url=fw.url,
        asset_id=inputs.asset_id,
        version=inputs.version,
        at=inputs.at,
        items=items,
        counts=counts,
        automatable=automatable,
        score=round(score, 4),
        score_explanation=explanation,
    )


def assess_declared(
    framework: str,
    activation: Mapping[str, Mapping[str, Any]],
    declared: Mapping[str, Any],
    *,
    evidence_ids: Mapping[str, Sequence[str]] | None = None,
) -> ComplianceReport:
    """Score facts and declared card fields from anywhere (a vendor card) without a store.

    ``activation`` is ``{namespace: {name: value}}`` (may be empty); ``declared`` the card
    fields, which replace any ``card`` namespace in it; ``evidence_ids`` maps a fact name
    (``card.intended_use``) to ids or references to cite when a check on it passes.
    """
    merged: dict[str, Mapping[str, Any]] = {str(k): dict(v) for k, v in activation.items()}
    merged["card"] = card_namespace(declared)
    asset = merged.get("asset", {})
    inputs = Inputs(
        activation=merged,
        evidence=dict(evidence_ids or {}),
        asset_id=asset.get("id") if isinstance(asset.get("id"), str) else None,
        version=asset.get("version_digest")
        if isinstance(asset.get("version_digest"), str)
        else None,
    )
    return evaluate(load_framework(framework), inputs)


def assess(
    ws: Workspace,
    asset_id: str,
    *,
    framework: str,
    version: str | None = None,
    at: datetime | None = None,
    declared: Mapping[str, Any] | None = None,
    declared_source: str | None = None,
    record: bool = False,
    actor: str | None = None,
) -> ComplianceReport:
    """Assess one asset version from the store; ``record`` keeps the report as card evidence."""
    catalogue = load_framework(framework)  # an unknown framework fails before any work
    inputs = gather_inputs(
        ws, asset_id, version=version, at=at, declared=declared, declared_source=declared_source
    )
    report = evaluate(catalogue, inputs)
    if not record:
        return report
    return report.model_copy(update={"recorded_as": record_report(ws, report, actor=actor)})


def record_report(ws: Workspace, report: ComplianceReport, *, actor: str | None = None) -> str:
    """Record the report as ``card`` evidence (with its ledger entry); returns the id."""
    from tutela.catalog.evidence import record_evidence
    from tutela.errors import UsageError
    from tutela.version import tutela_version

    if report.asset_id is None:
        raise UsageError("only an assessment of a stored asset can be recorded")
    payload = report.model_dump(mode="json", exclude={"recorded_as"})
    payload["schema"] = "tutela.comply/v1"
    out = record_evidence(
        ws,
        actor=actor,
        asset_id=report.asset_id,
        kind="card",
        producer=PRODUCER,
        producer_version=tutela_version(),
        payload=payload,
        summary={
            "framework": report.framework,
            "score": report.score,
            **report.counts,
        },
        version_digest=report.version,
    )
    return out.id
