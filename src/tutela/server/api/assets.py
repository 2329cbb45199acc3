"""Assets and versions: tutela.catalog.assets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tutela.catalog import assets
from tutela.catalog.schemas import AssetDetail, AssetOut, VersionOut
from tutela.server.auth import ENGINEER, ActingWorkspace, reader, writer
from tutela.store.models import AssetKind, RiskTier
from tutela.workspace import Workspace

router = APIRouter(tags=["assets"])

Reader = Annotated[Workspace, Depends(reader)]
Writer = Annotated[ActingWorkspace, Depends(writer(ENGINEER))]


class AssetIn(BaseModel):
    id: str = Field(max_length=255, examples=["model:fraud-scorer"])
    name: str | None = Field(default=None, max_length=255)
    owner: str | None = Field(default=None, max_length=255)
    risk_tier: RiskTier = RiskTier.UNASSESSED
    description: str | None = Field(default=None, max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=100)


class AssetPatch(BaseModel):
    """Only the fields sent change; an empty owner or description clears it."""

    owner: str | None = Field(default=None, max_length=255)
    risk_tier: RiskTier | None = None
    description: str | None = Field(default=None, max_length=10_000)
    add_tags: list[str] = Field(default_factory=list, max_length=100)
    remove_tags: list[str] = Field(default_factory=list, max_length=100)


class VersionIn(BaseModel):
    asset_id: str = Field(max_length=255)
    digest: str = Field(max_length=80, examples=["sha256:" + "0" * 64])
    location: str | None = Field(default=None, max_length=4096)
    metadata: dict[str, Any] = Field(default_factory=dict)


@router.get("/assets", summary="List assets")
def list_assets(
    ws: Reader,
    kind: AssetKind | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AssetOut]:
    return assets.list_assets(ws, kind=kind, tag=tag)


@router.post("/assets", status_code=201, summary="Register an asset")
def add_asset(body: AssetIn, ws: Writer) -> AssetOut:
    return assets.add_asset(
        ws,
        body.id,
        name=body.name,
        owner=body.owner,
        risk_tier=body.risk_tier,
        description=body.description,
        tags=body.tags,
    )


@router.get("/assets/{asset_id:path}", summary="An asset with its versions and evidence counts")
def get_asset(asset_id: str, ws: Reader) -> AssetDetail:
    return assets.get_asset(ws, asset_id)


@router.patch("/assets/{asset_id:path}", summary="Change an asset's owner, risk tier or tags")
def update_asset(asset_id: str, body: AssetPatch, ws: Writer) -> AssetOut:
    return assets.update_asset(
        ws,
        asset_id,
        owner=body.owner,
        risk_tier=body.risk_tier,
        description=body.description,
        add_tags=body.add_tags,
        remove_tags=body.remove_tags,
    )


@router.post("/versions", status_code=201, summary="Record a version of an asset")
def add_version(body: VersionIn, ws: Writer) -> VersionOut:
    return assets.add_version(
        ws, body.asset_id, body.digest, location=body.location, metadata=body.metadata
    )
