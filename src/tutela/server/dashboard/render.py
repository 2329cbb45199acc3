"""Rendering pages: one Jinja2 environment per app, autoescaping everything, and headers
that keep the pages self-contained (no script, style or image from anywhere else)."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from tutela.server.auth import Principal
from tutela.server.dashboard.links import asset_url
from tutela.server.dashboard.session import csrf_token
from tutela.version import tutela_version

__all__ = ["SECURITY_HEADERS", "page"]

_ENV_ATTR = "dashboard_templates"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _environment(request: Request) -> jinja2.Environment:
    env = getattr(request.app.state, _ENV_ATTR, None)
    if not isinstance(env, jinja2.Environment):
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("tutela.server.dashboard", "templates"),
            autoescape=True,  # every template, whatever its name
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals["asset_url"] = asset_url
        setattr(request.app.state, _ENV_ATTR, env)
    return env


def page(
    request: Request,
    template: str,
    who: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the user, their CSRF token and the page's context."""
    html = (
        _environment(request)
        .get_template(template)
        .render(
            who=who,
            csrf=csrf_token(request) if who is not None else "",
            version=tutela_version(),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
