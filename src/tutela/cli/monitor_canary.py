"""`tutela monitor canary|watch`: behavioural fingerprints of third-party AI services."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the canary commands to the `tutela monitor` group."""
