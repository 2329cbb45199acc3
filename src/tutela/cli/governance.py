"""`tutela user …`, `tutela approve …`, `tutela waiver …`: people, approvals and waivers.

Every command acts as ``--as NAME``, else ``TUTELA_USER``, else the OS user; the ledger
records that name with each change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

if TYPE_CHECKING:
    from tutela.catalog.users import UserOut
    from tutela.catalog.waivers import WaiverOut
    from tutela.policy.approvals import ApprovalOut

user_app = typer.Typer(help="People who use the workspace, and their roles.", no_args_is_help=True)
approve_app = typer.Typer(
    help="Ask for and review approvals (separation of duties).", no_args_is_help=True
)
waiver_app = typer.Typer(
    help="Accept a rule or a finding until an expiry, with a justification.",
    no_args_is_help=True,
)

AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (default: $TUTELA_USER, else the OS user)."),
]
RolesOpt = Annotated[
    list[str] | None,
    typer.Option("--role", help="viewer, engineer, risk-officer or admin (repeatable)."),
]
ApprovalRolesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="Roles that must approve (repeatable; default engineer, plus risk-officer "
        "for high-risk assets).",
    ),
]
RequestIdArg = Annotated[str, typer.Argument(help="The request's id.")]


def _asset_id(value: str) -> str:
    # `tutela approve request fraud-scorer` means the model; other kinds are spelled out.
    return value if ":" in value else f"model:{value}"


# -- users -----------------------------------------------------------------------------


def _show_users(found: list[UserOut], json_out: bool) -> None:
    if json_out:
        emit_json(found)
        return
    table(
        f"{len(found)} users",
        ["name", "roles", "display name", "email", "state"],
        [
            (
                u.name,
                ", ".join(u.roles),
                u.display_name,
                u.email,
                "enabled" if u.is_enabled() else "disabled",
            )
            for u in found
        ],
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The user's name, as they act (--as NAME).")],
    role: RolesOpt = None,
    display_name: Annotated[str | None, typer.Option(help="Full name, for people.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register a user with one or more roles (an admin's job once there is an admin)."""
    from tutela.catalog.users import add_user, current_user

    with open_workspace(workspace) as ws:
        out = add_user(
            ws,
            name,
            roles=role or [],
            display_name=display_name,
            email=email,
            actor=current_user(ws, as_user),
        )
    if json_out:
        emit_json(out)
    else:
        out_console().print(f"Added user {escape(out.name)} ({', '.join(out.roles)})")


@user_app.command("list")
def user_list(
    as_user: AsOpt = None, workspace: WorkspaceOpt = None, json_out: JsonOpt = False
) -> None:
    """List users, their roles and whether they are enabled."""
    from tutela.catalog.users import list_users

    with open_workspace(workspace) as ws:
        found = list_users(ws)
    _show_users(found, json_out)


@user_app.command("roles")
def user_roles(
    name: Annotated[str, typer.Argument(help="The user.")],
    role: RolesOpt = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replace a user's roles with the --role options given."""
    from tutela.catalog.users import current_user, set_roles

    with open_workspace(workspace) as ws:
        out = set_roles(ws, name, roles=role or [], actor=current_user(ws, as_user))
    if json_out:
        emit_json(out)
    else:
        out_console().print(f"{escape(out.name)} now holds {', '.join(out.roles)}")


@user_app.command("disable")
def user_disable(
    name: Annotated[str, typer.Argument(help="The user.")],
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Disable a user: they can no longer review (past reviews keep their name)."""
    from tutela.catalog.users import current_user, disable_user

    with open_workspace(workspace) as ws:
        out = disable_user(ws, name, actor=current_user(ws, as_user))
    if json_out:
        emit_json(out)
    else:
        out_console().print(f"Disabled {escape(out.name)}")


# -- approvals -------------------------------------------------------------------------


def _request_json(request: ApprovalOut) -> dict[str, object]:
    return {
        **request.model_dump(mode="json"),
        "approved_roles": request.approved_roles,
        "missing_roles": request.missing_roles,
    }


def _show_request(request: ApprovalOut, json_out: bool, verb: str | None = None) -> None:
    if json_out:
        emit_json(_request_json(request))
        return
    console = out_console()
    if verb:
        console.print(f"{verb} {request.id}: {request.status}", markup=False)
    target = request.version_digest or "(no version)"
    console.print(
        f"{request.subject} {request.asset_id} {target}"
        + (f" to {request.stage}" if request.stage else ""),
        markup=False,
    )
    console.print(
        f"requested by {request.requested_by}: {request.reason}; "
        f"needs {', '.join(request.required_roles)}; "
        f"missing {', '.join(request.missing_roles) or 'nothing'}",
        markup=False,
    )
    for item in request.reviews:
        console.print(
            f"  {item.decision} by {item.reviewer} as {item.role}: {item.comment}", markup=False
        )


@approve_app.command("request")
def approve_request(
    model: Annotated[str, typer.Argument(help="Asset id (KIND:NAME; a bare NAME is a model).")],
    stage: Annotated[str, typer.Option(help="Stage to promote to: dev, staging, prod …")],
    reason: Annotated[str, typer.Option(help="Why this should be promoted.")],
    version: Annotated[
        str | None, typer.Option(help="Version digest (default: the newest version).")
    ] = None,
    role: ApprovalRolesOpt = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask for a model version to be promoted to a stage."""
    from tutela.catalog.users import current_user
    from tutela.policy.approvals import request_approval

    with open_workspace(workspace) as ws:
        out = request_approval(
            ws,
            _asset_id(model),
            version=version,
            stage=stage,
            reason=reason,
            required_roles=role,
            requested_by=current_user(ws, as_user),
        )
    _show_request(out, json_out, "Requested")


@approve_app.command("list")
def approve_list(
    status: Annotated[
        str | None, typer.Option(help="pending, approved, rejected or withdrawn.")
    ] = None,
    asset: Annotated[str | None, typer.Option(help="Only requests about this asset.")] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List approval requests."""
    from tutela.policy.approvals import list_requests

    with open_workspace(workspace) as ws:
        found = list_requests(ws, status=status, asset_id=_asset_id(asset) if asset else None)
    if json_out:
        emit_json([_request_json(r) for r in found])
        return
    table(
        f"{len(found)} approval requests",
        ["id", "asset", "subject", "stage", "status", "by", "approved", "missing"],
        [
            (
                r.id,
                r.asset_id,
                r.subject,
                r.stage,
                r.status,
                r.requested_by,
                ", ".join(r.approved_roles),
                ", ".join(r.missing_roles),
            )
            for r in found
        ],
    )


@approve_app.command("show")
def approve_show(
    request_id: RequestIdArg,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one request and its reviews."""
    from tutela.policy.approvals import get_request

    with open_workspace(workspace) as ws:
        out = get_request(ws, request_id)
    _show_request(out, json_out)


def _review(
    workspace: Path | None,
    as_user: str | None,
    json_out: bool,
    request_id: str,
    decision: Literal["approve", "reject"],
    comment: str,
    role: str | None,
) -> None:
    from tutela.catalog.users import current_user
    from tutela.policy.approvals import review

    with open_workspace(workspace) as ws:
        out = review(
            ws,
            request_id,
            reviewer=current_user(ws, as_user),
            decision=decision,
            comment=comment,
            role=role,
        )
    verb = "Approved" if decision == "approve" else "Rejected"
    _show_request(out, json_out, f"{verb}; request")


@approve_app.command("accept")
def approve_accept(
    request_id: RequestIdArg,
    comment: Annotated[str, typer.Option(help="What you checked.")] = "",
    role: Annotated[
        str | None, typer.Option(help="Role you act in (default: your first role still needed).")
    ] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve a request in one of your roles (never your own request)."""
    _review(workspace, as_user, json_out, request_id, "approve", comment, role)


@approve_app.command("reject")
def approve_reject(
    request_id: RequestIdArg,
    comment: Annotated[str, typer.Option(help="Why (required).")],
    role: Annotated[str | None, typer.Option(help="Role you act in.")] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Reject a request; this closes it."""
    _review(workspace, as_user, json_out, request_id, "reject", comment, role)


@approve_app.command("withdraw")
def approve_withdraw(
    request_id: RequestIdArg,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw your own pending request."""
    from tutela.catalog.users import current_user
    from tutela.policy.approvals import withdraw

    with open_workspace(workspace) as ws:
        out = withdraw(ws, request_id, actor=current_user(ws, as_user))
    _show_request(out, json_out, "Withdrew")


# -- waivers ---------------------------------------------------------------------------


def _target(rule: str | None, finding: str | None) -> tuple[str, str]:
    from tutela.errors import UsageError

    if (rule is None) == (finding is None):
        raise UsageError("name exactly one of --rule ID or --finding FINGERPRINT")
    return ("rule", rule) if rule is not None else ("finding", finding or "")


def _waiver_json(waiver: WaiverOut) -> dict[str, object]:
    return {**waiver.model_dump(mode="json"), "state": waiver.state()}


def _show_waiver(waiver: WaiverOut, json_out: bool, verb: str) -> None:
    if json_out:
        emit_json(_waiver_json(waiver))
        return
    where = waiver.asset_id or "every asset"
    out_console().print(
        f"{verb} {waiver.scope} waiver {waiver.id} on {waiver.target} for {where} "
        f"until {waiver.expires_at:%Y-%m-%d} ({waiver.state()})",
        markup=False,
    )


RuleOpt = Annotated[str | None, typer.Option("--rule", help="Policy rule id to waive.")]
FindingOpt = Annotated[
    str | None, typer.Option("--finding", help="Finding fingerprint (sha256:…) to accept.")
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Justification (10+ characters).")]
ExpiresOpt = Annotated[str, typer.Option(help="ISO date when the waiver lapses (≤ 2 years).")]


@waiver_app.command("add")
def waiver_add(
    reason: ReasonOpt,
    expires: ExpiresOpt,
    rule: RuleOpt = None,
    finding: FindingOpt = None,
    asset: Annotated[
        str | None, typer.Option(help="Only for this asset (default: every asset).")
    ] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Grant a waiver now, as a risk officer or admin (it counts at once)."""
    from tutela.catalog.users import current_user
    from tutela.catalog.waivers import parse_expiry
    from tutela.policy.approvals import grant_waiver

    scope, target = _target(rule, finding)
    with open_workspace(workspace) as ws:
        out = grant_waiver(
            ws,
            scope=scope,
            target=target,
            justification=reason,
            expires=parse_expiry(expires),
            asset_id=_asset_id(asset) if asset else None,
            actor=current_user(ws, as_user),
        )
    _show_waiver(out, json_out, "Granted")


@waiver_app.command("request")
def waiver_request(
    reason: ReasonOpt,
    expires: ExpiresOpt,
    asset: Annotated[str, typer.Option(help="The asset the waiver is for.")],
    rule: RuleOpt = None,
    finding: FindingOpt = None,
    role: ApprovalRolesOpt = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask for a waiver; it counts only once approved (default: by a risk officer)."""
    from tutela.catalog.users import current_user
    from tutela.catalog.waivers import parse_expiry
    from tutela.policy.approvals import request_waiver

    scope, target = _target(rule, finding)
    with open_workspace(workspace) as ws:
        waiver, request = request_waiver(
            ws,
            scope=scope,
            target=target,
            justification=reason,
            expires=parse_expiry(expires),
            asset_id=_asset_id(asset),
            requested_by=current_user(ws, as_user),
            required_roles=role,
        )
    if json_out:
        emit_json(
            {
                "waiver": _waiver_json(waiver),
                "request": _request_json(request),
            }
        )
        return
    _show_waiver(waiver, False, "Requested")
    out_console().print(
        f"approval request {request.id} needs {', '.join(request.required_roles)}",
        markup=False,
    )


@waiver_app.command("list")
def waiver_list(
    all_: Annotated[
        bool, typer.Option("--all", help="Include lapsed, revoked and unapproved waivers.")
    ] = False,
    asset: Annotated[
        str | None, typer.Option(help="Waivers for this asset (and for every asset).")
    ] = None,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List waivers (active ones unless --all)."""
    from tutela.catalog.waivers import list_waivers

    with open_workspace(workspace) as ws:
        found = list_waivers(
            ws, include_inactive=all_, asset_id=_asset_id(asset) if asset else None
        )
    if json_out:
        emit_json([_waiver_json(w) for w in found])
        return
    table(
        f"{len(found)} waivers",
        ["id", "scope", "target", "asset", "state", "expires", "approved by", "justification"],
        [
            (
                w.id,
                w.scope,
                w.target,
                w.asset_id or "*",
                w.state(),
                f"{w.expires_at:%Y-%m-%d}",
                w.approved_by,
                w.justification,
            )
            for w in found
        ],
    )


@waiver_app.command("revoke")
def waiver_revoke(
    waiver_id: Annotated[str, typer.Argument(help="The waiver's id.")],
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw a waiver now."""
    from tutela.catalog.users import current_user
    from tutela.catalog.waivers import revoke_waiver

    with open_workspace(workspace) as ws:
        out = revoke_waiver(ws, waiver_id, actor=current_user(ws, as_user))
    _show_waiver(out, json_out, "Revoked")
