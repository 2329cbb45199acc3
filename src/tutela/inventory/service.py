"""Discovery into the store: a snapshot per run, assets for what is governed, the diff.

Each run records the whole inventory as ``discovery`` evidence on the repository's
``code:`` asset, and a ledger entry ``inventory.diff`` with what changed since the last
snapshot of the same asset. Models, datasets, third-party AI services and MCP servers
become assets (services as ``service:`` assets, governed like internal models), each
with ``discovery`` evidence when it is new or changed. Packages, frameworks, container
images and secrets stay in the snapshot (and the AI-BOM): they are not assets.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tutela.catalog.assets import ensure_asset_in
from tutela.catalog.evidence import record_evidence_in
from tutela.inventory.diff import InventoryDiff, diff_inventories, shadow_ai
from tutela.inventory.interface import ItemKind
from tutela.inventory.model import Inventory, Item
from tutela.store.models import Evidence, EvidenceKind
from tutela.workspace import Workspace

__all__ = [
    "DiscoveryRecord",
    "asset_id_for",
    "default_code_asset",
    "latest_snapshot",
    "record_discovery",
    "snapshots",
]

PRODUCER = "discover"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-/:+]")


@dataclass
class DiscoveryRecord:
    inventory: Inventory
    diff: InventoryDiff
    code_asset: str
    snapshot_id: str | None
    previous_id: str | None


def _clean(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text).strip("._-/:+")
    return cleaned[:200] or "unnamed"


def asset_id_for(item: Item) -> str | None:
    """The governed asset an item becomes, or None for what only lives in the BOM."""
    if item.kind is ItemKind.SERVICE:
        return "service:" + _clean(item.identity.removeprefix("service/"))
    if item.kind is ItemKind.MCP_SERVER:
        return "service:" + _clean(item.identity)
    if item.kind is ItemKind.MODEL:
        name = item.name if item.identity.startswith("sha256:") else item.identity
        return "model:" + _clean(name)
    if item.kind is ItemKind.DATASET:
        name = item.name if item.identity.startswith("sha256:") else item.identity
        return "dataset:" + _clean(name)
    return None


def default_code_asset(root: Path) -> str:
    return "code:" + _clean(root.resolve().name or "root")


def snapshots(
    ws: Workspace, code_asset: str | None, *, limit: int = 1
) -> list[tuple[str, dict[str, Any]]]:
    """The newest snapshots (code asset id, payload), of one asset or of any."""
    with ws.reader() as session:
        query = (
            select(Evidence.asset_id, Evidence.payload, Evidence.id)
            .where(
                Evidence.kind == EvidenceKind.DISCOVERY,
                Evidence.producer == PRODUCER,
                Evidence.asset_id.like("code:%"),
            )
            .order_by(Evidence.created_at.desc())
            .limit(limit)
        )
        if code_asset is not None:
            query = query.where(Evidence.asset_id == code_asset)
        return [(asset, {**payload, "_id": eid}) for asset, payload, eid in session.execute(query)]


def latest_snapshot(ws: Workspace, code_asset: str) -> tuple[str, Inventory] | None:
    found = snapshots(ws, code_asset, limit=1)
    if not found:
        return None
    return found[0][1]["_id"], Inventory.from_dict(found[0][1]["inventory"])


def _fingerprint(data: Any) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def record_discovery(
    ws: Workspace, inv: Inventory, *, code_asset: str, producer_version: str
) -> DiscoveryRecord:
    previous = latest_snapshot(ws, code_asset)
    old = previous[1] if previous else None
    diff = diff_inventories(old, inv)
    touched = set(diff.new) | {c["key"] for c in diff.changed}
    shadow = [i.key() for i in shadow_ai(inv)]
    with ws.transaction() as tx:
        ensure_asset_in(tx, code_asset, description=f"Repository discovered at {inv.root}",
                        tags=["source:discover"])  # fmt: skip
        for item in inv.items:
            asset_id = asset_id_for(item)
            if asset_id is None or item.key() not in touched:
                continue
            ensure_asset_in(tx, asset_id, description=f"Discovered: {item.name}",
                            tags=["source:discover"])  # fmt: skip
            digest = item.properties.get("digest")
            record_evidence_in(
                tx,
                asset_id=asset_id,
                kind="discovery",
                producer=PRODUCER,
                producer_version=producer_version,
                payload={"item": item.to_dict(), "repository": code_asset, "root": inv.root},
                summary={
                    "kind": str(item.kind),
                    "confidence": str(item.confidence),
                    "locations": len(item.locations),
                },
                version_digest=digest if isinstance(digest, str) else None,
                location=str(item.locations[0]) if item.locations else None,
                fingerprint=_fingerprint(item.to_dict()),
            )
        counts: dict[str, int] = {}
        for item in inv.items:
            counts[str(item.kind)] = counts.get(str(item.kind), 0) + 1
        snapshot = record_evidence_in(
            tx,
            asset_id=code_asset,
            kind="discovery",
            producer=PRODUCER,
            producer_version=producer_version,
            payload={"inventory": inv.to_dict(), "diff": diff.to_dict(), "shadow_ai": shadow},
            summary={
                **counts,
                "new": len(diff.new),
                "changed": len(diff.changed),
                "removed": len(diff.removed),
                "shadow_ai": len(shadow),
                "problems": len(inv.problems),
            },
            fingerprint=_fingerprint([i.to_dict() for i in inv.items]),
        )
        tx.record(
            "inventory.diff",
            code_asset,
            {"snapshot": snapshot.id, "previous": previous[0] if previous else None,
             **diff.to_dict(), "shadow_ai": shadow},
        )  # fmt: skip
    return DiscoveryRecord(inv, diff, code_asset, snapshot.id, previous[0] if previous else None)
