"""An AI Card as a CycloneDX 1.6 JSON document: model card, data, services, declarations.

The subject (``metadata.component``) is the model as a ``machine-learning-model`` with a
``modelCard``; its training datasets are ``data`` components hashed by digest; the services
it calls are ``services``; verified facts and the gate decision become ``declarations``
(claims with evidence references, mapped in one attestation to the card's requirements).
Declared fields CycloneDX has no slot for travel as ``tutela:card:*`` properties, which
``tutela card import`` reads back. The document is checked against the 1.6 schema shipped
with cyclonedx-python-lib before it is returned: an invalid document is a bug.
docs/card-formats.md maps every field.
"""

from __future__ import annotations

import json
from typing import Any

from tutela.bom.cyclonedx import CYCLONEDX_SPEC_VERSION, PROPERTY_PREFIX
from tutela.cards.export_common import (
    ArenaScore,
    Claim,
    arena_scores,
    card_serial,
    claims,
    datasets,
    declared_text,
    hex_digest,
    ml_measures,
    services,
)
from tutela.cards.import_common import CARD_PROPERTY_PREFIX
from tutela.cards.model import AICard
from tutela.errors import InternalError

__all__ = ["card_to_cyclonedx", "card_to_cyclonedx_json", "validate_cyclonedx"]

_P = PROPERTY_PREFIX
# Declared fields with no CycloneDX slot: carried as properties (read back on import).
_AS_PROPERTIES = (
    "out_of_scope_use",
    "human_oversight",
    "instructions_for_use",
    "risk_management",
    "cybersecurity_measures",
    "logging",
    "training_data_description",
    "performance_metrics",
    "accuracy_metrics",
    "contact",
)
_KIND_TYPES = {"model": "machine-learning-model", "dataset": "data"}


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _hashes(digest: str | None) -> list[dict[str, str]]:
    hex_ = hex_digest(digest)
    return [{"alg": "SHA-256", "content": hex_}] if hex_ else []


def _metric(score: ArenaScore) -> dict[str, Any]:
    metric: dict[str, Any] = {
        "type": "attack-success-rate",
        "value": f"{score.asr:.4f}",
        "slice": f"arena:{score.category}",
    }
    if score.low is not None and score.high is not None:
        metric["confidenceInterval"] = {
            "lowerBound": f"{score.low:.4f}",
            "upperBound": f"{score.high:.4f}",
        }
    return metric


def _model_card(card: AICard, dataset_refs: list[str]) -> dict[str, Any]:
    model_card: dict[str, Any] = {}
    if dataset_refs:
        model_card["modelParameters"] = {"datasets": [{"ref": r} for r in dataset_refs]}
    metrics = [_metric(s) for s in arena_scores(card)]
    for key, value in ml_measures(card).items():
        category, _, measure = key.partition(".")
        metrics.append(
            {"type": measure or key, "value": f"{value:.4f}", "slice": f"arena-ml:{category}"}
        )
    if metrics:
        model_card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations: dict[str, Any] = {}
    for key, slot in (("intended_use", "useCases"), ("limitations", "technicalLimitations")):
        text = declared_text(card, key)
        if text:
            considerations[slot] = [text]
    ethics = declared_text(card, "ethical_considerations")
    if ethics:
        considerations["ethicalConsiderations"] = [{"name": ethics}]
    fairness = {k: v for k, v in ml_measures(card).items() if k.startswith("fairness.")}
    if fairness:
        considerations["fairnessAssessments"] = [
            {
                "harms": "measured disparity "
                + ", ".join(f"{k}={v:.4f}" for k, v in fairness.items())
            }
        ]
    if considerations:
        model_card["considerations"] = considerations
    return model_card


def _properties(card: AICard) -> list[dict[str, str]]:
    props = [
        _prop(f"{_P}asset-id", card.subject.asset_id),
        _prop(f"{_P}card-schema", card.schema_),
        _prop(f"{_P}ledger-size", str(card.ledger_size)),
    ]
    tier = card.value("risk.risk_tier")
    if isinstance(tier, str):
        props.append(_prop(f"{_P}risk-tier", tier))
    for key in _AS_PROPERTIES:
        text = declared_text(card, key)
        if text:
            props.append(_prop(CARD_PROPERTY_PREFIX + key, text))
    return props


def _subject(card: AICard, dataset_refs: list[str]) -> dict[str, Any]:
    kind = card.subject.kind
    component: dict[str, Any] = {
        "type": _KIND_TYPES.get(kind, "application"),
        "bom-ref": card.subject.asset_id,
        "name": card.subject.name,
    }
    if card.subject.version_digest:
        component["version"] = card.subject.version_digest
        component["hashes"] = _hashes(card.subject.version_digest)
    owner = declared_text(card, "owner")
    if owner:
        component["supplier"] = {"name": owner}
    description = card.value("identity.description")
    if isinstance(description, str) and description:
        component["description"] = description
    if kind == "model":
        model_card = _model_card(card, dataset_refs)
        if model_card:
            component["modelCard"] = model_card
    component["properties"] = _properties(card)
    return component


def _data_component(ds_id: str, name: str, digest: str | None, depth: int) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "data", "bom-ref": ds_id, "name": name}
    if digest:
        component["version"] = digest
        component["hashes"] = _hashes(digest)
    component["data"] = [{"type": "dataset", "name": name}]
    component["properties"] = [
        _prop(f"{_P}lineage-depth", str(depth)),
        _prop(f"{_P}role", "training" if depth == 1 else "upstream source"),
    ]
    return component


def _service(service_id: str, card: AICard) -> dict[str, Any]:
    ungoverned = [
        gap
        for gap in ("without_canary", "without_arena", "without_approval")
        if service_id in (card.value(f"services.{gap}") or [])
    ]
    props = [_prop(f"{_P}asset-id", service_id)]
    props += [_prop(f"{_P}governance-gap", gap.removeprefix("without_")) for gap in ungoverned]
    return {
        "bom-ref": service_id,
        "name": service_id.partition(":")[2] or service_id,
        "properties": props,
    }


def _subject_service(card: AICard) -> dict[str, Any]:
    """A service card's subject: CycloneDX has no metrics slot on a service, so Arena
    scores travel as ``tutela:arena:asr:<category>`` properties (value, low, high)."""
    service: dict[str, Any] = {
        "bom-ref": card.subject.asset_id,
        "name": card.subject.name,
    }
    if card.subject.version_digest:
        service["version"] = card.subject.version_digest
    owner = declared_text(card, "owner")
    if owner:
        service["provider"] = {"name": owner}
    intended = declared_text(card, "intended_use")
    description = card.value("identity.description")
    if intended or isinstance(description, str):
        service["description"] = intended or description
    props = _properties(card)
    for score in arena_scores(card):
        bounds = "" if score.low is None else f" [{score.low:.4f}, {score.high:.4f}]"
        props.append(_prop(f"{_P}arena:asr:{score.category}", f"{score.asr:.4f}{bounds}"))
    service["properties"] = props
    return service


def _declarations(card: AICard, found: list[Claim]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``declarations``, ``definitions``): claims per verified fact, one attestation."""
    subject = card.subject.asset_id
    evidence_ids = sorted({e for c in found for e in c.evidence})
    evidence = [
        {
            "bom-ref": f"evidence:{e}",
            "propertyName": ", ".join(c.path for c in found if e in c.evidence),
            "data": [
                {"name": f"tutela evidence {e}", "contents": {"url": f"urn:tutela:evidence:{e}"}}
            ],
        }
        for e in evidence_ids
    ]
    claim_docs = [
        {
            "bom-ref": f"claim:{c.path}",
            "target": subject,
            "predicate": c.statement,
            "evidence": [f"evidence:{e}" for e in c.evidence],
            "reasoning": "derived by Tutela from evidence recorded about this exact version",
        }
        for c in found
    ]
    sections = sorted({c.path.partition(".")[0] for c in found})
    requirements = [
        {
            "bom-ref": f"requirement:{s}",
            "identifier": s,
            "text": f"Evidence for the card section {s}",
        }
        for s in sections
    ]
    mapping = []
    for section in sections:
        mine = [c for c in found if c.path.partition(".")[0] == section]
        entry: dict[str, Any] = {
            "requirement": f"requirement:{section}",
            "claims": [f"claim:{c.path}" for c in mine if c.holds is not False],
        }
        against = [f"claim:{c.path}" for c in mine if c.holds is False]
        if against:
            entry["counterClaims"] = against
        judged = [c for c in mine if c.holds is not None]
        if judged:
            met = sum(1 for c in judged if c.holds)
            entry["conformance"] = {
                "score": round(met / len(judged), 4),
                "rationale": f"{met} of {len(judged)} judged facts meet expectations",
            }
        entry["confidence"] = {"score": 1.0, "rationale": "evidence is about the exact version"}
        mapping.append(entry)
    declarations = {
        "assessors": [
            {"bom-ref": "assessor:tutela", "thirdParty": False, "organization": {"name": "Tutela"}}
        ],
        "attestations": [
            {
                "summary": f"Verified facts of the AI Card of {subject}",
                "assessor": "assessor:tutela",
                "map": mapping,
            }
        ],
        "claims": claim_docs,
        "evidence": evidence,
    }
    definitions = {
        "standards": [
            {
                "bom-ref": "standard:tutela-card",
                "name": "Tutela AI Card evidence",
                "version": card.schema_,
                "owner": "Tutela",
                "requirements": requirements,
            }
        ]
    }
    return declarations, definitions


def card_to_cyclonedx(card: AICard, *, tool_version: str = "0") -> dict[str, Any]:
    """The card as a CycloneDX 1.6 document, validated against the 1.6 JSON schema."""
    ds = datasets(card)
    refs = {
        (d.asset_id, d.digest): f"{d.asset_id}@{d.digest}" if d.digest else d.asset_id for d in ds
    }
    direct = [refs[(d.asset_id, d.digest)] for d in ds if d.depth == 1]
    subject = _subject(card, direct)
    metadata: dict[str, Any] = {
        "timestamp": card.generated_at.isoformat(),
        "tools": {
            "components": [{"type": "application", "name": "tutela", "version": tool_version}]
        },
    }
    if card.subject.kind != "service":
        metadata["component"] = subject
    document: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": CYCLONEDX_SPEC_VERSION,
        "serialNumber": card_serial(card, "tutela:card:cyclonedx:").urn,
        "version": 1,
        "metadata": metadata,
        "components": [
            _data_component(refs[(d.asset_id, d.digest)], d.name, d.digest, d.depth) for d in ds
        ],
    }
    called = services(card)
    listed = [_service(s, card) for s in called]
    if card.subject.kind == "service":
        listed.insert(0, _subject_service(card))
    if listed:
        document["services"] = listed
    depends = [refs[k] for k in refs] + called
    if depends:
        document["dependencies"] = [{"ref": card.subject.asset_id, "dependsOn": depends}]
    found = claims(card)
    if found:
        document["declarations"], document["definitions"] = _declarations(card, found)
    validate_cyclonedx(document)
    return document


def validate_cyclonedx(document: dict[str, Any]) -> None:
    """Raise ``InternalError`` unless the document passes the CycloneDX 1.6 JSON schema."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    if error is not None:
        raise InternalError(
            "the CycloneDX card export failed the 1.6 schema",
            found=str(error).splitlines()[0][:300],
            hint="this is a bug in Tutela; please report it",
        )


def card_to_cyclonedx_json(card: AICard, *, tool_version: str = "0") -> str:
    return (
        json.dumps(card_to_cyclonedx(card, tool_version=tool_version), indent=2, ensure_ascii=False)
        + "\n"
    )
