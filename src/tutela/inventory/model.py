"""The merged inventory: one ``Item`` per thing found, whatever the number of findings.

Findings that name the same thing (same ``kind`` and ``identity``) become one ``Item``
carrying every location and detector that saw it. Merging is deterministic: the result
does not depend on the order findings arrive in, so two discoveries of the same tree
give the same inventory and the same exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike, fspath
from typing import Any

from tutela.inventory.interface import (
    Confidence,
    DiscoveryError,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.version import tutela_version

__all__ = ["INVENTORY_SCHEMA", "Inventory", "Item", "is_pinned", "is_sensitive_key"]

INVENTORY_SCHEMA = "tutela.inventory/1"

_KIND_ORDER = {kind: index for index, kind in enumerate(ItemKind)}
# A version is a range, not a pin, when it carries any of these (PEP 440, npm, Docker).
_RANGE_MARKS = re.compile(r"[<>!~^*,|]|\s")
# Property names that may hold a credential: never copied into an export.
_SENSITIVE_KEY = re.compile(
    r"(secret|token|passw|api[_-]?key|credential|private[_-]?key|auth|cookie|session)",
    re.IGNORECASE,
)


def is_pinned(version: str | None) -> bool:
    """Whether ``version`` names exactly one release (``1.2.3``, ``==1.2.3``, a digest)."""
    if not version:
        return False
    bare = version[3:] if version.startswith("===") else version
    bare = bare[2:] if bare.startswith("==") else bare
    return bool(bare) and not _RANGE_MARKS.search(bare)


def is_sensitive_key(key: str) -> bool:
    """Whether a property name suggests a credential (exporters drop such properties)."""
    return bool(_SENSITIVE_KEY.search(key))


def _location_order(location: Location) -> tuple[str, int]:
    return (location.path, -1 if location.line is None else location.line)


def _finding_order(finding: Finding) -> tuple[str, int, str, str, str]:
    path, line = _location_order(finding.location)
    return (path, line, finding.detector, finding.name, finding.version or "")


def _merge_properties(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """First value wins; lists are unioned in order of first appearance."""
    for key, value in source.items():
        if key not in target:
            target[key] = list(value) if isinstance(value, list) else value
        elif isinstance(target[key], list) and isinstance(value, list):
            merged: list[Any] = target[key]
            merged.extend(element for element in value if element not in merged)


def _version_rank(finding: Finding, order: int) -> tuple[bool, bool, int]:
    return (
        finding.confidence is not Confidence.DECLARED,
        not is_pinned(finding.version),
        order,
    )


@dataclass(slots=True)
class Item:
    """Everything known about one thing: findings with the same (kind, identity) merged."""

    kind: ItemKind
    identity: str
    name: str
    version: str | None
    confidence: Confidence  # DECLARED if any finding is declared, else INFERRED
    locations: list[Location]
    detectors: list[str]
    properties: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """The stable key of the item, unique within an inventory: ``kind:identity``."""
        return f"{self.kind.value}:{self.identity}"

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> Item:
        """Merge findings that share kind and identity (order of arrival does not matter)."""
        ordered = sorted(findings, key=_finding_order)
        if not ordered:
            raise DiscoveryError("cannot merge an empty list of findings into an item")
        first = ordered[0]
        declared = [f for f in ordered if f.confidence is Confidence.DECLARED]
        with_version = [(f, i) for i, f in enumerate(ordered) if f.version]
        version = (
            min(with_version, key=lambda p: _version_rank(*p))[0].version if with_version else None
        )
        properties: dict[str, Any] = {}
        for finding in ordered:
            _merge_properties(properties, finding.properties)
        return cls(
            kind=first.kind,
            identity=first.identity,
            name=(declared[0] if declared else first).name,
            version=version,
            confidence=Confidence.DECLARED if declared else Confidence.INFERRED,
            locations=sorted({f.location for f in ordered}, key=_location_order),
            detectors=sorted({f.detector for f in ordered}),
            properties=properties,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "identity": self.identity,
            "name": self.name,
            "version": self.version,
            "confidence": self.confidence.value,
            "locations": [{"path": loc.path, "line": loc.line} for loc in self.locations],
            "detectors": list(self.detectors),
            "properties": dict(self.properties),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        try:
            return cls(
                kind=ItemKind(data["kind"]),
                identity=_text(data["identity"]),
                name=_text(data["name"]),
                version=None if data.get("version") is None else _text(data["version"]),
                confidence=Confidence(data["confidence"]),
                locations=[
                    Location(path=_text(loc["path"]), line=_line(loc.get("line")))
                    for loc in data["locations"]
                ],
                detectors=[_text(d) for d in data["detectors"]],
                properties=dict(data.get("properties") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DiscoveryError(
                "an inventory item is malformed",
                expected=f"an item as written by {INVENTORY_SCHEMA}",
                found=f"{type(exc).__name__}: {exc}",
            ) from exc


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _line(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a line number, found {type(value).__name__}")
    return value


def _tool_version() -> str:
    return tutela_version()


@dataclass(slots=True)
class Inventory:
    """What discovery found under ``root``: merged items and the files it could not read."""

    root: str
    generated_at: datetime
    tool_version: str
    items: list[Item]
    problems: list[Problem]

    @classmethod
    def merge(
        cls,
        findings: Iterable[Finding],
        problems: Iterable[Problem] = (),
        *,
        root: str | PathLike[str] = ".",
        generated_at: datetime | None = None,
        tool_version: str | None = None,
    ) -> Inventory:
        """Merge findings by (kind, identity); items sorted by kind, then identity.

        Kinds sort in ``ItemKind`` declaration order (models first). Problems are sorted
        and deduplicated.
        """
        groups: dict[tuple[ItemKind, str], list[Finding]] = {}
        for finding in findings:
            groups.setdefault((finding.kind, finding.identity), []).append(finding)
        items = [
            Item.from_findings(groups[key])
            for key in sorted(groups, key=lambda k: (_KIND_ORDER[k[0]], k[1]))
        ]
        return cls(
            root=fspath(root),
            generated_at=generated_at or datetime.now(UTC).replace(microsecond=0),
            tool_version=tool_version or _tool_version(),
            items=items,
            problems=sorted(set(problems), key=lambda p: (p.path, p.message)),
        )

    def by_kind(self, kind: ItemKind) -> list[Item]:
        """The items of one kind, in inventory order."""
        return [item for item in self.items if item.kind is kind]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; ``from_dict`` reads it back unchanged."""
        return {
            "schema": INVENTORY_SCHEMA,
            "root": self.root,
            "generated_at": self.generated_at.isoformat(),
            "tool_version": self.tool_version,
            "items": [item.to_dict() for item in self.items],
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Inventory:
        """Read what ``to_dict`` wrote; anything else is a one-line ``DiscoveryError``."""
        if not isinstance(data, Mapping) or data.get("schema") != INVENTORY_SCHEMA:
            found = data.get("schema") if isinstance(data, Mapping) else type(data).__name__
            raise DiscoveryError(
                "not a stored inventory",
                expected=f"schema {INVENTORY_SCHEMA!r}",
                found=repr(found),
            )
        try:
            generated_at = datetime.fromisoformat(_text(data["generated_at"]))
            problems = [
                Problem(path=_text(p["path"]), message=_text(p["message"]))
                for p in data["problems"]
            ]
            root = _text(data["root"])
            tool_version = _text(data["tool_version"])
            raw_items = list(data["items"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DiscoveryError(
                "a stored inventory is malformed",
                expected=f"an inventory as written by {INVENTORY_SCHEMA}",
                found=f"{type(exc).__name__}: {exc}",
            ) from exc
        return cls(
            root=root,
            generated_at=generated_at,
            tool_version=tool_version,
            items=[Item.from_dict(item) for item in raw_items],
            problems=problems,
        )
