"""Tutela: secure and govern AI/ML pipelines end to end.

The SDK. Names are resolved on first use so that ``import tutela`` stays cheap and does
no work at import time::

    import tutela
    ws = tutela.open_workspace()          # walks up from the cwd, like git
    tutela.catalog.assets.add_asset(ws, "model:fraud-scorer", risk_tier="high")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "TutelaError",
    "Workspace",
    "autolog",
    "disable_autolog",
    "file_digest",
    "init_workspace",
    "open_workspace",
    "path_digest",
    "run",
    "table_digest",
]

if TYPE_CHECKING:
    from pathlib import Path

    from tutela.digest import file_digest, path_digest, table_digest
    from tutela.errors import TutelaError
    from tutela.lineage.autolog import autolog, disable_autolog
    from tutela.lineage.sdk import run
    from tutela.workspace import Workspace

_LAZY = {
    "TutelaError": "tutela.errors",
    "Workspace": "tutela.workspace",
    "file_digest": "tutela.digest",
    "path_digest": "tutela.digest",
    "table_digest": "tutela.digest",
    "run": "tutela.lineage.sdk",
    "autolog": "tutela.lineage.autolog",
    "disable_autolog": "tutela.lineage.autolog",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tutela' has no attribute {name!r}")
    return getattr(import_module(module), name)


def open_workspace(start: Path | None = None) -> Workspace:
    """Open the workspace at or above ``start`` (default: the current directory)."""
    from tutela.workspace import Workspace

    return Workspace.open(start)


def init_workspace(directory: Path, *, database_url: str | None = None) -> Workspace:
    """Create ``directory/.tutela`` and open it."""
    from tutela.workspace import Workspace

    return Workspace.init(directory, database_url=database_url)
