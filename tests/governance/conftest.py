"""Fixtures for governance tests: a small team, a high-risk model with a version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.users import add_user
from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace

MODEL = "model:fraud-scorer"
DIGEST = "sha256:" + "ab" * 32

Seed = Callable[[Workspace], None]


def _seed(ws: Workspace) -> None:
    add_user(ws, "ada", roles=["admin"], actor="ada")  # the first admin bootstraps
    add_user(ws, "eve", roles=["engineer"], actor="ada")
    add_user(ws, "rita", roles=["risk-officer"], actor="ada")
    add_user(ws, "sam", roles=["engineer", "risk-officer"], actor="ada")
    add_user(ws, "vic", roles=["viewer"], actor="ada")
    add_asset(ws, MODEL, owner="fraud-team", risk_tier="high", actor="eve")
    add_version(ws, MODEL, DIGEST, actor="eve")


@pytest.fixture
def seed() -> Seed:
    """``seed(ws)`` registers the team and the model in ``ws``."""
    return _seed


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Workspace]:
    """A SQLite workspace with the team and the model."""
    ws = Workspace.init(tmp_path)
    try:
        _seed(ws)
        yield ws
    finally:
        ws.close()


def actions(ws: Workspace) -> list[str]:
    """Every ledger action, in order."""
    with ws.reader() as session:
        return [e.data()["action"] for e in iter_entries(session)]


@pytest.fixture
def ledger_actions() -> Callable[[Workspace], list[str]]:
    return actions
