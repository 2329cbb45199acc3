"""What the three card exports read from an AI Card, in one place.

Each export (CycloneDX, SPDX, Hugging Face) maps the same few things: declared text, the
training datasets with their digests, Arena scores with their intervals, classic-ML
measures, called services, and the verified facts that become claims. Reading them here
keeps the three mappings consistent with each other and with the card.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tutela.cards.model import AICard, CardField

__all__ = [
    "ArenaScore",
    "Claim",
    "Dataset",
    "arena_scores",
    "card_serial",
    "claims",
    "datasets",
    "declared_text",
    "hex_digest",
    "ml_measures",
    "services",
]

# Where each declared field lives on the card (section.field).
DECLARED_PATHS: dict[str, str] = {
    "intended_use": "intended_use.intended_use",
    "out_of_scope_use": "intended_use.out_of_scope_use",
    "instructions_for_use": "intended_use.instructions_for_use",
    "human_oversight": "intended_use.human_oversight",
    "owner": "identity.owner",
    "contact": "identity.contact",
    "risk_management": "risk.risk_management",
    "training_data_description": "training_data.description",
    "performance_metrics": "evaluation.performance_metrics",
    "accuracy_metrics": "evaluation.accuracy_metrics",
    "cybersecurity_measures": "supply_chain.cybersecurity_measures",
    "logging": "monitoring.logging",
    "limitations": "limitations.limitations",
    "ethical_considerations": "limitations.ethical_considerations",
}


@dataclass(frozen=True)
class Dataset:
    asset_id: str
    name: str
    digest: str | None
    depth: int  # 1: the model was trained on it directly; deeper: an upstream source


@dataclass(frozen=True)
class ArenaScore:
    category: str
    asr: float
    low: float | None
    high: float | None
    trials: int | None


@dataclass(frozen=True)
class Claim:
    """A statement backed by evidence about the exact version the card describes."""

    path: str
    label: str
    statement: str
    evidence: tuple[str, ...]
    holds: bool | None  # None: informative, neither met nor unmet


def hex_digest(digest: str | None) -> str | None:
    """The hex part of a ``sha256:`` digest (what CycloneDX and SPDX hash fields want)."""
    if digest and digest.startswith("sha256:") and len(digest) == 71:
        return digest[7:]
    return None


def card_serial(card: AICard, namespace: str) -> uuid.UUID:
    """A serial number derived from the card's canonical form: equal cards, equal serials."""
    body = json.dumps(card.canonical(), sort_keys=True, separators=(",", ":"), default=str)
    return uuid.uuid5(uuid.NAMESPACE_URL, namespace + hashlib.sha256(body.encode()).hexdigest())


def declared_text(card: AICard, key: str) -> str | None:
    """A declared field as text (the owner may also come from the asset record)."""
    value = card.value(DECLARED_PATHS[key])
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.strip() or None


def _name_of(asset_id: str) -> str:
    return asset_id.partition(":")[2] or asset_id


def datasets(card: AICard) -> list[Dataset]:
    rows = card.value("training_data.datasets") or []
    out: list[Dataset] = []
    seen: set[tuple[str, str | None]] = set()
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("asset_id"), str):
            continue
        key = (row["asset_id"], row.get("digest"))
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Dataset(
                row["asset_id"],
                _name_of(row["asset_id"]),
                row.get("digest"),
                int(row.get("depth") or 1),
            )
        )
    return out


def arena_scores(card: AICard) -> list[ArenaScore]:
    value = card.value("evaluation.arena_scores")
    rows = value.get("scores") if isinstance(value, dict) else None
    out = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("asr"), int | float):
            out.append(
                ArenaScore(
                    str(row.get("category")),
                    float(row["asr"]),
                    _float(row.get("low")),
                    _float(row.get("high")),
                    row.get("trials") if isinstance(row.get("trials"), int) else None,
                )
            )
    return out


def ml_measures(card: AICard) -> dict[str, float]:
    """Classic-ML Arena measures keyed ``<category>.<metric>``."""
    value = card.value("evaluation.ml_measures")
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in sorted(value.items()) if isinstance(v, int | float)}


def services(card: AICard) -> list[str]:
    called = card.value("services.called")
    return sorted(s for s in called if isinstance(s, str)) if isinstance(called, list) else []


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _holds(path: str, value: Any) -> bool | None:
    """Whether a verified fact meets what a reviewer expects (None: informative only)."""
    if path == "governance.gate_decision" and isinstance(value, dict):
        passed = value.get("passed")
        return passed if isinstance(passed, bool) else None
    if path == "supply_chain.max_severity":
        return value not in ("high", "critical")
    if path in {"lineage.complete", "lineage.known", "monitoring.drift_green"}:
        return value if isinstance(value, bool) else None
    if path == "supply_chain.open_findings":
        return value == 0 if isinstance(value, int) else None
    return None


def _statement(label: str, value: Any) -> str:
    if isinstance(value, str | int | float | bool):
        text = str(value).lower() if isinstance(value, bool) else str(value)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return f"{label}: {text}"[:1000]


def claims(card: AICard) -> list[Claim]:
    """Every verified field with its evidence, in card order."""
    out = []
    for path, field in card.fields().items():
        if field.provenance != "verified" or not field.evidence:
            continue
        out.append(_claim(path, field))
    return out


def _claim(path: str, field: CardField) -> Claim:
    label = field.label or path
    return Claim(
        path,
        label,
        _statement(label, field.value),
        tuple(field.evidence),
        _holds(path, field.value),
    )
