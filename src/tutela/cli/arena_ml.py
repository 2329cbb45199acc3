"""`tutela arena ml run|trust|attacks`: the Arena for classifiers.

A sub-group rather than `tutela arena ml MODEL` plus `tutela arena ml trust MODEL`: a
click group cannot take a positional argument and sub-commands at once (the model path
would be read as a command name), and `ml run` mirrors `arena run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table

__all__ = ["register", "run_classifier_command"]

ml_app = typer.Typer(
    help="The Arena for classifiers: black-box evasion, extraction, membership, fairness, "
    "calibration and robustness, scored like `arena run`.",
    no_args_is_help=True,
)


def _pct(rate: Any, interval: Any) -> str:
    if rate is None:
        return "n/a"
    return f"{rate:.0%} [{interval['low']:.0%}, {interval['high']:.0%}]"


def _render(result: Any) -> None:
    rows = [
        (
            name,
            ", ".join(s["atlas"]),
            f"{s['succeeded']}/{s['samples'] - s['errors']}",
            _pct(s["success_rate"], s["interval"]),
            "n/a" if s["median_l2"] is None else f"{s['median_l2']:.3f}",
            "n/a" if s["median_linf"] is None else f"{s['median_linf']:.3f}",
            "n/a" if s["median_queries"] is None else f"{s['median_queries']:.0f}",
            s["errors"],
        )
        for name, s in sorted(result.evasion.items())
    ]
    if rows:
        table(
            f"evasion against {result.target} (perturbation in std units)",
            [
                "attack",
                "ATLAS",
                "succeeded",
                "rate [95% CI]",
                "median L2",
                "median Linf",
                "median queries",
                "errors",
            ],
            rows,
        )
    if result.measurements:
        table(
            "measurements",
            ["id", "ATLAS", "verdict", "summary"],
            [
                (
                    m.get("id"),
                    m.get("atlas", ""),
                    "error" if "error" in m else ("EXCEEDED" if m.get("exceeded") else "ok"),
                    m.get("summary", m.get("error", "")),
                )
                for m in result.measurements
            ],
        )
    overall = result.score.overall
    asr = "n/a" if overall.asr is None else f"{overall.asr:.0%}"
    risk = "n/a" if result.score.risk is None else f"{result.score.risk:.1f}"
    out_console().print(
        f"overall ASR {asr}, risk {risk}; {result.queries} queries; report, "
        f"JUnit and attempts in {result.out_dir}",
        markup=False,
    )


def run_classifier_command(
    *,
    model: str,
    data: Path,
    label: str,
    schema: Path | None = None,
    attacks: list[str] | None = None,
    budget: int = 1000,
    samples: int = 50,
    epsilon: float = 1.0,
    sensitive: list[str] | None = None,
    ignore: list[str] | None = None,
    members: Path | None = None,
    seed: int = 0,
    asset: str | None = None,
    out: Path | None = None,
    run_id: str | None = None,
    max_asr: float | None = None,
    no_record: bool = False,
    workspace: Path | None = None,
    json_out: bool = False,
) -> int:
    """Run the classifier Arena, render the result, return the exit code (0, or 1 when
    the overall attack success rate exceeds ``max_asr``). For `tutela arena run --model`.
    """
    from tutela.arena.ml.service import DEFAULT_ATTACKS, run_ml_arena
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError

    try:
        layout = find_workspace(workspace)
    except WorkspaceError:
        layout = None
    kwargs: dict[str, Any] = {
        "label": label,
        "out_dir": out or (layout.dir / "arena" if layout else Path("arena-runs")),
        "schema": schema,
        "attacks": attacks or DEFAULT_ATTACKS,
        "budget": budget,
        "samples": samples,
        "epsilon": epsilon,
        "sensitive": sensitive or (),
        "ignore": ignore or (),
        "members": members,
        "seed": seed,
        "run_id": run_id,
        "asset": asset,
    }
    if layout is not None and not no_record:
        with open_workspace(workspace) as ws:
            result = run_ml_arena(model, data, workspace=ws, **kwargs)
    else:
        result = run_ml_arena(model, data, **kwargs)
    overall = result.score.overall
    failed = max_asr is not None and overall.asr is not None and overall.asr > max_asr
    if json_out:
        emit_json({**result.to_dict(), "gate": {"max_asr": max_asr, "failed": failed}})
    else:
        _render(result)
    if failed:
        err_console().print(f"attack success rate {overall.asr:.0%} exceeds --max-asr {max_asr}")
        return 1
    return 0


@ml_app.command("run")
def run(
    model: Annotated[
        str,
        typer.Argument(
            help="Model file (pickle, joblib, skops, ONNX) or an HTTP target config (YAML/JSON)."
        ),
    ],
    data: Annotated[Path, typer.Option(help="Reference data: CSV or Parquet.")],
    label: Annotated[str, typer.Option(help="Label column of --data.")],
    schema: Annotated[Path | None, typer.Option(help="Feature schema (YAML/JSON).")] = None,
    attacks: Annotated[
        list[str] | None,
        typer.Option(
            help="evasion, boundary, random_search, extraction, membership, "
            "fairness, calibration, robustness (comma-separated or repeated)."
        ),
    ] = None,
    budget: Annotated[int, typer.Option(min=10, help="Queries per attacked row.")] = 1000,
    samples: Annotated[int, typer.Option(min=1, help="Rows attacked per evasion attack.")] = 50,
    epsilon: Annotated[
        float, typer.Option(help="Evasion bound: each feature moves <= EPSILON std devs.")
    ] = 1.0,
    sensitive: Annotated[
        list[str] | None, typer.Option(help="Sensitive column (fairness).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Column of --data the model does not read.")
    ] = None,
    members: Annotated[
        Path | None, typer.Option(help="Training rows (membership inference).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    asset: Annotated[str | None, typer.Option(help="Asset id (default model:<path>).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default .tutela/arena).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Name this run.")] = None,
    max_asr: Annotated[
        float | None, typer.Option(help="Exit 1 when the overall attack success rate exceeds this.")
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record evidence.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Attack a classifier with rows of --data (evasion and measurements).

    Estimator files load only after a clean scan or a recorded trust decision, and then
    only in a separate worker process.
    """
    code = run_classifier_command(
        model=model,
        data=data,
        label=label,
        schema=schema,
        attacks=attacks,
        budget=budget,
        samples=samples,
        epsilon=epsilon,
        sensitive=sensitive,
        ignore=ignore,
        members=members,
        seed=seed,
        asset=asset,
        out=out,
        run_id=run_id,
        max_asr=max_asr,
        no_record=no_record,
        workspace=workspace,
        json_out=json_out,
    )
    if code:
        raise typer.Exit(code)


@ml_app.command("trust")
def trust(
    model: Annotated[Path, typer.Argument(help="The model file (its digest is trusted).")],
    reason: Annotated[str, typer.Option(help="Who checked what, and why it is safe to load.")],
    asset: Annotated[str | None, typer.Option(help="Asset id (default model:<path>).")] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw trust instead.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a decision to trust (or --revoke) a model file's exact bytes.

    A trusted file may be loaded by `arena ml run` whatever the scanner says; the decision
    is evidence in the ledger, found by the file's digest.
    """
    from tutela.arena.ml.targets.resolve import file_asset_id
    from tutela.arena.ml.trust import record_trust
    from tutela.errors import InputError

    if not model.is_file():
        raise InputError("no such model file", subject=str(model))
    with open_workspace(workspace) as ws:
        asset_id = asset or file_asset_id(model, ws.layout.root)
        evidence = record_trust(ws, model, asset=asset_id, reason=reason, revoke=revoke)
    if json_out:
        emit_json(evidence)
        return
    verb = "revoked trust in" if revoke else "trusted"
    out_console().print(
        f"{verb} {asset_id}@{evidence.version_digest} (evidence {evidence.id})", markup=False
    )


@ml_app.command("attacks")
def attacks_list(json_out: JsonOpt = False) -> None:
    """List the classifier attacks and measurements with their MITRE ATLAS ids."""
    from tutela.arena.ml.interface import ATTACKS
    from tutela.arena.ml.measuring import CATEGORY, MEASURES, measure_info

    rows: list[dict[str, Any]] = [a.to_dict() for a in ATTACKS.values()]
    for name in MEASURES:
        probe_id, atlas = measure_info(name)
        rows.append(
            {
                "id": probe_id,
                "category": CATEGORY[name],
                "atlas": [atlas],
                "reference": "docs/arena-ml-measures.md",
            }
        )
    if json_out:
        emit_json(rows)
        return
    table(
        f"{len(rows)} attacks and measurements",
        ["id", "category", "ATLAS", "reference"],
        [(r["id"], r["category"], ", ".join(r["atlas"]), r["reference"]) for r in rows],
    )


def register(app: typer.Typer) -> None:
    """Add the classifier commands to the `tutela arena` group."""
    app.add_typer(ml_app, name="ml")
