"""`tutela card import FILE`: hold a vendor's card to the same crosswalk as our own.

Reads a third-party CycloneDX JSON, SPDX 3 JSON-LD or Hugging Face README (detected from
the content, not the name), extracts the declared fields and the facts-like values it
states, registers (or updates) the asset it describes with a version named by the file's
sha256, records one ``card`` evidence row (producer ``cards.import``) holding what was
extracted and the score, and returns the compliance report for a framework.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tutela.cards.comply import ComplianceReport, ItemResult, assess_declared
from tutela.cards.import_common import CardFormat, Extracted
from tutela.cards.import_cyclonedx import read_cyclonedx
from tutela.cards.import_hf import read_hf
from tutela.cards.import_limits import Deadline, load_json, read_card_file
from tutela.cards.import_spdx import read_spdx
from tutela.errors import InputError
from tutela.workspace import Workspace

__all__ = ["IMPORT_PRODUCER", "ImportedCard", "detect_and_read", "import_card"]

IMPORT_PRODUCER = "cards.import"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._\-/:+]+")
# SPDX safety risk assessment -> Tutela risk tier (used only for an asset met new).
_RISK_TIERS = {"serious": "high", "high": "high", "medium": "limited", "low": "minimal"}


class ImportedCard(BaseModel):
    """What an import found, where it was recorded, and how it scores."""

    model_config = ConfigDict(frozen=True)

    path: str
    format: CardFormat
    asset_id: str
    version_digest: str
    evidence_id: str
    declared: dict[str, str]
    facts: dict[str, Any]
    notes: list[str]
    report: ComplianceReport

    def gaps(self) -> list[ItemResult]:
        """Items the card does not (fully) satisfy, manual ones included."""
        return [i for i in self.report.items if i.status != "satisfied"]


def detect_and_read(data: bytes, subject: str) -> Extracted:
    """Identify the format from the content and extract what the card declares."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the card is not UTF-8 text", subject=subject) from None
    head = text.lstrip()
    if head.startswith("{"):
        doc = load_json(text, subject)
        if not isinstance(doc, dict):
            raise InputError("the card's JSON is not an object", subject=subject)
        if "bomFormat" in doc:
            return read_cyclonedx(doc, subject)
        if "@context" in doc or "@graph" in doc:
            return read_spdx(doc, subject)
        raise InputError(
            "unknown JSON card format",
            subject=subject,
            expected="CycloneDX (bomFormat) or SPDX 3 JSON-LD (@context, @graph)",
        )
    if head.startswith("---"):
        return read_hf(head, subject)
    raise InputError(
        "unknown card format",
        subject=subject,
        expected="CycloneDX JSON, SPDX 3 JSON-LD, or a Hugging Face README with YAML front matter",
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON for the ledger: string keys, finite numbers, anything else as text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _asset_id(extracted: Extracted, path: Path, given: str | None) -> str:
    if given:
        return given
    name = extracted.name or path.stem
    safe = _UNSAFE_NAME.sub("-", name).strip("-./:+")[:200] or "imported"
    return f"{extracted.kind}:{safe}"


def _activation(ws: Workspace, asset_id: str, extracted: Extracted, digest: str) -> dict[str, Any]:
    from tutela.store.models import Asset

    with ws.reader() as session:
        existing = session.get(Asset, asset_id)
        owner = existing.owner if existing is not None else None
        tier = existing.risk_tier.value if existing is not None else None
    spdx_risk = str(extracted.facts.get("safety_risk_assessment", "")).rsplit("/", 1)[-1]
    return {
        "asset": {
            "id": asset_id,
            "kind": asset_id.partition(":")[0],
            "owner": extracted.declared.get("owner") or owner or "",
            "risk_tier": tier
            if tier not in (None, "unassessed")
            else _RISK_TIERS.get(spdx_risk, "unassessed"),
            "version_digest": digest,
        }
    }


def import_card(
    ws: Workspace,
    path: Path,
    *,
    asset_id: str | None = None,
    framework: str = "eu-ai-act",
    actor: str | None = None,
) -> ImportedCard:
    """Read, register, record and score a third-party card (see the module docstring)."""
    from tutela.catalog.assets import ensure_asset_in, parse_asset_id
    from tutela.catalog.evidence import record_evidence_in
    from tutela.version import tutela_version

    subject = str(path)
    deadline = Deadline(subject)
    if asset_id is not None:
        parse_asset_id(asset_id)
    data = read_card_file(path)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    extracted = detect_and_read(data, subject)
    deadline.check("parsing")
    target = _asset_id(extracted, path, asset_id)
    parse_asset_id(target)
    activation = _activation(ws, target, extracted, digest)
    cite = f"{path.name}@{digest}"
    report = assess_declared(
        framework,
        activation,
        extracted.declared,
        evidence_ids={f"card.{k}": [cite] for k in extracted.declared},
    )
    deadline.check("scoring")
    payload = {
        "format": extracted.format,
        "file": path.name,
        "declared": extracted.declared,
        "facts": _jsonable(extracted.facts),
        "notes": extracted.notes,
        "framework": report.framework,
        "score": report.score,
        "counts": report.counts,
        "gaps": [
            {"id": i.id, "status": i.status, "missing": i.missing}
            for i in report.items
            if i.status != "satisfied"
        ],
    }
    with ws.transaction(actor) as tx:
        ensure_asset_in(
            tx,
            target,
            description=f"imported from a third-party {extracted.format} card",
            tags=["source:card-import"],
        )
        evidence = record_evidence_in(
            tx,
            asset_id=target,
            kind="card",
            producer=IMPORT_PRODUCER,
            producer_version=tutela_version(),
            payload=payload,
            summary={
                "format": extracted.format,
                "score": report.score,
                "framework": report.framework,
            },
            version_digest=digest,
            location=str(path.resolve()),
        )
    return ImportedCard(
        path=subject,
        format=extracted.format,
        asset_id=target,
        version_digest=digest,
        evidence_id=evidence.id,
        declared=extracted.declared,
        facts=_jsonable(extracted.facts),
        notes=extracted.notes,
        report=report.model_copy(update={"recorded_as": evidence.id}),
    )
