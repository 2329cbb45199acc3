"""`tutela serve` (the REST API) and `tutela token …` (API tokens for it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.options import JsonOpt, WorkspaceOpt, open_workspace
from tutela.cli.render import emit_json, out_console, table

token_app = typer.Typer(help="API tokens for `tutela serve`: shown once, stored hashed.",
                        no_args_is_help=True)  # fmt: skip

AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (default: $TUTELA_USER, else the OS user)."),
]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8700,
    workspace: WorkspaceOpt = None,
    scan_root: Annotated[
        Path | None,
        typer.Option(
            "--scan-root",
            help="The only folder path scans may read (default: none; uploads only).",
            envvar="TUTELA_SERVER_SCAN_ROOT",
        ),
    ] = None,
    targets_dir: Annotated[
        Path | None,
        typer.Option(
            "--targets-dir",
            help="Folder of Arena target configs a run may name (default: Arena disabled).",
            envvar="TUTELA_SERVER_TARGETS_DIR",
        ),
    ] = None,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", min=1, max=65536, help="Largest upload accepted.")
    ] = 512,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning.")] = "info",
) -> None:
    """Serve the REST API (docs/server.md); migrations are applied before it listens."""
    import uvicorn

    from tutela.server.app import create_app
    from tutela.server.config import ServerConfig
    from tutela.server.logs import configure_logging

    configure_logging(log_level)
    config = ServerConfig(
        scan_root=scan_root.resolve() if scan_root else None,
        targets_dir=targets_dir.resolve() if targets_dir else None,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
    )
    app = create_app(workspace, config)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str | None, typer.Option("--label", help="What the token is for.")] = None,
    expires_days: Annotated[
        int, typer.Option("--expires-days", min=1, max=3650, help="Days until it expires.")
    ] = 90,
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a token and print it once: only its hash is kept."""
    from tutela.catalog.tokens import create_token
    from tutela.catalog.users import current_user

    with open_workspace(workspace) as ws:
        plaintext, info = create_token(
            ws, user, label=label, expires_days=expires_days, actor=current_user(ws, as_user)
        )
    if json_out:
        emit_json({"token": plaintext, **info.model_dump(mode="json")})
        return
    out_console().print(plaintext, markup=False, highlight=False)
    typer.echo(
        f"token {info.id} for {info.user_name}, expires {info.expires_at:%Y-%m-%d}; "
        "it is shown only now",
        err=True,
    )


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List tokens (never their secrets)."""
    from tutela.catalog.tokens import list_tokens

    with open_workspace(workspace) as ws:
        found = list_tokens(ws, user=user)
    if json_out:
        emit_json([t.model_dump(mode="json") for t in found])
        return

    def when(value: object) -> str:
        return "" if value is None else f"{value:%Y-%m-%d %H:%M}"

    rows = [
        [t.id, t.user_name, t.label or "", when(t.created_at), when(t.expires_at),
         when(t.revoked_at)]
        for t in found
    ]  # fmt: skip
    table(None, ["id", "user", "label", "created", "expires", "revoked"], rows)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `tutela token list`).")],
    as_user: AsOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from tutela.catalog.tokens import revoke_token
    from tutela.catalog.users import current_user

    with open_workspace(workspace) as ws:
        info = revoke_token(ws, token_id, actor=current_user(ws, as_user))
    if json_out:
        emit_json(info.model_dump(mode="json"))
        return
    out_console().print(f"revoked token {info.id} of {info.user_name}", markup=False)
