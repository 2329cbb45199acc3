"""Read a Hugging Face model card: YAML front matter and the template's Markdown sections.

The front matter gives structured values (``license``, ``datasets``, ``model-index``
results, ``pipeline_tag``); the body's headings (the Hub's model card template, or
close variants) give the declared text fields. Template placeholders such as
"[More Information Needed]" count as not declared.
"""

from __future__ import annotations

import re
from typing import Any

from tutela.cards.import_common import Extracted, accuracy_like, as_dict, clean_text, metrics_text
from tutela.cards.import_limits import load_yaml
from tutela.errors import InputError

__all__ = ["HEADING_FIELDS", "read_hf"]

# Normalised heading -> declared field. Order matters only for documentation.
HEADING_FIELDS: dict[str, str] = {
    "direct use": "intended_use",
    "intended use": "intended_use",
    "intended uses": "intended_use",
    "intended uses & limitations": "intended_use",
    "uses": "intended_use",
    "downstream use": "intended_use",
    "out-of-scope use": "out_of_scope_use",
    "out of scope use": "out_of_scope_use",
    "bias, risks, and limitations": "limitations",
    "bias, risks and limitations": "limitations",
    "limitations": "limitations",
    "ethical considerations": "ethical_considerations",
    "recommendations": "risk_management",
    "risk management": "risk_management",
    "training data": "training_data_description",
    "training details": "training_data_description",
    "results": "performance_metrics",
    "evaluation": "performance_metrics",
    "how to get started with the model": "instructions_for_use",
    "instructions for use": "instructions_for_use",
    "model card contact": "contact",
    "contact": "contact",
    "human oversight": "human_oversight",
    "security": "cybersecurity_measures",
    "cybersecurity": "cybersecurity_measures",
    "logging": "logging",
    "record-keeping": "logging",
}

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_DEVELOPED_BY = re.compile(
    r"^\s*[-*]\s*\*\*(developed by|shared by|model type)[^*]*\*\*:?\s*(.+)$", re.I
)


def _split(text: str, subject: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise InputError(
            "a Hugging Face card starts with YAML front matter between --- lines",
            subject=subject,
        )
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            meta = load_yaml("\n".join(lines[1:end]), subject) if end > 1 else {}
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise InputError("the front matter is not a YAML mapping", subject=subject)
            return meta, "\n".join(lines[end + 1 :])
    raise InputError("the front matter has no closing --- line", subject=subject)


def _sections(body: str) -> list[tuple[int, str, str]]:
    """(level, normalised heading, text until the next heading of any level)."""
    out: list[tuple[int, str, list[str]]] = []
    fence = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        match = None if fence else _HEADING.match(line)
        if match:
            title = re.sub(r"[*_`]", "", match.group(2)).strip().lower()
            out.append((len(match.group(1)), title, []))
        elif not fence and _RULE.match(line):
            out.append((0, "", []))  # a thematic break ends the section (a footer follows)
        elif out:
            out[-1][2].append(line)
    return [(level, title, "\n".join(text).strip()) for level, title, text in out]


def _metrics(meta: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    index = meta.get("model-index")
    if not isinstance(index, list):
        return found
    for model in index:
        results = model.get("results") if isinstance(model, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            task = as_dict(result.get("task"))
            dataset = as_dict(result.get("dataset"))
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else []:
                if not isinstance(metric, dict) or "type" not in metric:
                    continue
                found.append(
                    {
                        "type": str(metric["type"]),
                        "name": str(metric.get("name") or metric["type"]),
                        "value": metric.get("value"),
                        "dataset": str(dataset.get("name") or dataset.get("type") or ""),
                        "task": str(task.get("type") or ""),
                    }
                )
    return found


def _developer(body: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in body.splitlines():
        match = _DEVELOPED_BY.match(line)
        if match:
            value = clean_text(match.group(2))
            if value:
                found.setdefault(match.group(1).lower(), value)
    return found


def read_hf(text: str, subject: str) -> Extracted:
    meta, body = _split(text, subject)
    index = meta.get("model-index")
    name = None
    if isinstance(index, list) and index and isinstance(index[0], dict):
        name = index[0].get("name")
    out = Extracted(format="hf", kind="model", name=str(name) if name else None)
    for level, title, section_text in _sections(body):
        key = HEADING_FIELDS.get(title)
        if key and clean_text(section_text):
            out.declare(key, section_text)
            out.notes.append(f"{key} from heading {'#' * level} {title}")
        elif level == 1 and out.name is None:
            out.name = title if title and title != "model card" else None
    people = _developer(body)
    out.declare("owner", people.get("developed by") or people.get("shared by"))
    metrics = _metrics(meta)
    if metrics:
        # Structured results beat the prose section.
        out.declared["performance_metrics"] = metrics_text(metrics)
        out.declare(
            "accuracy_metrics", metrics_text([m for m in metrics if accuracy_like(m["type"])])
        )
        out.fact("metric_list", metrics)
        out.notes.append(f"{len(metrics)} metrics from model-index")
    out.fact("metrics", {m["type"]: m["value"] for m in metrics})
    for key in ("license", "pipeline_tag", "library_name", "base_model"):
        value = meta.get(key)
        out.fact(key, value if isinstance(value, str | list) else None)
    for key in ("datasets", "language", "tags"):
        value = meta.get(key)
        value = [value] if isinstance(value, str) else value
        out.fact(key, [str(v) for v in value] if isinstance(value, list) else None)
    if "datasets" in out.facts and "training_data_description" not in out.declared:
        out.declare("training_data_description", "datasets: " + ", ".join(out.facts["datasets"]))
    if "model_type" in people:
        out.fact("model_type", people["model_type"])
    return out
