"""`tutela scan PATH...`, `tutela suppression add|list|revoke`, `tutela rules`."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table

if TYPE_CHECKING:
    from tutela.scan.outcome import ScanOutcome
    from tutela.workspace import Workspace

suppression_app = typer.Typer(help="Accept specific scan findings, with a reason and an expiry.")


class Output(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


def _workspace_or_none(start: Path | None) -> Workspace | None:
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError

    try:
        find_workspace(start)
    except WorkspaceError:
        return None
    from tutela.workspace import Workspace  # the store is imported only when needed

    return Workspace.open(start)


def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives to scan.")],
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")
    ] = "high",
    output_format: Annotated[Output, typer.Option("--format", help="table, json or sarif.")] = (
        Output.TABLE
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write json/sarif output to a file.")
    ] = None,
    asset: Annotated[
        str | None,
        typer.Option(help="Record results on this model asset (default: one asset per file)."),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not record evidence in the workspace.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Parallel workers (default: CPU count; 0: inline).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Per-file time limit, seconds.")] = 120.0,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Statically scan model artifacts; nothing scanned is ever loaded or run.

    Exit 0 clean, 1 a finding at or above --fail-on, 4 something could not be fully
    inspected (and nothing worse was found), 2 bad input.
    """
    from tutela.scan.interface import Limits, Severity
    from tutela.scan.service import run_scan

    threshold = Severity.parse(fail_on)
    ws = _workspace_or_none(workspace)  # suppressions apply even with --no-record
    if ws is None and not no_record:
        err_console().print(
            "note: no Tutela workspace here, so results are not recorded "
            "(run `tutela init` to keep evidence)",
            highlight=False,
        )
    try:
        outcome = run_scan(
            paths,
            workspace=ws,
            record=not no_record,
            asset=asset,
            fail_on=threshold,
            limits=Limits(max_seconds=timeout),
            workers=workers,
        )
    finally:
        if ws is not None:
            ws.close()
    fmt = Output.JSON if json_out else output_format
    if fmt is Output.TABLE:
        _render(outcome)
    else:
        if fmt is Output.SARIF:
            from tutela.scan.sarif import to_sarif

            doc = to_sarif(outcome)
        else:
            doc = outcome.to_dict()
        if output is not None:
            output.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        else:
            emit_json(doc)
    raise typer.Exit(outcome.exit_code())


def _render(outcome: ScanOutcome) -> None:
    rows = []
    for report in outcome.reports:
        active = outcome.active(report)
        top = max((f.severity for f in active), default=None)
        rows.append(
            (
                report.path,
                report.format,
                report.verdict.value,
                top.label() if top else "",
                len(active),
                report.digest or "",
            )
        )
    table(
        f"{len(outcome.reports)} files scanned",
        ["file", "format", "verdict", "worst", "findings", "digest"],
        rows,
    )
    console = out_console()
    for report in outcome.reports:
        for finding in report.findings:
            fp = outcome.fingerprint(report, finding)
            flag = " (suppressed)" if fp in outcome.suppressed else ""
            member = f" [{finding.member}]" if finding.member else ""
            at = f" @{finding.offset}" if finding.offset is not None else ""
            console.print(
                f"{finding.severity.label().upper():8} {finding.rule_id}{flag}  "
                f"{report.path}{member}{at}",
                highlight=False,
                markup=False,
            )
            detail = finding.callable or ""
            if finding.args_preview:
                detail += f"({finding.args_preview})"
            console.print(f"         {finding.message}  {detail}", highlight=False, markup=False)
            console.print(f"         fingerprint {fp}", highlight=False, style="dim")
        if report.error or report.inconclusive:
            reason = report.error or "; ".join(report.inconclusive)
            console.print(
                f"{report.verdict.value.upper():8} {report.path}: {reason}", highlight=False
            )
    if outcome.recorded:
        console.print(f"recorded {len(outcome.recorded)} scan evidence records in the workspace")


@suppression_app.command("add")
def suppression_add(
    fingerprint: Annotated[str, typer.Argument(help="The finding's fingerprint (sha256:…).")],
    justification: Annotated[str, typer.Option(help="Why this finding is acceptable.")],
    expires: Annotated[str, typer.Option(help="ISO date when the acceptance lapses.")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Accept one finding until EXPIRES; rescans keep honouring it (recorded in the ledger)."""
    from tutela.scan.suppressions import add_suppression, parse_expiry

    with open_workspace(workspace) as ws:
        out = add_suppression(
            ws, fingerprint, justification=justification, expires_at=parse_expiry(expires)
        )
    if json_out:
        emit_json(out)
    else:
        out_console().print(
            f"Suppressed {out.fingerprint} until {out.expires_at:%Y-%m-%d} ({out.id})"
        )


@suppression_app.command("list")
def suppression_list(workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """List suppressions, active and lapsed."""
    from tutela.scan.suppressions import list_suppressions

    with open_workspace(workspace) as ws:
        found = list_suppressions(ws)
    if json_out:
        emit_json([{**s.model_dump(mode="json"), "active": s.is_active()} for s in found])
        return
    table(
        f"{len(found)} suppressions",
        ["id", "fingerprint", "active", "expires", "by", "justification"],
        [
            (
                s.id,
                s.fingerprint,
                s.is_active(),
                f"{s.expires_at:%Y-%m-%d}",
                s.created_by,
                s.justification,
            )
            for s in found
        ],
    )


@suppression_app.command("revoke")
def suppression_revoke(
    suppression_id: Annotated[str, typer.Argument(help="The suppression's id.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Withdraw a suppression now."""
    from tutela.scan.suppressions import revoke_suppression

    with open_workspace(workspace) as ws:
        revoke_suppression(ws, suppression_id)
    out_console().print(f"Revoked {suppression_id}", markup=False)


def rules(json_out: JsonOpt = False) -> None:
    """List every scanner rule with its default severity."""
    from tutela.scan.rules import all_rules

    found = all_rules()
    if json_out:
        emit_json(
            [{"id": r.rule_id, "severity": r.severity.label(), "summary": r.summary} for r in found]
        )
        return
    table(
        f"{len(found)} rules",
        ["rule", "severity", "what it catches"],
        [(r.rule_id, r.severity.label(), r.summary) for r in found],
    )
