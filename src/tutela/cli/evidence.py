"""`tutela evidence list`."""

from __future__ import annotations

from typing import Annotated

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, table

app = typer.Typer(help="Inspect the evidence capabilities recorded about assets.")


@app.command("list")
def list_(
    asset: Annotated[str | None, typer.Option(help="Only evidence about this asset.")] = None,
    kind: Annotated[str | None, typer.Option(help="scan, evaluation, drift, ...")] = None,
    producer: Annotated[str | None, typer.Option(help="Plugin id, e.g. scan.pickle")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List evidence, newest first."""
    from tutela.catalog.evidence import list_evidence

    with open_workspace(workspace) as ws:
        found = list_evidence(ws, asset_id=asset, kind=kind, producer=producer, limit=limit)
    if json_out:
        emit_json(found)
        return
    table(
        f"{len(found)} evidence records",
        ["when", "asset", "kind", "producer", "version", "summary"],
        [
            (
                e.observed_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.asset_id,
                e.kind.value,
                e.producer,
                (e.version_digest or "")[:19],
                " ".join(f"{k}={v}" for k, v in e.summary.items() if v is not None),
            )
            for e in found
        ],
    )
