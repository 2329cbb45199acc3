"""The AI Card: one record per asset version, every field saying where it came from.

A card is built from the store (``tutela.cards.build``), never edited by hand: people
contribute only *declared* fields (``tutela.cards.declared``); everything else is derived
from facts and evidence. Each entry is a :class:`CardField` carrying its provenance:

- ``declared``: a person wrote it (a ``.card.yaml`` beside the model, or ``tutela card set``);
- ``inferred``: derived from discovery or catalogue metadata;
- ``verified``: derived from evidence whose version digest matches the card's version;
- ``stale``: derived from evidence about an older version of the asset;
- ``missing``: nothing is known (the value is None and ``note`` says what would fill it).

Sections and field keys are stable ids (exporters and the crosswalk address fields by
``"<section>.<field>"`` paths such as ``"evaluation.arena_scores"``); titles are for people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tutela.errors import UsageError

__all__ = [
    "CARD_SCHEMA",
    "FIELD_LABELS",
    "SECTION_TITLES",
    "AICard",
    "CardField",
    "CardSection",
    "CardSubject",
    "CardType",
    "Provenance",
]

CARD_SCHEMA = "tutela.card/v1"

Provenance = Literal["declared", "inferred", "verified", "stale", "missing"]
CardType = Literal["model_card", "service_card", "datasheet"]

# Stable section ids in rendering order, with their titles. A card holds the subset that
# applies to its asset kind (a datasheet has no Arena section, a service no training data).
SECTION_TITLES: dict[str, str] = {
    "identity": "Identity and owner",
    "intended_use": "Intended use",
    "risk": "Risk tier",
    "versions": "Versions",
    "lineage": "Lineage",
    "training_data": "Training data",
    "composition": "Composition and collection",
    "data_quality": "Data quality checks",
    "evaluation": "Evaluation",
    "supply_chain": "Supply-chain scan",
    "monitoring": "Monitoring",
    "services": "Third-party services",
    "governance": "Policy and approval",
    "open_risks": "Open risks and waivers",
    "limitations": "Limitations and ethical considerations",
}

# Every field path a builder may emit, with its label for people. Exporters and the
# crosswalk address fields by these paths; a card omits sections that do not apply.
FIELD_LABELS: dict[str, str] = {
    "identity.asset_id": "Asset id",
    "identity.kind": "Kind",
    "identity.name": "Name",
    "identity.owner": "Owner",
    "identity.description": "Description",
    "identity.tags": "Tags",
    "identity.contact": "Contact",
    "intended_use.intended_use": "Intended use",
    "intended_use.out_of_scope_use": "Out-of-scope use",
    "intended_use.instructions_for_use": "Instructions for use",
    "intended_use.human_oversight": "Human oversight",
    "risk.risk_tier": "Risk tier",
    "risk.risk_management": "Risk management",
    "versions.current": "Version under review",
    "versions.count": "Number of versions",
    "versions.history": "Version history",
    "lineage.known": "Lineage known",
    "lineage.complete": "Lineage complete",
    "lineage.sources": "Sources",
    "lineage.runs": "Runs",
    "lineage.gaps": "Gaps",
    "lineage.upstream": "Upstream versions (digests)",
    "training_data.description": "Training data description",
    "training_data.datasets": "Training datasets",
    "training_data.checks": "Training data checks",
    "composition.description": "Description of the data",
    "composition.versions": "Dataset versions",
    "composition.used_by": "Used by",
    "data_quality.checked": "Checked",
    "data_quality.max_severity": "Highest severity",
    "data_quality.findings": "Findings",
    "evaluation.arena_evaluated": "Arena evaluated",
    "evaluation.arena_suites": "Arena suites",
    "evaluation.arena_scores": "Arena scores (attack success rate, 95% Wilson interval)",
    "evaluation.arena_attempts": "Arena attempts",
    "evaluation.arena_last_run_at": "Last Arena run",
    "evaluation.arena_version_evaluated": "Version evaluated",
    "evaluation.ml_evaluated": "Classifier Arena evaluated",
    "evaluation.ml_evasion_rate": "Evasion rate",
    "evaluation.ml_measures": "Classifier measures",
    "evaluation.ml_last_run_at": "Last classifier Arena run",
    "evaluation.performance_metrics": "Performance metrics",
    "evaluation.accuracy_metrics": "Accuracy metrics",
    "supply_chain.scanned": "Scanned",
    "supply_chain.max_severity": "Highest open severity",
    "supply_chain.open_findings": "Open findings",
    "supply_chain.waived_findings": "Waived findings",
    "supply_chain.last_scan_at": "Last scan",
    "supply_chain.artifacts": "Artifacts scanned",
    "supply_chain.latest_scan": "Latest scan of this version",
    "supply_chain.cybersecurity_measures": "Cybersecurity measures",
    "monitoring.drift_configured": "Drift monitoring configured",
    "monitoring.drift_checks": "Drift checks",
    "monitoring.drift_last_check_at": "Last drift check",
    "monitoring.drift_green": "Last drift check green",
    "monitoring.drifted_columns": "Drifted columns",
    "monitoring.alerts_open": "Open alerts",
    "monitoring.canary_baseline": "Canary baseline",
    "monitoring.canary_changed": "Canary changed",
    "monitoring.canary_last_check_at": "Last canary check",
    "monitoring.logging": "Logging",
    "services.called": "Services called",
    "services.without_canary": "Without a canary",
    "services.without_arena": "Without an Arena run",
    "services.without_approval": "Without approval",
    "services.governed": "All governed",
    "governance.gate_decision": "Latest gate decision",
    "governance.approvals": "Approvals",
    "governance.approvers": "Approvers",
    "governance.approval_roles": "Roles approved",
    "governance.pending": "Pending approval requests",
    "open_risks.findings": "Open findings",
    "open_risks.waivers": "Waivers",
    "limitations.limitations": "Limitations",
    "limitations.ethical_considerations": "Ethical considerations",
}


class CardField(BaseModel):
    """One value on a card and its provenance.

    ``value`` is plain JSON (str, int, float, bool, list, dict) or None when missing.
    ``evidence`` lists the ids of the Evidence rows it was derived from (or, for declared
    fields, the file path or card-evidence id that declared it).
    """

    model_config = ConfigDict(frozen=True)

    value: Any = None
    provenance: Provenance = "missing"
    evidence: list[str] = Field(default_factory=list)
    note: str | None = None
    label: str | None = None  # a human title; renderers fall back to the key


class CardSection(BaseModel):
    """A titled group of fields, keyed by stable field ids in rendering order."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    fields: dict[str, CardField] = Field(default_factory=dict)


class CardSubject(BaseModel):
    """What the card is about: one asset at one version (None when it has no version)."""

    model_config = ConfigDict(frozen=True)

    asset_id: str
    kind: str
    name: str
    version_id: str | None = None
    version_digest: str | None = None


class AICard(BaseModel):
    """A model card, service card or datasheet: a pure function of the store at a position.

    ``ledger_size`` is the number of ledger entries the card was built from; together with
    the subject it identifies the store state. ``generated_at`` is the only wall-clock value
    and is left out of :meth:`canonical`, so two builds at one position compare equal.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_: str = Field(default=CARD_SCHEMA, alias="schema")
    card_type: CardType
    subject: CardSubject
    ledger_size: int
    sections: list[CardSection]
    generated_at: datetime

    def section(self, section_id: str) -> CardSection | None:
        for section in self.sections:
            if section.id == section_id:
                return section
        return None

    def field(self, path: str) -> CardField:
        """The field at ``"<section>.<field>"``; a missing one reads as provenance missing."""
        section_id, _, key = path.partition(".")
        if not key:
            raise UsageError("a card field path is <section>.<field>", found=path)
        section = self.section(section_id)
        if section is None or key not in section.fields:
            return CardField(note=f"{path} is not on this card")
        return section.fields[key]

    def value(self, path: str) -> Any:
        return self.field(path).value

    def fields(self) -> dict[str, CardField]:
        """Every field by its full path, in rendering order."""
        return {
            f"{section.id}.{key}": field
            for section in self.sections
            for key, field in section.fields.items()
        }

    def canonical(self) -> dict[str, Any]:
        """Plain JSON without ``generated_at``: what is signed, stored and diffed."""
        data = self.model_dump(mode="json", by_alias=True)
        data.pop("generated_at", None)
        return data

    def to_json(self) -> dict[str, Any]:
        """Plain JSON including ``generated_at`` (for ``--json`` output)."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_canonical(cls, data: dict[str, Any], *, generated_at: datetime) -> AICard:
        """Rebuild a card from :meth:`canonical` output (a signed snapshot's predicate)."""
        return cls.model_validate({**data, "generated_at": generated_at})
