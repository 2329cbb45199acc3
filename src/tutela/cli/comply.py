"""`tutela comply MODEL --framework …`: the compliance crosswalk report and its exports."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

if TYPE_CHECKING:
    from tutela.cards.comply import ComplianceReport


class FrameworkChoice(enum.StrEnum):
    EU_AI_ACT = "eu-ai-act"
    NIST_AI_RMF = "nist-ai-rmf"
    NIST_AI_600_1 = "nist-ai-600-1"
    ISO_42001 = "iso-42001"


def _exclusions(values: list[str] | None) -> dict[str, str]:
    from tutela.errors import UsageError

    out: dict[str, str] = {}
    for value in values or []:
        control, sep, reason = value.partition("=")
        if not sep or not control.strip() or not reason.strip():
            raise UsageError("bad --exclude value", found=value, expected="CONTROL=JUSTIFICATION")
        out[control.strip()] = reason.strip()
    return out


def comply(
    model: Annotated[str, typer.Argument(help="Asset id of the model (e.g. model:fraud).")],
    framework: Annotated[
        FrameworkChoice, typer.Option("--framework", "-f", help="The framework to assess against.")
    ] = FrameworkChoice.EU_AI_ACT,
    version: Annotated[
        str | None, typer.Option("--version", help="Version digest or prefix (default: latest).")
    ] = None,
    declared: Annotated[
        Path | None,
        typer.Option(
            "--declared", help="A .card.yaml of declared fields to use instead of the asset's."
        ),
    ] = None,
    annex_iv: Annotated[
        Path | None,
        typer.Option(
            "--annex-iv", help="Write an Annex IV technical documentation draft (Markdown)."
        ),
    ] = None,
    soa: Annotated[
        Path | None,
        typer.Option(
            "--soa", help="Write an ISO/IEC 42001 statement of applicability (.csv or Markdown)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="CONTROL=JUSTIFICATION: exclude an ISO 42001 control from the SoA (repeatable).",
        ),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under",
            min=0.0,
            max=1.0,
            help="Exit 1 when the completeness score is below this (0..1).",
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record", help="Record the report as card evidence (with a ledger entry)."),
    ] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Report which requirements of a framework the evidence satisfies, partly or not at all.

    Exit 0 on success (a gap report is not a failure); 1 when --fail-under is given and the
    score is below it; 2 bad input.
    """
    from tutela.cards.comply_run import run_comply

    ws = open_workspace(workspace)
    try:
        outcome = run_comply(
            ws,
            model,
            framework=framework.value,
            version=version,
            declared_file=declared,
            annex_iv=annex_iv is not None,
            soa=None if soa is None else ("csv" if soa.suffix.lower() == ".csv" else "markdown"),
            exclusions=_exclusions(exclude),
            record=record,
        )
    finally:
        ws.close()
    if annex_iv is not None and outcome.annex_iv is not None:
        _write(annex_iv, outcome.annex_iv)
    if soa is not None and outcome.soa is not None:
        _write(soa, outcome.soa)
    if json_out:
        emit_json(outcome.report)
    else:
        _render(outcome.report)
    if fail_under is not None and outcome.report.score < fail_under:
        raise typer.Exit(1)


def _write(path: Path, text: str) -> None:
    from tutela.errors import InputError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError("cannot write the file", subject=str(path), found=exc.strerror) from None


def _render(report: ComplianceReport) -> None:
    rows = []
    for item in report.items:
        if item.status == "satisfied":
            detail = "evidence: " + (", ".join(item.evidence) or "declared fields")
        elif item.status == "manual":
            detail = f"provide: {item.provide}"
        else:
            reasons = [f"{c.description} ({c.reason})" for c in item.checks if not c.passed]
            detail = "missing: " + "; ".join(reasons)
        rows.append((item.id.split(":", 1)[1], item.title, item.status, detail))
    subject = f"{report.asset_id}@{report.version}" if report.version else report.asset_id
    table(
        f"{report.title}: {subject}",
        ["item", "title", "status", "evidence / what is missing"],
        rows,
    )
    console = out_console()
    console.print(f"completeness {report.score:.0%}: {report.score_explanation}", markup=False)
    if report.recorded_as:
        console.print(f"recorded as card evidence {report.recorded_as}", markup=False)
