"""An in-process API over a real workspace (SQLite, and PostgreSQL when it answers).

``api`` is a Starlette TestClient (an httpx client driving the ASGI app in process)
with a user and a token per role: ``api.as_("viewer").get(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tutela.catalog.tokens import create_token
from tutela.catalog.users import add_user
from tutela.server.app import create_app
from tutela.server.config import ServerConfig
from tutela.workspace import Workspace

ROLE_USERS = {
    "admin": ["admin"],
    "engineer": ["engineer"],
    "officer": ["risk-officer"],
    "officer2": ["risk-officer"],
    "viewer": ["viewer"],
}


@dataclass
class Api:
    client: TestClient
    ws: Workspace
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, user: str | None, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), **(self.headers(user) if user else {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, user: str | None, url: str, **kwargs: Any) -> Any:
        return self.call(user, "GET", url, **kwargs)

    def post(self, user: str | None, url: str, **kwargs: Any) -> Any:
        return self.call(user, "POST", url, **kwargs)


def add_role_users(ws: Workspace) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for name, roles in ROLE_USERS.items():
        add_user(ws, name, roles=roles, actor="admin")
        tokens[name], _ = create_token(ws, name, label="test", actor="admin")
    return tokens


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    scan_root = tmp_path / "scan-root"
    targets = tmp_path / "targets"
    scan_root.mkdir()
    targets.mkdir()
    return ServerConfig(scan_root=scan_root, targets_dir=targets, max_upload_bytes=4 * 1024 * 1024)


@pytest.fixture
def api(workspace: Workspace, server_config: ServerConfig) -> Iterator[Api]:
    tokens = add_role_users(workspace)
    app = create_app(workspace, server_config)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, workspace, tokens)
