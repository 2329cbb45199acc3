"""Canaries against the Arena's reference target over real HTTP, recorded in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela.arena.example_server import ExampleServer
from tutela.catalog.evidence import list_evidence
from tutela.errors import InputError
from tutela.ledger.log import iter_entries
from tutela.monitor.canary import compare_fingerprints, fingerprint, run_canary
from tutela.monitor.canary_prompts import load_prompt_set, parse_prompt_set
from tutela.monitor.canary_run import Sample
from tutela.workspace import Workspace


def _config(server: ExampleServer, model: str = "helpbot") -> dict[str, object]:
    return {
        "kind": "openai",
        "id": "vendor-chat",
        "base_url": server.base_url,
        "model": model,
        "temperature": 1.0,
    }


def test_version_change_is_alerted_and_restart_is_not(workspace: Workspace) -> None:
    """Baseline on v1; a restart of v1 is unchanged; v2 (other weaknesses) is an alert that
    names the prompts whose answers moved; everything lands as evidence and in the ledger."""
    with ExampleServer(set()) as server:
        first = run_canary(_config(server), workspace=workspace)
    with ExampleServer(set()) as server:  # the same version, restarted on another port
        again = run_canary(_config(server), workspace=workspace)
    with ExampleServer({"package_hallucination", "jailbreak"}) as server:
        changed = run_canary(_config(server), workspace=workspace)
        assert server.requests == 12 * 10
    assert first.status == "baseline" and not first.alerts
    assert again.status == "unchanged" and not again.alerts
    assert again.baseline_id == first.evidence_id
    assert again.comparison["answers"]["p_value"] == 1.0
    assert changed.status == "changed"
    answers = next(c for c in changed.changes if c.what == "answers")
    assert set(answers.details["prompts"]) == {"advice.json_library", "roleplay.no_rules"}
    assert changed.alerts[0].rule == "canary.answers"
    assert "advice.json_library" in changed.alerts[0].message
    assert changed.metrics["canary.p_value"] < 0.01
    assert changed.comparison["embedding_centroid_distance"]["advice.json_library"] > 0.1
    assert changed.comparison["embedding_centroid_distance"]["fact.capital"] == 0.0
    evidence = list_evidence(workspace, asset_id="service:vendor-chat", kind="canary")
    roles = sorted(e.summary.get("role", e.producer) for e in evidence)
    assert roles == ["baseline", "check", "check", "monitor.alerts"]
    fingerprint = next(e for e in evidence if e.id == first.evidence_id).payload
    assert fingerprint["declared"]["models"] == {"helpbot": 120}
    assert len(fingerprint["answers"]["fact.capital"]) == 10
    assert len(fingerprint["embedding_centroids"]["fact.capital"]) == 384
    with workspace.reader() as session:
        actions = [e.data()["action"] for e in iter_entries(session)]
    assert actions.count("evidence.canary") == 4
    assert actions.count("monitor.alert") == 1


def test_declared_model_change_is_named(workspace: Workspace) -> None:
    """Same answers, but the API now declares another model: an alert saying so. Header
    values (credentials) are not stored with the fingerprint."""
    with ExampleServer(set()) as server:
        config = {**_config(server, "helpbot-2025"), "headers": {"X-Api-Key": "s3cret-value"}}
        first = run_canary(config, workspace=workspace, samples=3)
        swapped = run_canary(_config(server, "helpbot-mini"), workspace=workspace, samples=3)
    assert swapped.status == "changed"
    assert [c.what for c in swapped.changes] == ["declared_model"]
    assert "helpbot-2025 -> helpbot-mini" in swapped.alerts[0].message
    stored = list_evidence(workspace, asset_id="service:vendor-chat", kind="canary")
    assert "s3cret-value" not in str([e.payload for e in stored])
    assert next(e for e in stored if e.id == first.evidence_id).payload["service"]["headers"] == {
        "X-Api-Key": "***"
    }


def test_failing_service_is_inconclusive_and_never_a_baseline(tmp_path: Path) -> None:
    """A service answering HTTP 400 gives an inconclusive run; the next good run is the
    baseline."""
    with Workspace.init(tmp_path) as ws, ExampleServer(set()) as server:
        bad = run_canary(_config(server, "error-400"), workspace=ws, samples=2)
        good = run_canary(_config(server), workspace=ws, samples=2)
        again = run_canary(_config(server), workspace=ws, samples=2, rebaseline=True)
    assert bad.status == "inconclusive" and bad.metrics["canary.error_rate"] == 1.0
    assert "HTTP 400" in bad.errors[0]
    assert good.status == "baseline" and good.baseline_id is None
    assert again.status == "baseline"


def test_shipped_prompt_set_is_versioned() -> None:
    """The shipped set has an id, a version and a digest that covers the prompt texts."""
    shipped = load_prompt_set()
    assert shipped.id == "tutela-canary" and shipped.version == 1 and len(shipped.prompts) == 12
    edited = parse_prompt_set(
        {
            "id": shipped.id,
            "version": 1,
            "prompts": [{"id": p.id, "text": p.text + "!"} for p in shipped.prompts],
        },
        "x",
    )
    assert edited.digest != shipped.digest


@pytest.mark.parametrize(
    "text",
    [
        "id: x\nversion: 1\nprompts: []\n",
        "id: x\nversion: 0\nprompts: [{id: a, text: b}]\n",
        "id: x\nversion: 1\nprompts: [{id: a, text: b}, {id: a, text: c}]\n",
        "[unclosed\n",
    ],
)
def test_bad_prompt_files_are_input_errors(tmp_path: Path, text: str) -> None:
    """Empty, unversioned, duplicated or unparseable prompt sets are one-line input errors."""
    path = tmp_path / "prompts.yaml"
    path.write_text(text)
    with pytest.raises(InputError):
        load_prompt_set(path)


def _run(texts: dict[str, list[str]], fp: str | None = None) -> dict[str, object]:
    prompts = parse_prompt_set(
        {"id": "t", "version": 1, "prompts": [{"id": p, "text": p} for p in texts]}, "t"
    )
    samples = [
        Sample(p, i, t, 0.1, "m-1", fp)
        for p, answers in texts.items()
        for i, t in enumerate(answers)
    ]
    return fingerprint(samples, prompts, embedder=None)


def test_refusal_length_and_system_fingerprint_changes() -> None:
    """From fingerprints alone (patterns decide refusals): a refusal rise, a length change
    and a new system fingerprint are each named; the fingerprint alone is only info."""
    answer = "Sure! Here is how: step 1, open the settings; step 2, choose reset."
    refuse = "I'm sorry, but I can't help with that."
    base = _run({f"p{i}": [answer] * 10 for i in range(6)}, fp="fp_1")
    refusing = _run({f"p{i}": [refuse] * 10 for i in range(6)}, fp="fp_1")
    changes, comparison = compare_fingerprints(base, refusing)
    assert {c.what for c in changes} >= {"refusal_rate", "length", "answers"}
    assert comparison["refusal"]["flipped_prompts"] == [f"p{i}" for i in range(6)]
    assert base["refusal_rate"] == 0.0 and refusing["refusal_rate"] == 1.0
    new_backend = _run({f"p{i}": [answer] * 10 for i in range(6)}, fp="fp_2")
    only = compare_fingerprints(base, new_backend)[0]
    assert [(c.what, c.severity) for c in only] == [("system_fingerprint", "info")]
