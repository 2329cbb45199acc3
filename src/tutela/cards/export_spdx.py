"""An AI Card as an SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles.

The model is an ``ai_AIPackage`` (application, limitation, training information, metrics
as dictionary entries, safety risk assessment from the risk tier, autonomy); its training
datasets are ``dataset_DatasetPackage`` elements linked ``trainedOn``, and the Arena probe
suites it was evaluated with are datasets linked ``testedOn``. Declared fields SPDX has no
property for become ``Annotation`` elements whose comment is ``tutela:card:<field>``
(``tutela card import`` reads them back).

Validation, three layers; failing any is a bug (``InternalError``): the document is built
with spdx-python-model's generated 3.0.1 bindings, whose serializer enforces the SHACL
model's required properties, cardinalities and value types; it is checked against the SPDX
3.0.1 JSON schema shipped in ``tutela.cards.schemas`` (pinned by sha256, so it works
offline); and it is read back by the library's deserializer with every reference linked.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from spdx_python_model import v3_0_1 as spdx

from tutela.bom.spdx import NO_ASSERTION_LICENSE, SpdxScaffold
from tutela.cards.export_common import (
    arena_scores,
    card_serial,
    datasets,
    declared_text,
    hex_digest,
    ml_measures,
)
from tutela.cards.import_common import CARD_PROPERTY_PREFIX
from tutela.cards.model import AICard
from tutela.errors import InternalError

__all__ = [
    "SPDX_SCHEMA_SHA256",
    "card_to_spdx",
    "card_to_spdx_json",
    "spdx_schema_validator",
    "validate_spdx",
]

# The shipped schema file (src/tutela/cards/schemas/README.md says where it comes from); a
# changed file must be a deliberate update of this pin, never a silent edit.
SPDX_SCHEMA_FILE = "spdx-3.0.1.schema.json"
SPDX_SCHEMA_SHA256 = "19d65705ee474fb99467b5e006e05cab61b561974da34ff0e4a188bcf039387c"

_RISK = {"prohibited": "serious", "high": "high", "limited": "medium", "minimal": "low"}
_AS_ANNOTATIONS = (
    "out_of_scope_use",
    "ethical_considerations",
    "human_oversight",
    "instructions_for_use",
    "risk_management",
    "cybersecurity_measures",
    "logging",
    "performance_metrics",
    "accuracy_metrics",
    "contact",
)


class _Doc(SpdxScaffold):
    """The card's document frame and the elements made so far."""

    def __init__(self, card: AICard, tool_version: str) -> None:
        serial = str(card_serial(card, "tutela:card:spdx:"))
        super().__init__(serial, card.generated_at, tool_version)
        self.elements: list[spdx.Element] = []

    def add(self, element: spdx.Element) -> Any:
        self.elements.append(element)
        return element

    def relate(self, source: spdx.Element, kind: str, target: spdx.Element | str, n: int) -> None:
        self.add(self.relationship(source, kind, target, (kind, str(n))))


def _licenses(doc: _Doc, element: spdx.Element, n: int) -> int:
    """AI and Dataset profile conformance: a declared and a concluded licence (not known)."""
    doc.relate(element, "hasDeclaredLicense", NO_ASSERTION_LICENSE, n)
    doc.relate(element, "hasConcludedLicense", NO_ASSERTION_LICENSE, n + 1)
    return n + 2


def _hash(digest: str | None) -> list[spdx.Hash]:
    hex_ = hex_digest(digest)
    return [spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=hex_)] if hex_ else []


def _entry(key: str, value: float) -> spdx.DictionaryEntry:
    return spdx.DictionaryEntry(key=key, value=f"{value:.4f}")


def _model(doc: _Doc, card: AICard) -> spdx.ai_AIPackage:
    model = spdx.ai_AIPackage(
        spdxId=doc.id("model", card.subject.asset_id),
        name=card.subject.name,
        creationInfo=doc.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.model,
    )
    if card.subject.version_digest:
        model.software_packageVersion = card.subject.version_digest
        model.verifiedUsing.extend(_hash(card.subject.version_digest))
    description = card.value("identity.description")
    if isinstance(description, str) and description:
        model.description = description
    intended = declared_text(card, "intended_use")
    if intended:
        model.ai_informationAboutApplication = intended
    limitations = declared_text(card, "limitations")
    if limitations:
        model.ai_limitation = limitations
    training = [declared_text(card, "training_data_description") or ""]
    training += [f"trained on {d.asset_id} ({d.digest})" for d in datasets(card) if d.depth == 1]
    training += [
        f"upstream source {d.asset_id} ({d.digest})" for d in datasets(card) if d.depth > 1
    ]
    if any(training):
        model.ai_informationAboutTraining = "\n".join(t for t in training if t)
    for score in arena_scores(card):
        model.ai_metric.append(_entry(f"arena.asr.{score.category}", score.asr))
        if score.high is not None:
            model.ai_metric.append(_entry(f"arena.asr_upper.{score.category}", score.high))
    for key, value in ml_measures(card).items():
        model.ai_metric.append(_entry(f"arena_ml.{key}", value))
    tier = card.value("risk.risk_tier")
    if tier in _RISK:
        model.ai_safetyRiskAssessment = getattr(spdx.ai_SafetyRiskAssessmentType, _RISK[tier])
    oversight = declared_text(card, "human_oversight")
    # A declared human-oversight measure means decisions are not taken without a person.
    model.ai_autonomyType = spdx.PresenceType.no if oversight else spdx.PresenceType.noAssertion
    gate = card.value("governance.gate_decision")
    if (
        isinstance(gate, dict)
        and gate.get("passed") is True
        and card.field("governance.gate_decision").provenance == "verified"
    ):
        model.ai_standardCompliance.append(
            f"Tutela policy gate passed ({gate.get('stage') or 'any stage'})"
        )
    owner = declared_text(card, "owner")
    if owner:
        model.suppliedBy = doc.add(
            spdx.Organization(
                spdxId=doc.id("organization", owner), name=owner, creationInfo=doc.info
            )
        )
    return model


def _dataset(
    doc: _Doc, key: str, name: str, digest: str | None, *, comment: str
) -> spdx.dataset_DatasetPackage:
    element = spdx.dataset_DatasetPackage(
        spdxId=doc.id("dataset", key),
        name=name,
        creationInfo=doc.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.data,
        dataset_datasetType=[spdx.dataset_DatasetType.noAssertion],
        comment=comment,
    )
    if digest:
        element.software_packageVersion = digest
        element.verifiedUsing.extend(_hash(digest))
    return element


def _annotations(doc: _Doc, card: AICard, model: spdx.ai_AIPackage) -> None:
    for key in _AS_ANNOTATIONS:
        text = declared_text(card, key)
        if text:
            doc.add(
                spdx.Annotation(
                    spdxId=doc.id("annotation", key),
                    creationInfo=doc.info,
                    annotationType=spdx.AnnotationType.other,
                    subject=model,
                    statement=text,
                    comment=CARD_PROPERTY_PREFIX + key,
                )
            )


def _objects(card: AICard, tool_version: str) -> spdx.SHACLObjectSet:
    doc = _Doc(card, tool_version)
    model = doc.add(_model(doc, card))
    n = _licenses(doc, model, 0)
    for d in datasets(card):
        role = "training data" if d.depth == 1 else f"upstream source (lineage depth {d.depth})"
        element = doc.add(
            _dataset(
                doc, f"{d.asset_id}@{d.digest}", d.name, d.digest, comment=f"{d.asset_id}: {role}"
            )
        )
        n = _licenses(doc, element, n)
        if d.depth == 1:
            doc.relate(model, "trainedOn", element, n)
            n += 1
    suites = card.value("evaluation.arena_suites")
    for suite in (
        sorted(s for s in suites if isinstance(s, str)) if isinstance(suites, list) else []
    ):
        element = doc.add(
            _dataset(
                doc,
                f"arena-suite:{suite}",
                f"Arena probes: {suite}",
                None,
                comment="Tutela Arena probe suite",
            )
        )
        n = _licenses(doc, element, n)
        doc.relate(model, "testedOn", element, n)
        n += 1
    _annotations(doc, card, model)
    return doc.objects(
        name=f"AI Card of {card.subject.asset_id}",
        root=model,
        members=doc.elements,
        comment=f"Tutela AI Card {card.schema_} at ledger size {card.ledger_size}",
    )


@cache
def spdx_schema_validator() -> Any:
    """A Draft 2020-12 validator for the shipped SPDX 3.0.1 JSON schema (checked by sha256)."""
    raw = files("tutela.cards.schemas").joinpath(SPDX_SCHEMA_FILE).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SPDX_SCHEMA_SHA256:
        raise InternalError(
            "the shipped SPDX 3.0.1 JSON schema is not the pinned file",
            subject=SPDX_SCHEMA_FILE,
            found=f"sha256:{digest}",
            expected=f"sha256:{SPDX_SCHEMA_SHA256}",
        )
    return Draft202012Validator(json.loads(raw))


def _path_key(error: Any) -> tuple[tuple[int, int, str], ...]:
    # Paths mix list indexes and keys; order indexes numerically and before keys.
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path)


def _check_schema(data: dict[str, Any]) -> None:
    errors = sorted(spdx_schema_validator().iter_errors(data), key=_path_key)
    if errors:
        # The first error is usually the document-level oneOf; best_match descends into its
        # context to the graph element that failed, which is the part worth reporting.
        first = best_match(errors[:1])
        message = first.message
        if first.validator in ("anyOf", "oneOf"):
            # jsonschema puts the whole instance in this message; the path says which one.
            message = f"is not valid under any of the given schemas ({first.validator})"
        raise InternalError(
            "the SPDX card export breaks the SPDX 3.0.1 JSON schema",
            found=f"{first.json_path}: {message}"[:300],
        )


def validate_spdx(data: dict[str, Any]) -> None:
    """Check the document against the SPDX 3.0.1 JSON schema, then read it back with
    spdx-python-model; every reference must resolve."""
    import spdx_python_model

    _check_schema(data)
    try:
        model, objects = spdx_python_model.load_data(json.loads(json.dumps(data)))
        unresolved = objects.link()
    except Exception as exc:  # the library raises several types; each means a bad document
        raise InternalError(
            "the SPDX card export does not load back", found=f"{type(exc).__name__}: {exc}"[:300]
        ) from None
    if model is not spdx or unresolved - {NO_ASSERTION_LICENSE}:
        raise InternalError(
            "the SPDX card export has unresolved references",
            found=", ".join(sorted(unresolved))[:300],
        )


def card_to_spdx(card: AICard, *, tool_version: str = "0") -> dict[str, Any]:
    """The card as an SPDX 3.0.1 JSON-LD document (serialised and read back to validate)."""
    try:
        data: dict[str, Any] = spdx.JSONLDSerializer().serialize_data(_objects(card, tool_version))
    except ValueError as exc:
        raise InternalError(
            "the SPDX card export breaks the 3.0.1 model", found=str(exc)[:300]
        ) from None
    validate_spdx(data)
    return data


def card_to_spdx_json(card: AICard, *, tool_version: str = "0") -> str:
    return (
        json.dumps(card_to_spdx(card, tool_version=tool_version), indent=2, ensure_ascii=False)
        + "\n"
    )
