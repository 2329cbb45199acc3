"""Scans (tutela.scan.service.run_scan) of an uploaded artifact or a server-side path.

A path must lie inside the configured scan root after resolving symlinks; without a
root, path scans are refused. Uploads are written to a private temporary folder, capped
at the configured size, scanned (never loaded) and deleted.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field

from tutela.errors import InputError, LimitExceeded
from tutela.scan.service import run_scan
from tutela.server.auth import ENGINEER, ActingWorkspace, writer
from tutela.server.config import ServerConfig
from tutela.server.errors import Forbidden
from tutela.severity import Severity

router = APIRouter(tags=["scans"])

Writer = Annotated[ActingWorkspace, Depends(writer(ENGINEER))]
FailOn = Literal["critical", "high", "medium", "low", "info"]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")
_CHUNK = 1024 * 1024


class PathScanIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096, description="Inside the server's scan root")
    asset: str | None = Field(default=None, max_length=255, examples=["model:fraud-scorer"])
    fail_on: FailOn = "high"


def _config(request: Request) -> ServerConfig:
    config = request.app.state.config
    assert isinstance(config, ServerConfig)
    return config


def allowed_path(root: Path | None, given: str) -> Path:
    """``given`` resolved, if it lies inside ``root``; otherwise a 403 error."""
    if root is None:
        raise Forbidden(
            "scanning server paths is disabled",
            hint="upload the artifact, or start the server with TUTELA_SERVER_SCAN_ROOT",
        )
    root = root.resolve()
    candidate = Path(given)
    try:
        resolved = (candidate if candidate.is_absolute() else root / candidate).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # ValueError: a NUL byte in the path
        raise InputError("no such path under the scan root", subject=given[:200]) from None
    if not resolved.is_relative_to(root):
        raise Forbidden("the path is outside the server's scan root", subject=given)
    return resolved


@router.post("/scans/path", summary="Scan a file or folder under the server's scan root")
def scan_path(body: PathScanIn, ws: Writer, request: Request) -> dict[str, Any]:
    root = _config(request).scan_root
    target = allowed_path(root, body.path)
    outcome = run_scan(
        [target], workspace=ws, asset=body.asset, fail_on=Severity.parse(body.fail_on), base=root
    )
    return outcome.to_dict()


@router.post("/scans/upload", summary="Upload one artifact and scan it")
def scan_upload(
    ws: Writer,
    request: Request,
    file: Annotated[UploadFile, File(description="The artifact (never loaded, only parsed)")],
    asset: Annotated[str | None, Form(max_length=255)] = None,
    fail_on: Annotated[FailOn, Form()] = "high",
) -> dict[str, Any]:
    limit = _config(request).max_upload_bytes
    name = _SAFE_NAME.sub("_", Path(file.filename or "upload.bin").name).strip("._") or "upload"
    folder = Path(tempfile.mkdtemp(prefix="tutela-upload-"))
    try:
        target = folder / name[:200]
        written = 0
        with target.open("wb") as out:
            while chunk := file.file.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise LimitExceeded(
                        "the upload is too large", subject=name, expected=f"<= {limit} bytes"
                    )
                out.write(chunk)
        outcome = run_scan(
            [target], workspace=ws, asset=asset, fail_on=Severity.parse(fail_on), base=folder
        )
        return outcome.to_dict()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
