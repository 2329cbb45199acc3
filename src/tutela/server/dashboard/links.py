"""URLs of dashboard pages, built in one place so templates and SVG agree."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["asset_url"]


def asset_url(asset_id: str) -> str:
    # Asset ids hold ':' and may hold '/' (org/model): both stay readable in the path.
    return "/ui/assets/" + quote(asset_id, safe=":/")
