"""The whole Arena path over real HTTP against the reference vulnerable target."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from tutela.arena.example_server import WEAKNESSES, ExampleServer
from tutela.arena.service import run_arena, target_digest
from tutela.catalog.evidence import list_evidence
from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace

# Categories each switched-on weakness must show up in.
STRICT = {
    "excessive_agency",
    "improper_output_handling",
    "indirect_prompt_injection",
    "package_hallucination",
    "prompt_injection",
    "system_prompt_extraction",
    "unbounded_consumption",
}


def _config(server: ExampleServer, name: str) -> dict[str, str]:
    return {"kind": "openai", "id": name, "base_url": server.base_url, "model": "demo"}


def test_every_weakness_switched_on_is_found(tmp_path: Path) -> None:
    """With all weaknesses on, every category they map to has successful attacks."""
    with ExampleServer(set(WEAKNESSES)) as server:
        result = run_arena(_config(server, "vulnerable"), out_dir=tmp_path, concurrency=8)
    by_category = result.score.by_category
    for category in STRICT | {"jailbreak"}:
        assert by_category[category].succeeded >= 1, category
    assert result.score.overall.errors == 0


def test_safe_target_has_no_false_positives(tmp_path: Path) -> None:
    """With all weaknesses off, no category shows a success (deflections included: the
    compliance detector's MiniLM classifier reads them as refusals, not compliance)."""
    with ExampleServer(set()) as server:
        result = run_arena(_config(server, "safe"), out_dir=tmp_path, concurrency=8)
    for category, rate in result.score.by_category.items():
        assert rate.succeeded == 0, category
    assert result.score.overall.trials > 20


def test_evidence_reports_and_cli(tmp_path: Path, cli) -> None:
    """Evidence lands on the service's version with a ledger entry; reports and the exit
    code threshold work from the CLI."""
    with ExampleServer({"markdown_exfil", "package_hallucination"}) as server:
        cfg = _config(server, "chat-app")
        with Workspace.init(tmp_path) as ws:
            result = run_arena(
                cfg,
                out_dir=tmp_path / "runs",
                workspace=ws,
                concurrency=8,
                categories=["package_hallucination"],
            )
            evidence = list_evidence(ws, asset_id="service:chat-app")
            assert evidence[0].kind.value == "evaluation"
            assert evidence[0].version_digest == target_digest(cfg)
            assert evidence[0].summary["asr.package_hallucination"] == 1.0
            with ws.reader() as session:
                actions = [e.data()["action"] for e in iter_entries(session)]
            assert "evidence.evaluation" in actions
        junit = ET.fromstring((result.out_dir / "junit.xml").read_text())
        assert int(junit.get("failures", "0")) >= 1
        assert (result.out_dir / "report.html").read_text().startswith("<!doctype html>")
        lines = (result.out_dir / "attempts.jsonl").read_text().splitlines()
        assert len(lines) == len(result.attempts)
        run = cli(
            "arena",
            "run",
            "--base-url",
            server.base_url,
            "--model",
            "demo",
            "--id",
            "chat-app",
            "--category",
            "package_hallucination",
            "--max-asr",
            "0.5",
            "--json",
            cwd=tmp_path,
        )
        assert run.code == 1, run.stderr
        assert json.loads(run.stdout)["overall"]["succeeded"] >= 1


def test_compare_names_regressions(tmp_path: Path, cli) -> None:
    """A target that became vulnerable is a named regression, exit 1; the reverse is not."""
    with ExampleServer(set()) as server:
        safe = run_arena(
            _config(server, "t"),
            out_dir=tmp_path,
            seeds=range(4),
            transforms=["none", "leetspeak"],
            categories=["package_hallucination"],
        )
    with ExampleServer({"package_hallucination"}) as server:
        bad = run_arena(
            _config(server, "t"),
            out_dir=tmp_path,
            seeds=range(4),
            transforms=["none", "leetspeak"],
            categories=["package_hallucination"],
        )
    worse = cli("arena", "compare", str(safe.out_dir), str(bad.out_dir), "--json", cwd=tmp_path)
    assert worse.code == 1, worse.stderr
    assert any(
        r["name"] == "package_hallucination" for r in json.loads(worse.stdout)["regressions"]
    )
    better = cli("arena", "compare", str(bad.out_dir), str(safe.out_dir), cwd=tmp_path)
    assert better.code == 0 and "improved" in better.stdout
