"""Assets, versions, evidence, lineage and the ledger over HTTP, on real services."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from conftest import Api
from tutela.ledger.bundle import verify_bundle

DIGEST = "sha256:" + "ab" * 32


def _ledger_actors(api: Api, action: str) -> list[str]:
    from sqlalchemy import text

    with api.ws.reader() as session:
        bodies = [
            json.loads(r[0]) for r in session.execute(text("SELECT body FROM ledger_entries"))
        ]
    return [b["actor"] for b in bodies if b.get("action") == action]


def test_assets_round_trip_and_ledger_names_the_caller(api: Api) -> None:
    created = api.post(
        "engineer",
        "/api/v1/assets",
        json={"id": "model:fraud-scorer", "owner": "risk", "risk_tier": "high", "tags": ["team:a"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["risk_tier"] == "high"
    listed = api.get("viewer", "/api/v1/assets", params={"tag": "team:a"}).json()
    assert [a["id"] for a in listed] == ["model:fraud-scorer"]

    version = api.post(
        "engineer", "/api/v1/versions", json={"asset_id": "model:fraud-scorer", "digest": DIGEST}
    )
    assert version.status_code == 201, version.text
    detail = api.get("viewer", "/api/v1/assets/model:fraud-scorer").json()
    assert [v["digest"] for v in detail["versions"]] == [DIGEST]
    assert _ledger_actors(api, "asset.add") == ["engineer"]
    assert _ledger_actors(api, "version.add") == ["engineer"]


def test_asset_errors_are_json(api: Api) -> None:
    missing = api.get("viewer", "/api/v1/assets/model:nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "no such asset" in missing.json()["error"]["message"]
    bad = api.post("engineer", "/api/v1/assets", json={"id": "nokind"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
    api.post("engineer", "/api/v1/assets", json={"id": "model:a"})
    dup = api.post("engineer", "/api/v1/assets", json={"id": "model:a"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
    invalid = api.post("engineer", "/api/v1/assets", json={"id": 5})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "validation_error"
    unknown = api.get("viewer", "/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert "x-request-id" in unknown.headers


def test_openlineage_ingest_and_graph(api: Api, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    job = {"namespace": "airflow", "name": "train"}
    events = [
        {"eventType": "START", "eventTime": "2026-01-01T00:00:00Z", "run": {"runId": run_id},
         "job": job, "producer": "airflow", "inputs": [{"namespace": "pg", "name": "sales.tx"}]},
        {"eventType": "COMPLETE", "eventTime": "2026-01-01T00:05:00Z", "run": {"runId": run_id},
         "job": job, "producer": "airflow", "inputs": [{"namespace": "pg", "name": "sales.tx"}],
         "outputs": [{"namespace": "file", "name": str(tmp_path / "features.csv")}]},
    ]  # fmt: skip
    response = api.post("engineer", "/api/v1/lineage", json=events)
    assert response.status_code == 200, response.text
    assert response.json()["runs_created"] == 1 and response.json()["links"] == 1
    one = api.post("engineer", "/api/v1/lineage", json=events[1])
    assert one.status_code == 200 and one.json()["runs_updated"] == 1
    graph = api.get(
        "viewer",
        "/api/v1/lineage/graph",
        params={"ref": "dataset:sales.tx", "direction": "downstream"},
    )
    assert graph.status_code == 200, graph.text
    assert "dataset:features.csv" in {n["asset_id"] for n in graph.json()["nodes"]}
    bad = api.post("engineer", "/api/v1/lineage", json={"eventType": "START"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"


def test_evidence_listing(api: Api) -> None:
    from tutela.catalog.evidence import record_on_asset

    record_on_asset(
        api.ws, asset_id="model:m", description="d", tags=[], kind="scan", producer="scan.test",
        payload={"x": 1},
    )  # fmt: skip
    found = api.get("viewer", "/api/v1/evidence", params={"asset_id": "model:m"}).json()
    assert [e["producer"] for e in found] == ["scan.test"]
    assert api.get("viewer", "/api/v1/evidence", params={"limit": 0}).status_code == 422


def test_ledger_verify_export_and_proof(api: Api, tmp_path: Path) -> None:
    api.post("engineer", "/api/v1/assets", json={"id": "model:x"})
    report = api.get("viewer", "/api/v1/ledger/verify").json()
    assert report["ok"] is True and report["entries"] >= 10
    exported = api.get("viewer", "/api/v1/ledger/export")
    assert exported.status_code == 200
    path = tmp_path / "bundle.jsonl"
    path.write_bytes(exported.content)
    assert verify_bundle(path, api.ws.public_key()).ok
    proof = api.get("viewer", "/api/v1/ledger/proof/1")
    assert proof.status_code == 200, proof.text
    assert api.get("viewer", "/api/v1/ledger/proof/0").status_code == 422


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json()["status"] == "ok"
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] in {"sqlite", "postgresql"}
    spec = api.client.get("/openapi.json")
    assert spec.status_code == 200 and "/api/v1/lineage" in spec.json()["paths"]
