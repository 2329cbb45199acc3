"""Users of a workspace and their roles: who may review what.

Roles are ``viewer`` (reads), ``engineer`` (builds and requests), ``risk-officer``
(accepts risk: reviews, waivers) and ``admin`` (manages users). Approvals read them; the
server maps an API token to its user. Once the workspace has an enabled admin, only an
admin may add users or change roles; before that (a new workspace) anyone may, so the
first admin can be registered. Every change is a ledger entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.errors import InputError, UsageError
from tutela.store.models import User
from tutela.workspace import Transaction, Workspace

__all__ = [
    "ROLES",
    "UserOut",
    "add_user",
    "current_user",
    "disable_user",
    "find_user",
    "get_user",
    "list_users",
    "require_enabled_user",
    "set_roles",
    "validate_name",
    "validate_roles",
]

ROLES: tuple[str, ...] = ("viewer", "engineer", "risk-officer", "admin")
USER_ENV = "TUTELA_USER"

# Names as people and hosts spell them: "alice", "alice@build-01", "svc.ci".
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    name: str
    display_name: str | None
    email: str | None
    roles: list[str]
    created_at: datetime
    disabled_at: datetime | None

    @field_validator("created_at", "disabled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo:
            return value
        return value.replace(tzinfo=UTC)

    def is_enabled(self) -> bool:
        return self.disabled_at is None

    def has_role(self, role: str) -> bool:
        return role in self.roles


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            "not a user name",
            expected="letters, digits, '.', '_', '@', '+' or '-', at most 128 characters",
            found=repr(name),
        )
    return name


def validate_roles(roles: Iterable[str]) -> list[str]:
    """Known roles, each once, in the order given; at least one."""
    chosen: list[str] = []
    for role in roles:
        if role not in ROLES:
            raise InputError("unknown role", expected=", ".join(ROLES), found=role)
        if role not in chosen:
            chosen.append(role)
    if not chosen:
        raise InputError("a user needs at least one role", expected=", ".join(ROLES))
    return chosen


def _email(email: str | None) -> str | None:
    if email is None:
        return None
    text = email.strip()
    if not re.match(r"^[^@\s]+@[^@\s]+$", text):
        raise InputError("not an e-mail address", found=email)
    return text


def find_user(session: Session, name: str) -> UserOut | None:
    row = session.get(User, name)
    return UserOut.model_validate(row) if row is not None else None


def require_enabled_user(session: Session, name: str, *, why: str) -> UserOut:
    """The registered, enabled user ``name``, or an error saying ``why`` one is needed."""
    user = find_user(session, name)
    if user is None:
        raise UsageError(
            f"{name} is not a registered user; {why}",
            hint="an admin can add them with `tutela user add`",
        )
    if not user.is_enabled():
        raise UsageError(f"user {name} is disabled; {why}")
    return user


def _enabled_admins(session: Session) -> list[str]:
    rows = session.execute(select(User).where(User.disabled_at.is_(None))).scalars()
    return [u.name for u in rows if "admin" in (u.roles or [])]


def _require_admin(tx: Transaction) -> None:
    # Bootstrap: with no admin yet, the first one has to be registered by someone.
    admins = _enabled_admins(tx.session)
    if admins and tx.actor not in admins:
        raise UsageError(
            f"only an admin can manage users, and {tx.actor} is not one",
            hint=f"ask {', '.join(sorted(admins))}",
        )


def _require_user_row(session: Session, name: str) -> User:
    row = session.get(User, name)
    if row is None:
        raise InputError("no such user", subject=name, hint="see `tutela user list`")
    return row


def add_user(
    ws: Workspace,
    name: str,
    *,
    roles: Iterable[str],
    display_name: str | None = None,
    email: str | None = None,
    actor: str | None = None,
) -> UserOut:
    validate_name(name)
    chosen = validate_roles(roles)
    address = _email(email)
    with ws.transaction(actor) as tx:
        _require_admin(tx)
        if tx.session.get(User, name) is not None:
            raise UsageError(
                "the user already exists", subject=name, hint="use `tutela user roles`"
            )
        row = User(
            name=name,
            display_name=display_name,
            email=address,
            roles=chosen,
            created_at=datetime.now(UTC),
            disabled_at=None,
        )
        tx.session.add(row)
        tx.session.flush()
        out = UserOut.model_validate(row)
        tx.record("user.add", name, out.model_dump(mode="json"))
        return out


def set_roles(
    ws: Workspace, name: str, *, roles: Iterable[str], actor: str | None = None
) -> UserOut:
    chosen = validate_roles(roles)
    with ws.transaction(actor) as tx:
        _require_admin(tx)
        row = _require_user_row(tx.session, name)
        before = list(row.roles or [])
        if "admin" in before and "admin" not in chosen:
            _keep_an_admin(tx.session, name)
        row.roles = chosen
        tx.session.flush()
        out = UserOut.model_validate(row)
        tx.record("user.roles", name, {"before": before, "after": chosen})
        return out


def disable_user(ws: Workspace, name: str, *, actor: str | None = None) -> UserOut:
    """Disable a user (kept for the record: past reviews still name them)."""
    with ws.transaction(actor) as tx:
        _require_admin(tx)
        row = _require_user_row(tx.session, name)
        if row.disabled_at is None:
            if "admin" in (row.roles or []):
                _keep_an_admin(tx.session, name)
            row.disabled_at = datetime.now(UTC)
            tx.session.flush()
            tx.record("user.disable", name, {"name": name})
        return UserOut.model_validate(row)


def _keep_an_admin(session: Session, leaving: str) -> None:
    if [a for a in _enabled_admins(session) if a != leaving] == []:
        raise UsageError(
            "the workspace would have no admin left", subject=leaving, hint="add another first"
        )


def list_users(ws: Workspace, *, include_disabled: bool = True) -> list[UserOut]:
    with ws.reader() as session:
        rows = session.execute(select(User).order_by(User.name)).scalars()
        users = [UserOut.model_validate(r) for r in rows]
    return users if include_disabled else [u for u in users if u.is_enabled()]


def get_user(ws: Workspace, name: str) -> UserOut:
    with ws.reader() as session:
        user = find_user(session, name)
    if user is None:
        raise InputError("no such user", subject=name, hint="see `tutela user list`")
    return user


def current_user(ws: Workspace | None, explicit: str | None) -> str:
    """Who is acting: ``--as NAME``, else ``TUTELA_USER``, else the OS user (user@host).

    ``ws`` is where a front that authenticates (the server) resolves its caller; the CLI
    trusts the local account, as the ledger does.
    """
    name = explicit or os.environ.get(USER_ENV)
    if not name:
        from tutela.ledger.log import default_actor

        name = default_actor()
    return validate_name(name)
