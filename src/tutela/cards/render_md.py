"""Markdown rendering of an AI Card, and the one-line text form of field values."""

from __future__ import annotations

import json
from typing import Any

from tutela.cards.model import AICard, CardField

__all__ = ["TYPE_TITLES", "card_title", "render_markdown", "value_text"]

TYPE_TITLES = {
    "model_card": "Model card",
    "service_card": "Service card",
    "datasheet": "Datasheet",
}


def card_title(card: AICard) -> str:
    return f"{TYPE_TITLES[card.card_type]}: {card.subject.asset_id}"


def value_text(value: Any) -> str:
    """A value as text for people: scalars as is, lists one item per line, maps as k: v."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return f"{value:.4g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "\n".join(value_text(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_inline(v)}" for k, v in value.items()) if value else "none"
    return str(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return value_text(value)


def _md_cell(text: str) -> str:
    # A table cell is one line; pipes would end it early.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _field_row(key: str, field: CardField) -> str:
    label = field.label or key
    value = value_text(field.value)
    if field.note:
        value = f"{value} ({field.note})" if field.value is not None else field.note
    evidence = ", ".join(f"`{e}`" for e in field.evidence[:5])
    if len(field.evidence) > 5:
        evidence += f" +{len(field.evidence) - 5}"
    cells = [_md_cell(label), _md_cell(value), field.provenance, _md_cell(evidence)]
    return "| " + " | ".join(cells) + " |"


def render_markdown(card: AICard) -> str:
    subject = card.subject
    lines = [
        f"# {card_title(card)}",
        "",
        f"- Name: {subject.name}",
        f"- Version: `{subject.version_digest or 'none'}`",
        f"- Ledger position: {card.ledger_size}",
        "",
        "Provenance: **declared** (a person wrote it), **inferred** (from discovery or "
        "metadata), **verified** (from evidence about this version), **stale** (from "
        "evidence about an older version), **missing** (nothing known).",
    ]
    for section in card.sections:
        lines += ["", f"## {section.title}", "", "| Field | Value | Provenance | Evidence |"]
        lines.append("|---|---|---|---|")
        lines += [_field_row(key, field) for key, field in section.fields.items()]
    return "\n".join(lines) + "\n"
