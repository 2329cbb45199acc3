"""`tutela policy check|init|facts` and `tutela gate MODEL --stage STAGE`."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, err_console, out_console, table

if TYPE_CHECKING:
    from tutela.facts.interface import FactSpec
    from tutela.policy.gate import GateDecision
    from tutela.policy.loader import Policy
    from tutela.workspace import Workspace

app = typer.Typer(help="Policies as code: check rule files, write the default, inspect facts.")

StageOpt = Annotated[str, typer.Option("--stage", help="Stage being gated: dev, staging or prod.")]
VersionOpt = Annotated[
    str | None,
    typer.Option("--version", help="Version digest or unique prefix (default: the latest)."),
]


class _PluginsOnly:
    """Enough of a workspace for the fact catalogue: it reads only the plugin registry."""

    def __init__(self) -> None:
        from tutela.plugins import PluginRegistry

        self.plugins = PluginRegistry()


def _catalogue(start: Path | None) -> dict[str, FactSpec]:
    # `policy check` runs in pre-commit hooks and CI, often without a workspace: the
    # catalogue comes from installed plugins, so none is needed.
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError
    from tutela.facts.collect import fact_catalogue

    try:
        find_workspace(start)
    except WorkspaceError:
        return fact_catalogue(cast("Workspace", _PluginsOnly()))
    ws = open_workspace(start)
    try:
        return fact_catalogue(ws)
    finally:
        ws.close()


def _policy_path(path: Path | None, start: Path | None) -> Path:
    if path is not None:
        return path
    from tutela.config import find_workspace
    from tutela.errors import WorkspaceError
    from tutela.policy.gate import find_policy

    places = [Path.cwd()]
    with contextlib.suppress(WorkspaceError):
        places.append(find_workspace(start).root)
    return find_policy(*places)


@app.command("check")
def check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Policy file or folder (default: tutela.policy.yaml or tutela.policy/)."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a policy and list its rules. Exit 0 valid, 1 valid but empty (a gate would
    fail closed), 2 malformed (every problem is printed as file:line: reason)."""
    from tutela.policy.loader import PolicyError, load_policy

    target = _policy_path(path, workspace)
    try:
        policy = load_policy(target, _catalogue(workspace))
    except PolicyError as error:
        if json_out:
            emit_json({"valid": False, "problems": [p.to_json() for p in error.problems]})
        console = err_console()
        for problem in error.problems:
            console.print(f"[red]error:[/red] {escape(str(problem))}", highlight=False)
        raise typer.Exit(2) from None
    if json_out:
        emit_json(
            {
                "valid": True,
                "files": policy.digests(),
                "rules": [_rule_json(policy, i) for i in range(len(policy.rules))],
            }
        )
    else:
        _render_rules(policy)
    if not policy.rules:
        err_console().print(
            f"warning: {escape(str(target))} has no rules; every gate would fail closed",
            highlight=False,
        )
        raise typer.Exit(1)


def _rule_json(policy: Policy, index: int) -> dict[str, Any]:
    loaded = policy.rules[index]
    rule = loaded.rule
    return {
        "id": rule.id,
        "source": loaded.location(),
        "message": rule.message,
        "severity": rule.severity,
        "controls": rule.controls,
        "tiers": rule.applies_to.tiers,
        "stages": rule.applies_to.stages,
        "facts": sorted(loaded.references()),
    }


def _render_rules(policy: Policy) -> None:
    rows = []
    for loaded in policy.rules:
        rule = loaded.rule
        rows.append(
            (
                rule.id,
                rule.severity,
                ", ".join(rule.applies_to.tiers or ["all"]),
                ", ".join(rule.applies_to.stages or ["all"]),
                ", ".join(rule.controls),
                loaded.location(),
            )
        )
    table(
        f"{len(policy.rules)} rules in {len(policy.sources)} file(s)",
        ["rule", "severity", "tiers", "stages", "controls", "source"],
        rows,
    )


@app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the policy.")] = Path(
        "tutela.policy.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write Tutela's default policy (nine rules) to PATH, to edit and commit."""
    from tutela.errors import InputError

    if path.exists() and not force:
        raise InputError("the file exists", subject=str(path), hint="use --force to overwrite it")
    text = files("tutela.policy").joinpath("default_policy.yaml").read_text("utf-8")
    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise InputError("cannot write the policy", subject=str(path), found=exc.strerror) from None
    out_console().print(f"wrote {escape(str(path))}; check it with `tutela policy check`")


@app.command("facts")
def facts(
    model: Annotated[str, typer.Argument(help="Asset id, such as model:fraud.")],
    version: VersionOpt = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Stage being gated.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print every fact a rule can read about a version, with values and evidence."""
    from tutela.facts.collect import collect_facts

    ws = open_workspace(workspace)
    try:
        sheet = collect_facts(ws, model, version=version, stage=stage)
    finally:
        ws.close()
    if json_out:
        emit_json(sheet.to_json())
        return
    doc = sheet.to_json()
    rows = [
        (
            name,
            _short(fact["value"]),
            ", ".join(e[:8] for e in fact["evidence"]),
            ("stale; " if fact["stale"] else "") + (fact["note"] or ""),
        )
        for name, fact in doc["facts"].items()
    ]
    table(
        f"facts about {model} @ {doc['version'] or 'no version'}",
        ["fact", "value", "evidence", "note"],
        rows,
    )
    for namespace, error in doc["errors"].items():
        err_console().print(
            f"warning: {escape(namespace)} facts not collected: {escape(error)}", highlight=False
        )


def gate(
    model: Annotated[str, typer.Argument(help="Asset id of the model being promoted.")],
    stage: StageOpt,
    version: VersionOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Policy file or folder (default: tutela.policy.yaml or tutela.policy/).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Evaluate as of this ISO 8601 moment (waivers, ages)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate the policy against the version being promoted and record the decision.

    Exit 0 pass, 1 fail (every failing rule is listed with the evidence it looked at),
    2 bad input or a malformed policy.
    """
    from tutela.policy.gate import run_gate

    moment = _parse_at(at)
    ws = open_workspace(workspace)
    try:
        path = _policy_path(policy, workspace)
        decision = run_gate(ws, model, stage=stage, version=version, policy_path=path, at=moment)
    finally:
        ws.close()
    if json_out:
        emit_json(decision.to_json())
    else:
        _render_decision(decision)
    raise typer.Exit(0 if decision.passed else 1)


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    from datetime import UTC

    from tutela.errors import UsageError

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            "cannot read --at", expected="an ISO 8601 moment such as 2027-01-31T12:00Z", found=text
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _render_decision(decision: GateDecision) -> None:
    rows = []
    for result in decision.evaluation.results:
        if result.outcome == "not-applicable":
            continue
        detail = "; ".join(result.reasons)
        if result.waiver is not None:
            detail = (
                f"waived by {result.waiver['id']} until {result.waiver['expires_at']} "
                f"({result.waiver['justification']}); {detail}"
            )
        rows.append(
            (
                result.outcome.upper(),
                result.rule_id,
                result.severity,
                detail or result.message,
                ", ".join(e[:8] for e in result.evidence) or "none",
            )
        )
    version = decision.version or "no version"
    table(
        f"gate {decision.asset_id} @ {version} -> {decision.stage} (tier {decision.tier})",
        ["outcome", "rule", "severity", "reason", "evidence"],
        rows,
    )
    console = out_console()
    skipped = decision.evaluation.counts().get("not-applicable", 0)
    if skipped:
        console.print(f"{skipped} rule(s) do not apply to this tier and stage", highlight=False)
    for reason in decision.evaluation.reasons:
        console.print(f"[red]{escape(reason)}[/red]", highlight=False)
    for namespace, error in decision.facts_errors.items():
        console.print(f"warning: {escape(namespace)} facts not collected: {escape(error)}")
    verdict = "[green]PASS[/green]" if decision.passed else "[red]FAIL[/red]"
    failed = decision.failed_rules
    tail = f" ({len(failed)} failing: {', '.join(failed)})" if failed else ""
    console.print(
        f"{verdict}{escape(tail)}; decision recorded as evidence {decision.evidence_id}",
        highlight=False,
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
