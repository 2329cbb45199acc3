"""The lineage graph (tutela.lineage.graph) and OpenLineage RunEvent ingest."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query

from tutela.errors import InputError
from tutela.lineage import graph
from tutela.lineage.openlineage import IngestSummary, ingest_events
from tutela.server.auth import ENGINEER, ActingWorkspace, reader, writer
from tutela.workspace import Workspace

router = APIRouter(tags=["lineage"])

MAX_EVENTS = 10_000


@router.get("/lineage/graph", summary="Upstream or downstream lineage of ASSET[@VERSION]")
def lineage_graph(
    ws: Annotated[Workspace, Depends(reader)],
    ref: Annotated[str, Query(min_length=1, max_length=400, examples=["model:fraud-scorer"])],
    direction: Literal["upstream", "downstream"] = "upstream",
    max_depth: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> graph.LineageGraph:
    walk = graph.upstream if direction == "upstream" else graph.downstream
    return walk(ws, ref, max_depth=max_depth)


@router.post("/lineage", summary="Ingest OpenLineage RunEvents (one event or an array)")
def ingest_openlineage(
    ws: Annotated[ActingWorkspace, Depends(writer(ENGINEER))],
    events: Annotated[dict[str, Any] | list[dict[str, Any]], Body()],
) -> IngestSummary:
    batch = events if isinstance(events, list) else [events]
    if not batch:
        raise InputError("no RunEvents given", expected="one RunEvent or a non-empty array")
    if len(batch) > MAX_EVENTS:
        raise InputError("too many RunEvents in one request", expected=f"<= {MAX_EVENTS}")
    return ingest_events(ws, [(f"body[{i}]", ev) for i, ev in enumerate(batch)], actor=ws.actor)
