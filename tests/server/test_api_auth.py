"""Authentication and roles, enumerated from the OpenAPI spec so new routes are covered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from conftest import Api
from tutela.catalog.tokens import create_token, hash_token, list_tokens, revoke_token
from tutela.store.models import ApiToken

WRITE = {"post", "put", "patch", "delete"}
OPEN = {"/healthz", "/readyz"}


def _routes(api: Api) -> list[tuple[str, str]]:
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    return [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_every_api_route_needs_a_token(api: Api) -> None:
    routes = _routes(api)
    assert len([r for r in routes if r[1].startswith("/api/")]) >= 30
    for method, path in routes:
        if not path.startswith("/api/") and path not in OPEN:
            continue  # the dashboard's pages have their own sign-in
        response = api.call(None, method.upper(), _fill(path))
        if path in OPEN:
            assert response.status_code == 200, path
            continue
        assert response.status_code == 401, (method, path, response.text)
        body = response.json()
        assert body["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_no_token_is_401_before_the_body_is_read(api: Api) -> None:
    bad_json = api.client.post(
        "/api/v1/assets", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 401
    upload = api.client.post(
        "/api/v1/scans/upload", files={"file": ("x.pkl", b"\0" * 1000, "application/octet-stream")}
    )
    assert upload.status_code == 401
    assert upload.json()["error"]["code"] == "unauthenticated"


def test_viewer_is_forbidden_every_write(api: Api) -> None:
    writes = [(m, p) for m, p in _routes(api) if m in WRITE and p.startswith("/api/")]
    assert len(writes) >= 15
    for method, path in writes:
        response = api.call("viewer", method.upper(), _fill(path), json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"


def test_viewer_reads(api: Api) -> None:
    assert api.get("viewer", "/api/v1/assets").status_code == 200
    me = api.get("viewer", "/api/v1/me").json()
    assert me == {"name": "viewer", "roles": ["viewer"]}


def test_bad_tokens_are_401(api: Api) -> None:
    for header in ["Bearer nope", "Bearer tut_" + "A" * 43, "Basic dXNlcjpwYXNz", "Bearer"]:
        response = api.client.get("/api/v1/assets", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_revoked_and_expired_tokens_are_401(api: Api) -> None:
    token, info = create_token(api.ws, "engineer", label="short", actor="admin")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200
    revoke_token(api.ws, info.id, actor="admin")
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401

    token2, info2 = create_token(api.ws, "engineer", expires_days=1, actor="admin")
    with api.ws.transaction("admin") as tx:
        tx.session.execute(
            update(ApiToken)
            .where(ApiToken.id == info2.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token2}"})
    assert response.status_code == 401


def test_disabled_user_token_is_401(api: Api) -> None:
    assert api.get("engineer", "/api/v1/me").status_code == 200
    response = api.post("admin", "/api/v1/users/engineer/disable")
    assert response.status_code == 200, response.text
    assert api.get("engineer", "/api/v1/me").status_code == 401


def test_tokens_are_stored_hashed_and_never_in_the_ledger(api: Api) -> None:
    created = api.post("admin", "/api/v1/tokens", json={"user": "viewer", "label": "ci"})
    assert created.status_code == 201, created.text
    plaintext = created.json()["token"]
    assert plaintext.startswith("tut_") and len(plaintext) > 40
    listed = api.get("admin", "/api/v1/tokens").json()
    assert plaintext not in str(listed)
    with api.ws.reader() as session:
        hashes = {t.token_hash for t in session.query(ApiToken)}
        bodies = b"".join(
            row[0]
            for row in session.execute(
                __import__("sqlalchemy").text("SELECT body FROM ledger_entries")
            )
        )
    assert hash_token(plaintext) in hashes
    assert plaintext.encode() not in bodies
    assert b"token.create" in bodies
    # The new token works, and its creation names the admin in the ledger.
    assert (
        api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).json()[
            "name"
        ]
        == "viewer"
    )
    token_id = created.json()["info"]["id"]
    revoked = api.call("admin", "DELETE", f"/api/v1/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    again = api.call("admin", "DELETE", f"/api/v1/tokens/{token_id}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert [t.id for t in list_tokens(api.ws, user="viewer") if t.revoked_at] == [token_id]


def test_only_admin_manages_tokens(api: Api) -> None:
    for user in ("engineer", "officer", "viewer"):
        response = api.post(user, "/api/v1/tokens", json={"user": user})
        assert response.status_code == 403


@pytest.mark.parametrize("days", [0, 4000])
def test_token_expiry_bounds(api: Api, days: int) -> None:
    response = api.post("admin", "/api/v1/tokens", json={"user": "viewer", "expires_days": days})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
