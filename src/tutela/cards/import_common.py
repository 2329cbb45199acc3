"""What every card reader returns, and the small text helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from tutela.cards.catalogue import CARD_FIELDS

__all__ = [
    "CARD_PROPERTY_PREFIX",
    "DECLARED_FIELDS",
    "CardFormat",
    "Extracted",
    "accuracy_like",
    "as_dict",
    "clean_text",
    "join_texts",
    "metrics_text",
]

CardFormat = Literal["cyclonedx", "spdx", "hf"]

# The declared fields the compliance crosswalk scores, each a string.
DECLARED_FIELDS: tuple[str, ...] = CARD_FIELDS

# How Tutela's own exports carry a declared field the format has no slot for
# (a CycloneDX property name, an SPDX annotation comment): read back on import.
CARD_PROPERTY_PREFIX = "tutela:card:"

_PLACEHOLDERS = re.compile(r"\[(?:more information needed|needs more information)\]", re.I)
_ACCURACY = re.compile(
    r"acc|f1|precision|recall|auc|roc|exact.?match|bleu|rouge|error|mse|mae|rmse|r2|iou|map\b",
    re.I,
)


@dataclass
class Extracted:
    """A third-party card reduced to what the crosswalk scores.

    ``declared`` holds only the ``DECLARED_FIELDS`` the card fills, each as text (the
    crosswalk reads declared fields as strings); ``facts`` holds
    measured or structured values (metrics, licence, datasets, risk statements) keyed by
    plain names; ``notes`` says what was read from where, for the report.
    """

    format: CardFormat
    kind: Literal["model", "service"]
    name: str | None
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    declared: dict[str, str] = field(default_factory=dict)

    def declare(self, key: str, value: str | None) -> None:
        """Set a declared field when the value says something (first reader wins)."""
        text = clean_text(value) if isinstance(value, str) else ""
        if key in DECLARED_FIELDS and text:
            self.declared.setdefault(key, text)

    def fact(self, key: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            self.facts.setdefault(key, value)


def as_dict(value: Any) -> dict[str, Any]:
    """The value when it is a mapping, else an empty one (vendor cards vary)."""
    return value if isinstance(value, dict) else {}


def clean_text(text: str) -> str:
    """Template placeholders and surrounding blank space removed."""
    stripped = _PLACEHOLDERS.sub("", text).strip()
    return "" if not re.search(r"\w", stripped) else stripped


def join_texts(values: Any) -> str:
    """A list of strings (or one string) as one paragraph per item."""
    if isinstance(values, str):
        return clean_text(values)
    if isinstance(values, list):
        parts = [clean_text(v) for v in values if isinstance(v, str)]
        return "\n".join(p for p in parts if p)
    return ""


def metrics_text(metrics: list[dict[str, Any]]) -> str:
    """Metrics as one line each: ``type = value [lower, upper] (slice)``."""
    lines = []
    for m in metrics:
        line = f"{m.get('type')} = {m.get('value')}"
        if m.get("lower") is not None or m.get("upper") is not None:
            line += f" [{m.get('lower')}, {m.get('upper')}]"
        context = ", ".join(str(m[k]) for k in ("slice", "dataset", "task") if m.get(k))
        lines.append(f"{line} ({context})" if context else line)
    return "\n".join(lines)


def accuracy_like(metric_type: str) -> bool:
    """Whether a metric name measures accuracy in the AI Act's sense (Art. 15)."""
    return bool(_ACCURACY.search(metric_type))
