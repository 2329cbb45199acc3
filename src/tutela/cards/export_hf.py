"""An AI Card as a Hugging Face model card: README.md with YAML metadata.

The front matter follows the Hub's model card metadata (``license``, ``tags``,
``datasets``, ``model-index`` results); the body follows the headings of the Hub's model
card template so people and tools find things where they expect them. Tutela's extras
(supply-chain scan, governance) come after the template sections. Each value says where
it came from (declared, verified, stale, inferred); what nobody has declared is written
as the template's "[More Information Needed]", which ``tutela card import`` reads as
missing.
"""

from __future__ import annotations

from typing import Any

import yaml

from tutela.cards.export_common import arena_scores, datasets, declared_text, ml_measures
from tutela.cards.model import AICard, CardField

__all__ = ["card_to_hf"]

_MISSING = "[More Information Needed]"


def _front_matter(card: AICard) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    tags = ["tutela", f"risk-tier:{card.value('risk.risk_tier') or 'unassessed'}"]
    meta["license"] = "other"  # Tutela records no licence; the Hub requires a value
    meta["tags"] = tags
    trained = sorted({d.name for d in datasets(card) if d.depth == 1})
    if trained:
        meta["datasets"] = trained
    results: list[dict[str, Any]] = []
    scores = arena_scores(card)
    if scores:
        results.append(
            {
                "task": {
                    "type": "adversarial-evaluation",
                    "name": "Tutela Arena (LLM red-teaming)",
                },
                "dataset": {"type": "tutela-arena", "name": "Tutela Arena probes"},
                "metrics": [
                    {
                        "type": "attack_success_rate",
                        "value": round(s.asr, 4),
                        "name": f"ASR {s.category}",
                    }
                    for s in scores
                ],
            }
        )
    measures = ml_measures(card)
    if measures:
        results.append(
            {
                "task": {"type": "robustness-evaluation", "name": "Tutela Arena (classic ML)"},
                "dataset": {"type": "tutela-arena-ml", "name": "Tutela Arena ML evaluation data"},
                "metrics": [
                    {"type": key.partition(".")[2] or key, "value": round(value, 4), "name": key}
                    for key, value in measures.items()
                ],
            }
        )
    if results:
        meta["model-index"] = [{"name": card.subject.name, "results": results}]
    return meta


def _mark(field: CardField) -> str:
    if field.provenance == "missing":
        return ""
    refs = (
        f"; evidence {', '.join(field.evidence)}"
        if field.evidence and field.provenance != "declared"
        else ""
    )
    return f" *({field.provenance}{refs})*"


def _text(card: AICard, key: str) -> str:
    return declared_text(card, key) or _MISSING


def _value(card: AICard, path: str) -> str:
    field = card.field(path)
    if field.value is None:
        return _MISSING + (f" ({field.note})" if field.note else "")
    value = field.value
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return (text or "none") + _mark(field)


def _details(card: AICard) -> list[str]:
    subject = card.subject
    return [
        "## Model Details",
        "",
        "### Model Description",
        "",
        f"- **Developed by:** {_text(card, 'owner')}",
        f"- **Model type:** {subject.kind}",
        f"- **Asset id:** `{subject.asset_id}`",
        f"- **Version (content digest):** `{subject.version_digest or 'none recorded'}`",
        f"- **Risk tier:** {_value(card, 'risk.risk_tier')}",
        "- **License:** [More Information Needed]",
        "",
        str(card.value("identity.description") or ""),
        "",
    ]


def _uses(card: AICard) -> list[str]:
    return [
        "## Uses",
        "",
        "### Direct Use",
        "",
        _text(card, "intended_use"),
        "",
        "### Out-of-Scope Use",
        "",
        _text(card, "out_of_scope_use"),
        "",
        "### Human Oversight",
        "",
        _text(card, "human_oversight"),
        "",
        "## Bias, Risks, and Limitations",
        "",
        _text(card, "limitations"),
        "",
        "### Ethical Considerations",
        "",
        _text(card, "ethical_considerations"),
        "",
        "### Recommendations",
        "",
        _text(card, "risk_management"),
        "",
        "## How to Get Started with the Model",
        "",
        _text(card, "instructions_for_use"),
        "",
    ]


def _training(card: AICard) -> list[str]:
    lines = [
        "## Training Details",
        "",
        "### Training Data",
        "",
        _text(card, "training_data_description"),
        "",
    ]
    found = datasets(card)
    if found:
        lines += ["| dataset | role | digest |", "|---|---|---|"]
        for d in found:
            role = "trained on" if d.depth == 1 else f"upstream (depth {d.depth})"
            lines.append(f"| `{d.asset_id}` | {role} | `{d.digest}` |")
        lines.append("")
    lines += [
        "### Training Procedure",
        "",
        f"Lineage complete: {_value(card, 'lineage.complete')}",
        "",
    ]
    return lines


def _evaluation(card: AICard) -> list[str]:
    lines = ["## Evaluation", "", "### Testing Data, Factors & Metrics", ""]
    lines += [
        "Adversarial evaluation with Tutela Arena: attack success rate (ASR) per category, "
        "with the Wilson 95% interval.",
        "",
        "### Results",
        "",
    ]
    scores = arena_scores(card)
    if scores:
        lines += [f"Arena scores{_mark(card.field('evaluation.arena_scores'))}", ""]
        lines += ["| category | ASR | 95% interval | trials |", "|---|---|---|---|"]
        lines += [
            f"| {s.category} | {s.asr:.3f} | "
            f"{'' if s.low is None else f'{s.low:.3f}–{s.high:.3f}'} | {s.trials or ''} |"
            for s in scores
        ]
        lines.append("")
    measures = ml_measures(card)
    if measures:
        lines += ["| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" for k, v in measures.items()]
        lines.append("")
    declared = declared_text(card, "performance_metrics")
    if declared:
        lines += ["Declared performance:", "", declared, ""]
    accuracy = declared_text(card, "accuracy_metrics")
    if accuracy:
        lines += ["Declared accuracy:", "", accuracy, ""]
    if not (scores or measures or declared or accuracy):
        lines += [_MISSING, ""]
    return lines


def _tutela(card: AICard) -> list[str]:
    return [
        "## Environmental Impact",
        "",
        _MISSING,
        "",
        "## Security",
        "",
        _text(card, "cybersecurity_measures"),
        "",
        "### Logging",
        "",
        _text(card, "logging"),
        "",
        "## Governance",
        "",
        f"- **Scanned:** {_value(card, 'supply_chain.scanned')}",
        f"- **Highest open severity:** {_value(card, 'supply_chain.max_severity')}",
        f"- **Gate decision:** {_value(card, 'governance.gate_decision')}",
        f"- **Approvals:** {_value(card, 'governance.approvals')}",
        f"- **Third-party services called:** {_value(card, 'services.called')}",
        "",
        "## Model Card Contact",
        "",
        _text(card, "contact"),
        "",
        "---",
        "",
        f"Generated by Tutela from its evidence store (card schema {card.schema_}, "
        f"ledger size {card.ledger_size}).",
        "",
    ]


def card_to_hf(card: AICard) -> str:
    """The card as a Hugging Face README.md (YAML front matter + template sections)."""
    meta = yaml.safe_dump(_front_matter(card), sort_keys=False, allow_unicode=True)
    body = [
        f"# Model Card for {card.subject.name}",
        "",
        *_details(card),
        *_uses(card),
        *_training(card),
        *_evaluation(card),
        *_tutela(card),
    ]
    return f"---\n{meta}---\n\n" + "\n".join(body)
