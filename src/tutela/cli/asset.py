"""`tutela asset add|set|list|show|version`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

app = typer.Typer(help="Register and inspect assets: models, datasets, services, ...")


@app.command("add")
def add(
    asset_id: Annotated[str, typer.Argument(help="KIND:NAME, e.g. model:fraud-scorer")],
    name: Annotated[str | None, typer.Option(help="Display name (default: NAME).")] = None,
    owner: Annotated[str | None, typer.Option(help="Accountable person or team.")] = None,
    risk_tier: Annotated[
        str, typer.Option("--risk-tier", help="prohibited, high, limited, minimal, unassessed")
    ] = "unassessed",
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeatable.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register an asset (recorded in the ledger)."""
    from tutela.catalog import assets

    with open_workspace(workspace) as ws:
        out = assets.add_asset(
            ws,
            asset_id,
            name=name,
            owner=owner,
            risk_tier=risk_tier,
            description=description,
            tags=tag or [],
        )
    if json_out:
        emit_json(out)
    else:
        out_console().print(
            f"[green]Added[/green] {escape(out.id)} (risk tier {out.risk_tier.value})"
        )


@app.command("set")
def set_(
    asset_id: Annotated[
        str, typer.Argument(metavar="MODEL", help="KIND:NAME of a registered asset")
    ],
    owner: Annotated[
        str | None, typer.Option(help="Accountable person or team ('' clears it).")
    ] = None,
    risk_tier: Annotated[
        str | None,
        typer.Option("--risk-tier", help="prohibited, high, limited, minimal, unassessed"),
    ] = None,
    description: Annotated[str | None, typer.Option(help="What it is for ('' clears it).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Add a tag. Repeatable.")] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove a tag. Repeatable.")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change an asset's owner, risk tier, description or tags (recorded in the ledger)."""
    from tutela.catalog import assets
    from tutela.errors import UsageError

    if owner is None and risk_tier is None and description is None and not tag and not untag:
        raise UsageError(
            "nothing to change",
            subject=asset_id,
            hint="give --owner, --risk-tier, --description, --tag or --untag",
        )
    with open_workspace(workspace) as ws:
        out = assets.update_asset(
            ws,
            asset_id,
            owner=owner,
            risk_tier=risk_tier,
            description=description,
            add_tags=tag or [],
            remove_tags=untag or [],
        )
    if json_out:
        emit_json(out)
        return
    tags = ", ".join(out.tags) or "-"
    out_console().print(
        f"{escape(out.id)}  owner {escape(out.owner or '-')} · risk tier {out.risk_tier.value}"
        f" · tags {escape(tags)}"
    )


@app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only assets with this tag.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List assets."""
    from tutela.catalog import assets

    with open_workspace(workspace) as ws:
        found = assets.list_assets(ws, kind=kind, tag=tag)
    if json_out:
        emit_json(found)
        return
    table(
        f"{len(found)} assets",
        ["id", "kind", "owner", "risk tier", "tags"],
        [(a.id, a.kind.value, a.owner, a.risk_tier.value, ", ".join(a.tags)) for a in found],
    )


@app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(help="KIND:NAME")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show an asset, its versions and how much evidence it has."""
    from tutela.catalog import assets

    with open_workspace(workspace) as ws:
        detail = assets.get_asset(ws, asset_id)
    if json_out:
        emit_json(detail)
        return
    a = detail.asset
    console = out_console()
    console.print(f"[bold]{escape(a.id)}[/bold]  {escape(a.name)}")
    console.print(
        f"  kind {a.kind.value} · owner {escape(a.owner or '-')} · risk tier {a.risk_tier.value}"
    )
    if a.description:
        console.print(f"  {escape(a.description)}")
    if a.tags:
        console.print(f"  tags: {escape(', '.join(a.tags))}")
    table(
        "versions",
        ["digest", "location", "created"],
        [(v.digest, v.location, v.created_at.isoformat()) for v in detail.versions],
    )
    counts = ", ".join(f"{k}: {n}" for k, n in sorted(detail.evidence_counts.items())) or "none"
    console.print(f"  evidence: {escape(counts)}")


@app.command("version")
def version(
    asset_id: Annotated[str, typer.Argument(help="KIND:NAME of a registered asset")],
    path: Annotated[Path, typer.Argument(help="File or directory holding this version.")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record the version of an asset found at PATH, named by its content digest."""
    from tutela.catalog import assets
    from tutela.digest import path_digest

    digest = path_digest(path)
    with open_workspace(workspace) as ws:
        out = assets.add_version(ws, asset_id, digest, location=str(path))
    if json_out:
        emit_json(out)
    else:
        out_console().print(f"{asset_id}@{out.digest}  ({path})", highlight=False, markup=False)
