"""`tutela status [MODEL]`: the four questions, and `tutela risk list`: the risk register."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

__all__ = ["risk_app", "status"]

_MARK = {"yes": "[green]yes[/green]", "partly": "[yellow]partly[/yellow]", "no": "[red]no[/red]"}

AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="Answer as of this ISO 8601 time (default: now)."),
]


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    from tutela.errors import InputError

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "not an ISO 8601 time", found=text, expected="2026-12-01T00:00:00Z"
        ) from None


def status(
    model: Annotated[
        str | None, typer.Argument(help="A model id (default: every model in the inventory).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Version digest or prefix (default: the latest).")
    ] = None,
    at: AtOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer the four questions with evidence: lineage known? adversarially evaluated?
    drift detectable? third-party services governed?"""
    from tutela.policy.status import inventory_status, model_status

    moment = _at(at)
    with open_workspace(workspace) as ws:
        found = (
            [model_status(ws, model, version=version, at=moment)]
            if model
            else inventory_status(ws, at=moment)
        )
    if json_out:
        emit_json([s.to_json() for s in found] if model is None else found[0].to_json())
        return
    if model is None:
        table(
            f"The four questions for {len(found)} model(s)",
            ["model", "owner", "tier", "lineage", "evaluated", "drift", "third-party"],
            [
                (s.asset_id, s.owner or "", s.risk_tier, *(s.verdicts[q] for q in _ORDER))
                for s in found
            ],
        )
        return
    console = out_console()
    one = found[0]
    console.print(
        Text(f"{one.asset_id} @ {one.version or 'no version'} (tier {one.risk_tier})"),
        style="bold",
    )
    for answer in one.answers:
        console.print(f"{_MARK[answer.verdict]}  {answer.question}: ", end="")
        console.print(Text(answer.summary))
        for gap in answer.missing:
            console.print(Text(f"      missing: {gap}"))
        if answer.evidence:
            console.print(Text(f"      evidence: {', '.join(answer.evidence[:6])}"))
    for namespace, error in one.errors.items():
        console.print(Text(f"warning: facts from {namespace} unavailable: {error}"), style="yellow")


_ORDER = ("lineage", "evaluated", "drift", "third_party")

risk_app = typer.Typer(help="The risk register: open risks per model, with owner and age.")


@risk_app.command("list")
def risk_list(
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    stage: Annotated[str, typer.Option(help="Evaluate the policy for this stage.")] = "prod",
    policy: Annotated[
        str | None, typer.Option(help="Policy file or folder (default: tutela.policy.yaml).")
    ] = None,
    at: AtOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List open risks: failing policy rules, unresolved findings, expired waivers."""
    from pathlib import Path

    from tutela.policy.risks import risk_register

    with open_workspace(workspace) as ws:
        risks = risk_register(
            ws,
            asset_id=model,
            stage=stage,
            policy_path=Path(policy) if policy else None,
            at=_at(at),
        )
    if json_out:
        emit_json([r.to_json() for r in risks])
        return
    table(
        f"{len(risks)} open risk(s)",
        ["model", "owner", "kind", "what", "severity", "age (days)"],
        [
            (r.asset_id, r.owner or "", r.kind, r.title, r.severity, f"{r.age_days:.1f}")
            for r in risks
        ],
    )
