"""`tutela lineage`: show, impact, verify, runs, run, link, and the OpenLineage / MLflow bridges."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, short_digests, table

if TYPE_CHECKING:
    from tutela.lineage.graph import Direction, LineageGraph, Node

app = typer.Typer(help="Lineage: runs, what data made a model, what a dataset taints.")


class Format(StrEnum):
    TREE = "tree"
    JSON = "json"
    MERMAID = "mermaid"
    DOT = "dot"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="tree, json, mermaid or dot.")]
DepthOpt = Annotated[int | None, typer.Option("--depth", min=1, help="Stop after this many links.")]


def _node_text(node: Node) -> Text:
    text = Text()
    text.append(node.asset_id, style="bold")
    text.append("@" + short_digests(node.digest))
    if node.location:
        text.append(f"  {node.location}", style="dim")
    return text


def _tree(graph: LineageGraph) -> None:
    runs = {r.id: r for r in graph.runs}
    shown: set[str] = set()
    console = out_console()

    def grow(branch: Tree, version_id: str, path: frozenset[str]) -> None:
        for edge, other in graph.children(version_id):
            node = graph.node(other)
            label = Text(f"{edge.kind.value} ", style="cyan")
            label.append_text(_node_text(node))
            run = runs.get(edge.run_id or "")
            if run is not None:
                when = run.started_at.strftime("%Y-%m-%d %H:%M")
                label.append(f"  · run {run.name} by {run.actor} at {when}", style="green")
                if run.status.value != "succeeded":
                    label.append(f" ({run.status.value})", style="red")
            repeat = other in shown or other in path
            if repeat:
                label.append("  (see above)", style="dim")
            child = branch.add(label)
            if not repeat:
                shown.add(other)
                grow(child, other, path | {other})

    for root in graph.roots:
        shown.add(root)
        top = Tree(_node_text(graph.node(root)))
        grow(top, root, frozenset({root}))
        console.print(top)
    if graph.truncated:
        console.print(Text("(graph truncated)", style="yellow"))


def _render(graph: LineageGraph, fmt: Format, json_out: bool) -> None:
    if json_out or fmt is Format.JSON:
        emit_json(graph)
        return
    if fmt is Format.MERMAID:
        from tutela.lineage.render import to_mermaid

        typer.echo(to_mermaid(graph), nl=False)
    elif fmt is Format.DOT:
        from tutela.lineage.render import to_dot

        typer.echo(to_dot(graph), nl=False)
    else:
        _tree(graph)


def _graph_command(direction: Direction, ref_help: str, summary: str) -> Callable[..., None]:
    """One command body for `show` (upstream) and `impact` (downstream)."""

    def command(
        ref: str,
        fmt: FormatOpt = Format.TREE,
        depth: DepthOpt = None,
        workspace: WorkspaceOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        from tutela.lineage.graph import downstream, upstream

        walk = upstream if direction == "upstream" else downstream
        with open_workspace(workspace) as ws:
            graph = walk(ws, ref, max_depth=depth)
        _render(graph, fmt, json_out)

    # Typer reads argument help from the annotation; a string annotation cannot name a
    # closure variable, so the argument's annotation is set as an object.
    command.__annotations__["ref"] = Annotated[str, typer.Argument(help=ref_help)]
    command.__doc__ = summary
    return command


show = app.command("show")(
    _graph_command(
        "upstream",
        "ASSET or ASSET@DIGEST (default: latest version)",
        "Show where a version came from, down to raw sources: digests, runs, who, when.",
    )
)
impact = app.command("impact")(
    _graph_command(
        "downstream",
        "ASSET (every version) or ASSET@DIGEST",
        "Show everything built from an asset: the models and deployments it would taint.",
    )
)


@app.command("verify")
def verify(
    ref: Annotated[str, typer.Argument(help="ASSET or ASSET@DIGEST (default: latest version)")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-digest every recorded input and output on disk; exit 1 if any changed or vanished."""
    from tutela.lineage.verify import verify as run_verify

    with open_workspace(workspace) as ws:
        report = run_verify(ws, ref)
    if json_out:
        emit_json({"ok": report.ok, **report.model_dump(mode="json")})
    else:
        table(
            f"lineage of {ref}: {len(report.problems())} problem(s)",
            ["status", "asset", "recorded", "found", "location"],
            [
                (c.status, c.asset_id, c.recorded, c.found or c.detail or "", c.location)
                for c in report.checks
            ],
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("runs")
def runs(
    name: Annotated[str | None, typer.Option(help="Only runs with this name.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List recorded runs."""
    from tutela.catalog.runs import list_runs

    with open_workspace(workspace) as ws:
        found = list_runs(ws, name=name, limit=limit)
    if json_out:
        emit_json(found)
        return
    table(
        f"{len(found)} runs",
        ["id", "name", "status", "actor", "started", "inputs", "outputs"],
        [
            (
                r.id,
                r.name,
                r.status.value,
                r.actor,
                r.started_at.isoformat(timespec="seconds"),
                len(r.context.get("inputs", [])),
                len(r.context.get("outputs", [])),
            )
            for r in found
        ],
    )


@app.command("run")
def run_(
    run_id: Annotated[str, typer.Argument(help="A run id (see `tutela lineage runs`).")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one run: parameters, metrics, code, environment, inputs and outputs."""
    from tutela.catalog.runs import get_run

    with open_workspace(workspace) as ws:
        found = get_run(ws, run_id)
    if json_out:
        emit_json(found)
        return
    console = out_console()
    console.print(Text(f"run {found.id}  {found.name}  {found.status.value}", style="bold"))
    ended = found.ended_at.isoformat(timespec="seconds") if found.ended_at else "-"
    console.print(
        Text(f"  by {found.actor}, {found.started_at.isoformat(timespec='seconds')} → {ended}")
    )
    code = found.context.get("code") or {}
    if code:
        dirty = f" + uncommitted {code.get('diff_digest')}" if code.get("dirty") else ""
        console.print(Text(short_digests(f"  code: git {code.get('commit')}{dirty}")))
    env = found.context.get("environment") or {}
    if env:
        count = len(env.get("distributions", []))
        text = f"  environment: {env.get('digest')} ({count} distributions)"
        console.print(Text(short_digests(text)))
    rows = [("param", k, v) for k, v in sorted(found.params.items())]
    rows += [("metric", k, v) for k, v in sorted((found.context.get("metrics") or {}).items())]
    for key in ("inputs", "outputs"):
        for entry in found.context.get(key, []):
            where = entry.get("location") or entry.get("form")
            rows.append((key[:-1], entry.get("asset_id"), f"{entry.get('digest')} {where}"))
    table(None, ["what", "name", "value"], rows)
    error = found.context.get("error")
    if error:
        console.print(Text(f"  error: {error.get('type')}: {error.get('message')}", style="red"))


@app.command("link")
def link(
    src: Annotated[str, typer.Argument(help="ASSET[@DIGEST] of the source version")],
    kind: Annotated[str, typer.Argument(help="deployed_as, depends_on, calls, ...")],
    dst: Annotated[str, typer.Argument(help="ASSET[@DIGEST] of the destination version")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Link two recorded versions by hand, e.g. a model deployed_as a deployment."""
    from tutela.lineage.recorder import link_refs

    with open_workspace(workspace) as ws:
        a, b = link_refs(ws, src, kind, dst)
    if json_out:
        emit_json({"src": a, "kind": kind, "dst": b})
    else:
        out_console().print(Text(short_digests(f"{a} {kind} {b}")))


@app.command("import-mlflow")
def import_mlflow(
    tracking_uri: Annotated[str, typer.Argument(help="file:///path/mlruns or sqlite:///…db")],
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", help="Only these experiments.")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import the runs, params, metrics and artifacts of a local MLflow store."""
    from tutela.lineage.mlflow_import import import_mlflow as do_import

    with open_workspace(workspace) as ws:
        summary = do_import(ws, tracking_uri, experiments=experiment)
    if json_out:
        emit_json(summary)
    else:
        out_console().print(
            Text(
                f"imported {summary.imported} run(s), skipped {summary.skipped} already "
                f"known, {summary.outputs} output(s), {summary.inputs} input(s)"
            )
        )


@app.command("ingest-openlineage")
def ingest_openlineage(
    path: Annotated[Path, typer.Argument(help="JSON lines (or a JSON array) of RunEvents")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Turn OpenLineage RunEvents (Airflow, Spark, dbt, ...) into runs and links."""
    from tutela.lineage.openlineage import ingest_file

    with open_workspace(workspace) as ws:
        summary = ingest_file(ws, path)
    if json_out:
        emit_json(summary)
    else:
        out_console().print(
            Text(
                f"{summary.events} event(s): {summary.runs_created} run(s) created, "
                f"{summary.runs_updated} updated, {summary.links} link(s)"
            )
        )


@app.command("emit-openlineage")
def emit_openlineage(
    run_id: Annotated[str, typer.Argument(help="A run id (see `tutela lineage runs`).")],
    file: Annotated[
        Path | None, typer.Option("--file", help="Append the events to this file.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="POST the events to this OpenLineage endpoint.")
    ] = None,
    namespace: Annotated[str, typer.Option(help="OpenLineage job namespace.")] = "tutela",
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send a recorded run as OpenLineage START and COMPLETE/FAIL RunEvents."""
    from tutela.errors import UsageError
    from tutela.lineage.openlineage import emit_run, file_client, http_client

    if (file is None) == (url is None):
        raise UsageError("give exactly one of --file or --url")
    client = file_client(file) if file is not None else http_client(str(url))
    with open_workspace(workspace) as ws:
        count = emit_run(ws, run_id, client, namespace=namespace)
    if json_out:
        emit_json({"run_id": run_id, "events": count})
    else:
        out_console().print(Text(f"emitted {count} event(s) for run {run_id}"))
