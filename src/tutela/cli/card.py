"""`tutela card show|set|publish|diff|verify|list` (exports: see cli/card_exports.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table
from tutela.errors import UsageError

app = typer.Typer(help="AI Cards: evidence-backed model cards, service cards and datasheets.")

_FORMATS = ("md", "html", "pdf", "json")


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)


@app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(help="The asset, e.g. model:fraud-scorer.")],
    fmt: Annotated[str, typer.Option("--format", help="md, html, pdf or json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    version: Annotated[str | None, typer.Option(help="Version digest or prefix.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Render the current card (always built from the store, never edited)."""
    from tutela.cards.build import build_card

    chosen = "json" if json_out else fmt
    if chosen not in _FORMATS:
        raise UsageError("unknown card format", found=chosen, expected=", ".join(_FORMATS))
    if chosen == "pdf" and out is None:
        raise UsageError("a PDF card needs --out FILE")
    with open_workspace(workspace) as ws:
        card = build_card(ws, asset_id, version=version)
    if chosen == "json":
        if out is None:
            emit_json(card.to_json())
            return
        import json

        _write((json.dumps(card.to_json(), indent=2) + "\n").encode(), out)
    elif chosen == "md":
        from tutela.cards.render_md import render_markdown

        _write(render_markdown(card).encode(), out)
    elif chosen == "html":
        from tutela.cards.render_html import render_html

        _write(render_html(card).encode(), out)
    else:
        from tutela.cards.render_pdf import render_pdf

        _write(render_pdf(card), out)


@app.command("set")
def set_(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    assignments: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs (declared fields).")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Declare card fields (intended_use, limitations, ...); recorded in the ledger."""
    from tutela.cards.declared import parse_assignments, set_declared

    values = parse_assignments(assignments)
    with open_workspace(workspace) as ws:
        evidence_id = set_declared(ws, asset_id, values)
    if json_out:
        emit_json({"asset": asset_id, "evidence": evidence_id, "declared": sorted(values)})
    else:
        out_console().print(
            f"[green]Declared[/green] {', '.join(sorted(values))} on {escape(asset_id)}"
        )


@app.command("publish")
def publish(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    html: Annotated[Path | None, typer.Option("--html", help="Also copy the HTML here.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also render a PDF here.")] = None,
    version: Annotated[str | None, typer.Option(help="Version digest or prefix.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Freeze the current card as a signed snapshot recorded in the ledger."""
    from tutela.cards.snapshots import Format, publish_card

    formats: list[Format] = ["md", "html"]
    if pdf is not None:
        formats.append("pdf")
    with open_workspace(workspace) as ws:
        snap = publish_card(ws, asset_id, version=version, formats=formats)
    if html is not None:
        html.write_bytes(Path(snap.files["html"]).read_bytes())
    if pdf is not None:
        pdf.write_bytes(Path(snap.files["pdf"]).read_bytes())
    if json_out:
        emit_json(snap.to_json())
    else:
        out_console().print(
            f"[green]Published[/green] card snapshot {snap.id} of {escape(asset_id)} "
            f"at ledger position {snap.ledger_size} ({snap.directory})"
        )


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


@app.command("diff")
def diff(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    a: Annotated[str | None, typer.Argument(help="Snapshot id (default: the last).")] = None,
    b: Annotated[str | None, typer.Argument(help="Snapshot id or 'current'.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed between two snapshots, or since the last one."""
    from tutela.cards.snapshots import diff as card_diff

    with open_workspace(workspace) as ws:
        left, right, changes = card_diff(ws, asset_id, a, b)
    if json_out:
        emit_json({"a": left, "b": right, "changes": [c.to_json() for c in changes]})
        return
    if not changes:
        out_console().print(f"No changes from {escape(left)} to {escape(right)}")
        return
    rows = [
        [c.path, _short(c.before), _short(c.after), f"{c.provenance_before} → {c.provenance_after}"]
        for c in changes
    ]
    table(f"{asset_id}: {left} → {right}", ["field", "before", "after", "provenance"], rows)


@app.command("verify")
def verify(
    snapshot: Annotated[str, typer.Argument(help="Snapshot id, envelope.json or its folder.")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a snapshot's signature against the workspace key (exit 1 when tampered)."""
    from tutela.cards.snapshots import verify_snapshot

    with open_workspace(workspace) as ws:
        snap = verify_snapshot(ws, snapshot)
    if json_out:
        emit_json({"verified": True, **snap.to_json()})
    else:
        out_console().print(
            f"[green]Verified[/green] card of {escape(snap.asset_id)} "
            f"at {snap.version_digest} (ledger position {snap.ledger_size})"
        )


@app.command("list")
def list_(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Published snapshots of an asset's card, oldest first."""
    from tutela.cards.snapshots import list_snapshots

    with open_workspace(workspace) as ws:
        snaps = list_snapshots(ws, asset_id)
    if json_out:
        emit_json([s.to_json() for s in snaps])
        return
    rows = [[s.id, s.version_digest or "", s.ledger_size, s.created_at.isoformat()] for s in snaps]
    table(f"card snapshots of {asset_id}", ["id", "version", "ledger", "published"], rows)


# --- extension point: `card export` / `card import` (helper card-exports) ---------------
def _register_exports(target: typer.Typer) -> None:
    try:
        from tutela.cli.card_exports import register  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the exports module is optional until it lands
        return
    register(target)


_register_exports(app)
