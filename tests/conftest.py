"""Shared fixtures: a workspace on each real database, and a CLI runner.

PostgreSQL tests use the server on 127.0.0.1:5432 (user postgres, trust auth, database
test), each test in a fresh schema selected through libpq's ``options``. Without a
server they skip with the reason, unless TUTELA_REQUIRE_POSTGRES=1 makes that a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutela.workspace import Workspace

PG_DSN = os.environ.get("TUTELA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_unavailable_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {PG_DSN} is not answering: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def pg_available() -> None:
    reason = _pg_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("TUTELA_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"TUTELA_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url(pg_available: None) -> Iterator[str]:
    """A SQLAlchemy URL whose search_path is a brand-new schema, dropped afterwards."""
    import psycopg

    schema = f"tutela_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_DSN}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None selects the embedded SQLite database; otherwise a PostgreSQL URL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def workspace(tmp_path: Path, db_url: str | None) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path, database_url=db_url)
    try:
        yield ws
    finally:
        ws.close()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run the real `tutela` console entry point in a child process."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("TUTELA_WORKSPACE", None)
    if env and "TUTELA_WORKSPACE" in env:
        full_env["TUTELA_WORKSPACE"] = env["TUTELA_WORKSPACE"]
    proc = subprocess.run(
        [sys.executable, "-m", "tutela", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


CliRunner = Callable[..., Result]


@pytest.fixture
def cli() -> CliRunner:
    """``cli(*args, cwd=..., env=...)`` runs tutela in a child process."""
    return run_cli
