"""`tutela monitor canary|watch|llm`: behavioural fingerprints of third-party AI services."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table


def _print_alerts(alerts: list[Any]) -> None:
    console = out_console()
    for alert in alerts:
        where = f" [{alert.asset}]" if alert.asset else ""
        console.print(f"ALERT {alert.severity}{where} {alert.rule}: {alert.message}", markup=False)


def canary(
    service_config: Annotated[Path, typer.Argument(help="Arena target config (YAML/JSON).")],
    prompts: Annotated[
        Path | None, typer.Option("--prompts", help="Prompt set YAML (default: the shipped one).")
    ] = None,
    samples: Annotated[int, typer.Option(min=2, max=100, help="Samples per prompt.")] = 10,
    alpha: Annotated[float, typer.Option(help="False-alarm probability per run.")] = 0.01,
    kernel: Annotated[str, typer.Option(help="String kernel: hamming or ngram.")] = "hamming",
    permutations: Annotated[int, typer.Option(help="Permutations for the p-values.")] = 1000,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight.")] = 8,
    timeout: Annotated[float, typer.Option(min=0.1, help="Per-request timeout, s.")] = 30.0,
    rebaseline: Annotated[
        bool, typer.Option("--rebaseline", help="Record this run as the new baseline.")
    ] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sample a service with the canary prompts and compare with its baseline.

    The first run is the baseline. Exit 1 when a change is detected (an alert naming what
    changed), 4 when too many requests failed to decide.
    """
    from tutela.monitor.canary import load_service_config, run_canary
    from tutela.monitor.canary_prompts import load_prompt_set

    config = load_service_config(service_config)
    prompt_set = load_prompt_set(prompts)
    with open_workspace(workspace) as ws:
        result = run_canary(
            config,
            workspace=ws,
            prompts=prompt_set,
            samples=samples,
            alpha=alpha,
            kernel=kernel,
            permutations=permutations,
            concurrency=concurrency,
            timeout=timeout,
            rebaseline=rebaseline,
        )
    if json_out:
        emit_json(result.to_dict())
    else:
        m = result.metrics
        rows = [(k, f"{v:.4g}") for k, v in sorted(m.items())]
        table(f"canary {result.service}: {result.status}", ["metric", "value"], rows)
        _print_alerts(result.alerts)
        out_console().print(
            f"{len(prompt_set.prompts)} prompts x {samples} samples in "
            f"{result.seconds:.1f} s; evidence {result.evidence_id}"
            + (f", baseline {result.baseline_id}" if result.baseline_id else " (baseline)"),
            markup=False,
        )
        for error in result.errors:
            err_console().print(f"request error: {error}", markup=False)
    if result.status == "changed":
        raise typer.Exit(1)
    if result.status == "inconclusive":
        raise typer.Exit(4)


def watch(
    config: Annotated[Path, typer.Option("--config", "-c", help="Watch file (YAML).")],
    every: Annotated[
        float | None, typer.Option(min=1.0, help="Seconds between cycles (default: the file's).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the configured checks on a schedule; alerts are recorded and delivered.

    With --once: exit 1 if an alert fired, 4 if a check could not decide, else 0.
    """
    from tutela.errors import UsageError
    from tutela.monitor.canary_watch import load_watch, run_cycle

    plan = load_watch(config)
    interval = every or plan.every
    if not once and interval is None:
        raise UsageError("give --every SECONDS (or 'every' in the watch file), or --once")
    with open_workspace(workspace) as ws:
        while True:
            result = run_cycle(ws, plan)
            if json_out:
                emit_json(result.to_dict())
            else:
                table(
                    "monitor watch",
                    ["check", "asset", "status", "alerts"],
                    [(o.check, o.asset, o.status, len(o.alerts)) for o in result.outcomes],
                )
                if any(c.kind == "stdout" for c in plan.channels):
                    _print_alerts(result.alerts)
                for d in result.deliveries:
                    if not d.ok:
                        err_console().print(
                            f"delivery to {d.channel} failed: {d.error}", markup=False
                        )
                for error in result.errors:
                    err_console().print(error, markup=False)
            if once:
                raise typer.Exit(result.exit_code)
            time.sleep(float(interval or 60.0))


def llm(
    current: Annotated[Path, typer.Argument(help="JSONL of {prompt, response} (this window).")],
    reference: Annotated[
        Path | None, typer.Option("--reference", "-r", help="JSONL of the reference window.")
    ] = None,
    canary_value: Annotated[
        list[str] | None, typer.Option("--canary", help="A planted secret to watch for.")
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="False-alarm probability, shared over all metrics.")
    ] = 0.05,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Skip MiniLM (no refusal head, no drift).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """LLM behaviour of a window of (prompt, response) pairs; with --reference, the changes.

    Exit 1 when a metric changed: rates by Newcombe interval and a 5-point minimum effect,
    length by 20%, embeddings by MMD permutation p; alpha is shared over all metrics.
    """
    from tutela.monitor.llm import behaviour, compare, load_pairs

    canaries = tuple(canary_value or ())
    cur = behaviour(load_pairs(current), canaries=canaries, embed=not no_embed)
    ref = (
        None
        if reference is None
        else behaviour(load_pairs(reference), canaries=canaries, embed=not no_embed)
    )
    changes = [] if ref is None else compare(ref, cur, alpha=alpha)
    if json_out:
        emit_json(
            {
                "current": cur.to_dict(),
                "reference": None if ref is None else ref.to_dict(),
                "metrics": cur.metrics(),
                "changes": [c.to_dict() for c in changes],
                "changed": [c.name for c in changes if c.changed],
            }
        )
    else:
        rows = []
        for name, rate in sorted(cur.rates.items()):
            d = rate.to_dict()
            rows.append(
                (
                    name,
                    f"{d['value']:.1%}",
                    f"[{d['interval'][0]:.1%}, {d['interval'][1]:.1%}]",
                    rate.n,
                )
            )
        rows.append(("length median", f"{cur.length.median:g}", "", cur.length.n))
        table(f"LLM behaviour of {current.name}", ["metric", "value", "95% CI", "n"], rows)
        if changes:
            table(
                "changes from the reference",
                ["metric", "reference", "current", "changed", "why"],
                [
                    (
                        c.name,
                        f"{c.reference:.4g}",
                        f"{c.current:.4g}",
                        "yes" if c.changed else "no",
                        c.reason,
                    )
                    for c in changes
                ],
            )
    if any(c.changed for c in changes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the canary commands to the `tutela monitor` group."""
    app.command("canary")(canary)
    app.command("watch")(watch)
    app.command("llm")(llm)
