"""What changed between two inventories, and what is used but never declared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tutela.inventory.interface import Confidence, ItemKind
from tutela.inventory.model import Inventory, Item

__all__ = ["InventoryDiff", "diff_inventories", "shadow_ai"]


@dataclass
class InventoryDiff:
    new: list[str] = field(default_factory=list)  # item keys
    removed: list[str] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # key + what changed

    def is_empty(self) -> bool:
        return not (self.new or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {"new": self.new, "removed": self.removed, "changed": self.changed}


def _signature(item: Item) -> dict[str, Any]:
    # What counts as a change: the version, where it is used, and its identity-bearing
    # properties. Timestamps and detector wording do not.
    return {
        "version": item.version,
        "confidence": str(item.confidence),
        "locations": sorted(str(loc) for loc in item.locations),
        "digest": item.properties.get("digest"),
    }


def diff_inventories(old: Inventory | None, new: Inventory) -> InventoryDiff:
    before = {i.key(): i for i in old.items} if old else {}
    after = {i.key(): i for i in new.items}
    out = InventoryDiff(
        new=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
    )
    for key in sorted(after.keys() & before.keys()):
        a, b = _signature(before[key]), _signature(after[key])
        fields = sorted(k for k in a if a[k] != b[k])
        if fields:
            out.changed.append({"key": key, "fields": fields, "before": {k: a[k] for k in fields},
                                "after": {k: b[k] for k in fields}})  # fmt: skip
    return out


def shadow_ai(inv: Inventory) -> list[Item]:
    """AI frameworks and SDKs used in code that no manifest or environment declares."""
    declared = {
        i.identity
        for i in inv.items
        if i.kind in (ItemKind.PACKAGE, ItemKind.FRAMEWORK) and i.confidence is Confidence.DECLARED
    }
    return [
        i
        for i in inv.items
        if i.kind is ItemKind.FRAMEWORK
        and i.confidence is Confidence.INFERRED
        and i.identity not in declared
    ]
