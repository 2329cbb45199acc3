"""`init` lays out a working workspace, and opening it migrates and finds it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tutela.config import find_workspace
from tutela.workspace import Workspace


def test_layout_and_modes(tmp_path: Path) -> None:
    """init writes config, a WAL-mode SQLite database and a 0600 Ed25519 key."""
    with Workspace.init(tmp_path) as ws:
        layout = ws.layout
        assert layout.dir == tmp_path / ".tutela"
        assert stat.S_IMODE(layout.signing_key.stat().st_mode) == 0o600
        assert layout.public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
        with ws.db.writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert ws.settings.key_id == ws.signing_key().public.key_id
    assert not any(p.name.startswith(".tutela.init-") for p in tmp_path.iterdir())


def test_schema_is_at_head(workspace: Workspace) -> None:
    """Alembic migrations are applied on open, on both databases."""
    config = Config()
    config.set_main_option("script_location", "tutela.store:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    with workspace.db.writer.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_find_walks_up(tmp_path: Path) -> None:
    """The workspace is found from any directory below it, and from .tutela itself."""
    Workspace.init(tmp_path).close()
    deep = tmp_path / "x" / "y"
    deep.mkdir(parents=True)
    assert find_workspace(deep).dir == tmp_path / ".tutela"
    assert find_workspace(tmp_path / ".tutela").dir == tmp_path / ".tutela"


def test_first_entry_names_the_key(workspace: Workspace) -> None:
    """The first ledger entry records the workspace id and its public key."""
    with workspace.reader() as session:
        from tutela.ledger.log import iter_entries

        first = next(iter_entries(session)).data()
    assert first["action"] == "workspace.init"
    assert first["data"]["key_id"] == workspace.settings.key_id
    assert json.dumps(first["data"]["public_key"]).count("PUBLIC KEY") == 2


def test_init_refuses_a_database_that_has_a_ledger(pg_url: str, tmp_path: Path) -> None:
    """Two workspaces cannot share one ledger (their keys would clash)."""
    import pytest

    from tutela.errors import WorkspaceError

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Workspace.init(tmp_path / "a", database_url=pg_url).close()
    with pytest.raises(WorkspaceError, match="already holds a Tutela ledger"):
        Workspace.init(tmp_path / "b", database_url=pg_url)
    assert not (tmp_path / "b" / ".tutela").exists()
