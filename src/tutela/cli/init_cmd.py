"""`tutela init`: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt
from tutela.cli.render import emit_json, out_console


def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create .tutela/ (default: here).")
    ] = Path(),
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: embedded SQLite). PostgreSQL: postgresql://USER@HOST/DB",
            envvar="TUTELA_DATABASE_URL",
            show_envvar=True,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a workspace: config, database (migrated), signing key and first ledger entry."""
    from tutela.workspace import Workspace

    with Workspace.init(directory, database_url=db) as ws:
        info = {
            "workspace": str(ws.layout.dir),
            "workspace_id": ws.settings.workspace_id,
            "database": ws.db.display_url,
            "key_id": ws.settings.key_id,
            "public_key": str(ws.layout.public_key),
        }
    if json_out:
        emit_json(info)
        return
    console = out_console()
    console.print(f"[green]Initialised[/green] Tutela workspace in {escape(info['workspace'])}")
    console.print(f"  database  {escape(info['database'])}")
    console.print(f"  key       {info['key_id']}")
    console.print(f"  verify bundles offline with {escape(info['public_key'])}")
