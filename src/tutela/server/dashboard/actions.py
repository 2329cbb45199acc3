"""The dashboard's forms (POST): log in, log out, review an approval request.

Every form carries a CSRF token checked here; roles are checked here too, whatever the
page showed. Writes go through the same service functions as the API and CLI.
"""

# No `from __future__ import annotations`: FastAPI must resolve the routes' annotations.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tutela.errors import TutelaError, UsageError
from tutela.server.auth import ENGINEER, RISK_OFFICER, Principal
from tutela.server.dashboard.pages import approvals_page
from tutela.server.dashboard.render import SECURITY_HEADERS, page
from tutela.server.dashboard.session import (
    forget,
    login_csrf,
    principal_for,
    remember,
    session_user,
    set_login_cookie,
    valid_csrf,
    valid_login_csrf,
)
from tutela.workspace import Workspace

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

User = Annotated[Principal, Depends(session_user)]
_CSRF_PROBLEM = "the form has expired or did not come from this dashboard; reload and retry"


def _login_form(request: Request, message: str | None = None, code: int = 200) -> Response:
    value = login_csrf(request)
    response = page(request, "login.html", None, code, login_csrf=value, message=message)
    set_login_cookie(response, request, value)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_form(request)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=512)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not valid_login_csrf(request, csrf):
        return _login_form(request, _CSRF_PROBLEM, 403)
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    who = principal_for(ws, token.strip())
    if who is None:
        return _login_form(request, "the token is unknown, expired or revoked", 401)
    response = RedirectResponse("/ui/", status_code=303, headers=SECURITY_HEADERS)
    remember(response, request, token.strip())
    return response


@router.post("/logout")
def logout(
    request: Request, who: User, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    if not valid_csrf(request, csrf):
        return page(request, "error.html", who, 403, message=_CSRF_PROBLEM)
    response = RedirectResponse("/ui/login", status_code=303, headers=SECURITY_HEADERS)
    forget(response)
    return response


@router.post("/approvals/{request_id}/review", response_class=HTMLResponse)
def review(
    request: Request,
    request_id: str,
    who: User,
    decision: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=10_000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    from tutela.policy import approvals

    if not valid_csrf(request, csrf):
        return page(request, "error.html", who, 403, message=_CSRF_PROBLEM)
    if not who.has(ENGINEER, RISK_OFFICER):
        return approvals_page(request, who, "pending", "your roles do not allow reviews", 403)
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    try:
        done = approvals.review(
            ws, request_id, reviewer=who.name, decision=decision, comment=comment
        )
    except UsageError as exc:
        # Separation of duties is a permission, as in the API: 403 with the reason.
        code = 403 if exc.problem == approvals.SELF_REVIEW else 409
        return approvals_page(request, who, "pending", exc.diagnostics(), code)
    except TutelaError as exc:
        return approvals_page(request, who, "pending", exc.diagnostics(), 400)
    message = f"request {done.id[:8]} for {done.asset_id} is now {done.status}"
    return approvals_page(request, who, "", message)
