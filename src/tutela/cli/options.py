"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tutela.workspace import Workspace

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Directory to look for the workspace from (default: the current one, walking up).",
        envvar="TUTELA_WORKSPACE",
        show_envvar=True,
    ),
]


def open_workspace(start: Path | None) -> Workspace:
    from tutela.workspace import Workspace

    return Workspace.open(start)
