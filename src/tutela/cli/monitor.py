"""`tutela monitor …`: profiles, drift, LLM behaviour, service canaries and alerts."""

from __future__ import annotations

import typer

app = typer.Typer(help="Continuous oversight: drift, LLM behaviour and third-party canaries.",
                  no_args_is_help=True)  # fmt: skip


# Canary and LLM-behaviour commands live in their own module.
def _register_canary() -> None:
    from tutela.cli import monitor_canary

    monitor_canary.register(app)


_register_canary()
