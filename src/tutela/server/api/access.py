"""Who am I, users (tutela.catalog.users) and API tokens (tutela.catalog.tokens)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tutela.catalog import tokens
from tutela.server.api._lazy import capability
from tutela.server.auth import ADMIN, ActingWorkspace, Principal, principal, writer

router = APIRouter(tags=["access"])

Admin = Annotated[ActingWorkspace, Depends(writer(ADMIN))]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    roles: list[str] = Field(min_length=1, max_length=4)
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)


class RolesIn(BaseModel):
    roles: list[str] = Field(min_length=1, max_length=4)


class TokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=128)
    label: str | None = Field(default=None, max_length=255)
    expires_days: int | None = Field(default=90, ge=1, le=tokens.MAX_EXPIRES_DAYS)


class NewToken(BaseModel):
    token: str = Field(description="Shown once: only its hash is stored")
    info: tokens.TokenOut


class Me(BaseModel):
    name: str
    roles: list[str]


def _users() -> Any:
    return capability("tutela.catalog.users", "user management")


@router.get("/me", summary="The calling user and roles")
def me(who: Annotated[Principal, Depends(principal)]) -> Me:
    return Me(name=who.name, roles=sorted(who.roles))


@router.get("/users", summary="Users (admin)")
def list_users(ws: Admin) -> list[Any]:
    return list(_users().list_users(ws))


@router.post("/users", status_code=201, summary="Add a user (admin)")
def add_user(body: UserIn, ws: Admin) -> Any:
    return _users().add_user(
        ws,
        body.name,
        roles=body.roles,
        display_name=body.display_name,
        email=body.email,
        actor=ws.actor,
    )


@router.put("/users/{name}/roles", summary="Replace a user's roles (admin)")
def set_roles(name: str, body: RolesIn, ws: Admin) -> Any:
    return _users().set_roles(ws, name, roles=body.roles, actor=ws.actor)


@router.post("/users/{name}/disable", summary="Disable a user; their tokens stop working")
def disable_user(name: str, ws: Admin) -> Any:
    return _users().disable_user(ws, name, actor=ws.actor)


@router.get("/tokens", summary="API tokens, without their secrets (admin)")
def list_tokens(ws: Admin, user: str | None = None) -> list[tokens.TokenOut]:
    return tokens.list_tokens(ws, user=user)


@router.post("/tokens", status_code=201, summary="Create a token (admin); shown once")
def create_token(body: TokenIn, ws: Admin) -> NewToken:
    plaintext, info = tokens.create_token(
        ws, body.user, label=body.label, expires_days=body.expires_days, actor=ws.actor
    )
    return NewToken(token=plaintext, info=info)


@router.delete("/tokens/{token_id}", summary="Revoke a token (admin)")
def revoke_token(token_id: str, ws: Admin) -> tokens.TokenOut:
    return tokens.revoke_token(ws, token_id, actor=ws.actor)
