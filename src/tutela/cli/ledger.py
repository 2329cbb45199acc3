"""`tutela ledger verify|export|prove|checkpoint|log`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table
from tutela.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from tutela.ledger.verify import VerifyReport

app = typer.Typer(help="The tamper-evident ledger: verify, export, prove.")


def _finish(report: VerifyReport, json_out: bool, what: str) -> None:
    if json_out:
        emit_json({"subject": what, **report.to_dict()})
    elif report.ok:
        out_console().print(f"[green]OK[/green] {escape(what)}: {escape(report.summary())}")
    else:
        console = err_console()
        console.print(f"[red]FAILED[/red] {escape(what)}: {escape(report.summary())}")
        for problem in report.problems[:20]:
            where = f"entry {problem.seq}: " if problem.seq is not None else ""
            console.print(f"  - {problem.kind}: {where}{escape(problem.message)}")
    if not report.ok:
        raise typer.Exit(ExitCode.FINDINGS)


@app.command("verify")
def verify(
    bundle: Annotated[
        Path | None,
        typer.Option(help="Verify an exported bundle or inclusion proof offline instead."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option(help="Public key (PEM) to check an offline bundle with.")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check every entry, the hash chain, the Merkle tree and every signed checkpoint.

    Exit 0 when intact, 1 when anything was altered (naming the first bad entry).
    """
    from tutela.ledger.bundle import PROOF_TYPE, check_proof, read_document_type, verify_bundle
    from tutela.ledger.keys import PublicKey

    if bundle is not None:
        if key is None:
            raise UsageError("--bundle needs --key PUBKEY (the exporting workspace's signing.pub)")
        public = PublicKey.load(key)
        if read_document_type(bundle) == PROOF_TYPE:
            _finish(check_proof(bundle, public), json_out, f"proof {bundle}")
        else:
            _finish(verify_bundle(bundle, public), json_out, f"bundle {bundle}")
        return
    if key is not None:
        raise UsageError("--key is only used with --bundle")
    with open_workspace(workspace) as ws:
        report = ws.verify()
        what = f"workspace {ws.layout.dir}"
    _finish(report, json_out, what)


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Bundle file to write (JSON Lines).")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a self-contained bundle that `ledger verify --bundle` checks with no database."""
    with open_workspace(workspace) as ws:
        count = ws.export(file)
        public = ws.layout.public_key
    if json_out:
        emit_json({"bundle": str(file), "entries": count, "public_key": str(public)})
    else:
        out_console().print(
            f"Exported {count} entries to {file}; verify with --key {public}", markup=False
        )


@app.command("prove")
def prove(
    entry: Annotated[int, typer.Argument(help="Entry sequence number (1 is the first).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the proof here (default: stdout).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print an inclusion proof of ENTRY in the latest signed tree (JSON)."""
    with open_workspace(workspace) as ws:
        ws.checkpoint()
        doc = ws.prove(entry)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("checkpoint")
def checkpoint(workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Sign the current tree head now."""
    with open_workspace(workspace) as ws:
        signed = ws.checkpoint()
    fields = signed.fields
    if json_out:
        emit_json(fields)
    else:
        out_console().print(f"Signed checkpoint at size {fields['size']} root {fields['root']}")


@app.command("log")
def log(
    limit: Annotated[int, typer.Option(min=1, help="Show the last N entries.")] = 20,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show the most recent ledger entries."""
    from tutela.ledger.log import iter_entries, ledger_size

    with open_workspace(workspace) as ws, ws.reader() as session:
        size = ledger_size(session)
        entries = [e.data() for e in iter_entries(session, start=max(1, size - limit + 1))]
    if json_out:
        emit_json(entries)
        return
    table(
        f"ledger: last {len(entries)} of {size} entries",
        ["seq", "time", "actor", "action", "subject"],
        [
            (e["seq"], e["time"][:19].replace("T", " "), e["actor"], e["action"], e["subject"])
            for e in entries
        ],
    )
