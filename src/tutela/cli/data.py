"""`tutela data check`: training-data checks (label errors, duplicates, backdoors, ...)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Training-data checks: label errors, leakage, outliers, PII, backdoors.",
                  no_args_is_help=True)  # fmt: skip
