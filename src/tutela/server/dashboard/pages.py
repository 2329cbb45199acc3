"""The dashboard's pages (GET): overview, inventory, asset, approvals, jobs, ledger."""

# No `from __future__ import annotations`: FastAPI must resolve the routes' annotations.

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tutela.catalog.assets import get_asset, list_assets
from tutela.errors import TutelaError
from tutela.server.auth import ENGINEER, RISK_OFFICER, Principal
from tutela.server.dashboard import asset_view
from tutela.server.dashboard.render import page
from tutela.server.dashboard.session import session_user
from tutela.server.jobs import JobRegistry
from tutela.store.models import AssetKind, RiskTier
from tutela.workspace import Workspace

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

User = Annotated[Principal, Depends(session_user)]

_REFRESH_SECONDS = 3  # while a job runs, its page reloads this often
_STATUSES = ("pending", "approved", "rejected", "withdrawn")


def _ws(request: Request) -> Workspace:
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


def _jobs(request: Request) -> JobRegistry | None:
    jobs = getattr(request.app.state, "jobs", None)
    return jobs if isinstance(jobs, JobRegistry) else None


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: User) -> HTMLResponse:
    from tutela.policy.status import QUESTIONS, inventory_status

    ws = _ws(request)
    models = inventory_status(ws)
    tally = {q: Counter(m.verdicts.get(q, "no") for m in models) for q in QUESTIONS}
    kinds = Counter(a.kind.value for a in list_assets(ws))
    jobs = _jobs(request)
    running = [j for j in jobs.list() if j.status in ("queued", "running")] if jobs else []
    return page(request, "overview.html", who, questions=QUESTIONS, models=models,
                tally=tally, kinds=kinds, running=running)  # fmt: skip


@router.get("/assets", response_class=HTMLResponse)
def inventory(
    request: Request,
    who: User,
    kind: Annotated[str, Query(max_length=32)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    risk: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    ws = _ws(request)
    error = None
    try:
        assets = list_assets(ws, kind=kind or None, tag=tag or None)
    except (TutelaError, ValueError):
        assets, error = [], f"unknown asset kind {kind!r}"
    if risk:
        assets = [a for a in assets if a.risk_tier.value == risk]
    tags = sorted({t for a in list_assets(ws) for t in a.tags})
    return page(request, "assets.html", who, assets=assets, kinds=[k.value for k in AssetKind],
                tags=tags, risks=[r.value for r in RiskTier], kind=kind, tag=tag, risk=risk,
                error=error)  # fmt: skip


@router.get("/assets/{asset_id:path}", response_class=HTMLResponse)
def asset(request: Request, asset_id: str, who: User) -> HTMLResponse:
    from tutela.policy.status import model_status

    ws = _ws(request)
    try:
        detail = get_asset(ws, asset_id)
    except TutelaError as exc:
        return page(request, "error.html", who, 404, message=exc.diagnostics())
    return page(
        request,
        "asset.html",
        who,
        detail=detail,
        status=asset_view.read(lambda: model_status(ws, asset_id)),
        lineage=asset_view.lineage_section(ws, asset_id),
        findings=asset_view.findings_section(ws, asset_id),
        arena=asset_view.arena_section(ws, asset_id),
        drift=asset_view.drift_section(ws, asset_id),
        card=asset_view.card_section(ws, asset_id),
        compliance=asset_view.compliance_section(ws, asset_id),
    )


def approvals_page(
    request: Request, who: Principal, status: str, message: str | None = None, code: int = 200
) -> HTMLResponse:
    """The approvals queue; also rendered by a review POST to show its outcome."""
    from tutela.policy.approvals import list_requests

    requests = list_requests(_ws(request), status=status or None)
    return page(request, "approvals.html", who, code, requests=list(reversed(requests)),
                status=status, statuses=_STATUSES, message=message,
                can_review=who.has(ENGINEER, RISK_OFFICER))  # fmt: skip


@router.get("/approvals", response_class=HTMLResponse)
def approvals(
    request: Request, who: User, status: Annotated[str, Query(max_length=16)] = "pending"
) -> HTMLResponse:
    if status and status not in _STATUSES:
        status = "pending"
    return approvals_page(request, who, status)


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request, who: User) -> HTMLResponse:
    registry = _jobs(request)
    found = list(reversed(registry.list())) if registry else []
    busy = any(j.status in ("queued", "running") for j in found)
    return page(request, "jobs.html", who, jobs=found,
                refresh=_REFRESH_SECONDS if busy else None)  # fmt: skip


@router.get("/ledger", response_class=HTMLResponse)
def ledger(request: Request, who: User) -> HTMLResponse:
    report = _ws(request).verify()
    return page(request, "ledger.html", who, report=report, summary=report.summary())
