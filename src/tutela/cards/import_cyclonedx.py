"""Read a CycloneDX (1.5/1.6) JSON document: its ML model's ``modelCard``, or its service.

The subject is the first ``machine-learning-model`` component (``metadata.component``
first), else the first service. Model-card considerations, quantitative analysis and
parameters become declared fields; ``tutela:card:*`` properties (how Tutela's own export
carries fields CycloneDX has no slot for) are read back; declarations' claims become
facts.
"""

from __future__ import annotations

from typing import Any

from tutela.cards.import_common import (
    CARD_PROPERTY_PREFIX,
    Extracted,
    accuracy_like,
    as_dict,
    join_texts,
    metrics_text,
)
from tutela.errors import InputError

__all__ = ["read_cyclonedx"]

_ML = "machine-learning-model"


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _all_components(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Components in document order, nested ones included (iteratively)."""
    meta = as_dict(doc.get("metadata"))
    pending = _dicts([meta.get("component")]) + _dicts(doc.get("components"))
    out: list[dict[str, Any]] = []
    while pending:
        component = pending.pop(0)
        out.append(component)
        pending.extend(_dicts(component.get("components")))
    return out


def _entity_name(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])
    return None


def _contact(entity: Any) -> str | None:
    if not isinstance(entity, dict):
        return None
    for person in _dicts(entity.get("contact")):
        for key in ("email", "phone", "name"):
            if isinstance(person.get(key), str) and person[key]:
                return str(person[key])
    urls = entity.get("url")
    return urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else None


def _properties(item: dict[str, Any], out: Extracted) -> None:
    for prop in _dicts(item.get("properties")):
        name, value = prop.get("name"), prop.get("value")
        if (
            isinstance(name, str)
            and name.startswith(CARD_PROPERTY_PREFIX)
            and isinstance(value, str)
        ):
            out.declare(name.removeprefix(CARD_PROPERTY_PREFIX), value)


def _metrics(card: dict[str, Any]) -> list[dict[str, Any]]:
    analysis = card.get("quantitativeAnalysis")
    found = []
    for metric in _dicts(analysis.get("performanceMetrics") if isinstance(analysis, dict) else []):
        interval = metric.get("confidenceInterval")
        interval = as_dict(interval)
        found.append(
            {
                "type": str(metric.get("type") or "metric"),
                "value": metric.get("value"),
                "slice": metric.get("slice"),
                "lower": interval.get("lowerBound"),
                "upper": interval.get("upperBound"),
            }
        )
    return found


def _datasets(card: dict[str, Any], by_ref: dict[str, dict[str, Any]]) -> list[str]:
    params = card.get("modelParameters")
    names = []
    for entry in _dicts(params.get("datasets") if isinstance(params, dict) else []):
        target = by_ref.get(str(entry.get("ref"))) if "ref" in entry else entry
        if target is not None:
            names.append(str(target.get("name") or entry.get("ref") or target.get("type")))
    return names


def _model(component: dict[str, Any], doc: dict[str, Any], out: Extracted) -> None:
    card = as_dict(component.get("modelCard"))
    considerations = card.get("considerations")
    considerations = as_dict(considerations)
    out.declare("intended_use", join_texts(considerations.get("useCases")))
    out.declare(
        "limitations",
        join_texts(
            [*(considerations.get("technicalLimitations") or []),
             *(considerations.get("performanceTradeoffs") or [])]
        ),
    )  # fmt: skip
    ethics = [
        f"{r.get('name')}"
        + (f" (mitigation: {r['mitigationStrategy']})" if r.get("mitigationStrategy") else "")
        for r in _dicts(considerations.get("ethicalConsiderations"))
        if r.get("name")
    ]
    out.declare("ethical_considerations", "\n".join(ethics))
    out.fact("users", considerations.get("users"))
    out.fact("fairness_assessments", _dicts(considerations.get("fairnessAssessments")))
    out.fact("environmental_considerations", considerations.get("environmentalConsiderations"))
    metrics = _metrics(card)
    out.declare("performance_metrics", metrics_text(metrics))
    out.declare("accuracy_metrics", metrics_text([m for m in metrics if accuracy_like(m["type"])]))
    out.fact("metric_list", metrics)
    by_ref = {str(c.get("bom-ref")): c for c in _all_components(doc) if c.get("bom-ref")}
    datasets = _datasets(card, by_ref)
    out.fact("datasets", datasets)
    if datasets:
        out.declare("training_data_description", "datasets: " + ", ".join(datasets))
    params = card.get("modelParameters")
    if isinstance(params, dict):
        approach = params.get("approach")
        out.fact("task", params.get("task"))
        out.fact("approach", approach.get("type") if isinstance(approach, dict) else None)
        out.fact("architecture", params.get("architectureFamily"))
    supplier = component.get("supplier") or component.get("manufacturer")
    out.declare("owner", _entity_name(supplier))
    out.declare("contact", _contact(supplier))
    licenses = [
        lic.get("license", {}).get("id")
        or lic.get("license", {}).get("name")
        or lic.get("expression")
        for lic in _dicts(component.get("licenses"))
    ]
    out.fact("license", ", ".join(str(x) for x in licenses if x) or None)
    _properties(component, out)


def _service(service: dict[str, Any], out: Extracted) -> None:
    out.declare(
        "intended_use",
        service.get("description") if isinstance(service.get("description"), str) else None,
    )
    out.declare("owner", _entity_name(service.get("provider")))
    out.declare("contact", _contact(service.get("provider")))
    endpoints = service.get("endpoints")
    out.fact(
        "endpoints",
        [e for e in endpoints if isinstance(e, str)] if isinstance(endpoints, list) else None,
    )
    out.fact("authenticated", service.get("authenticated"))
    out.fact("trust_boundary", service.get("x-trust-boundary"))
    out.fact("trust_zone", service.get("trustZone"))
    out.fact("data_flows", [d.get("flow") for d in _dicts(service.get("data")) if d.get("flow")])
    _properties(service, out)


def _claims(doc: dict[str, Any], out: Extracted) -> None:
    declarations = doc.get("declarations")
    if not isinstance(declarations, dict):
        return
    claims = [
        {
            "predicate": c.get("predicate"),
            "target": c.get("target"),
            "evidence": c.get("evidence", []),
        }
        for c in _dicts(declarations.get("claims"))
        if isinstance(c.get("predicate"), str)
    ]
    out.fact("claims", claims)


def read_cyclonedx(doc: dict[str, Any], subject: str) -> Extracted:
    if doc.get("bomFormat") != "CycloneDX":
        raise InputError(
            "not a CycloneDX document", subject=subject, expected='bomFormat "CycloneDX"'
        )
    spec = str(doc.get("specVersion", ""))
    models = [c for c in _all_components(doc) if c.get("type") == _ML]
    services = _dicts(doc.get("services"))
    if models:
        component = models[0]
        out = Extracted(format="cyclonedx", kind="model", name=_name(component))
        _model(component, doc, out)
        out.notes.append(f"model component {out.name!r} (CycloneDX {spec})")
    elif services:
        out = Extracted(format="cyclonedx", kind="service", name=_name(services[0]))
        _service(services[0], out)
        out.notes.append(f"service {out.name!r} (CycloneDX {spec})")
    else:
        raise InputError(
            "the CycloneDX document has no machine-learning-model component and no service",
            subject=subject,
            hint="import the BOM of a model or an AI service",
        )
    _claims(doc, out)
    out.fact("spec_version", spec or None)
    return out


def _name(item: dict[str, Any]) -> str | None:
    name = item.get("name")
    return name if isinstance(name, str) and name.strip() else None
