"""`tutela monitor canary|watch|llm` end to end: real HTTP, a real workspace, --json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tutela.arena.example_server import ExampleServer
from tutela.monitor.canary import load_service_config, run_canary
from tutela.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from test_alerts import Hook


def _service(tmp_path: Path, server: ExampleServer) -> Path:
    path = tmp_path / "service.yaml"
    path.write_text(
        f"kind: openai\nid: vendor\nbase_url: {server.base_url}\nmodel: helpbot\ntemperature: 1.0\n"
    )
    return path


def test_canary_change_exits_1_with_a_named_alert(tmp_path: Path, cli) -> None:
    """After a baseline, the service's next version: exit 1 and an alert naming the prompt."""
    with Workspace.init(tmp_path) as ws, ExampleServer(set()) as server:
        baseline = run_canary(load_service_config(_service(tmp_path, server)), workspace=ws)
    assert baseline.status == "baseline"
    with ExampleServer({"system_prompt_leak"}) as server:
        run = cli("monitor", "canary", str(_service(tmp_path, server)), "--json", cwd=tmp_path)
    assert run.code == 1, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "changed" and result["baseline"] == baseline.evidence_id
    assert result["prompt_set"]["id"] == "tutela-canary"
    assert "disclose.instructions" in result["alerts"][0]["message"]


def test_watch_once_delivers_to_a_webhook(tmp_path: Path, cli) -> None:
    """A watch cycle runs the canary (a baseline), fires a latency rule and POSTs it to the
    webhook."""
    Workspace.init(tmp_path).close()
    with ExampleServer(set(), latency=0.01) as server, Hook() as hook:
        _service(tmp_path, server)
        (tmp_path / "watch.yaml").write_text(
            "canaries:\n  - service: service.yaml\n    samples: 2\n"
            "rules:\n  - {name: slow, metric: canary.latency_p50, op: '>=', threshold: 0.005}\n"
            f"deliver:\n  - {{kind: webhook, url: '{hook.url}/ok'}}\n  - {{kind: stdout}}\n"
        )
        run = cli("monitor", "watch", "--config", "watch.yaml", "--once", "--json", cwd=tmp_path)
        assert run.code == 1, run.stderr
        out = json.loads(run.stdout)
        assert out["checks"][0]["status"] == "baseline"
        assert [a["rule"] for a in out["alerts"]] == ["slow"]
        assert out["deliveries"][0]["ok"] is True
        assert hook.received[0][1]["alerts"][0]["metric"] == "canary.latency_p50"


def test_llm_command_compares_windows(tmp_path: Path, cli) -> None:
    """Two JSONL windows: the refusal-rate rise is named and the exit code is 1."""

    def write(name: str, refusals: int) -> Path:
        rows = [
            {
                "prompt": "Help me plan a trip.",
                "response": "I'm sorry, but I can't help with that."
                if i < refusals
                else "Sure! Day 1: visit the old town. Day 2: take the train to the coast.",
            }
            for i in range(100)
        ]
        path = tmp_path / name
        path.write_text("\n".join(json.dumps(r) for r in rows))
        return path

    run = cli(
        "monitor",
        "llm",
        str(write("cur.jsonl", 50)),
        "--reference",
        str(write("ref.jsonl", 10)),
        "--no-embed",
        "--json",
        cwd=tmp_path,
    )
    assert run.code == 1, run.stderr
    assert "refusal_rate" in json.loads(run.stdout)["changed"]


def test_bad_input_is_one_line_exit_2(tmp_path: Path, cli) -> None:
    """A missing config, a bad watch file, or watch without a schedule: exit 2, no traceback."""
    missing = cli("monitor", "canary", "nope.yaml", cwd=tmp_path)
    (tmp_path / "watch.yaml").write_text("rules: [{metric: m, op: '~', threshold: 1}]\n")
    bad_rule = cli("monitor", "watch", "--config", "watch.yaml", "--once", cwd=tmp_path)
    (tmp_path / "ok.yaml").write_text("rules: []\n")
    no_schedule = cli("monitor", "watch", "--config", "ok.yaml", cwd=tmp_path)
    for result in (missing, bad_rule, no_schedule):
        assert result.code == 2, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.strip()
