"""`tutela card export MODEL --format cyclonedx|spdx|hf` and `tutela card import FILE`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

if TYPE_CHECKING:
    from tutela.cards.importer import ImportedCard

__all__ = ["register"]


def card_export(
    asset_id: Annotated[str, typer.Argument(help="The asset, e.g. model:fraud-scorer.")],
    fmt: Annotated[str, typer.Option("--format", help="cyclonedx, spdx or hf.")] = "cyclonedx",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    version: Annotated[str | None, typer.Option(help="Version digest or prefix.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the card as CycloneDX 1.6 (modelCard), SPDX 3.0.1 (AI profile) or a HF README."""
    from tutela.cards.exports import export_card

    with open_workspace(workspace) as ws:
        text = export_card(ws, asset_id, fmt, version=version)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        out_console().print(f"wrote {fmt} card of {asset_id} to {out}", markup=False)


def card_import(
    path: Annotated[Path, typer.Argument(help="A CycloneDX JSON, SPDX 3 JSON-LD or HF README.")],
    asset: Annotated[
        str | None,
        typer.Option("--asset", help="Record on this asset (default: from the card's name)."),
    ] = None,
    framework: Annotated[
        str, typer.Option(help="eu-ai-act, nist-ai-rmf, nist-ai-600-1 or iso-42001.")
    ] = "eu-ai-act",
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a third-party card and score it against the compliance crosswalk."""
    from tutela.cards.importer import import_card

    with open_workspace(workspace) as ws:
        imported = import_card(ws, path, asset_id=asset, framework=framework)
    if json_out:
        emit_json(imported)
        return
    _render(imported)


def _render(imported: ImportedCard) -> None:
    report = imported.report
    console = out_console()
    console.print(
        f"[bold]{escape(imported.asset_id)}[/bold] from {imported.format} card "
        f"{escape(imported.path)}  ({escape(imported.version_digest)})"
    )
    console.print(
        f"  declared: {escape(', '.join(sorted(imported.declared)) or 'nothing')}",
        highlight=False,
    )
    console.print(
        f"  {escape(report.title)}: score {report.score:.2f} ({escape(report.score_explanation)})",
        highlight=False,
    )
    table(
        "gaps",
        ["item", "status", "missing or to provide"],
        [(i.id, i.status, " ".join(i.missing) or (i.provide or "")) for i in imported.gaps()],
    )
    console.print(f"  recorded as evidence {imported.evidence_id}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `export` and `import` to the `card` command group."""
    app.command("export")(card_export)
    app.command("import")(card_import)
