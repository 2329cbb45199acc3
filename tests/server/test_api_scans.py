"""Scans over HTTP: uploads (size-capped) and paths confined to the scan root."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Api
from tutela.server.config import ServerConfig

# GLOBAL os.system, then call it: the classic malicious pickle (never loaded here).
EVIL = b"cos\nsystem\n(S'echo pwned'\ntR."


def test_upload_scan_records_evidence(api: Api) -> None:
    response = api.post(
        "engineer",
        "/api/v1/scans/upload",
        files={"file": ("model.pkl", EVIL, "application/octet-stream")},
        data={"asset": "model:uploaded"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["max_severity"] == "critical" and body["exit_code"] == 1
    assert len(body["evidence"]) == 1
    evidence = api.get("viewer", "/api/v1/evidence", params={"asset_id": "model:uploaded"}).json()
    assert evidence[0]["kind"] == "scan"
    assert _actors(api, "evidence.scan") == ["engineer"]


def _actors(api: Api, action: str) -> list[str]:
    from sqlalchemy import text

    with api.ws.reader() as session:
        rows = session.execute(text("SELECT body FROM ledger_entries ORDER BY seq"))
        bodies = [json.loads(r[0]) for r in rows]
    return [b["actor"] for b in bodies if b.get("action") == action]


def test_path_scan_inside_root(api: Api, server_config: ServerConfig) -> None:
    assert server_config.scan_root is not None
    (server_config.scan_root / "models").mkdir()
    (server_config.scan_root / "models" / "evil.pkl").write_bytes(EVIL)
    response = api.post("engineer", "/api/v1/scans/path", json={"path": "models"})
    assert response.status_code == 200, response.text
    assert response.json()["max_severity"] == "critical"


def test_path_scan_outside_root_is_refused(
    api: Api, server_config: ServerConfig, tmp_path: Path
) -> None:
    assert server_config.scan_root is not None
    outside = tmp_path / "secret.pkl"
    outside.write_bytes(EVIL)
    (server_config.scan_root / "link.pkl").symlink_to(outside)
    for path in [str(outside), "../secret.pkl", "link.pkl"]:
        response = api.post("engineer", "/api/v1/scans/path", json={"path": path})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    missing = api.post("engineer", "/api/v1/scans/path", json={"path": "nope.pkl"})
    assert missing.status_code == 404


def test_upload_over_the_limit_is_413(api: Api) -> None:
    big = b"\0" * (5 * 1024 * 1024)
    response = api.post(
        "engineer",
        "/api/v1/scans/upload",
        files={"file": ("big.bin", big, "application/octet-stream")},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] in {"payload_too_large", "limit_exceeded"}
