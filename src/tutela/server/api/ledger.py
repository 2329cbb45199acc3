"""Ledger verification, inclusion proofs and bundle export (Workspace methods)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from tutela.server.auth import reader
from tutela.workspace import Workspace

router = APIRouter(tags=["ledger"])

Reader = Annotated[Workspace, Depends(reader)]


@router.get("/ledger/verify", summary="Verify the whole ledger (chain, Merkle root, signatures)")
def verify(ws: Reader) -> dict[str, Any]:
    report = ws.verify()
    return {**report.to_dict(), "summary": report.summary()}


@router.get("/ledger/proof/{seq}", summary="Inclusion proof of one ledger entry")
def proof(ws: Reader, seq: Annotated[int, PathParam(ge=1, le=2**62)]) -> dict[str, Any]:
    return ws.prove(seq)


@router.get(
    "/ledger/export",
    summary="Export the ledger as a verifiable bundle (JSON lines)",
    response_class=FileResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(ws: Reader) -> FileResponse:
    # Exporting signs a checkpoint first, so the bundle is fully covered by a signature.
    folder = Path(tempfile.mkdtemp(prefix="tutela-export-"))
    path = folder / "ledger.bundle.jsonl"
    ws.export(path)

    def cleanup() -> None:
        path.unlink(missing_ok=True)
        folder.rmdir()

    return FileResponse(
        path,
        media_type="application/x-ndjson",
        filename="ledger.bundle.jsonl",
        background=BackgroundTask(cleanup),
    )
