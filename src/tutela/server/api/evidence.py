"""Evidence (read only: producers write it): tutela.catalog.evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tutela.catalog import evidence
from tutela.catalog.schemas import EvidenceOut
from tutela.server.auth import reader
from tutela.store.models import EvidenceKind
from tutela.workspace import Workspace

router = APIRouter(tags=["evidence"])


@router.get("/evidence", summary="List evidence, newest first")
def list_evidence(
    ws: Annotated[Workspace, Depends(reader)],
    asset_id: Annotated[str | None, Query(max_length=255)] = None,
    kind: EvidenceKind | None = None,
    producer: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EvidenceOut]:
    return evidence.list_evidence(ws, asset_id=asset_id, kind=kind, producer=producer, limit=limit)
