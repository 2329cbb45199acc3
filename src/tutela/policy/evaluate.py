"""Rules to results: pass, fail, waived, not-applicable or error, with what each looked at.

Evaluation is pure: it takes a loaded policy, a fact sheet and the waivers in force, and
touches no store, so the same inputs always give the same decision. It fails closed: an
empty policy, a policy with no rule for this tier and stage, a missing fact, a provider
that failed and an expression that errs all count against the gate, never for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tutela.facts.interface import Fact
from tutela.policy.loader import LoadedCondition, LoadedRule, Policy

__all__ = [
    "ConditionResult",
    "FactRead",
    "Outcome",
    "PolicyEvaluation",
    "RuleResult",
    "WaiverLike",
    "evaluate_policy",
    "evaluate_rule",
]

Outcome = Literal["pass", "fail", "waived", "not-applicable", "error"]
# Outcomes that make a gate fail.
BLOCKING: frozenset[str] = frozenset({"fail", "error"})


class FactsLike(Protocol):
    """What evaluation needs of a fact sheet (tutela.facts.collect.FactSheet)."""

    @property
    def facts(self) -> Mapping[str, Fact]: ...
    @property
    def errors(self) -> Mapping[str, str]: ...

    def activation(self) -> dict[str, dict[str, Any]]: ...


class WaiverLike(Protocol):
    """What evaluation needs of a waiver (tutela.catalog.waivers.WaiverOut)."""

    @property
    def id(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def asset_id(self) -> str | None: ...
    @property
    def justification(self) -> str: ...
    @property
    def created_by(self) -> str: ...
    @property
    def approved_by(self) -> str | None: ...
    @property
    def expires_at(self) -> Any: ...


@dataclass(frozen=True)
class FactRead:
    """One fact a rule read: its value and the evidence it came from."""

    name: str
    present: bool
    value: Any = None
    evidence: tuple[str, ...] = ()
    stale: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "present": self.present,
            "value": _plain(self.value),
            "evidence": list(self.evidence),
            "stale": self.stale,
            "note": self.note,
        }


@dataclass(frozen=True)
class ConditionResult:
    """``value`` True/False, or None when the condition could not be decided (an error)."""

    op: str
    label: str
    value: bool | None
    reason: str | None = None
    children: tuple[ConditionResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "label": self.label, "value": self.value}
        if self.reason:
            out["reason"] = self.reason
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    def failing_reasons(self) -> list[str]:
        """The reasons of the leaves that made this condition false or undecided."""
        if self.value is True:
            return []
        if not self.children:
            return [self.reason or f"not met: {self.label}"]
        reasons: list[str] = []
        for child in self.children:
            if self.op == "all_of" and child.value is True:
                continue
            reasons.extend(child.failing_reasons())
        return reasons


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    outcome: Outcome
    message: str
    severity: str
    controls: tuple[str, ...]
    source: str
    reasons: tuple[str, ...] = ()
    facts: tuple[FactRead, ...] = ()
    condition: ConditionResult | None = None
    waiver: dict[str, Any] | None = None

    @property
    def blocking(self) -> bool:
        return self.outcome in BLOCKING

    @property
    def evidence(self) -> list[str]:
        return list(dict.fromkeys(e for f in self.facts for e in f.evidence))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "outcome": self.outcome,
            "message": self.message,
            "severity": self.severity,
            "controls": list(self.controls),
            "source": self.source,
            "reasons": list(self.reasons),
            "facts": [f.to_json() for f in self.facts],
            "evidence": self.evidence,
            "condition": self.condition.to_json() if self.condition else None,
            "waiver": self.waiver,
        }


@dataclass(frozen=True)
class PolicyEvaluation:
    passed: bool
    results: tuple[RuleResult, ...]
    # Why the policy as a whole failed closed (empty, nothing applicable), if it did.
    reasons: tuple[str, ...] = field(default=())

    @property
    def failed_rules(self) -> list[str]:
        return [r.rule_id for r in self.results if r.blocking]

    @property
    def waived_rules(self) -> list[str]:
        return [r.rule_id for r in self.results if r.outcome == "waived"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.results:
            out[result.outcome] = out.get(result.outcome, 0) + 1
        return out


def evaluate_policy(
    policy: Policy,
    sheet: FactsLike,
    *,
    tier: str,
    stage: str | None,
    waivers: Sequence[WaiverLike] = (),
    asset_id: str | None = None,
) -> PolicyEvaluation:
    """Every rule of ``policy`` against ``sheet``; the gate passes only if none blocks."""
    activation = sheet.activation()
    results = tuple(
        evaluate_rule(
            rule,
            sheet,
            activation,
            tier=tier,
            stage=stage,
            waivers=waivers,
            asset_id=asset_id,
        )
        for rule in policy.rules
    )
    reasons: list[str] = []
    if not policy.rules:
        reasons.append("the policy has no rules; an empty policy fails closed")
    elif all(r.outcome == "not-applicable" for r in results):
        where = f"risk tier {tier!r}" + (f" at stage {stage!r}" if stage else "")
        reasons.append(f"no rule of the policy applies to {where}; the gate fails closed")
    passed = not reasons and not any(r.blocking for r in results)
    return PolicyEvaluation(passed, results, tuple(reasons))


def evaluate_rule(
    rule: LoadedRule,
    sheet: FactsLike,
    activation: Mapping[str, Any] | None = None,
    *,
    tier: str,
    stage: str | None,
    waivers: Sequence[WaiverLike] = (),
    asset_id: str | None = None,
) -> RuleResult:
    spec = rule.rule
    base: dict[str, Any] = {
        "rule_id": spec.id,
        "message": spec.message,
        "severity": spec.severity,
        "controls": tuple(spec.controls),
        "source": rule.location(),
    }
    if not spec.applies(tier, stage):
        return RuleResult(outcome="not-applicable", reasons=(_why_not(rule, tier, stage),), **base)
    values = activation if activation is not None else sheet.activation()
    condition = _evaluate(rule.condition, values, sheet)
    facts = tuple(_read(name, sheet) for name in sorted(rule.references()))
    if condition.value is True:
        return RuleResult(outcome="pass", facts=facts, condition=condition, **base)
    reasons = tuple(dict.fromkeys(condition.failing_reasons()))
    outcome: Outcome = "fail" if condition.value is False else "error"
    waiver = _waiver_for(spec.id, waivers, asset_id)
    if waiver is not None:
        return RuleResult(
            outcome="waived",
            reasons=reasons,
            facts=facts,
            condition=condition,
            waiver={**waiver, "would_be": outcome},
            **base,
        )
    return RuleResult(outcome=outcome, reasons=reasons, facts=facts, condition=condition, **base)


def _why_not(rule: LoadedRule, tier: str, stage: str | None) -> str:
    applies = rule.rule.applies_to
    if applies.tiers is not None and tier not in applies.tiers:
        return f"applies to tiers {', '.join(applies.tiers)}; the asset is {tier!r}"
    stages = ", ".join(applies.stages or [])
    return f"applies at stages {stages}; gated stage is {stage or 'none'}"


def _evaluate(
    node: LoadedCondition, activation: Mapping[str, Any], sheet: FactsLike
) -> ConditionResult:
    if node.expression is not None:
        expression = node.expression
        label = node.name or " ".join(expression.text.split())
        result = expression.evaluate(activation)
        if not result.ok:
            why = result.error or "evaluation failed"
            # Say why the evidence is missing, in the providers' words.
            notes = {
                fact.note
                for fact in (sheet.facts.get(".".join(p.split(".")[:2])) for p in result.missing)
                if fact is not None and fact.note
            }
            if notes:
                why += ": " + "; ".join(sorted(notes))
            broken = sorted({p.split(".")[0] for p in result.missing} & set(sheet.errors))
            for namespace in broken:
                why += f"; the {namespace} facts could not be collected: {sheet.errors[namespace]}"
            if node.message:
                why = f"{node.message}: {why}"
            # Missing facts are a fail (no evidence); anything else could not be decided.
            value: bool | None = False if result.missing else None
            return ConditionResult("expr", label, value, why)
        if not isinstance(result.value, bool):
            return ConditionResult("expr", label, None, f"returned {result.value!r}, not a boolean")
        false_reason = None
        if not result.value:
            said = node.message or f"not met: {label}"
            false_reason = f"{said}{_seen(expression.paths(), activation)}"
        return ConditionResult("expr", label, result.value, false_reason)
    children = tuple(_evaluate(child, activation, sheet) for child in node.children)
    values = [c.value for c in children]
    label = node.name or node.op
    if node.op == "all_of":
        combined: bool | None = False if False in values else (None if None in values else True)
    else:
        combined = True if True in values else (None if None in values else False)
    return ConditionResult(node.op, label, combined, None if combined else node.message, children)


def _seen(paths: Iterable[str], activation: Mapping[str, Any]) -> str:
    """`` (a.b = 1, c.d = [])``: the values behind a false condition, for the reader."""
    shown = []
    for path in sorted(paths):
        current: Any = activation
        for part in path.split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
        text = json.dumps(_plain(current), default=str)
        shown.append(f"{path} = {text if len(text) <= 80 else text[:77] + '...'}")
    return f" ({', '.join(shown)})" if shown else ""


def _read(name: str, sheet: FactsLike) -> FactRead:
    fact = sheet.facts.get(name)
    if fact is None:
        namespace = name.split(".")[0]
        note = sheet.errors.get(namespace)
        return FactRead(name, False, note=f"not collected: {note}" if note else "no evidence")
    return FactRead(name, True, fact.value, tuple(fact.evidence), fact.stale, fact.note)


def _waiver_for(
    rule_id: str, waivers: Iterable[WaiverLike], asset_id: str | None
) -> dict[str, Any] | None:
    # Caller passes waivers already filtered to those in force at the gate's moment.
    for waiver in waivers:
        if waiver.target != rule_id:
            continue
        if waiver.asset_id is not None and waiver.asset_id != asset_id:
            continue
        expires = waiver.expires_at
        return {
            "id": waiver.id,
            "asset_id": waiver.asset_id,
            "justification": waiver.justification,
            "created_by": waiver.created_by,
            "approved_by": waiver.approved_by,
            "expires_at": expires.isoformat() if hasattr(expires, "isoformat") else expires,
        }
    return None


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
