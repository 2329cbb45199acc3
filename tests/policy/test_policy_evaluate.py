"""Evaluation semantics: composition, tiers and stages, fail-closed, errors and waivers.

Facts here are given directly (a small fact sheet) so each rule of the semantics is shown
in isolation; test_policy_gate.py shows the same on real evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tutela.facts.collect import fact_catalogue
from tutela.facts.interface import Fact, FactSpec
from tutela.policy.evaluate import evaluate_policy
from tutela.policy.loader import Policy, load_policy
from tutela.workspace import Workspace


@dataclass
class Sheet:
    facts: dict[str, Fact]
    errors: dict[str, str] = field(default_factory=dict)

    def activation(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, fact in self.facts.items():
            namespace, _, rest = name.partition(".")
            out.setdefault(namespace, {})[rest] = fact.value
        return out


@dataclass(frozen=True)
class Waiver:
    id: str
    target: str
    asset_id: str | None
    justification: str = "accepted by the risk board"
    created_by: str = "rita"
    approved_by: str | None = "rita"
    expires_at: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(days=5))


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FactSpec]:
    ws = Workspace.init(tmp_path_factory.mktemp("catalogue"))
    try:
        return fact_catalogue(ws)
    finally:
        ws.close()


@pytest.fixture
def policy(tmp_path: Path, catalogue: dict[str, FactSpec]) -> Any:
    def load(text: str) -> Policy:
        path = tmp_path / "p.yaml"
        path.write_text(text)
        return load_policy(path, catalogue)

    return load


COMPOSED = """\
rules:
  - id: composed
    message: scanned and clean, or waived findings only
    any_of:
      - all_of:
          - scan.scanned
          - name: nothing open
            expr: scan.open_findings == 0
      - name: every finding waived
        message: findings remain open
        expr: scan.waived_findings > 0 && scan.open_findings == 0
"""


def _sheet(**values: Any) -> Sheet:
    return Sheet({k.replace("__", "."): Fact(v, (f"ev-{k}",)) for k, v in values.items()})


def test_any_of_all_of(policy: Any) -> None:
    p = policy(COMPOSED)
    ok = evaluate_policy(
        p,
        _sheet(scan__scanned=True, scan__open_findings=0, scan__waived_findings=0),
        tier="high",
        stage="prod",
    )
    assert ok.passed and ok.results[0].outcome == "pass"
    bad = evaluate_policy(
        p,
        _sheet(scan__scanned=True, scan__open_findings=2, scan__waived_findings=0),
        tier="high",
        stage="prod",
    )
    (result,) = bad.results
    assert result.outcome == "fail" and not bad.passed
    assert result.reasons == (
        "not met: nothing open (scan.open_findings = 2)",
        "findings remain open (scan.open_findings = 2, scan.waived_findings = 0)",
    )
    assert {f.name for f in result.facts} == {
        "scan.scanned",
        "scan.open_findings",
        "scan.waived_findings",
    }
    assert result.evidence == [
        "ev-scan__open_findings",
        "ev-scan__scanned",
        "ev-scan__waived_findings",
    ]


def test_missing_fact_fails_and_error_blocks(policy: Any) -> None:
    """A missing fact is a fail with its reason; an expression that errs is an error; both
    block the gate, and an undecided any_of branch does not hide a true one."""
    p = policy(
        "rules:\n  - id: a\n    message: m\n    expr: arena.asr.prompt_injection <= 0.05\n"
        "  - id: b\n    message: m\n    expr: scan.open_findings / scan.waived_findings == 0\n"
        "  - id: c\n    message: m\n    any_of: [arena.asr.jailbreak < 0.1, scan.scanned]\n"
    )
    sheet = _sheet(
        arena__asr={}, scan__open_findings=1, scan__waived_findings=0, scan__scanned=True
    )
    sheet.errors["arena"] = "database is locked"
    out = evaluate_policy(p, sheet, tier="high", stage="prod")
    a, b, c = out.results
    assert a.outcome == "fail"
    assert a.reasons == (
        "fact arena.asr.prompt_injection is missing (no evidence); the arena "
        "facts could not be collected: database is locked",
    )
    assert b.outcome == "error" and "divide by zero" in b.reasons[0]
    assert c.outcome == "pass"
    assert out.failed_rules == ["a", "b"] and not out.passed


def test_tiers_and_stages(policy: Any) -> None:
    p = policy(
        "rules:\n  - id: prod-high\n    message: m\n"
        "    applies_to: {tiers: [high], stages: [prod]}\n    expr: scan.scanned\n"
        "  - id: anywhere\n    message: m\n    expr: scan.scanned\n"
    )
    sheet = _sheet(scan__scanned=False)
    high_prod = evaluate_policy(p, sheet, tier="high", stage="prod")
    assert [r.outcome for r in high_prod.results] == ["fail", "fail"]
    minimal = evaluate_policy(p, sheet, tier="minimal", stage="prod")
    assert [r.outcome for r in minimal.results] == ["not-applicable", "fail"]
    assert "applies to tiers high" in minimal.results[0].reasons[0]
    staging = evaluate_policy(p, sheet, tier="high", stage="staging")
    assert staging.results[0].outcome == "not-applicable"
    assert "applies at stages prod" in staging.results[0].reasons[0]
    no_stage = evaluate_policy(p, sheet, tier="high", stage=None)
    assert no_stage.results[0].outcome == "not-applicable"


def test_fail_closed(policy: Any) -> None:
    empty = evaluate_policy(policy("rules: []\n"), _sheet(), tier="high", stage="prod")
    assert not empty.passed and "empty policy fails closed" in empty.reasons[0]
    only_prod = policy(
        "rules:\n  - id: a\n    message: m\n    applies_to: {stages: [prod]}\n"
        "    expr: scan.scanned\n"
    )
    dev = evaluate_policy(only_prod, _sheet(scan__scanned=True), tier="high", stage="dev")
    assert not dev.passed
    assert dev.reasons == (
        "no rule of the policy applies to risk tier 'high' at stage 'dev'; the gate fails closed",
    )


def test_waivers_match_rule_and_asset(policy: Any) -> None:
    """A waiver for this asset or for every asset waives; one for another asset does not."""
    p = policy("rules:\n  - id: scan.clean\n    message: m\n    expr: scan.open_findings == 0\n")
    sheet = _sheet(scan__open_findings=3)
    other = Waiver("w-other", "scan.clean", "model:other")
    mine = Waiver("w-mine", "scan.clean", "model:mine")
    everyone = Waiver("w-all", "scan.clean", None)
    wrong_rule = Waiver("w-rule", "scan.other", None)
    assert not evaluate_policy(
        p, sheet, tier="high", stage="prod", waivers=[other, wrong_rule], asset_id="model:mine"
    ).passed
    for waiver in (mine, everyone):
        out = evaluate_policy(
            p, sheet, tier="high", stage="prod", waivers=[other, waiver], asset_id="model:mine"
        )
        (result,) = out.results
        assert out.passed and result.outcome == "waived"
        assert result.waiver is not None and result.waiver["id"] == waiver.id
        assert result.waiver["would_be"] == "fail"
        assert result.waiver["expires_at"] == waiver.expires_at.isoformat()
        assert result.reasons  # the waived failure still says what failed


def test_stale_facts_are_reported(policy: Any) -> None:
    p = policy("rules:\n  - id: a\n    message: m\n    expr: arena.evaluated\n")
    sheet = Sheet({"arena.evaluated": Fact(False, ("ev-1",), stale=True, note="older version")})
    (result,) = evaluate_policy(p, sheet, tier="high", stage="prod").results
    (fact,) = result.facts
    assert fact.stale and fact.note == "older version" and fact.evidence == ("ev-1",)
    assert result.to_json()["facts"][0]["stale"] is True
