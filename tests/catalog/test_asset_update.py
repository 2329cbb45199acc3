"""An asset's owner, risk tier, description and tags change after registration, each
real change one ledger entry, and governance reads the new values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tutela.catalog.assets import add_asset, add_version, get_asset, update_asset
from tutela.errors import InputError, UsageError
from tutela.facts.collect import collect_facts
from tutela.ledger.log import iter_entries
from tutela.store.models import RiskTier
from tutela.workspace import Workspace

DIGEST = "sha256:" + "cd" * 32
CliRunner = Callable[..., Any]  # tests/conftest.py's `cli` fixture


def _entries(ws: Workspace, action: str) -> list[dict[str, Any]]:
    with ws.reader() as session:
        found = [e.data() for e in iter_entries(session)]
    return [e for e in found if e["action"] == action]


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].startswith("error: ")
    return lines[0]


def test_tier_change_reaches_the_facts_a_gate_reads(workspace: Workspace) -> None:
    """After a tier change, the fact sheet a policy gate evaluates carries the new tier."""
    add_asset(workspace, "model:fraud", owner="ml-team", tags=["eu"])
    add_version(workspace, "model:fraud", DIGEST)
    before = collect_facts(workspace, "model:fraud").activation()["asset"]["risk_tier"]
    assert before == "unassessed"

    out = update_asset(workspace, "model:fraud", risk_tier="high", actor="alice")

    assert out.risk_tier is RiskTier.HIGH
    assert out.owner == "ml-team" and out.tags == ["eu"]  # fields not given stay as they were
    assert out.updated_at > out.created_at
    facts = collect_facts(workspace, "model:fraud").activation()
    assert facts["asset"]["risk_tier"] == "high"
    assert get_asset(workspace, "model:fraud").asset.risk_tier is RiskTier.HIGH


def test_each_change_is_one_ledger_entry_with_before_and_after(workspace: Workspace) -> None:
    """The entry names the actor and holds only the changed fields, before and after."""
    add_asset(workspace, "model:fraud", owner="ml-team", risk_tier="limited", tags=["eu", "pii"])
    update_asset(
        workspace,
        "model:fraud",
        owner="risk-office",
        risk_tier="high",
        description="scores card transactions",
        add_tags=["gdpr"],
        remove_tags=["pii"],
        actor="alice",
    )
    [entry] = _entries(workspace, "asset.update")
    assert entry["actor"] == "alice" and entry["subject"] == "model:fraud"
    assert entry["data"] == {
        "before": {
            "owner": "ml-team",
            "risk_tier": "limited",
            "description": None,
            "tags": ["eu", "pii"],
        },
        "after": {
            "owner": "risk-office",
            "risk_tier": "high",
            "description": "scores card transactions",
            "tags": ["eu", "gdpr"],
        },
    }
    # Only the field that moved is recorded the second time; '' clears the owner.
    update_asset(workspace, "model:fraud", owner="", risk_tier="high")
    second = _entries(workspace, "asset.update")[1]["data"]
    assert second == {"before": {"owner": "risk-office"}, "after": {"owner": None}}
    assert get_asset(workspace, "model:fraud").asset.owner is None
    assert workspace.verify().ok


def test_a_change_that_changes_nothing_records_nothing(workspace: Workspace) -> None:
    """Same values, a tag already present, a tag already absent: no entry, no new timestamp."""
    add_asset(workspace, "model:fraud", owner="ml-team", risk_tier="high", tags=["eu"])
    stored = get_asset(workspace, "model:fraud").asset
    out = update_asset(
        workspace,
        "model:fraud",
        owner="ml-team",
        risk_tier=RiskTier.HIGH,
        add_tags=["eu"],
        remove_tags=["never-there"],
    )
    assert out == stored
    assert update_asset(workspace, "model:fraud") == stored
    assert _entries(workspace, "asset.update") == []


def test_unknown_asset_and_bad_values_are_input_errors(workspace: Workspace) -> None:
    """Unknown asset, unknown tier (listing the tiers), bad tag: one-line errors, no entry."""
    with pytest.raises(InputError, match="no such asset"):
        update_asset(workspace, "model:ghost", owner="x")
    add_asset(workspace, "model:fraud")
    with pytest.raises(InputError) as bad_tier:
        update_asset(workspace, "model:fraud", risk_tier="extreme")
    line = bad_tier.value.diagnostics()
    assert "unknown risk tier" in line and "extreme" in line
    assert all(t.value in line for t in RiskTier) and "\n" not in line
    with pytest.raises(InputError, match="invalid tag"):
        update_asset(workspace, "model:fraud", add_tags=["has space"])
    with pytest.raises(UsageError, match="both added and removed"):
        update_asset(workspace, "model:fraud", add_tags=["a"], remove_tags=["a"])
    assert _entries(workspace, "asset.update") == []
    assert get_asset(workspace, "model:fraud").asset.risk_tier is RiskTier.UNASSESSED


@pytest.fixture
def ws_dir(tmp_path: Path, cli: CliRunner) -> Path:
    result = cli("init", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert cli("asset", "add", "model:m", "--tag", "eu", cwd=tmp_path).code == 0
    return tmp_path


def test_cli_bad_tier_is_one_line_and_exit_2(ws_dir: Path, cli: CliRunner) -> None:
    """`tutela asset set --risk-tier extreme` says which tiers exist, exit 2."""
    result = cli("asset", "set", "model:m", "--risk-tier", "extreme", cwd=ws_dir)
    assert result.code == 2
    line = _one_line_error(result.stderr)
    assert "unknown risk tier" in line and "prohibited, high, limited" in line


def test_cli_sets_fields_and_nothing_is_a_usage_error(ws_dir: Path, cli: CliRunner) -> None:
    """The real command changes owner, tier and tags; with no option it exits 2."""
    result = cli(
        "asset", "set", "model:m", "--owner", "risk", "--risk-tier", "high",
        "--tag", "gdpr", "--untag", "eu", "--json", cwd=ws_dir,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["owner"], out["risk_tier"], out["tags"]) == ("risk", "high", ["gdpr"])
    shown = json.loads(cli("asset", "show", "model:m", "--json", cwd=ws_dir).stdout)
    assert shown["asset"]["risk_tier"] == "high"
    plain = cli("asset", "set", "model:m", "--risk-tier", "limited", cwd=ws_dir)
    assert plain.code == 0 and "risk tier limited" in plain.stdout
    nothing = cli("asset", "set", "model:m", cwd=ws_dir)
    assert nothing.code == 2
    assert "nothing to change" in _one_line_error(nothing.stderr)
    missing = cli("asset", "set", "model:ghost", "--owner", "x", cwd=ws_dir)
    assert missing.code == 2 and "no such asset" in _one_line_error(missing.stderr)
