"""The application factory: open the workspace (migrating it), mount the routers."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tutela.server.api import ROUTERS
from tutela.server.auth import token_principal
from tutela.server.config import ServerConfig
from tutela.server.errors import ERROR_RESPONSES, error_body, install_error_handlers
from tutela.server.jobs import JobRegistry
from tutela.server.middleware import BodyLimit, RequestLog, TokenGate
from tutela.version import tutela_version
from tutela.workspace import Workspace

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
_DASHBOARD = "tutela.server.dashboard"


def create_app(
    workspace: Path | str | Workspace | None = None, config: ServerConfig | None = None
) -> FastAPI:
    """The API over ``workspace`` (a Workspace, or a directory to open it from).

    A directory is opened now, which applies pending migrations before the first
    request; the app then owns it and closes it on shutdown.
    """
    owned = not isinstance(workspace, Workspace)
    ws = (
        workspace
        if isinstance(workspace, Workspace)
        else Workspace.open(Path(workspace) if workspace is not None else None)
    )
    # Load both keys now: a broken key fails the start, not the first write, and the
    # per-request workspace views share them instead of reading the key file each time.
    ws.signing_key()
    ws.public_key()
    settings = config or ServerConfig()
    jobs = JobRegistry(settings.job_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            jobs.wait()
            if owned:
                ws.close()

    app = FastAPI(
        title="Tutela API",
        version=tutela_version(),
        description="Evidence about AI/ML assets: inventory, scans, lineage, Arena, "
        "monitoring, policy and cards over one tamper-evident ledger. See docs/server.md.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.workspace = ws
    app.state.config = settings
    app.state.jobs = jobs
    install_error_handlers(app)
    # Outermost last: ids and logs, then the token check, then the body cap.
    app.add_middleware(BodyLimit, max_bytes=max(settings.max_upload_bytes, settings.max_json_bytes))
    app.add_middleware(
        TokenGate, authenticate=partial(token_principal, ws), prefix=API_PREFIX + "/"
    )
    app.add_middleware(RequestLog)
    app.include_router(_health())
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    dashboard = _dashboard_router()
    if dashboard is not None:
        app.include_router(dashboard)
    return app


def _dashboard_router() -> APIRouter | None:
    """``tutela.server.dashboard.router`` when that package is installed and ready."""
    if importlib.util.find_spec(_DASHBOARD) is None:
        return None
    router = getattr(importlib.import_module(_DASHBOARD), "router", None)
    return router if isinstance(router, APIRouter) else None


def _health() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": tutela_version()}

    @router.get(
        "/readyz",
        summary="Readiness: the database answers",
        responses={503: {"description": "The database does not answer"}},
    )
    def readyz(request: Request) -> Any:
        ws: Workspace = request.app.state.workspace
        try:
            with ws.reader() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:
            message = f"the database does not answer: {type(exc).__name__}"
            return JSONResponse(error_body("unavailable", message), status_code=503)
        return {"status": "ready", "database": ws.db.dialect}

    return router
