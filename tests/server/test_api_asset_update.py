"""PATCH /api/v1/assets/{id}: engineers and admins change an asset; the ledger names them."""

from __future__ import annotations

from typing import Any

from conftest import Api
from tutela.facts.collect import collect_facts
from tutela.ledger.log import iter_entries


def _patch(api: Api, user: str, asset_id: str, body: dict[str, Any]) -> Any:
    return api.call(user, "PATCH", f"/api/v1/assets/{asset_id}", json=body)


def _updates(api: Api) -> list[dict[str, Any]]:
    with api.ws.reader() as session:
        found = [e.data() for e in iter_entries(session)]
    return [e for e in found if e["action"] == "asset.update"]


def test_engineer_changes_tier_and_owner(api: Api) -> None:
    """Only the fields sent change; the gate's facts see the new tier; one ledger entry."""
    created = api.post(
        "engineer", "/api/v1/assets", json={"id": "model:fraud", "owner": "ml", "tags": ["eu"]}
    )
    assert created.status_code == 201, created.text
    response = _patch(api, "engineer", "model:fraud", {"risk_tier": "high", "add_tags": ["gdpr"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["owner"], body["risk_tier"], body["tags"]) == ("ml", "high", ["eu", "gdpr"])
    assert collect_facts(api.ws, "model:fraud").activation()["asset"]["risk_tier"] == "high"
    [entry] = _updates(api)
    assert entry["actor"] == "engineer"
    assert entry["data"]["before"] == {"risk_tier": "unassessed", "tags": ["eu"]}

    admin = _patch(api, "admin", "model:fraud", {"owner": "risk-office"})
    assert admin.status_code == 200 and admin.json()["owner"] == "risk-office"
    assert [e["actor"] for e in _updates(api)] == ["engineer", "admin"]
    same = _patch(api, "admin", "model:fraud", {"owner": "risk-office"})
    assert same.status_code == 200 and len(_updates(api)) == 2


def test_viewer_and_risk_officer_are_forbidden(api: Api) -> None:
    """Reading roles may not change an asset, and nothing is recorded."""
    api.post("engineer", "/api/v1/assets", json={"id": "model:fraud"})
    for user in ("viewer", "officer"):
        response = _patch(api, user, "model:fraud", {"risk_tier": "high"})
        assert response.status_code == 403, (user, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert _updates(api) == []
    detail = api.get("viewer", "/api/v1/assets/model:fraud").json()
    assert detail["asset"]["risk_tier"] == "unassessed"


def test_patch_errors_are_json(api: Api) -> None:
    """Unknown asset 404; unknown tier 422; a bad tag 400."""
    missing = _patch(api, "engineer", "model:ghost", {"owner": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    api.post("engineer", "/api/v1/assets", json={"id": "model:fraud"})
    tier = _patch(api, "engineer", "model:fraud", {"risk_tier": "extreme"})
    assert tier.status_code == 422 and tier.json()["error"]["code"] == "validation_error"
    tag = _patch(api, "engineer", "model:fraud", {"add_tags": ["has space"]})
    assert tag.status_code == 400 and tag.json()["error"]["code"] == "invalid_input"
    assert _updates(api) == []
