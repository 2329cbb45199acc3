"""The dashboard's own static files, served from the package (never from a CDN)."""

# No `from __future__ import annotations`: FastAPI must resolve the routes' annotations.

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from tutela.server.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/ui/static", include_in_schema=False)

# Only these names are served: no path from a request ever reaches the file system.
_FILES = {"dashboard.css": "text/css; charset=utf-8"}


@router.get("/{name}")
def static(name: str) -> Response:
    media = _FILES.get(name)
    if media is None:
        raise NotFound("no such static file", subject=name)
    body = files("tutela.server.dashboard").joinpath("static", name).read_bytes()
    return Response(body, media_type=media, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})  # fmt: skip
