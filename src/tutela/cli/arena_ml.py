"""`tutela arena ml`: the Arena for classifiers (evasion, extraction, membership, fairness)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the classifier commands to the `tutela arena` group."""
