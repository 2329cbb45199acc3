"""Monitoring ingest (rows and profiles), windows, drift and results over HTTP."""

from __future__ import annotations

import random

from conftest import Api
from tutela.monitor.ingest import profile_rows


def _rows(n: int, shift: float, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {"amount": rng.gauss(100 + shift, 10), "country": rng.choice(["fr", "de", "es"])}
        for _ in range(n)
    ]


def test_rows_windows_drift_results(api: Api) -> None:
    url = "/api/v1/monitor/rows"
    first = api.post(
        "engineer", url, json={"asset": "fraud", "rows": _rows(500, 0, 1), "window": "w1"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["asset_id"] == "model:fraud" and first.json()["rows"] == 500
    second = api.post(
        "engineer", url, json={"asset": "fraud", "rows": _rows(500, 30, 2), "window": "w2"}
    )
    assert second.status_code == 201
    windows = api.get("viewer", "/api/v1/monitor/windows", params={"asset": "fraud"}).json()
    assert [w["window"] for w in windows] == ["w1", "w2"]
    drift = api.post(
        "engineer",
        "/api/v1/monitor/drift",
        json={
            "reference": f"window:{first.json()['evidence_id']}",
            "current": f"window:{second.json()['evidence_id']}",
            "asset": "fraud",
        },
    )
    assert drift.status_code == 201, drift.text
    assert drift.json()["drifted"] is True
    assert "amount" in [c["column"] for c in drift.json()["columns"] if c["drifted"]]
    results = api.get("viewer", "/api/v1/monitor/results", params={"asset": "fraud"}).json()
    assert [r["id"] for r in results] == [drift.json()["evidence_id"]]
    from test_api_scans import _actors

    assert _actors(api, "evidence.drift") == ["engineer"] * 3


def test_profile_upload(api: Api) -> None:
    blob = profile_rows({"x": [1.0, 2.0, 3.0]}).to_bytes()
    response = api.post(
        "engineer",
        "/api/v1/monitor/profiles",
        files={"file": ("p.tprof", blob, "application/octet-stream")},
        data={"asset": "model:p", "window": "batch-1"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 3
    junk = api.post(
        "engineer",
        "/api/v1/monitor/profiles",
        files={"file": ("p.tprof", b"not a profile", "application/octet-stream")},
        data={"asset": "model:p"},
    )
    assert junk.status_code == 400 and junk.json()["error"]["code"] == "invalid_input"


def test_bad_rows_are_400_or_422(api: Api) -> None:
    empty = api.post("engineer", "/api/v1/monitor/rows", json={"asset": "m", "rows": []})
    assert empty.status_code == 422
    mixed = api.post(
        "engineer", "/api/v1/monitor/rows", json={"asset": "m", "rows": [{"a": 1}, {"a": "x"}]}
    )
    assert mixed.status_code in {201, 400}, mixed.text
    path_ref = api.post(
        "engineer",
        "/api/v1/monitor/drift",
        json={"reference": "/etc/passwd", "current": "window:abcdef"},
    )
    assert path_ref.status_code == 422
