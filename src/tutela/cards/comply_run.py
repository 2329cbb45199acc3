"""The one service call behind ``tutela comply``: assess, and draft the exports asked for.

The Annex IV draft always uses an eu-ai-act assessment and the statement of applicability
an iso-42001 one, of the same inputs, whatever framework the report is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tutela.cards.annex_iv import annex_iv_markdown
from tutela.cards.catalogue import load_framework
from tutela.cards.comply import ComplianceReport, evaluate, gather_inputs, record_report
from tutela.cards.soa import soa_csv, soa_markdown, soa_rows
from tutela.errors import InputError

if TYPE_CHECKING:
    from tutela.workspace import Workspace

__all__ = ["ComplyOutcome", "read_declared_file", "run_comply"]

SoaFormat = Literal["markdown", "csv"]


@dataclass(frozen=True)
class ComplyOutcome:
    report: ComplianceReport
    annex_iv: str | None = None
    soa: str | None = None


def read_declared_file(path: Path) -> dict[str, str]:
    """Declared card fields from a ``.card.yaml`` file (the same keys as a card file)."""
    from tutela.cards.declared import parse_card_yaml

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(
            "cannot read the declared file", subject=str(path), found=exc.strerror
        ) from None
    except UnicodeDecodeError:
        raise InputError("the declared file is not UTF-8 text", subject=str(path)) from None
    return parse_card_yaml(text, source=str(path))


def run_comply(
    ws: Workspace,
    asset_id: str,
    *,
    framework: str,
    version: str | None = None,
    at: datetime | None = None,
    declared_file: Path | None = None,
    annex_iv: bool = False,
    soa: SoaFormat | None = None,
    exclusions: Mapping[str, str] | None = None,
    record: bool = False,
) -> ComplyOutcome:
    catalogue = load_framework(framework)  # an unknown framework fails before any work
    declared = read_declared_file(declared_file) if declared_file is not None else None
    inputs = gather_inputs(
        ws,
        asset_id,
        version=version,
        at=at,
        declared=declared,
        declared_source=str(declared_file) if declared_file is not None else None,
    )
    report = evaluate(catalogue, inputs)
    annex_text: str | None = None
    if annex_iv:
        eu = report if framework == "eu-ai-act" else evaluate(load_framework("eu-ai-act"), inputs)
        annex_text = annex_iv_markdown(eu, inputs)
    soa_text: str | None = None
    if soa is not None:
        iso = report if framework == "iso-42001" else evaluate(load_framework("iso-42001"), inputs)
        rows = soa_rows(iso, exclusions)
        soa_text = soa_csv(rows) if soa == "csv" else soa_markdown(rows, subject=asset_id)
    if record:
        report = report.model_copy(update={"recorded_as": record_report(ws, report)})
    return ComplyOutcome(report=report, annex_iv=annex_text, soa=soa_text)
