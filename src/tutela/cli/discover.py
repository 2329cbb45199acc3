"""`tutela discover PATH` and `tutela inventory list|show|diff`."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table

if TYPE_CHECKING:
    from tutela.inventory.model import Inventory, Item

inventory_app = typer.Typer(help="The discovered inventory: list, show, diff.")


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


def _render_items(items: list[Item], title: str) -> None:
    table(
        title,
        ["kind", "identity", "version", "confidence", "where"],
        [
            (
                str(i.kind),
                i.identity,
                i.version or "",
                str(i.confidence),
                ", ".join(str(loc) for loc in i.locations[:3])
                + (f" (+{len(i.locations) - 3})" if len(i.locations) > 3 else ""),
            )
            for i in items
        ],
    )


def _export(inv: Inventory, fmt: Format) -> str:
    if fmt is Format.CYCLONEDX:
        from tutela.inventory.export.cyclonedx import to_cyclonedx_json

        return to_cyclonedx_json(inv)
    if fmt is Format.SPDX:
        from tutela.inventory.export.spdx import to_spdx

        return json.dumps(to_spdx(inv), indent=2, ensure_ascii=False)
    return json.dumps(inv.to_dict(), indent=2, ensure_ascii=False)


def discover(
    path: Annotated[Path, typer.Argument(help="A repository, folder or virtual environment.")],
    all_files: Annotated[
        bool, typer.Option("--all", help="Also look at files .gitignore excludes.")
    ] = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="table, json, cyclonedx (1.6) or spdx (3.0.1).")
    ] = Format.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    asset: Annotated[
        str | None, typer.Option(help="The code: asset to record under (default: code:<dir>).")
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not store the inventory in the workspace.")
    ] = False,
    workers: Annotated[int | None, typer.Option(min=0, help="Processes (0: inline).")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Inventory every model, dataset, framework, AI service and MCP server under PATH."""
    from tutela.errors import InputError
    from tutela.inventory.diff import shadow_ai
    from tutela.inventory.discover import DiscoverOptions
    from tutela.inventory.discover import discover as run_discover

    if not path.is_dir():
        raise InputError("discover needs a directory", subject=str(path))
    inv = run_discover(path, DiscoverOptions(include_ignored=all_files, workers=workers))
    record = None
    if not no_record:
        record = _record(inv, path, asset, workspace)
    fmt = Format.JSON if json_out else output_format
    if fmt is not Format.TABLE:
        text = _export(inv, fmt)
        if fmt is Format.JSON and record is not None:
            doc = json.loads(text)
            doc["diff"] = record.diff.to_dict()
            doc["shadow_ai"] = [i.key() for i in shadow_ai(inv)]
            text = json.dumps(doc, indent=2, ensure_ascii=False)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
        return
    _render_items(inv.items, f"{len(inv.items)} items discovered in {path}")
    console = out_console()
    shadow = shadow_ai(inv)
    if shadow:
        console.print(
            "shadow AI (used in code, declared nowhere): " + ", ".join(i.identity for i in shadow),
            markup=False,
        )
    for problem in inv.problems[:20]:
        console.print(f"skipped {problem.path}: {problem.message}", markup=False, style="dim")
    if len(inv.problems) > 20:
        console.print(f"... and {len(inv.problems) - 20} more problems", style="dim")
    if record is not None:
        d = record.diff
        console.print(
            f"recorded under {record.code_asset}: {len(d.new)} new, {len(d.changed)} changed, "
            f"{len(d.removed)} removed since the last run",
            markup=False,
        )


def _record(inv: Inventory, path: Path, asset: str | None, workspace: Path | None) -> Any:
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError
    from tutela.inventory.service import default_code_asset, record_discovery
    from tutela.version import tutela_version

    try:
        find_workspace(workspace)
    except WorkspaceError:
        err_console().print(
            "note: no Tutela workspace here, so the inventory is not recorded "
            "(run `tutela init` to keep it)",
            highlight=False,
        )
        return None
    with open_workspace(workspace) as ws:
        return record_discovery(
            ws,
            inv,
            code_asset=asset or default_code_asset(path),
            producer_version=tutela_version(),
        )


def _snapshot(workspace: Path | None, asset: str | None) -> tuple[str, Inventory, dict[str, Any]]:
    from tutela.errors import InputError
    from tutela.inventory.model import Inventory
    from tutela.inventory.service import snapshots

    with open_workspace(workspace) as ws:
        found = snapshots(ws, asset, limit=1)
    if not found:
        raise InputError(
            "no inventory recorded yet", subject=asset or "workspace", hint="run `tutela discover`"
        )
    code_asset, payload = found[0]
    return code_asset, Inventory.from_dict(payload["inventory"]), payload


@inventory_app.command("list")
def inventory_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind (model, service, ...).")] = None,
    asset: Annotated[
        str | None, typer.Option(help="The code: asset (default: the latest).")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The latest recorded inventory."""
    code_asset, inv, _ = _snapshot(workspace, asset)
    items = [i for i in inv.items if kind is None or str(i.kind) == kind]
    if json_out:
        emit_json([i.to_dict() for i in items])
        return
    _render_items(items, f"{len(items)} items in {code_asset}")


@inventory_app.command("show")
def inventory_show(
    key: Annotated[str, typer.Argument(help="KIND:IDENTITY, as `inventory list --json` gives.")],
    asset: Annotated[
        str | None, typer.Option(help="The code: asset (default: the latest).")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One item with every place it was seen."""
    from tutela.errors import InputError

    _, inv, _ = _snapshot(workspace, asset)
    match = [i for i in inv.items if i.key() == key or i.identity == key]
    if not match:
        raise InputError("no such item in the inventory", subject=key)
    item = match[0]
    if json_out:
        emit_json(item.to_dict())
        return
    console = out_console()
    console.print(f"{item.key()}  ({item.confidence})", markup=False)
    for loc in item.locations:
        console.print(f"  {loc}", markup=False)
    for k, v in sorted(item.properties.items()):
        console.print(f"  {k}: {v}", markup=False)


@inventory_app.command("diff")
def inventory_diff(
    asset: Annotated[
        str | None, typer.Option(help="The code: asset (default: the latest).")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What the latest run found new, changed or removed, and the shadow AI in it."""
    code_asset, _, payload = _snapshot(workspace, asset)
    diff = payload.get("diff", {})
    if json_out:
        emit_json({"asset": code_asset, **diff, "shadow_ai": payload.get("shadow_ai", [])})
        return
    console = out_console()
    for label in ("new", "removed"):
        for key in diff.get(label, []):
            console.print(f"{'+' if label == 'new' else '-'} {key}", markup=False)
    for change in diff.get("changed", []):
        console.print(f"~ {change['key']} ({', '.join(change['fields'])})", markup=False)
    for key in payload.get("shadow_ai", []):
        console.print(f"! shadow AI: {key}", markup=False)
