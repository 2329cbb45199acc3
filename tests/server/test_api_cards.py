"""Cards in every format, snapshots and compliance reports over HTTP."""

from __future__ import annotations

import json

import pytest

from conftest import Api
from tutela.cards.render_pdf import pdf_available

DIGEST = "sha256:" + "cd" * 32


def _asset(api: Api) -> None:
    assert api.post("engineer", "/api/v1/assets", json={"id": "model:c"}).status_code == 201
    version = api.post(
        "engineer", "/api/v1/versions", json={"asset_id": "model:c", "digest": DIGEST}
    )
    assert version.status_code == 201


@pytest.mark.parametrize("fmt", ["json", "md", "html", "cyclonedx", "spdx", "hf"])
def test_card_formats(api: Api, fmt: str) -> None:
    _asset(api)
    response = api.get("viewer", "/api/v1/cards", params={"asset_id": "model:c", "format": fmt})
    assert response.status_code == 200, response.text
    if fmt in {"json", "cyclonedx", "spdx"}:
        assert json.loads(response.text)
    else:
        assert "model:c" in response.text or "c" in response.text


def test_card_pdf(api: Api) -> None:
    _asset(api)
    response = api.get("viewer", "/api/v1/cards", params={"asset_id": "model:c", "format": "pdf"})
    if pdf_available():
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    else:
        assert response.status_code in {400, 501}


def test_snapshot_and_compliance(api: Api) -> None:
    _asset(api)
    published = api.post("engineer", "/api/v1/cards/snapshots", json={"asset_id": "model:c"})
    assert published.status_code == 201, published.text
    listed = api.get("viewer", "/api/v1/cards/snapshots", params={"asset_id": "model:c"}).json()
    assert len(listed) == 1
    report = api.post(
        "officer", "/api/v1/compliance", json={"asset_id": "model:c", "framework": "eu-ai-act"}
    )
    assert report.status_code == 200, report.text
    assert report.json()["report"]["recorded_as"]
    unknown = api.post(
        "officer", "/api/v1/compliance", json={"asset_id": "model:c", "framework": "nope"}
    )
    assert unknown.status_code in {400, 404}
    assert api.get("viewer", "/api/v1/cards", params={"asset_id": "model:none"}).status_code == 404
