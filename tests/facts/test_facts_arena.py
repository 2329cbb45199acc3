"""LLM Arena facts from real runs against the reference vulnerable app, read through the
model's deployed_as link to the service the Arena attacked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tutela.arena.example_server import ExampleServer
from tutela.arena.service import run_arena, target_digest
from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.links import add_link_in
from tutela.facts.collect import collect_facts
from tutela.store.models import LinkKind
from tutela.workspace import Workspace


def _digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def _evaluate(ws: Workspace, out: Path, weaknesses: set[str]) -> tuple[str, str]:
    """One prompt-injection run on a fresh server; (evidence id, service version digest)."""
    with ExampleServer(weaknesses) as server:
        config = {"kind": "openai", "id": "helpbot", "base_url": server.base_url, "model": "x"}
        result = run_arena(
            config, out_dir=out, categories=["prompt_injection"], concurrency=8, workspace=ws
        )
    assert result.evidence_id is not None
    return result.evidence_id, target_digest(config)


def _deploy(ws: Workspace, model_digest: str, service_digest: str | None) -> None:
    version = add_version(ws, "model:helpbot", model_digest)
    if service_digest is None:
        return
    service = add_version(ws, "service:helpbot", service_digest)
    with ws.transaction() as tx:
        add_link_in(tx, LinkKind.DEPLOYED_AS, version.id, service.id)


@pytest.fixture(scope="module")
def evaluated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, dict[str, str]]]:
    """model:helpbot v1 deployed as a vulnerable service version, v2 as a safe one, v3 as
    nothing the Arena saw."""
    root = tmp_path_factory.mktemp("arena-facts")
    ws = Workspace.init(root)
    add_asset(ws, "model:helpbot")
    weak_id, weak = _evaluate(ws, root / "runs", {"prompt_injection"})
    safe_id, safe = _evaluate(ws, root / "runs", set())
    _deploy(ws, _digest(1), weak)
    _deploy(ws, _digest(2), safe)
    _deploy(ws, _digest(3), None)
    try:
        yield ws, {"weak": weak, "safe": safe, "weak_id": weak_id, "safe_id": safe_id}
    finally:
        ws.close()


def test_weakness_switched_on_shows_in_asr(evaluated: tuple[Workspace, dict[str, str]]) -> None:
    """Through deployed_as, the vulnerable version's prompt injection ASR is above zero,
    with its Wilson upper bound, attempt count, suite and the evidence it came from."""
    ws, seen = evaluated
    sheet = collect_facts(ws, "model:helpbot", version=_digest(1), namespaces=["arena"])
    arena = sheet.activation()["arena"]
    assert arena["evaluated"] is True and arena["runs"] == 1
    assert arena["asr"]["prompt_injection"] > 0
    assert arena["asr"]["prompt_injection"] <= arena["asr_upper"]["prompt_injection"] <= 1
    assert arena["attempts"]["prompt_injection"] >= 1
    assert "prompt_injection" in arena["categories"]
    assert "prompt_injection" in arena["suites"]
    assert arena["version_evaluated"] == seen["weak"]
    assert arena["age_days"] >= 0
    fact = sheet.facts["arena.asr"]
    assert fact.evidence == (seen["weak_id"],) and not fact.stale


def test_weakness_switched_off_is_zero(evaluated: tuple[Workspace, dict[str, str]]) -> None:
    """The safe deployment resists every prompt injection: ASR 0, upper bound below 1."""
    ws, seen = evaluated
    arena = collect_facts(ws, "model:helpbot", version=_digest(2), namespaces=["arena"])
    values = arena.activation()["arena"]
    assert values["asr"]["prompt_injection"] == 0
    assert values["asr_upper"]["prompt_injection"] < 1
    assert values["version_evaluated"] == seen["safe"]


def test_service_itself_reads_its_own_runs(evaluated: tuple[Workspace, dict[str, str]]) -> None:
    """Gating the service asset directly reads the run on that service version."""
    ws, seen = evaluated
    sheet = collect_facts(ws, "service:helpbot", version=seen["weak"], namespaces=["arena"])
    assert sheet.activation()["arena"]["asr"]["prompt_injection"] > 0


def test_new_version_without_a_run_is_stale(evaluated: tuple[Workspace, dict[str, str]]) -> None:
    """A model version deployed as nothing evaluated: not evaluated, no ASR, and stale facts
    naming the older evaluated version."""
    ws, seen = evaluated
    sheet = collect_facts(ws, "model:helpbot", version=_digest(3), namespaces=["arena"])
    arena = sheet.activation()["arena"]
    assert arena["evaluated"] is False and arena["asr"] == {} and arena["runs"] == 0
    assert arena["version_evaluated"] == seen["safe"]
    fact = sheet.facts["arena.evaluated"]
    assert fact.stale and fact.note and "another version" in fact.note
    assert fact.evidence == (seen["safe_id"],)


def test_as_of_before_the_runs_sees_nothing(evaluated: tuple[Workspace, dict[str, str]]) -> None:
    """Facts are computed as of ``at``: before the first run there was no evaluation."""
    ws, _ = evaluated
    sheet = collect_facts(ws, "model:helpbot", version=_digest(1), namespaces=["arena"])
    earlier = sheet.facts["arena.last_run_at"].value - timedelta(seconds=30)
    before = collect_facts(
        ws, "model:helpbot", version=_digest(1), at=earlier, namespaces=["arena"]
    )
    assert before.activation()["arena"]["evaluated"] is False
    assert not before.facts["arena.evaluated"].stale
