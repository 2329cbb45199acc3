"""`tutela data check`: training-data checks (label errors, duplicates, backdoors, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt
from tutela.cli.render import emit_json, err_console, out_console, table

if TYPE_CHECKING:
    from tutela.datacheck import DataCheckReport
    from tutela.workspace import Workspace

app = typer.Typer(
    help="Training-data checks: label errors, leakage, outliers, PII, backdoors.",
    no_args_is_help=True,
)

ColumnsOpt = list[str] | None


def _workspace_or_none(start: Path | None) -> Workspace | None:
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError

    try:
        find_workspace(start)
    except WorkspaceError:
        if start is not None:
            raise
        return None
    from tutela.workspace import Workspace

    return Workspace.open(start)


@app.command("check")
def check(
    dataset: Annotated[
        Path, typer.Argument(help="CSV, TSV, Parquet, JSON Lines, Arrow or Feather file.")
    ],
    labels: Annotated[str | None, typer.Option("--labels", help="The label column.")] = None,
    test: Annotated[
        Path | None, typer.Option("--test", help="A held-out file to check for leakage.")
    ] = None,
    sensitive: Annotated[
        ColumnsOpt, typer.Option("--sensitive", help="A protected-attribute column (repeat).")
    ] = None,
    ids: Annotated[ColumnsOpt, typer.Option("--id", help="An identifier column (repeat).")] = None,
    exclude: Annotated[
        ColumnsOpt, typer.Option("--exclude", help="A column to ignore entirely (repeat).")
    ] = None,
    only: Annotated[
        ColumnsOpt,
        typer.Option(
            "--check",
            help="Run only this check (repeat): label_error, duplicate, "
            "leakage, outlier, imbalance, pii, backdoor.",
        ),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Check at most the first N rows.")
    ] = 1_000_000,
    max_seconds: Annotated[
        float, typer.Option("--timeout", min=1, help="Time limit for all checks, seconds.")
    ] = 600.0,
    model: Annotated[
        str,
        typer.Option(
            "--model", help="Label-error model: auto (lower out-of-fold log loss), logistic or hgb."
        ),
    ] = "auto",
    asset: Annotated[
        str | None, typer.Option("--asset", help="Record on this dataset asset id.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")
    ] = "high",
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not record evidence in the workspace.")
    ] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a training dataset for label errors, duplicates, train/test leakage,
    outliers, class imbalance, PII columns and backdoor triggers.

    Exit 0 nothing at or above --fail-on, 1 findings at or above it, 4 a check was cut
    short by the time limit (and nothing worse was found), 2 bad input.
    """
    from tutela.datacheck import Limits, Severity, check_dataset

    threshold = Severity.parse(fail_on)
    ws = None if no_record else _workspace_or_none(workspace)
    if ws is None and not no_record:
        err_console().print(
            "note: no Tutela workspace here, so results are only printed, not recorded "
            "(run `tutela init` to keep evidence)",
            highlight=False,
        )
    try:
        report = check_dataset(
            dataset,
            labels=labels,
            test=test,
            sensitive=sensitive or (),
            ids=ids or (),
            exclude=exclude or (),
            checks=only or None,
            limits=Limits(max_rows=max_rows, max_seconds=max_seconds),
            model=model,
            workspace=ws,
            asset=asset,
        )
    finally:
        if ws is not None:
            ws.close()
    if json_out:
        emit_json(report.to_dict())
    else:
        _render(report)
    if report.failed(threshold):
        raise typer.Exit(1)
    if any("time limit" in why for why in report.skipped.values()):
        raise typer.Exit(4)
    raise typer.Exit(0)


def _render(report: DataCheckReport) -> None:
    console = out_console()
    console.print(
        f"{report.dataset}: {report.rows} rows, {len(report.columns)} columns, {report.digest}",
        highlight=False,
        markup=False,
    )
    rows = [
        (f.severity.label(), f.kind.value, f.row_count or "", ", ".join(f.columns)[:60], f.message)
        for f in sorted(report.findings, key=lambda f: -f.severity)
    ]
    table(
        f"{len(report.findings)} findings", ["severity", "kind", "rows", "columns", "finding"], rows
    )
    for check, why in report.skipped.items():
        console.print(f"skipped {check}: {why}", highlight=False, markup=False)
    if report.evidence_id:
        console.print(f"recorded evidence {report.evidence_id}", highlight=False)
