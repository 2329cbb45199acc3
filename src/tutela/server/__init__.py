"""`tutela serve`: the REST API, a thin front over the same services the CLI calls."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    # FastAPI is an optional extra: importing tutela.server must not require it.
    if name == "create_app":
        from tutela.server.app import create_app

        return create_app
    raise AttributeError(name)
