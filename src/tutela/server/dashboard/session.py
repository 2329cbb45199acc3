"""Dashboard sessions: the API token in an HttpOnly cookie, and CSRF tokens for forms.

The cookie holds the token itself (HttpOnly, SameSite=Strict, Secure over HTTPS), so a
revoked or expired token ends the session at the next request and the server keeps no
session table. A form's CSRF token is an HMAC of the session token under a per-process
key: it cannot be forged without the cookie, and it changes with every login. The login
form, before any session exists, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tutela.catalog.tokens import authenticate
from tutela.server.auth import Principal
from tutela.workspace import Workspace

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "csrf_token",
    "forget",
    "login_csrf",
    "principal_for",
    "remember",
    "session_user",
    "set_login_cookie",
    "valid_csrf",
    "valid_login_csrf",
]

COOKIE = "tutela_session"
LOGIN_COOKIE = "tutela_login_csrf"
_KEY_ATTR = "dashboard_csrf_key"
_MAX_AGE = 8 * 3600  # a working day; the token's own expiry still applies


def _key(request: Request) -> bytes:
    # One random key per server process, kept on the app (never module state): restarting
    # the server invalidates open forms, which is harmless.
    key = getattr(request.app.state, _KEY_ATTR, None)
    if not isinstance(key, bytes):
        key = secrets.token_bytes(32)
        setattr(request.app.state, _KEY_ATTR, key)
    return key


def _workspace(request: Request) -> Workspace:
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


def principal_for(ws: Workspace, token: str) -> Principal | None:
    """The user a token authenticates, as the API's bearer check would see them."""
    if not token or len(token) > 512:
        return None
    with ws.reader() as session:
        user = authenticate(session, token, datetime.now(UTC))
        if user is None:
            return None
        return Principal(user.name, frozenset(str(r) for r in user.roles or []))


def session_user(request: Request) -> Principal:
    """The logged-in user; anyone else is sent to the login page (303)."""
    token = request.cookies.get(COOKIE, "")
    who = principal_for(_workspace(request), token) if token else None
    if who is None:
        # A 303 with Location: the server's error handler keeps the headers, and the
        # browser follows it whatever the body says.
        raise HTTPException(303, "log in first", headers={"Location": "/ui/login"})
    request.state.actor = who.name
    return who


def csrf_token(request: Request) -> str:
    token = request.cookies.get(COOKIE, "")
    return hmac.new(_key(request), token.encode(), hashlib.sha256).hexdigest()


def valid_csrf(request: Request, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(request), submitted or "")


def login_csrf(request: Request) -> str:
    """The login form's token: reuse the cookie's value, or make a new one."""
    value = request.cookies.get(LOGIN_COOKIE, "")
    return value if len(value) == 43 else secrets.token_urlsafe(32)


def valid_login_csrf(request: Request, submitted: str | None) -> bool:
    value = request.cookies.get(LOGIN_COOKIE, "")
    return bool(value) and bool(submitted) and hmac.compare_digest(value, submitted or "")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def remember(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=_MAX_AGE,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui")


def set_login_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=3600,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
