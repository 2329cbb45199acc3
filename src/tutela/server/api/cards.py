"""AI Cards in every format, published snapshots, and compliance reports (tutela.cards).

Every cards module is imported when a request needs it: a missing one answers 501.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tutela.server.api._lazy import capability
from tutela.server.auth import ENGINEER, RISK_OFFICER, ActingWorkspace, reader, writer
from tutela.workspace import Workspace

router = APIRouter(tags=["cards"])

Reader = Annotated[Workspace, Depends(reader)]
Publisher = Annotated[ActingWorkspace, Depends(writer(ENGINEER, RISK_OFFICER))]
AssetQ = Annotated[str, Query(min_length=1, max_length=255, examples=["model:fraud-scorer"])]
VersionQ = Annotated[str | None, Query(max_length=80)]
CardFormat = Literal["json", "md", "html", "pdf", "cyclonedx", "spdx", "hf"]

_MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "cyclonedx": "application/vnd.cyclonedx+json",
    "spdx": "application/spdx+json",
    "hf": "text/markdown; charset=utf-8",
}


SnapshotFormat = Literal["md", "html", "pdf"]


def _default_formats() -> list[SnapshotFormat]:
    return ["md", "html"]


class PublishIn(BaseModel):
    asset_id: str = Field(min_length=1, max_length=255)
    version: str | None = Field(default=None, max_length=80)
    formats: list[SnapshotFormat] = Field(
        default_factory=_default_formats, min_length=1, max_length=3
    )


class ComplyIn(BaseModel):
    asset_id: str = Field(min_length=1, max_length=255)
    framework: str = Field(min_length=1, max_length=64, examples=["eu-ai-act"])
    version: str | None = Field(default=None, max_length=80)
    annex_iv: bool = False
    soa: Literal["md", "csv"] | None = None


@router.get(
    "/cards",
    summary="An asset's AI Card: json, md, html, pdf, cyclonedx, spdx or hf",
    responses={200: {"content": {m: {} for m in set(_MEDIA.values())}}},
)
def card(
    ws: Reader, asset_id: AssetQ, version: VersionQ = None, format: CardFormat = "json"
) -> Any:
    if format in ("cyclonedx", "spdx", "hf"):
        exports = capability("tutela.cards.exports", "card exports")
        text = exports.export_card(ws, asset_id, format, version=version)
        return Response(text, media_type=_MEDIA[format])
    build = capability("tutela.cards.build", "cards")
    built = build.build_card(ws, asset_id, version=version)
    if format == "json":
        return built.to_json()
    if format == "md":
        body: str | bytes = capability("tutela.cards.render_md", "cards").render_markdown(built)
    elif format == "html":
        body = capability("tutela.cards.render_html", "cards").render_html(built)
    else:
        body = capability("tutela.cards.render_pdf", "PDF cards").render_pdf(built)
    return Response(body, media_type=_MEDIA[format])


@router.post("/cards/snapshots", status_code=201, summary="Publish a signed card snapshot")
def publish(body: PublishIn, ws: Publisher) -> Any:
    snapshots = capability("tutela.cards.snapshots", "card snapshots")
    snap = snapshots.publish_card(
        ws, body.asset_id, version=body.version, actor=ws.actor, formats=body.formats
    )
    return snap.to_json()


@router.get("/cards/snapshots", summary="Published snapshots of an asset's card")
def snapshots(ws: Reader, asset_id: AssetQ) -> list[Any]:
    module = capability("tutela.cards.snapshots", "card snapshots")
    return [s.to_json() for s in module.list_snapshots(ws, asset_id)]


@router.post("/compliance", summary="A compliance report against a framework crosswalk")
def comply(body: ComplyIn, ws: Publisher) -> dict[str, Any]:
    run = capability("tutela.cards.comply_run", "compliance reports")
    outcome = run.run_comply(
        ws,
        body.asset_id,
        framework=body.framework,
        version=body.version,
        annex_iv=body.annex_iv,
        soa=body.soa,
        record=True,
    )
    return {
        "report": outcome.report.model_dump(mode="json"),
        "annex_iv": outcome.annex_iv,
        "soa": outcome.soa,
    }
