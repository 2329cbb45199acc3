"""Bearer tokens and roles: who is calling, what they may change, and the ledger actor.

Every route under /api depends on :func:`principal`; every route that changes state
depends on :func:`require` with the roles allowed to make that change. ``admin`` may do
everything. Writes go through :func:`acting`, a view of the workspace whose transactions
name the calling user, so the ledger records who made each change without every service
growing an ``actor`` parameter.
"""

# No `from __future__ import annotations`: FastAPI must resolve the closures' annotations.

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tutela.catalog.tokens import authenticate
from tutela.server.errors import Forbidden, Unauthenticated
from tutela.workspace import Transaction, Workspace

__all__ = [
    "ADMIN",
    "ENGINEER",
    "RISK_OFFICER",
    "ROLES",
    "VIEWER",
    "ActingWorkspace",
    "Principal",
    "principal",
    "reader",
    "require",
    "token_principal",
    "workspace",
    "writer",
]

VIEWER = "viewer"
ENGINEER = "engineer"
RISK_OFFICER = "risk-officer"
ADMIN = "admin"
ROLES = (VIEWER, ENGINEER, RISK_OFFICER, ADMIN)

_bearer = HTTPBearer(auto_error=False, description="An API token from `tutela token create`.")


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return ADMIN in self.roles or bool(self.roles & set(roles))


class ActingWorkspace(Workspace):
    """The server's workspace, with transactions that default to the calling user."""

    def __init__(self, base: Workspace, actor: str) -> None:
        super().__init__(base.layout, base.settings, base.db)
        self.plugins = base.plugins
        self._signing = base._signing
        self._public = base._public
        self.actor = actor

    @contextmanager
    def transaction(self, actor: str | None = None) -> Iterator[Transaction]:
        with super().transaction(actor or self.actor) as tx:
            yield tx

    def close(self) -> None:
        """The shared database outlives a request."""


def workspace(request: Request) -> Workspace:
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


def token_principal(ws: Workspace, token: str) -> Principal | None:
    """The principal a token stands for now, or None."""
    with ws.reader() as session:
        user = authenticate(session, token, datetime.now(UTC))
        if user is None:
            return None
        return Principal(user.name, frozenset(str(r) for r in user.roles or []))


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Normally the TokenGate middleware has authenticated the request already.
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an API token is required", hint="send Authorization: Bearer <token>")
    found = token_principal(workspace(request), credentials.credentials)
    if found is None:
        raise Unauthenticated("the token is unknown, expired or revoked, or its user is disabled")
    request.state.principal = found
    request.state.actor = found.name
    return found


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting users holding any of ``roles`` (or admin)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    needed = ", ".join(roles) or ADMIN

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.has(*roles):
            raise Forbidden(
                "your roles do not allow this",
                subject=who.name,
                expected=f"one of {needed}",
                found=", ".join(sorted(who.roles)) or "no roles",
            )
        return who

    check.required_roles = roles  # type: ignore[attr-defined]  # read by the role tests
    return check


def reader(request: Request, who: Annotated[Principal, Depends(principal)]) -> Workspace:
    """The workspace, for any authenticated user (every role may read)."""
    return workspace(request)


def writer(*roles: str) -> Callable[..., ActingWorkspace]:
    """A dependency giving the workspace acting as a caller who holds one of ``roles``."""
    check = require(*roles)

    def dep(request: Request, who: Annotated[Principal, Depends(check)]) -> ActingWorkspace:
        return ActingWorkspace(workspace(request), who.name)

    dep.required_roles = roles  # type: ignore[attr-defined]
    return dep
