"""Helpers shared by the lineage tests: a CLI runner around the lineage app, ledger reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tutela.cli.lineage import app as lineage_app
from tutela.store.models import LedgerEntry
from tutela.workspace import Workspace


def lineage_cli(*args: str, workspace: Path) -> Result:
    """Run `tutela lineage ARGS` in-process (the lead registers the group in cli/main.py)."""
    root = typer.Typer()
    root.add_typer(lineage_app, name="lineage")

    @root.callback()
    def _root() -> None:
        """Root."""

    return CliRunner().invoke(root, ["lineage", *args, "--workspace", str(workspace)])


def ledger_actions(ws: Workspace) -> list[tuple[str, str, dict[str, Any]]]:
    with ws.reader() as session:
        bodies = session.execute(select(LedgerEntry.body).order_by(LedgerEntry.seq)).scalars()
        parsed = [json.loads(b) for b in bodies]
    return [(p["action"], p["subject"], p["data"]) for p in parsed]
