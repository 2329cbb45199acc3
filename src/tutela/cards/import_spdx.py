"""Read an SPDX 3 JSON-LD document's AI package (the AI profile) as declared fields.

Read as plain JSON-LD (``@graph`` of objects, compact names as the 3.0.1 context gives
them) rather than through the bindings, so a vendor document with an extension or a
missing optional link still yields what it does say. ``tutela:card:*`` annotations (how
Tutela's own export carries fields SPDX has no property for) are read back.
"""

from __future__ import annotations

from typing import Any

from tutela.cards.import_common import (
    CARD_PROPERTY_PREFIX,
    Extracted,
    accuracy_like,
    join_texts,
    metrics_text,
)
from tutela.errors import InputError

__all__ = ["read_spdx"]


def _graph(doc: dict[str, Any], subject: str) -> list[dict[str, Any]]:
    graph = doc.get("@graph")
    if not isinstance(graph, list):
        raise InputError("an SPDX 3 JSON-LD document has an @graph list", subject=subject)
    return [o for o in graph if isinstance(o, dict)]


def _id(obj: dict[str, Any]) -> str | None:
    value = obj.get("spdxId") or obj.get("@id")
    return value if isinstance(value, str) else None


def _entries(value: Any) -> list[tuple[str, Any]]:
    """DictionaryEntry objects (``{"key": .., "value": ..}``) as pairs."""
    if not isinstance(value, list):
        return []
    return [(str(e["key"]), e.get("value")) for e in value if isinstance(e, dict) and "key" in e]


def _ref_name(ref: Any, by_id: dict[str, dict[str, Any]]) -> str | None:
    target = by_id.get(ref) if isinstance(ref, str) else ref if isinstance(ref, dict) else None
    name = target.get("name") if isinstance(target, dict) else None
    return name if isinstance(name, str) else None


def _related(graph: list[dict[str, Any]], source: str, kind: str) -> list[str]:
    found: list[str] = []
    for rel in graph:
        if (
            rel.get("type") == "Relationship"
            and rel.get("from") == source
            and rel.get("relationshipType") == kind
        ):
            found.extend(t for t in rel.get("to", []) if isinstance(t, str))
    return found


def read_spdx(doc: dict[str, Any], subject: str) -> Extracted:
    context = doc.get("@context")
    if "spdx" not in str(context).lower():
        raise InputError(
            "not an SPDX 3 document",
            subject=subject,
            expected="an SPDX @context",
            found=str(context)[:80],
        )
    graph = _graph(doc, subject)
    by_id = {i: o for o in graph if (i := _id(o))}
    models = [o for o in graph if o.get("type") == "ai_AIPackage"]
    if not models:
        raise InputError(
            "the SPDX document has no ai_AIPackage element",
            subject=subject,
            hint="import an SPDX 3 document using the AI profile",
        )
    model = models[0]
    model_id = _id(model) or ""
    name = model.get("name")
    out = Extracted(format="spdx", kind="model", name=name if isinstance(name, str) else None)
    out.declare("intended_use", _text(model.get("ai_informationAboutApplication")))
    out.declare("limitations", _text(model.get("ai_limitation")))
    out.declare("training_data_description", _text(model.get("ai_informationAboutTraining")))
    metrics = [{"type": k, "value": v} for k, v in _entries(model.get("ai_metric"))]
    thresholds = dict(_entries(model.get("ai_metricDecisionThreshold")))
    for metric in metrics:
        if metric["type"] in thresholds:
            metric["slice"] = f"decision threshold {thresholds[metric['type']]}"
    out.declare("performance_metrics", metrics_text(metrics))
    out.declare("accuracy_metrics", metrics_text([m for m in metrics if accuracy_like(m["type"])]))
    out.fact("metric_list", metrics)
    out.declare("owner", _ref_name(model.get("suppliedBy"), by_id))
    autonomy = model.get("ai_autonomyType")
    out.fact("autonomy_type", autonomy)
    for key, fact in (
        ("ai_safetyRiskAssessment", "safety_risk_assessment"),
        ("ai_standardCompliance", "standard_compliance"),
        ("ai_domain", "domain"),
        ("ai_typeOfModel", "type_of_model"),
        ("ai_useSensitivePersonalInformation", "uses_sensitive_personal_information"),
        ("ai_energyConsumption", "energy_consumption"),
    ):
        out.fact(fact, model.get(key))
    datasets = [n for ref in _related(graph, model_id, "trainedOn") if (n := _ref_name(ref, by_id))]
    out.fact("datasets", datasets)
    tested = [n for ref in _related(graph, model_id, "testedOn") if (n := _ref_name(ref, by_id))]
    out.fact("test_datasets", tested)
    if datasets:
        out.declare("training_data_description", "datasets: " + ", ".join(datasets))
    for note in graph:
        comment = note.get("comment")
        if (
            note.get("type") == "Annotation"
            and note.get("subject") == model_id
            and isinstance(comment, str)
            and comment.startswith(CARD_PROPERTY_PREFIX)
        ):
            out.declare(comment.removeprefix(CARD_PROPERTY_PREFIX), _text(note.get("statement")))
    out.notes.append(f"ai_AIPackage {out.name!r} (SPDX {_spec(graph)})")
    return out


def _text(value: Any) -> str:
    return join_texts(value) if isinstance(value, str | list) else ""


def _spec(graph: list[dict[str, Any]]) -> str:
    for obj in graph:
        if obj.get("type") == "CreationInfo" and isinstance(obj.get("specVersion"), str):
            return str(obj["specVersion"])
    return "3"
