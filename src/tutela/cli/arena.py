"""`tutela arena run|probes|serve-example`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table

app = typer.Typer(help="The Arena: red-team chat endpoints offline, with honest statistics.")


_MAX_CONFIG_BYTES = 1_000_000


def _load_config(path: Path, what: str) -> dict[str, Any]:
    """A target config file (YAML or JSON) as a mapping; a one-line error otherwise."""
    import yaml

    from tutela.errors import UsageError

    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise UsageError(f"the {what} config is larger than 1 MB", subject=str(path))
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problem = f"cannot read the {what} config: {exc.strerror}"
        raise UsageError(problem, subject=str(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        problem = f"the {what} config is not valid YAML: {first}"
        raise UsageError(problem, subject=str(path)) from None
    if not isinstance(loaded, dict):
        raise UsageError(f"the {what} config is not a mapping", subject=str(path))
    return loaded


def _risk(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _config(
    config: Path | None,
    base_url: str | None,
    model: str | None,
    api_key_env: str | None,
    target_id: str | None,
) -> dict[str, Any]:
    from tutela.errors import UsageError

    if config is not None:
        return _load_config(config, "target")
    if not (base_url and model):
        raise UsageError("give --config FILE, or --base-url and --model for an OpenAI API")
    return {
        "kind": "openai",
        "id": target_id or model,
        "base_url": base_url,
        "model": model,
        **({"api_key_env": api_key_env} if api_key_env else {}),
    }


@app.command("run")
def run(
    config: Annotated[Path | None, typer.Option(help="Target config (YAML/JSON).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name at that URL.")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Env var holding the API key.")] = None,
    target_id: Annotated[str | None, typer.Option("--id", help="Target id (asset name).")] = None,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    transform: Annotated[list[str] | None, typer.Option(help="Transforms (default: none).")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per probe and transform.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, help="Attempts in flight.")] = 32,
    timeout: Annotated[float, typer.Option(min=0.1, help="Per-attempt timeout, s.")] = 30.0,
    out: Annotated[Path | None, typer.Option(help="Output folder (default .tutela/arena).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Resume or name this run.")] = None,
    max_asr: Annotated[
        float | None, typer.Option(help="Exit 1 when the overall attack success rate exceeds this.")
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record evidence.")] = False,
    early_stop: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            max=1.0,
            help="Skip a category's remaining attempts once its Wilson 95% interval is "
            "narrower than this width (e.g. 0.1).",
        ),
    ] = None,
    attacker: Annotated[
        Path | None,
        typer.Option(help="Target config of an attacker LLM that writes crescendo turns."),
    ] = None,
    attacker_turns: Annotated[
        int, typer.Option(min=1, max=20, help="Most user turns an attacker may write.")
    ] = 5,
    judge: Annotated[
        Path | None,
        typer.Option(help="Target config of an LLM judge asked about every reply (opt-in)."),
    ] = None,
    classifier: Annotated[
        str | None,
        typer.Option(
            help="A classifier (estimator file, ONNX file or HTTP config) instead of a chat "
            "target: runs `tutela arena ml run` with --data and --label."
        ),
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Rows to attack (with --classifier).")] = None,
    label: Annotated[str | None, typer.Option(help="Label column (with --classifier).")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the probes against a target; attempts are saved as they finish (resumable)."""
    from tutela.arena.service import run_arena
    from tutela.config import find_workspace
    from tutela.errors import UsageError, WorkspaceError

    if classifier is not None:
        if data is None or label is None:
            raise UsageError("--classifier needs --data FILE and --label COL")
        from tutela.cli.arena_ml import run_classifier_command

        code = run_classifier_command(
            model=classifier, data=data, label=label, seed=0, out=out, run_id=run_id,
            max_asr=max_asr, no_record=no_record, workspace=workspace, json_out=json_out,
        )  # fmt: skip
        raise typer.Exit(code)
    cfg = _config(config, base_url, model, api_key_env, target_id)
    try:
        layout = find_workspace(workspace)
    except WorkspaceError:
        layout = None
    out_dir = out or (layout.dir / "arena" if layout else Path("arena-runs"))
    kwargs: dict[str, Any] = {
        "out_dir": out_dir,
        "categories": category or (),
        "transforms": transform or ("none",),
        "seeds": list(range(seeds)),
        "concurrency": concurrency,
        "timeout": timeout,
        "run_id": run_id,
        "early_stop": early_stop,
        "attacker_config": None if attacker is None else _load_config(attacker, "attacker"),
        "attacker_turns": attacker_turns,
        "judge_config": None if judge is None else _load_config(judge, "judge"),
    }
    if layout is not None and not no_record:
        with open_workspace(workspace) as ws:
            result = run_arena(cfg, workspace=ws, **kwargs)
    else:
        result = run_arena(cfg, **kwargs)
    overall = result.score.overall
    failed = max_asr is not None and overall.asr is not None and overall.asr > max_asr
    if json_out:
        emit_json(result.to_dict())
    else:
        rows = [
            (
                name,
                r.succeeded,
                r.resisted,
                r.blocked,
                r.unscoreable,
                r.errors,
                result.score.skipped.get(name, 0),
                "n/a"
                if r.asr is None
                else f"{r.asr:.0%} [{r.interval.low:.0%}, {r.interval.high:.0%}]",
            )
            for name, r in sorted(result.score.by_category.items())
        ]
        table(
            f"arena run {result.run_id} against {result.target}",
            [
                "category",
                "succeeded",
                "resisted",
                "blocked",
                "unscoreable",
                "errors",
                "skipped",
                "ASR [95% CI]",
            ],
            rows,
        )
        console = out_console()
        asr = "n/a" if overall.asr is None else f"{overall.asr:.0%}"
        console.print(
            f"overall ASR {asr}, risk {_risk(result.score.risk)}; report, JUnit and attempts in "
            f"{result.out_dir}",
            markup=False,
        )
        verdicts = result.judge_summary()
        if verdicts is not None:
            console.print(
                f"LLM judge {verdicts['detector']} (opt-in, not a measured detector): "
                f"{verdicts['succeeded']} succeeded, {verdicts['resisted']} resisted, "
                f"{verdicts['unscoreable']} unscoreable",
                markup=False,
            )
    if failed:
        err_console().print(f"attack success rate {overall.asr:.0%} exceeds --max-asr {max_asr}")
        raise typer.Exit(1)


@app.command("probes")
def probes(json_out: JsonOpt = False) -> None:
    """List the built-in probes with their OWASP LLM 2025 and MITRE ATLAS ids."""
    from tutela.arena.detectors import builtin_detectors
    from tutela.arena.probes import load_builtin_probes

    found = load_builtin_probes(known_detectors=builtin_detectors())
    if json_out:
        emit_json(
            [
                {
                    "id": p.id,
                    "category": p.category,
                    "owasp": p.owasp,
                    "atlas": p.atlas,
                    "severity": p.severity,
                    "detectors": list(p.detectors),
                }
                for p in found
            ]
        )
        return
    table(
        f"{len(found)} probes",
        ["id", "category", "OWASP", "ATLAS", "severity"],
        [(p.id, p.category, p.owasp, p.atlas, p.severity) for p in found],
    )


@app.command(
    "serve-example", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def serve_example(ctx: typer.Context) -> None:
    """Start the deliberately vulnerable example chat app (a test fixture) on 127.0.0.1.

    Options: --port N, --weakness NAME (repeatable, or all), --latency S,
    --rate-limit-every N. See docs/arena-targets.md.
    """
    from tutela.arena.example_server import main

    raise typer.Exit(main(list(ctx.args)))


@app.command("compare")
def compare(
    before: Annotated[Path, typer.Argument(help="A run folder or its attempts.jsonl (before).")],
    after: Annotated[Path, typer.Argument(help="A run folder or its attempts.jsonl (after).")],
    json_out: JsonOpt = False,
) -> None:
    """Name the categories and probes whose attack success rate rose; exit 1 if any did.

    A rise counts only when the Wilson 95% intervals do not overlap, so noise is not a
    regression.
    """
    from tutela.arena.runner import AttemptSink
    from tutela.arena.scoring import compare as compare_runs
    from tutela.errors import InputError

    def attempts(path: Path) -> list[Any]:
        file = path / "attempts.jsonl" if path.is_dir() else path
        if not file.is_file():
            raise InputError("no attempts file", subject=str(file), hint="give a run folder")
        sink = AttemptSink(file)
        try:
            return sink.load()
        finally:
            sink.close()

    result = compare_runs(attempts(before), attempts(after))
    if json_out:
        emit_json(result.to_dict())
    else:
        console = out_console()
        for change in result.regressions:
            console.print(
                f"REGRESSION {change.scope} {change.name}: {change.asr_before} -> "
                f"{change.asr_after}",
                markup=False,
            )
        for change in result.improvements:
            console.print(
                f"improved   {change.scope} {change.name}: {change.asr_before} -> "
                f"{change.asr_after}",
                markup=False,
            )
        console.print(
            f"risk {_risk(result.risk_before)} -> {_risk(result.risk_after)}", markup=False
        )
    if result.regressed:
        raise typer.Exit(1)


# The classifier Arena's commands live in their own module; registered last so they
# follow the LLM commands in --help.
def _register_ml() -> None:
    from tutela.cli import arena_ml

    arena_ml.register(app)


_register_ml()
