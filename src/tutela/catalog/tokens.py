"""API tokens: shown once, stored as a SHA-256 hash, revocable, with an expiry.

A token is ``tut_`` + 32 random bytes (URL-safe base64). Only its hash is stored, so a
copy of the database never yields a usable token; the ledger records that a token was
created or revoked, never the token itself.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.errors import InputError, UsageError
from tutela.store.models import ApiToken, User
from tutela.utc import as_utc
from tutela.workspace import Transaction, Workspace

__all__ = [
    "PREFIX",
    "TokenOut",
    "authenticate",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

PREFIX = "tut_"
MAX_EXPIRES_DAYS = 3650


class TokenOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    user_name: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def hash_token(plaintext: str) -> str:
    return "sha256:" + hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _aware(when: datetime | None) -> datetime | None:
    return None if when is None else as_utc(when)


def _out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        user_name=token.user_name,
        label=token.label,
        created_at=_aware(token.created_at) or token.created_at,
        expires_at=_aware(token.expires_at),
        revoked_at=_aware(token.revoked_at),
        last_used_at=_aware(token.last_used_at),
    )


def _require_admin(tx: Transaction) -> None:
    # As for users: once an admin exists, only an admin hands out or revokes tokens.
    rows = tx.session.execute(select(User).where(User.disabled_at.is_(None))).scalars()
    admins = [u.name for u in rows if "admin" in (u.roles or [])]
    if admins and tx.actor not in admins:
        raise UsageError(
            f"only an admin can manage tokens, and {tx.actor} is not one",
            hint="act as an admin (--as NAME)",
        )


def create_token(
    ws: Workspace,
    user: str,
    *,
    label: str | None = None,
    expires_days: int | None = 90,
    actor: str | None = None,
    now: datetime | None = None,
) -> tuple[str, TokenOut]:
    """A new token for ``user``: (the plaintext, to show once; what is stored)."""
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InputError(
            "a token expires after 1 to 3650 days",
            found=str(expires_days),
            hint="pass --expires-days within that range",
        )
    if label is not None and len(label) > 255:
        raise InputError("a token label is at most 255 characters")
    at = now or datetime.now(UTC)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    with ws.transaction(actor) as tx:
        _require_admin(tx)
        owner = tx.session.get(User, user)
        if owner is None:
            raise InputError("no such user", subject=user, hint="add it with `tutela user add`")
        if owner.disabled_at is not None:
            raise UsageError("the user is disabled", subject=user)
        token = ApiToken(
            id=str(uuid.uuid4()),
            user_name=user,
            token_hash=hash_token(plaintext),
            label=label,
            created_at=at,
            expires_at=None if expires_days is None else at + timedelta(days=expires_days),
        )
        tx.session.add(token)
        tx.session.flush()
        out = _out(token)
        tx.record("token.create", f"user:{user}", out.model_dump(mode="json"))
    return plaintext, out


def revoke_token(
    ws: Workspace, token_id: str, *, actor: str | None = None, now: datetime | None = None
) -> TokenOut:
    """Revoke a token by id; revoking twice is an error so a typo is never silent."""
    with ws.transaction(actor) as tx:
        _require_admin(tx)
        token = tx.session.get(ApiToken, token_id)
        if token is None:
            raise InputError("no such token", subject=token_id, hint="see `tutela token list`")
        if token.revoked_at is not None:
            raise UsageError("the token is already revoked", subject=token_id)
        token.revoked_at = now or datetime.now(UTC)
        tx.session.flush()
        out = _out(token)
        tx.record("token.revoke", f"user:{token.user_name}", out.model_dump(mode="json"))
    return out


def list_tokens(ws: Workspace, *, user: str | None = None) -> list[TokenOut]:
    with ws.reader() as session:
        query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
        if user is not None:
            query = query.where(ApiToken.user_name == user)
        return [_out(t) for t in session.execute(query).scalars()]


def get_token(ws: Workspace, token_id: str) -> TokenOut:
    with ws.reader() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise InputError("no such token", subject=token_id)
        return _out(token)


def authenticate(session: Session, plaintext: str, at: datetime) -> User | None:
    """The enabled user owning a live token, else None (unknown, expired or revoked).

    Lookup is by hash, so comparing secrets never happens in Python at all.
    """
    if not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    expires = _aware(token.expires_at)
    if expires is not None and expires <= at:
        return None
    user = session.get(User, token.user_name)
    if user is None or user.disabled_at is not None:
        return None
    return user
