"""Opening a workspace upgrades an older schema in place and keeps what it held."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from tutela.catalog.assets import add_asset, list_assets
from tutela.store.db import Database
from tutela.workspace import Workspace


def _config(conn: object) -> Config:
    config = Config()
    config.set_main_option("script_location", "tutela.store:migrations")
    config.attributes["connection"] = conn
    return config


def test_upgrade_from_first_revision_keeps_data(tmp_path: Path, db_url: str | None) -> None:
    """A store at revision 0001 with assets and ledger entries opens at head, intact."""
    with Workspace.init(tmp_path, database_url=db_url) as ws:
        add_asset(ws, "model:kept", owner="ml")
        url = ws.settings.effective_url(ws.layout)
    db = Database(url)
    with db.writer.begin() as conn:
        command.downgrade(_config(conn), "0001")
        tables = set(
            conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if db.dialect == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ).scalars()
        )
    db.dispose()
    assert "suppressions" not in tables
    assert "users" not in tables and "approval_requests" not in tables
    with Workspace.open(tmp_path) as ws:
        assert [a.id for a in list_assets(ws)] == ["model:kept"]
        with ws.db.writer.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert head == "0003"
        assert ws.verify().ok
