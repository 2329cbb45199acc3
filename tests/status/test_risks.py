"""The risk register: failing rules, unresolved findings and lapsed waivers, with owner and
age, on real scan evidence and the shipped default policy."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from tutela.catalog.assets import add_asset
from tutela.catalog.waivers import add_waiver
from tutela.policy.gate import run_gate
from tutela.policy.risks import risk_register
from tutela.scan.service import run_scan
from tutela.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))
from policy_support import SCAN_ONLY, evil_pickle

CliRunner = Callable[..., Any]


def _scanned_evil(ws: Workspace, tmp_path: Path) -> Path:
    marker = tmp_path / "MARKER"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(evil_pickle(marker))
    add_asset(ws, "model:risky", owner="fraud-team")
    run_scan([evil], workspace=ws, asset="model:risky", workers=0)
    assert not marker.exists()
    return evil


def test_failing_rules_and_findings_with_owner(workspace: Workspace, tmp_path: Path) -> None:
    _scanned_evil(workspace, tmp_path)
    policy = tmp_path / "tutela.policy.yaml"
    policy.write_text(files("tutela.policy").joinpath("default_policy.yaml").read_text("utf-8"))
    risks = risk_register(workspace, stage="prod", policy_path=policy)
    kinds = {(r.kind, r.key) for r in risks}
    assert ("policy_rule", "scan.no-high-findings") in kinds or any(
        r.kind == "policy_rule" and "scan" in r.key for r in risks
    )
    finding = next(r for r in risks if r.kind == "finding")
    assert finding.severity == "critical"
    assert finding.owner == "fraud-team"
    assert finding.evidence  # the scan evidence it came from
    assert all(r.asset_id == "model:risky" for r in risks)
    # Risks age: a week later the same finding is seven days older.
    later = risk_register(
        workspace, stage="prod", policy_path=policy, at=datetime.now(UTC) + timedelta(days=7)
    )
    aged = next(r for r in later if r.kind == "finding")
    assert 6.9 < aged.age_days - finding.age_days < 7.1


def test_failing_rule_age_counts_from_first_failing_gate(
    workspace: Workspace, tmp_path: Path
) -> None:
    _scanned_evil(workspace, tmp_path)
    policy = tmp_path / "scan-only.yaml"
    policy.write_text(SCAN_ONLY)
    first = run_gate(workspace, "model:risky", stage="prod", policy_path=policy)
    assert not first.passed
    at = datetime.now(UTC) + timedelta(days=3)
    rule = next(
        r for r in risk_register(workspace, policy_path=policy, at=at) if r.kind == "policy_rule"
    )
    assert rule.key == "scan.no-high-findings"
    assert abs(rule.age_days - 3.0) < 0.01
    assert rule.since == first.at or abs((rule.since - first.at).total_seconds()) < 1


def test_a_lapsed_waiver_is_a_risk_until_renewed(workspace: Workspace, tmp_path: Path) -> None:
    _scanned_evil(workspace, tmp_path)
    policy = tmp_path / "scan-only.yaml"
    policy.write_text(SCAN_ONLY)
    expires = datetime.now(UTC) + timedelta(days=10)
    add_waiver(
        workspace,
        scope="rule",
        target="scan.no-high-findings",
        justification="legacy model, replacement due in Q1",
        expires=expires,
        asset_id="model:risky",
        created_by="rita",
    )
    now = risk_register(workspace, policy_path=policy)
    assert not [r for r in now if r.kind in ("policy_rule", "lapsed_waiver")]
    later = risk_register(workspace, policy_path=policy, at=expires + timedelta(days=2))
    lapsed = [r for r in later if r.kind == "lapsed_waiver"]
    assert len(lapsed) == 1 and "legacy model" in lapsed[0].title
    assert abs(lapsed[0].age_days - 2.0) < 0.01
    assert any(r.kind == "policy_rule" for r in later)


def test_risk_list_cli(workspace: Workspace, tmp_path: Path, cli: CliRunner) -> None:
    _scanned_evil(workspace, tmp_path)
    (tmp_path / "tutela.policy.yaml").write_text(SCAN_ONLY)
    result = cli("risk", "list", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["kind"] for r in rows} == {"policy_rule", "finding"}
    result = cli("risk", "list", cwd=tmp_path)
    assert result.code == 0 and "model:risky" in result.stdout
