"""Gates, approvals (separation of duties) and waivers over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files

from conftest import Api


def _asset(api: Api, asset_id: str = "model:m") -> None:
    response = api.post("engineer", "/api/v1/assets", json={"id": asset_id})
    assert response.status_code == 201, response.text


def test_gate_records_a_decision(api: Api) -> None:
    _asset(api)
    none = api.post("engineer", "/api/v1/gates", json={"asset_id": "model:m", "stage": "prod"})
    assert none.status_code == 400 and "no policy found" in none.json()["error"]["message"]
    policy = files("tutela.policy").joinpath("default_policy.yaml").read_text("utf-8")
    (api.ws.layout.root / "tutela.policy.yaml").write_text(policy)
    rules = api.get("viewer", "/api/v1/policy").json()["rules"]
    assert rules and all("id" in r for r in rules)
    gate = api.post("engineer", "/api/v1/gates", json={"asset_id": "model:m", "stage": "prod"})
    assert gate.status_code == 200, gate.text
    decision = gate.json()
    assert decision["passed"] is False and decision["failed_rules"]
    evidence = api.get("viewer", "/api/v1/evidence", params={"kind": "decision"}).json()
    assert [e["id"] for e in evidence] == [decision["evidence_id"]]


def test_approval_separation_of_duties(api: Api) -> None:
    _asset(api)
    request = api.post(
        "officer",
        "/api/v1/approvals",
        json={"asset_id": "model:m", "stage": "prod", "reason": "ready for production",
              "required_roles": ["risk-officer"]},
    )  # fmt: skip
    assert request.status_code == 201, request.text
    request_id = request.json()["id"]
    assert request.json()["requested_by"] == "officer"
    own = api.post(
        "officer", f"/api/v1/approvals/{request_id}/review", json={"decision": "approve"}
    )
    assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
    other = api.post(
        "officer2", f"/api/v1/approvals/{request_id}/review", json={"decision": "approve"}
    )
    assert other.status_code == 200, other.text
    assert other.json()["status"] == "approved"
    assert other.json()["reviews"][0]["reviewer"] == "officer2"
    listed = api.get("viewer", "/api/v1/approvals", params={"status": "approved"}).json()
    assert [r["id"] for r in listed] == [request_id]
    assert api.get("viewer", "/api/v1/approvals/nope").status_code == 404


def test_waivers_request_grant_revoke(api: Api) -> None:
    _asset(api)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    requested = api.post(
        "engineer",
        "/api/v1/waivers",
        json={"scope": "rule", "target": "scan.no-critical", "asset_id": "model:m",
              "justification": "accepted until the retrain lands", "expires": expires},
    )  # fmt: skip
    assert requested.status_code == 201, requested.text
    assert requested.json()["approval"]["status"] == "pending"
    engineer_grant = api.post(
        "engineer",
        "/api/v1/waivers/grant",
        json={"scope": "rule", "target": "scan.no-critical", "asset_id": "model:m",
              "justification": "engineers cannot grant", "expires": expires},
    )  # fmt: skip
    assert engineer_grant.status_code == 403
    granted = api.post(
        "officer",
        "/api/v1/waivers/grant",
        json={"scope": "rule", "target": "scan.no-critical", "asset_id": "model:m",
              "justification": "the risk is accepted for a month", "expires": expires},
    )  # fmt: skip
    assert granted.status_code == 201, granted.text
    waiver_id = granted.json()["id"]
    active = api.get("viewer", "/api/v1/waivers").json()
    assert waiver_id in [w["id"] for w in active]
    revoked = api.call("officer", "DELETE", f"/api/v1/waivers/{waiver_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert waiver_id not in [w["id"] for w in api.get("viewer", "/api/v1/waivers").json()]
