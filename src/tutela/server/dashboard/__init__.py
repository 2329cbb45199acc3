"""The dashboard: server-rendered pages under /ui over the same services as the API.

``router`` is what the app factory includes (tutela.server.app). Pages need a login
(an API token, kept in an HttpOnly cookie); forms carry CSRF tokens; charts and the
lineage graph are inline SVG drawn on the server, so nothing loads from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter

from tutela.server.dashboard import actions, pages, static_files

__all__ = ["router"]

router = APIRouter()
router.include_router(actions.router)
router.include_router(static_files.router)
router.include_router(pages.router)
