"""A Markdown draft of the EU AI Act Annex IV technical documentation, points 1 to 9.

Each point is filled from the declared card fields and the facts, every derived value
citing its evidence ids, and ``[missing: ...]`` wherever nothing is known, so the draft
shows a person exactly what is left to write. It is a draft: the provider completes and
signs the real document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutela.cards.comply import ComplianceReport, Inputs

__all__ = ["SECTIONS", "annex_iv_markdown"]

# (point, heading, rows); a row is (label, source, what to provide when missing).
# A source "card.x" or "ns.fact" is read from the inputs; None means always missing.
_Row = tuple[str, str | None, str]
SECTIONS: tuple[tuple[int, str, tuple[_Row, ...]], ...] = (
    (1, "General description of the AI system", (
        ("Asset", "asset.id", "the system's name"),
        ("Kind", "asset.kind", "what kind of system it is"),
        ("Provider / owner", "card.owner", "the provider's name and address"),
        ("Version", "asset.version_digest", "the version (content digest)"),
        ("Intended purpose", "card.intended_use", "the intended purpose"),
        ("Instructions for use", "card.instructions_for_use", "instructions for deployers"),
        ("Contact", "card.contact", "a contact point"),
        ("Hardware and software it runs on", None, "the hardware, software and forms of supply"),
    )),
    (2, "Elements of the AI system and its development", (
        ("Training data", "card.training_data_description", "a description of the training data"),
        ("Lineage known", "lineage.known", "recorded lineage (tutela lineage)"),
        ("Data sources", "lineage.sources", "the data sources"),
        ("Lineage gaps", "lineage.gaps", "a lineage check"),
        ("Data checks", "data.checked", "a training-data check (tutela data check)"),
        ("Highest data finding", "data.max_severity", "a training-data check"),
        ("Artifact scan", "scan.scanned", "a model-artifact scan (tutela scan)"),
        ("Highest open scan finding", "scan.max_severity", "a model-artifact scan"),
        ("Human oversight measures", "card.human_oversight", "the human-oversight measures"),
        ("Cybersecurity measures", "card.cybersecurity_measures", "the cybersecurity measures"),
        ("Design choices and architecture", None, "the design specifications and architecture"),
    )),
    (3, "Monitoring, functioning and control", (
        ("Capabilities and limitations", "card.limitations", "the known limitations"),
        ("Accuracy", "card.accuracy_metrics", "the expected accuracy levels"),
        ("Foreseeable misuse", "card.out_of_scope_use", "uses out of scope"),
        ("Ethical considerations", "card.ethical_considerations", "risks to people"),
        ("Human oversight", "card.human_oversight", "the human-oversight measures"),
    )),
    (4, "Appropriateness of the performance metrics", (
        ("Performance metrics", "card.performance_metrics", "the metrics and why they fit"),
        ("Measured (classifier Arena)", "arena_ml.measures", "a classifier Arena run"),
        ("Attack success rates (Arena)", "arena.asr", "an Arena run"),
    )),
    (5, "Risk management system (Article 9)", (
        ("Risk management", "card.risk_management", "the risk-management process"),
        ("Risk tier", "asset.risk_tier", "a risk tier"),
        ("Arena categories tested", "arena.categories", "an Arena run"),
        ("Days since the last Arena run", "arena.age_days", "an Arena run"),
    )),
    (6, "Relevant changes over the lifecycle", (
        ("Version under review", "asset.version_digest", "the version"),
        ("Change log", None, "a change log of relevant changes"),
    )),
    (7, "Harmonised standards and other solutions applied", (
        ("Standards applied", None, "the harmonised standards or alternative solutions"),
    )),
    (8, "EU declaration of conformity", (
        ("Declaration", None, "a copy of the EU declaration of conformity (Article 47)"),
    )),
    (9, "Post-market performance evaluation (Article 72)", (
        ("Drift monitoring configured", "drift.configured", "drift monitoring"),
        ("Last drift check green", "drift.green", "a drift check"),
        ("Days since the last drift check", "drift.age_days", "a drift check"),
        ("Service canary baseline", "canary.baseline", "a canary baseline"),
        ("Logging", "card.logging", "how events are logged"),
        ("Post-market monitoring plan", None, "the post-market monitoring plan"),
    )),
)  # fmt: skip


def _value(inputs: Inputs, name: str) -> Any:
    namespace, _, key = name.partition(".")
    return inputs.activation.get(namespace, {}).get(key)


def _known(value: Any) -> bool:
    return value not in (None, "", [], {})


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_format(v)}" for k, v in sorted(value.items())) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_format(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return " ".join(str(value).split())  # one line: a table cell or list item


def _row(inputs: Inputs, label: str, source: str | None, provide: str) -> str:
    if source is None:
        return f"- **{label}**: [missing: {provide}]"
    value = _value(inputs, source)
    if not _known(value):
        return f"- **{label}**: [missing: {provide}]"
    ids = list(inputs.evidence.get(source, ()))
    cite = f" (evidence: {', '.join(ids)})" if ids else f" (from {source})"
    stale = " [stale: about an older version]" if source in inputs.stale else ""
    return f"- **{label}**: {_format(value)}{cite}{stale}"


def annex_iv_markdown(report: ComplianceReport, inputs: Inputs) -> str:
    """The draft; ``report`` is an eu-ai-act assessment of the same inputs."""
    subject = inputs.asset_id or "unnamed system"
    lines = [
        f"# Technical documentation (EU AI Act, Annex IV): {subject}",
        "",
        "Draft generated by Tutela from recorded evidence and declared card fields. "
        "Items marked [missing: ...] must be completed by the provider. "
        f"Source: {report.document} ({report.url}).",
        "",
        f"- Version: {inputs.version or '[missing: a recorded version]'}",
        f"- Assessed at: {inputs.at.isoformat() if inputs.at else 'n/a'}",
        f"- Crosswalk completeness: {report.score:.0%} ({report.score_explanation})",
        "",
    ]
    for point, heading, rows in SECTIONS:
        lines.append(f"## {point}. {heading}")
        lines.append("")
        item = report.item(f"EU-AI-Act:AnnexIV.{point}")
        if item is not None:
            status = f"Crosswalk status: **{item.status}**"
            if item.missing:
                status += "; to satisfy: " + "; ".join(item.missing)
            elif item.status == "manual" and item.provide:
                status += f"; provide: {item.provide}"
            lines.extend([status, ""])
        lines.extend(_row(inputs, *row) for row in rows)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
