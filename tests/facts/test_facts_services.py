"""Service facts: a model calling a third-party service, directly or through its deployment,
and the canary, evaluation and approval each service needs to count as governed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tutela.catalog.assets import add_asset, add_version
from tutela.catalog.evidence import record_evidence
from tutela.catalog.links import add_link_in
from tutela.facts.collect import collect_facts
from tutela.store.models import ApprovalRequest, LinkKind
from tutela.workspace import Workspace


def _digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def _setup(ws: Workspace) -> None:
    for asset_id, n in (("model:bot", 1), ("service:openai-gpt", 2), ("deployment:bot-prod", 3)):
        add_asset(ws, asset_id)
        add_version(ws, asset_id, _digest(n))
    add_asset(ws, "service:search-api")
    add_version(ws, "service:search-api", _digest(4))
    with ws.transaction() as tx:
        ids = _version_ids(ws)
        add_link_in(tx, LinkKind.CALLS, ids["model:bot"], ids["service:openai-gpt"])
        add_link_in(tx, LinkKind.DEPLOYED_AS, ids["model:bot"], ids["deployment:bot-prod"])
        add_link_in(tx, LinkKind.CALLS, ids["deployment:bot-prod"], ids["service:search-api"])


def _version_ids(ws: Workspace) -> dict[str, str]:
    from sqlalchemy import select

    from tutela.store.models import Version

    with ws.reader() as session:
        return {v.asset_id: v.id for v in session.execute(select(Version)).scalars()}


def _canary(ws: Workspace, service: str) -> str:
    return record_evidence(
        ws,
        asset_id=service,
        kind="canary",
        producer="monitor.canary",
        producer_version="test",
        payload={"ok": True},
    ).id


def _evaluation(ws: Workspace, service: str) -> None:
    record_evidence(
        ws,
        asset_id=service,
        kind="evaluation",
        producer="arena",
        producer_version="test",
        payload={"asr": {}},
    )


def _approve(ws: Workspace, service: str) -> None:
    now = datetime.now(UTC)
    with ws.transaction() as tx:
        tx.session.add(
            ApprovalRequest(
                id=str(uuid.uuid4()),
                asset_id=service,
                version_id=None,
                subject=service,
                stage=None,
                reason="use in production",
                requested_by="alice",
                required_roles=[],
                status="approved",
                created_at=now,
                decided_at=now,
            )
        )


def test_called_services_need_canary_arena_and_approval(workspace: Workspace) -> None:
    _setup(workspace)
    facts = collect_facts(workspace, "model:bot", namespaces=["services"])
    services = facts.activation()["services"]
    both = ["service:openai-gpt", "service:search-api"]
    assert services["called"] == both
    assert services["without_canary"] == both
    assert services["without_arena"] == both
    assert services["without_approval"] == both
    assert services["governed"] is False

    canary = _canary(workspace, "service:openai-gpt")
    services = collect_facts(workspace, "model:bot", namespaces=["services"]).activation()[
        "services"
    ]
    assert services["without_canary"] == ["service:search-api"]

    for service in both:
        _canary(workspace, service)
        _evaluation(workspace, service)
        _approve(workspace, service)
    sheet = collect_facts(workspace, "model:bot", namespaces=["services"])
    assert sheet.activation()["services"]["governed"] is True
    assert canary in sheet.evidence_for(["services.without_canary"])

    # 31 days on, the canaries are too old
    later = collect_facts(
        workspace,
        "model:bot",
        namespaces=["services"],
        at=datetime.now(UTC) + timedelta(days=31),
    ).activation()["services"]
    assert later["without_canary"] == both
    assert later["without_arena"] == [] and later["governed"] is False


def test_no_services_is_governed(workspace: Workspace) -> None:
    add_asset(workspace, "model:solo")
    add_version(workspace, "model:solo", _digest(9))
    services = collect_facts(workspace, "model:solo", namespaces=["services"]).activation()
    assert services["services"]["called"] == []
    assert services["services"]["governed"] is True
