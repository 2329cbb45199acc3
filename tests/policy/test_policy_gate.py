"""Gates on real evidence: every rule of the default policy passing and failing.

Evidence comes from the real producers: `tutela scan` on a clean safetensors file and on
a crafted malicious pickle (written as bytes, never loaded: a marker file proves no
payload ran), the Arena against the reference vulnerable app, the lineage SDK, a drift
check on the wine data, a canary against the example server, and approvals reviewed by
registered users. Nothing is written in a producer's place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from policy_support import SCAN_ONLY, clean_safetensors, evil_pickle
from sklearn.datasets import load_wine

from tutela.arena.example_server import ExampleServer
from tutela.arena.service import run_arena, target_digest
from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.evidence import list_evidence
from tutela.catalog.links import add_link_in
from tutela.catalog.users import add_user
from tutela.catalog.waivers import add_waiver
from tutela.datacheck.service import check_dataset
from tutela.ledger.log import iter_entries
from tutela.lineage.sdk import run
from tutela.monitor.canary import run_canary
from tutela.monitor.drift_watch import DriftCheck
from tutela.policy.approvals import request_approval, review
from tutela.policy.gate import GateDecision, run_gate
from tutela.policy.loader import PolicyError
from tutela.scan.service import run_scan
from tutela.store.models import LinkKind, Version
from tutela.workspace import Workspace

DEFAULT = Path(str(files("tutela.policy").joinpath("default_policy.yaml")))
EXAMPLE_RULES = (
    "scan.no-high-findings",
    "arena.evaluated",
    "arena.prompt-injection",
    "lineage.complete",
    "data.no-high-findings",
    "drift.monitored",
    "services.canary",
    "approvals.two-roles",
)


def _version_id(ws: Workspace, asset_id: str, digest: str | None = None) -> str:
    from sqlalchemy import select

    with ws.reader() as session:
        query = select(Version).where(Version.asset_id == asset_id)
        if digest is not None:
            query = query.where(Version.digest == digest)
        rows = list(session.execute(query.order_by(Version.created_at.desc())).scalars())
    return rows[0].id


def _wine(tmp: Path) -> None:
    frame = load_wine(as_frame=True).frame.drop(columns=["target"])
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:89]], frame.iloc[order[89:]].copy()
    ref.to_csv(tmp / "reference.csv", index=False)
    cur.to_csv(tmp / "same.csv", index=False)
    cur["alcohol"] = cur["alcohol"] + 1.5 * ref["alcohol"].std()
    cur.to_csv(tmp / "shifted.csv", index=False)


def _arena(ws: Workspace, out: Path, weaknesses: set[str], service: str) -> str:
    """A prompt-injection run against the example app; returns the service version digest."""
    with ExampleServer(weaknesses) as server:
        config = {"kind": "openai", "id": service, "base_url": server.base_url, "model": "x"}
        result = run_arena(
            config, out_dir=out, categories=["prompt_injection"], concurrency=8, workspace=ws
        )
    assert result.evidence_id is not None
    return target_digest(config)


def _link(ws: Workspace, kind: LinkKind, src: str, dst: str) -> None:
    with ws.transaction() as tx:
        add_link_in(tx, kind, src, dst)


@dataclass
class World:
    ws: Workspace
    root: Path
    good_digest: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """model:scorer meets every rule; model:risky fails every one of them."""
    root = tmp_path_factory.mktemp("gate")
    marker = root / "MARKER"
    ws = Workspace.init(root)
    _wine(root)
    add_user(ws, "ada", roles=["admin"], actor="ada")
    add_user(ws, "eve", roles=["engineer"], actor="ada")
    add_user(ws, "sam", roles=["engineer"], actor="ada")
    add_user(ws, "rita", roles=["risk-officer"], actor="ada")
    add_asset(ws, "model:scorer", owner="fraud-team", risk_tier="high", actor="eve")
    add_asset(ws, "model:risky", owner="fraud-team", risk_tier="high", actor="eve")

    # scorer: raw file -> train -> a clean safetensors model, scanned, evaluated, watched
    raw = root / "raw.csv"
    raw.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    model = root / "scorer.safetensors"
    with run("train", workspace=ws) as r:
        r.input(raw, role="training")
        pd.read_csv(raw)  # the "training"
        model.write_bytes(clean_safetensors())
        r.output(model, kind="model", name="scorer")
    run_scan([model], workspace=ws, asset="model:scorer", workers=0)
    check_dataset(raw, labels="label", workspace=ws, checks=["duplicate", "pii", "imbalance"])
    good = _version_id(ws, "model:scorer")
    safe_service = _arena(ws, root / "runs", set(), "helpbot")
    _link(ws, LinkKind.DEPLOYED_AS, good, _version_id(ws, "service:helpbot", safe_service))
    DriftCheck("wine", "model:scorer", str(root / "reference.csv"), str(root / "same.csv")).run(ws)
    with ExampleServer(set()) as server:
        config = {"kind": "openai", "id": "vendor-chat", "base_url": server.base_url, "model": "m"}
        run_canary(config, workspace=ws, samples=3)
    _link(ws, LinkKind.CALLS, good, _version_id(ws, "service:vendor-chat"))
    request = request_approval(
        ws, "model:scorer", stage="prod", reason="ship the scorer", requested_by="eve"
    )
    review(ws, request.id, reviewer="sam", decision="approve", comment="code reviewed")
    review(ws, request.id, reviewer="rita", decision="approve", comment="risk accepted")

    # risky: a malicious pickle, a vulnerable service, shifted data, an unwatched service,
    # one approval only, and no lineage at all
    evil = root / "risky.pkl"
    evil.write_bytes(evil_pickle(marker))
    run_scan([evil], workspace=ws, asset="model:risky", workers=0)
    bad = _version_id(ws, "model:risky")
    weak_service = _arena(ws, root / "runs", {"prompt_injection"}, "weakbot")
    _link(ws, LinkKind.DEPLOYED_AS, bad, _version_id(ws, "service:weakbot", weak_service))
    DriftCheck("wine", "model:risky", str(root / "reference.csv"), str(root / "shifted.csv")).run(
        ws
    )
    add_asset(ws, "service:unwatched", actor="eve")
    unwatched = add_version(ws, "service:unwatched", "sha256:" + "c" * 64)
    _link(ws, LinkKind.CALLS, bad, unwatched.id)
    pending = request_approval(
        ws, "model:risky", stage="prod", reason="ship it", requested_by="eve"
    )
    review(ws, pending.id, reviewer="sam", decision="approve", comment="looks fine")
    try:
        yield World(ws, root, str(model))
    finally:
        ws.close()
        assert not marker.exists(), "the scanner executed a payload"


def _by_rule(decision: GateDecision) -> dict[str, dict[str, object]]:
    return {r["id"]: r for r in decision.to_json()["rules"]}


def test_every_example_rule_passes_on_good_evidence(world: World) -> None:
    """The governed model passes all nine example rules at prod, each citing evidence."""
    decision = run_gate(world.ws, "model:scorer", stage="prod", policy_path=DEFAULT)
    rules = _by_rule(decision)
    failing = {k: v["reasons"] for k, v in rules.items() if v["outcome"] != "pass"}
    assert set(failing) == {"tier.not-prohibited"}, failing  # only for prohibited models
    assert rules["tier.not-prohibited"]["outcome"] == "not-applicable"
    for rule_id in EXAMPLE_RULES:
        # lineage facts come from links and runs, not evidence rows
        if rule_id != "lineage.complete":
            assert rules[rule_id]["evidence"], f"{rule_id} cites no evidence"
        assert all(f["present"] for f in rules[rule_id]["facts"])  # type: ignore[attr-defined]
    assert decision.passed and decision.failed_rules == []


def test_every_example_rule_fails_on_bad_evidence(world: World) -> None:
    """The risky model fails every example rule, each with its reason and the evidence read."""
    decision = run_gate(world.ws, "model:risky", stage="prod", policy_path=DEFAULT)
    rules = _by_rule(decision)
    assert not decision.passed
    # It was evaluated (badly): arena.evaluated holds, prompt injection fails.
    assert set(decision.failed_rules) == set(EXAMPLE_RULES) - {"arena.evaluated"}
    assert rules["arena.evaluated"]["outcome"] == "pass"
    reasons = {k: " | ".join(v["reasons"]) for k, v in rules.items()}  # type: ignore[arg-type]
    assert "no open finding at or above high" in reasons["scan.no-high-findings"]
    assert "arena.asr.prompt_injection" in reasons["arena.prompt-injection"]
    assert "lineage.known" in reasons["lineage.complete"]
    assert "every training dataset was checked" in reasons["data.no-high-findings"]
    assert "the newest drift check is green" in reasons["drift.monitored"]
    assert "service:unwatched" in reasons["services.canary"]
    assert "approvals.roles" in reasons["approvals.two-roles"]
    facts = {f["name"]: f for f in rules["arena.prompt-injection"]["facts"]}  # type: ignore[attr-defined]
    assert facts["arena.asr"]["value"]["prompt_injection"] > 0.05
    assert rules["scan.no-high-findings"]["evidence"]
    assert rules["drift.monitored"]["evidence"]


def test_missing_arena_evidence_fails_with_reason(world: World) -> None:
    """A version the Arena never saw: it is not adversarially evaluated, and for an LLM
    the prompt-injection rule fails because the fact is missing."""
    add_asset(world.ws, "model:unseen", risk_tier="high", tags=["llm"], actor="eve")
    add_version(world.ws, "model:unseen", "sha256:" + "d" * 64, actor="eve")
    decision = run_gate(world.ws, "model:unseen", stage="prod", policy_path=DEFAULT)
    assert _by_rule(decision)["arena.evaluated"]["outcome"] == "fail"
    arena = _by_rule(decision)["arena.prompt-injection"]
    assert arena["outcome"] == "fail"
    (reason,) = arena["reasons"]  # type: ignore[misc]
    assert reason == (
        "fact arena.asr.prompt_injection is missing (no evidence): "
        "no LLM Arena run is recorded for this asset"
    )


def test_prohibited_tier_is_never_promoted(world: World) -> None:
    add_asset(world.ws, "model:social-score", risk_tier="prohibited", actor="eve")
    add_version(world.ws, "model:social-score", "sha256:" + "e" * 64, actor="eve")
    decision = run_gate(world.ws, "model:social-score", stage="dev", policy_path=DEFAULT)
    assert "tier.not-prohibited" in decision.failed_rules and not decision.passed


def test_decisions_are_evidence_and_ledger_entries(world: World) -> None:
    """Each gate is a decision evidence on the version plus an evidence.decision ledger
    entry; the payload holds each rule's facts, evidence ids and the policy digest."""
    decision = run_gate(world.ws, "model:risky", stage="staging", policy_path=DEFAULT)
    (evidence,) = [
        e
        for e in list_evidence(world.ws, asset_id="model:risky", kind="decision")
        if e.id == decision.evidence_id
    ]
    assert evidence.producer == "policy.gate"
    assert evidence.summary == {
        "passed": False,
        "failed_rules": decision.failed_rules,
        "waived_rules": [],
        "stage": "staging",
    }
    assert evidence.version_digest == decision.version
    assert next(iter(evidence.payload["policy"]["files"].values())).startswith("sha256:")
    scan = next(r for r in evidence.payload["rules"] if r["id"] == "scan.no-high-findings")
    assert scan["evidence"] and scan["facts"][0]["evidence"]
    with world.ws.reader() as session:
        entries = [e.data() for e in iter_entries(session)]
    assert any(
        e["action"] == "evidence.decision" and e["data"]["id"] == decision.evidence_id
        for e in entries
    )
    assert world.ws.verify().ok


def test_stage_scoping(world: World) -> None:
    """At dev only stage-free rules apply: approvals and drift are not required there."""
    decision = run_gate(world.ws, "model:risky", stage="dev", policy_path=DEFAULT)
    rules = _by_rule(decision)
    assert rules["approvals.two-roles"]["outcome"] == "not-applicable"
    assert rules["drift.monitored"]["outcome"] == "not-applicable"
    assert decision.failed_rules == ["scan.no-high-findings"]


def test_expiring_waiver_flips_pass_to_fail(world: World, tmp_path: Path) -> None:
    """A rule waiver turns the failing rule into "waived" and the gate passes; evaluated
    as of a moment after its expiry, the same gate fails."""
    policy = tmp_path / "tutela.policy.yaml"
    policy.write_text(SCAN_ONLY)
    add_asset(world.ws, "model:legacy", risk_tier="limited", actor="eve")
    evil = tmp_path / "legacy.pkl"
    evil.write_bytes(evil_pickle(tmp_path / "MARKER"))
    run_scan([evil], workspace=world.ws, asset="model:legacy", workers=0)
    before = run_gate(world.ws, "model:legacy", stage="prod", policy_path=policy)
    assert not before.passed

    expires = datetime.now(UTC) + timedelta(days=10)
    waiver = add_waiver(
        world.ws,
        scope="rule",
        target="scan.no-high-findings",
        justification="legacy model retired next sprint; isolated host",
        expires=expires,
        asset_id="model:legacy",
        created_by="rita",
        approved_by="rita",
    )
    waived = run_gate(world.ws, "model:legacy", stage="prod", policy_path=policy)
    assert waived.passed
    (result,) = waived.evaluation.results
    assert result.outcome == "waived" and result.waiver is not None
    assert result.waiver["id"] == waiver.id
    assert result.waiver["expires_at"].startswith(expires.date().isoformat())
    assert waived.to_json()["waived_rules"] == ["scan.no-high-findings"]

    later = run_gate(
        world.ws, "model:legacy", stage="prod", policy_path=policy, at=expires + timedelta(hours=1)
    )
    assert not later.passed and later.failed_rules == ["scan.no-high-findings"]
    assert not (tmp_path / "MARKER").exists()


def test_malformed_policy_rejected_before_any_gate(world: World, tmp_path: Path) -> None:
    """A bad policy raises with file:line before facts are read or anything is recorded."""
    policy = tmp_path / "bad.yaml"
    policy.write_text(SCAN_ONLY.replace("scan.scanned", "scan.scaned"))
    count = len(list_evidence(world.ws, kind="decision", limit=1000))
    with pytest.raises(PolicyError) as caught:
        run_gate(world.ws, "model:scorer", stage="prod", policy_path=policy)
    assert f"{policy}:6" in caught.value.diagnostics()
    assert "unknown fact 'scan.scaned'" in caught.value.diagnostics()
    assert len(list_evidence(world.ws, kind="decision", limit=1000)) == count


def test_empty_and_inapplicable_policies_fail_closed(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\nrules: []\n")
    decision = run_gate(world.ws, "model:scorer", stage="prod", policy_path=empty)
    assert not decision.passed
    assert "empty policy fails closed" in decision.evaluation.reasons[0]
    only_minimal = tmp_path / "minimal.yaml"
    only_minimal.write_text(
        SCAN_ONLY.replace("    expr:", "    applies_to: {tiers: [minimal]}\n    expr:")
    )
    decision = run_gate(world.ws, "model:scorer", stage="prod", policy_path=only_minimal)
    assert not decision.passed
    assert "no rule of the policy applies" in decision.evaluation.reasons[0]


def test_policy_is_found_next_to_the_workspace_or_not_at_all(world: World) -> None:
    """Without a path the gate uses tutela.policy.yaml beside .tutela/; without one there
    it refuses (no silent default)."""
    from tutela.errors import InputError

    with pytest.raises(InputError, match="no policy found"):
        run_gate(world.ws, "model:scorer", stage="prod")
    (world.root / "tutela.policy.yaml").write_text(SCAN_ONLY)
    try:
        decision = run_gate(world.ws, "model:scorer", stage="prod")
    finally:
        (world.root / "tutela.policy.yaml").unlink()
    assert decision.passed
    assert list(decision.policy.digests()) == [str(world.root / "tutela.policy.yaml")]
