"""`tutela monitor …`: profiles, drift, LLM behaviour, service canaries and alerts."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt
from tutela.cli.render import emit_json, out_console, table

if TYPE_CHECKING:
    from tutela.monitor.drift import DriftConfig, DriftReport
    from tutela.monitor.profile import TableProfile
    from tutela.workspace import Workspace

app = typer.Typer(help="Continuous oversight: drift, LLM behaviour and third-party canaries.",
                  no_args_is_help=True)  # fmt: skip


class Engine(StrEnum):
    LOCAL = "local"
    DASK = "dask"


EngineOpt = Annotated[
    Engine, typer.Option("--engine", help="local (in process) or dask (per parquet fragment).")
]
ColumnsOpt = Annotated[
    list[str] | None,
    typer.Option("--columns", "-c", help="Columns to use (repeat or comma-separate)."),
]
AssetOpt = Annotated[
    str | None,
    typer.Option("--asset", "-a", help="Asset the windows belong to (e.g. model:fraud)."),
]
MinEffectOpt = Annotated[
    list[str] | None,
    typer.Option("--min-effect", help="COLUMN=VALUE minimum effect that matters (repeatable)."),
]
ImportanceOpt = Annotated[
    list[str] | None,
    typer.Option("--importance", help="COLUMN=WEIGHT feature impact (repeatable)."),
]
AlphaOpt = Annotated[
    float, typer.Option("--alpha", help="False-alarm budget over the whole stream of windows.")
]
WindowIndexOpt = Annotated[
    int, typer.Option("--window-index", min=1, help="Which window of the stream this is (1..).")
]
ReservoirOpt = Annotated[
    int, typer.Option("--reservoir", min=0, max=100_000, help="Rows to sample per table.")
]
_PAIR = re.compile(r"^([^=]+)=([-+0-9.eE]+)$")


def _columns(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip() for v in values for c in v.split(",") if c.strip()]


def _pairs(values: list[str] | None, option: str) -> dict[str, float]:
    from tutela.errors import UsageError

    out: dict[str, float] = {}
    for value in values or []:
        for item in value.split(","):
            match = _PAIR.match(item.strip())
            if not match:
                raise UsageError(f"bad {option} value", found=item, expected="COLUMN=NUMBER")
            out[match.group(1).strip()] = float(match.group(2))
    return out


def _maybe_workspace(start: Path | None) -> Workspace | None:
    """The workspace when there is one; commands on plain files work without it."""
    from tutela.errors import WorkspaceError
    from tutela.workspace import Workspace

    try:
        return Workspace.open(start)
    except WorkspaceError:
        if start is not None:
            raise
        return None


def _config(
    columns: list[str] | None,
    min_effect: list[str] | None,
    importance: list[str] | None,
    alpha: float,
    window_index: int,
) -> DriftConfig:
    from tutela.monitor.drift import DriftConfig

    return DriftConfig(
        alpha=alpha,
        window_index=window_index,
        min_effect=_pairs(min_effect, "--min-effect"),
        importances=_pairs(importance, "--importance") or None,
        columns=_columns(columns),
    )


def _drift_table(report: DriftReport) -> None:
    rows = [
        [
            c.column,
            c.kind,
            f"{c.metric} {c.effect:.4f}",
            f"[{c.low:.4f}, {c.high:.4f}]",
            f"{c.min_effect:g}",
            f"{c.p_adjusted:.3g}",
            "DRIFT" if c.drifted else "",
        ]
        for c in report.columns
    ]
    table(None, ["column", "kind", "effect", "interval", "min", "p (BH)", ""], rows)
    verdict = "DRIFT" if report.drifted else "no drift"
    out_console().print(
        f"{verdict}: {len(report.drifted_columns)} of {len(report.columns)} columns, "
        f"impact-weighted share {report.drifted_share:.3f}",
        markup=False,
    )


@app.command("profile")
def profile_cmd(
    file: Annotated[Path, typer.Argument(help="A parquet, csv or jsonl table (or a directory).")],
    asset: AssetOpt = None,
    window: Annotated[str | None, typer.Option("--window", help="Window name.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Version digest (sha256:…) of the asset.")
    ] = None,
    engine: EngineOpt = Engine.LOCAL,
    columns: ColumnsOpt = None,
    reservoir: ReservoirOpt = 0,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the profile to this .tprof.")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Profile a table into mergeable sketches and store it as a window (drift evidence)."""
    from datetime import UTC, datetime

    from tutela.monitor.sources import profile_path
    from tutela.monitor.storage import asset_id_for, store_profile

    prof = profile_path(file, engine=engine.value, columns=_columns(columns), reservoir=reservoir)
    blob = prof.to_bytes()
    if out is not None:
        out.write_bytes(blob)
    name = window or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    asset_id = asset_id_for(asset, "model") if asset else asset_id_for(file.stem, "dataset")
    from tutela.workspace import Workspace

    with Workspace.open(workspace) as ws:
        stored = store_profile(ws, prof, asset_id=asset_id, window=name, version_digest=version)
    body = {
        "evidence_id": stored.evidence_id,
        "asset_id": asset_id,
        "window": name,
        "rows": prof.rows,
        "columns": len(prof.columns),
        "profile_digest": stored.digest,
        "profile_bytes": len(blob),
        "out": str(out) if out else None,
    }
    if json_out:
        emit_json(body)
        return
    out_console().print(
        f"profiled {prof.rows} rows x {len(prof.columns)} columns into {len(blob)} bytes; "
        f"stored window {name} of {asset_id} (evidence {stored.evidence_id})",
        markup=False,
    )


@app.command("drift")
def drift_cmd(
    reference: Annotated[str, typer.Argument(help="Table file, .tprof profile or window:ID.")],
    current: Annotated[str, typer.Argument(help="Table file, .tprof profile or window:ID.")],
    columns: ColumnsOpt = None,
    min_effect: MinEffectOpt = None,
    importance: ImportanceOpt = None,
    alpha: AlphaOpt = 0.05,
    window_index: WindowIndexOpt = 1,
    engine: EngineOpt = Engine.LOCAL,
    reservoir: ReservoirOpt = 0,
    asset: AssetOpt = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML report.")] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the result as evidence.")
    ] = True,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare two tables or windows column by column; exit 1 when drift is found."""
    from tutela.monitor.drift import compare
    from tutela.monitor.sources import load_pair
    from tutela.monitor.storage import asset_id_for, record_drift

    config = _config(columns, min_effect, importance, alpha, window_index)
    ws = _maybe_workspace(workspace)
    try:
        ref, cur = load_pair(
            reference,
            current,
            ws,
            engine=engine.value,
            columns=config.columns,
            reservoir=reservoir,
        )
        report = compare(ref, cur, config)
        evidence_id = None
        if ws is not None and record:
            asset_id = asset_id_for(asset) if asset else asset_id_for(_stem(current), "dataset")
            evidence_id = record_drift(
                ws, report, asset_id=asset_id, reference=reference, current=current
            )
    finally:
        if ws is not None:
            ws.close()
    if html is not None:
        from tutela.monitor.report import render_html

        html.write_text(render_html(ref, cur, report), encoding="utf-8")
    if json_out:
        emit_json({**report.to_dict(), "evidence_id": evidence_id})
    else:
        _drift_table(report)
    if report.drifted:
        raise typer.Exit(1)


def _stem(ref: str) -> str:
    return ref.removeprefix("window:") if ref.startswith("window:") else Path(ref).stem


@app.command("report")
def report_cmd(
    reference: Annotated[
        str | None, typer.Argument(help="Reference: table, .tprof or window:ID.")
    ] = None,
    current: Annotated[
        list[str] | None, typer.Argument(help="Current windows, oldest first (the last is shown).")
    ] = None,
    asset: AssetOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "drift-report.html"
    ),
    columns: ColumnsOpt = None,
    min_effect: MinEffectOpt = None,
    importance: ImportanceOpt = None,
    alpha: AlphaOpt = 0.05,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write an HTML drift report (histograms from the sketches, effect over windows)."""
    from tutela.errors import UsageError
    from tutela.monitor.drift import compare
    from tutela.monitor.report import render_html
    from tutela.monitor.sources import load_profile

    ws = _maybe_workspace(workspace)
    try:
        refs = list(current or [])
        if asset is not None:
            if ws is None:
                raise UsageError("--asset reads stored windows: run inside a workspace")
            from tutela.monitor.storage import asset_id_for, list_windows

            windows = [f"window:{w.evidence_id}" for w in list_windows(ws, asset_id_for(asset))]
            if reference is None and windows:
                reference, windows = windows[0], windows[1:]
            refs = refs + windows
        if reference is None or not refs:
            raise UsageError(
                "a report needs a reference and at least one current window",
                hint="pass REFERENCE CURRENT..., or --asset with two or more stored windows",
            )
        ref = load_profile(reference, ws)
        history: list[DriftReport] = []
        profiles: list[TableProfile] = []
        for index, item in enumerate(refs, start=1):
            profiles.append(load_profile(item, ws))
            config = _config(columns, min_effect, importance, alpha, index)
            history.append(compare(ref, profiles[-1], config))
    finally:
        if ws is not None:
            ws.close()
    page = render_html(ref, profiles[-1], history[-1], history=history)
    out.write_text(page, encoding="utf-8")
    if json_out:
        emit_json(
            {
                "out": str(out),
                "reference": reference,
                "windows": refs,
                "reports": [r.to_dict() for r in history],
                "metrics": [r.metrics() for r in history],
            }
        )
        return
    _drift_table(history[-1])
    out_console().print(f"wrote {out}", markup=False)


@app.command("windows")
def windows_cmd(
    asset: AssetOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List stored profile windows, oldest first."""
    from tutela.monitor.storage import asset_id_for, list_windows
    from tutela.workspace import Workspace

    with Workspace.open(workspace) as ws:
        found = list_windows(ws, asset_id_for(asset) if asset else None)
    rows: list[dict[str, Any]] = [
        {
            "id": w.evidence_id,
            "asset_id": w.asset_id,
            "window": w.window,
            "rows": w.rows,
            "profile_digest": w.digest,
            "created_at": w.created_at.isoformat(),
        }
        for w in found
    ]
    if json_out:
        emit_json(rows)
        return
    table(
        None,
        ["id", "asset", "window", "rows", "created"],
        [[r["id"], r["asset_id"], r["window"], r["rows"], r["created_at"]] for r in rows],
    )


# Canary and LLM-behaviour commands live in their own module.
def _register_canary() -> None:
    from tutela.cli import monitor_canary

    monitor_canary.register(app)


_register_canary()
