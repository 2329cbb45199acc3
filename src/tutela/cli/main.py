"""The `tutela` command. Commands parse, call one service function, and render.

Exit codes: 0 ok; 1 findings, a failed gate or a failed verification; 2 usage or input
error; 3 internal error (a bug); 4 inconclusive (something could not be inspected).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from rich.markup import escape

from tutela.cli import (
    arena,
    asset,
    card,
    comply,
    data,
    discover,
    evidence,
    governance,
    ledger,
    lineage,
    monitor,
    policy,
    scan,
    status,
)
from tutela.cli import serve as serve_cli
from tutela.cli.hash_cmd import hash_
from tutela.cli.init_cmd import init
from tutela.cli.render import emit_json, err_console
from tutela.errors import ExitCode, InternalError, TutelaError

__all__ = ["app", "run"]


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tutela {version('tutela')}")
        raise typer.Exit(0)


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Secure and govern AI/ML pipelines: inventory, lineage, scanning, evaluation,
    monitoring, cards and policy over one tamper-evident ledger."""


def _build() -> typer.Typer:
    root = typer.Typer(
        name="tutela",
        help="Secure and govern AI/ML pipelines: inventory, lineage, scanning, evaluation, "
        "monitoring, cards and policy over one tamper-evident ledger.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    root.command("init")(init)
    root.command("hash")(hash_)
    root.add_typer(asset.app, name="asset")
    root.add_typer(evidence.app, name="evidence")
    root.add_typer(ledger.app, name="ledger")
    root.command("scan")(scan.scan)
    root.add_typer(scan.suppression_app, name="suppression")
    root.command("rules")(scan.rules)
    root.command("discover")(discover.discover)
    root.add_typer(discover.inventory_app, name="inventory")
    root.add_typer(lineage.app, name="lineage")
    root.add_typer(arena.app, name="arena")
    root.add_typer(data.app, name="data")
    root.add_typer(monitor.app, name="monitor")
    root.command("status")(status.status)
    root.add_typer(status.risk_app, name="risk")
    root.add_typer(card.app, name="card")
    root.command("serve")(serve_cli.serve)
    root.add_typer(serve_cli.token_app, name="token")
    root.command("comply")(comply.comply)
    root.add_typer(policy.app, name="policy")
    root.command("gate")(policy.gate)
    root.add_typer(governance.user_app, name="user")
    root.add_typer(governance.approve_app, name="approve")
    root.add_typer(governance.waiver_app, name="waiver")
    return root


app = _build()


def _report(error: TutelaError, as_json: bool) -> None:
    if as_json:
        emit_json(error.to_dict())
    err_console().print(f"[red]error:[/red] {escape(error.diagnostics())}", highlight=False)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every failure to a one-line message and exit code."""
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    logging.basicConfig(
        level=os.environ.get("TUTELA_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        # Standalone mode: Typer prints usage errors itself and exits 2; everything it
        # does not know propagates here.
        app(args=args, prog_name="tutela")
    except TutelaError as error:
        _report(error, as_json)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err_console().print("interrupted")
        sys.exit(130)
    except Exception as bug:  # a traceback is a bug: say so in one line and exit 3
        logging.getLogger("tutela").debug("internal error", exc_info=True)
        _report(
            InternalError(
                f"internal error: {type(bug).__name__}: {bug}".splitlines()[0],
                hint="this is a bug in Tutela; rerun with TUTELA_LOG_LEVEL=DEBUG and report it",
            ),
            as_json,
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(ExitCode.OK)
