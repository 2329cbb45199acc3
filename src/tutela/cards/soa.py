"""An ISO/IEC 42001 statement-of-applicability table from an iso-42001 assessment.

One row per Annex A control: whether it applies (yes, or excluded with the justification
a person gave), its implementation status from the assessment, and the evidence ids.
Control titles are Tutela's short paraphrase; the standard's text is not reproduced.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from tutela.cards.comply import ComplianceReport, ItemResult
from tutela.errors import UsageError

__all__ = ["SoaRow", "soa_csv", "soa_markdown", "soa_rows"]

_STATUS = {
    "satisfied": "implemented",
    "partly": "partly implemented",
    "missing": "not implemented",
    "manual": "to attest (manual)",
}


@dataclass(frozen=True)
class SoaRow:
    control: str  # "A.6.2.4"
    title: str
    applicable: str  # "yes" or "no: <justification>"
    status: str
    evidence: tuple[str, ...]
    gaps: str  # what would satisfy it, or what a person must provide


def _row(item: ItemResult, exclusions: Mapping[str, str]) -> SoaRow:
    control = item.id.split(":", 1)[1]
    reason = exclusions.get(control) or exclusions.get(item.id)
    if reason:
        return SoaRow(control, item.title, f"no: {reason}", "excluded", (), "")
    gaps = "; ".join(item.missing) if item.missing else ""
    if item.status == "manual" and item.provide:
        gaps = item.provide
    return SoaRow(control, item.title, "yes", _STATUS[item.status], tuple(item.evidence), gaps)


def soa_rows(report: ComplianceReport, exclusions: Mapping[str, str] | None = None) -> list[SoaRow]:
    """``exclusions`` maps a control id (``A.10.4``) to the justification for excluding it."""
    if report.framework != "iso-42001":
        raise UsageError(
            "a statement of applicability needs an iso-42001 assessment", found=report.framework
        )
    wanted = dict(exclusions or {})
    known = {i.id.split(":", 1)[1] for i in report.items} | {i.id for i in report.items}
    unknown = sorted(k for k in wanted if k not in known)
    if unknown:
        raise UsageError(
            "exclusion names an unknown ISO/IEC 42001 control",
            found=", ".join(unknown),
            expected="Annex A ids such as A.10.4",
        )
    return [_row(item, wanted) for item in report.items]


_HEADER = ("Control", "Title", "Applicable", "Status", "Evidence", "Gaps")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def soa_markdown(rows: list[SoaRow], *, subject: str | None = None) -> str:
    lines = [
        f"# ISO/IEC 42001 statement of applicability{f': {subject}' if subject else ''}",
        "",
        "Control ids follow ISO/IEC 42001:2023 Annex A; titles are paraphrased.",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "---|" * len(_HEADER),
    ]
    for r in rows:
        cells = (r.control, r.title, r.applicable, r.status, ", ".join(r.evidence), r.gaps)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def soa_csv(rows: list[SoaRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_HEADER)
    for r in rows:
        writer.writerow((r.control, r.title, r.applicable, r.status, " ".join(r.evidence), r.gaps))
    return buffer.getvalue()
