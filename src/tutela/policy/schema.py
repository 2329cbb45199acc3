"""The shape of a policy file, as pydantic models (unknown keys are errors).

::

    version: 1
    name: acme-prod
    rules:
      - id: scan.no-high-findings
        message: no scan finding at or above high
        severity: high
        controls: ["EU-AI-Act:Art.15"]
        applies_to: {tiers: [high, limited], stages: [staging, prod]}
        expr: scan.scanned && scan.findings_at_or_above.high == 0

A rule holds exactly one of ``expr`` (one CEL expression), ``all_of`` or ``any_of`` (a
list of conditions, each a CEL string or a nested condition with its own ``expr`` /
``all_of`` / ``any_of`` and an optional ``name`` and ``message``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tutela.store.models import RiskTier

__all__ = [
    "RULE_ID",
    "STAGES",
    "AppliesTo",
    "Condition",
    "ConditionItem",
    "PolicyFile",
    "Rule",
    "RuleSeverity",
    "Stage",
]

# The same grammar as a rule waiver's target (tutela.catalog.waivers), so any rule can be waived.
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_RULE_ID = 80
STAGES = ("dev", "staging", "prod")

Stage = Literal["dev", "staging", "prod"]
RuleSeverity = Literal["critical", "high", "medium", "low", "info"]
Tier = Literal["prohibited", "high", "limited", "minimal", "unassessed"]

assert set(Tier.__args__) == {t.value for t in RiskTier}  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """A part of a composed rule: one expression, or all/any of further conditions."""

    name: str | None = Field(default=None, max_length=120)
    message: str | None = Field(default=None, max_length=1000)
    expr: str | None = None
    all_of: list[ConditionItem] | None = None
    any_of: list[ConditionItem] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        _check_exactly_one(self.expr, self.all_of, self.any_of)
        return self


ConditionItem = Annotated[str | Condition, Field(union_mode="left_to_right")]


class AppliesTo(_Strict):
    """Where a rule counts: risk tiers and stages (absent: all of them)."""

    tiers: list[Tier] | None = None
    stages: list[Stage] | None = None

    @field_validator("tiers", "stages")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty list would make the rule apply nowhere; omit the key")
        return value


class Rule(_Strict):
    id: str = Field(min_length=1, max_length=MAX_RULE_ID)
    message: str = Field(min_length=1, max_length=1000)
    severity: RuleSeverity = "high"
    controls: list[str] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=4000)
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    expr: str | None = None
    all_of: list[ConditionItem] | None = None
    any_of: list[ConditionItem] | None = None

    @field_validator("id")
    @classmethod
    def _rule_id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(
                "a rule id is lower-case letters, digits, '.', '_' or '-' "
                "(such as scan.no-high-findings)"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Rule:
        _check_exactly_one(self.expr, self.all_of, self.any_of)
        return self

    def applies(self, tier: str, stage: str | None) -> bool:
        tiers, stages = self.applies_to.tiers, self.applies_to.stages
        if tiers is not None and tier not in tiers:
            return False
        # A rule limited to stages does not apply when no stage is being gated.
        return stages is None or (stage is not None and stage in stages)


class PolicyFile(_Strict):
    version: Literal[1] = 1
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    rules: list[Rule] = Field(default_factory=list)


def _check_exactly_one(
    expr: str | None, all_of: list[ConditionItem] | None, any_of: list[ConditionItem] | None
) -> None:
    given = [
        k for k, v in (("expr", expr), ("all_of", all_of), ("any_of", any_of)) if v is not None
    ]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        raise ValueError(f"give exactly one of expr, all_of or any_of (found {found})")
    if all_of is not None and not all_of:
        raise ValueError("all_of is empty: an empty composition fails closed; remove it")
    if any_of is not None and not any_of:
        raise ValueError("any_of is empty: an empty composition fails closed; remove it")


Condition.model_rebuild()
