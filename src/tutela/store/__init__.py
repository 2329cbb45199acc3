"""Persistence: typed models, engines and migrations (SQLite by default, PostgreSQL by URL)."""

from tutela.store.db import Database, normalise_url, sqlite_url

__all__ = ["Database", "normalise_url", "sqlite_url"]
