"""Arena runs as background jobs: start, poll progress, read results and evidence."""

from __future__ import annotations

import json
import time

from conftest import Api
from tutela.arena.example_server import ExampleServer
from tutela.server.config import ServerConfig


def _wait(api: Api, job_id: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get("viewer", f"/api/v1/arena/runs/{job_id}").json()
        if job["status"] in {"succeeded", "failed"}:
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("the Arena job did not finish")


def test_arena_run_job(api: Api, server_config: ServerConfig) -> None:
    assert server_config.targets_dir is not None
    with ExampleServer({"secret_leak"}) as app:
        config = {"kind": "openai", "id": "leaky", "base_url": app.base_url, "model": "demo"}
        (server_config.targets_dir / "leaky.json").write_text(json.dumps(config))
        started = api.post(
            "engineer",
            "/api/v1/arena/runs",
            json={"target": "leaky", "categories": ["sensitive_information_disclosure"]},
        )
        assert started.status_code == 202, started.text
        assert started.json()["status"] in {"queued", "running"}
        job = _wait(api, started.json()["id"])
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert isinstance(result, dict) and result["attempts"] > 0 and result["evidence"]
    assert job["actor"] == "engineer"
    evidence = api.get("viewer", "/api/v1/evidence", params={"kind": "evaluation"}).json()
    assert result["evidence"] in [e["id"] for e in evidence]
    listed = api.get("viewer", "/api/v1/arena/runs").json()
    assert [j["id"] for j in listed] == [started.json()["id"]]
    assert api.get("viewer", f"/api/v1/jobs/{started.json()['id']}").status_code == 200


def test_arena_targets_are_server_side_only(api: Api) -> None:
    unknown = api.post("engineer", "/api/v1/arena/runs", json={"target": "nope"})
    assert unknown.status_code == 404
    traversal = api.post("engineer", "/api/v1/arena/runs", json={"target": "../etc/passwd"})
    assert traversal.status_code == 422
    assert api.get("viewer", "/api/v1/arena/runs/unknown").status_code == 404
