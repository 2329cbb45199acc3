"""Users and roles: validation, the admin rule, and the ledger."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tutela.catalog.users import (
    add_user,
    current_user,
    disable_user,
    get_user,
    list_users,
    set_roles,
)
from tutela.errors import InputError, UsageError
from tutela.workspace import Workspace


def test_team_is_registered_with_roles(team: Workspace) -> None:
    """Users come back with their roles, in name order, enabled."""
    users = {u.name: u for u in list_users(team)}
    assert list(users) == sorted(users)
    assert users["sam"].roles == ["engineer", "risk-officer"]
    assert all(u.is_enabled() for u in users.values())


def test_bad_names_and_roles_are_refused(team: Workspace) -> None:
    """Names are validated; roles must be known; at least one role."""
    with pytest.raises(InputError, match="not a user name"):
        add_user(team, "bad name", roles=["viewer"], actor="ada")
    with pytest.raises(InputError, match="unknown role"):
        add_user(team, "zed", roles=["superuser"], actor="ada")
    with pytest.raises(InputError, match="at least one role"):
        add_user(team, "zed", roles=[], actor="ada")
    with pytest.raises(UsageError, match="already exists"):
        add_user(team, "eve", roles=["viewer"], actor="ada")


def test_only_an_admin_manages_users_once_there_is_one(team: Workspace) -> None:
    """After the first admin, a non-admin cannot add users or grant themselves roles."""
    with pytest.raises(UsageError, match="only an admin"):
        add_user(team, "mallory", roles=["risk-officer"], actor="eve")
    with pytest.raises(UsageError, match="only an admin"):
        set_roles(team, "eve", roles=["engineer", "risk-officer"], actor="eve")
    assert get_user(team, "eve").roles == ["engineer"]


def test_roles_change_and_disable(
    team: Workspace, ledger_actions: Callable[[Workspace], list[str]]
) -> None:
    """An admin changes roles and disables users; each change is in the ledger."""
    assert set_roles(team, "eve", roles=["engineer", "admin"], actor="ada").roles == [
        "engineer",
        "admin",
    ]
    assert not disable_user(team, "vic", actor="ada").is_enabled()
    acts = ledger_actions(team)
    assert acts.count("user.add") == 5
    assert "user.roles" in acts and "user.disable" in acts


def test_last_admin_cannot_be_removed(team: Workspace) -> None:
    """The workspace always keeps an enabled admin."""
    with pytest.raises(UsageError, match="no admin left"):
        disable_user(team, "ada", actor="ada")
    with pytest.raises(UsageError, match="no admin left"):
        set_roles(team, "ada", roles=["viewer"], actor="ada")


def test_current_user_precedence(team: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """--as wins over TUTELA_USER, which wins over the OS user."""
    monkeypatch.setenv("TUTELA_USER", "rita")
    assert current_user(team, "sam") == "sam"
    assert current_user(team, None) == "rita"
    monkeypatch.delenv("TUTELA_USER")
    monkeypatch.setenv("TUTELA_ACTOR", "os-user@host")
    assert current_user(team, None) == "os-user@host"
