"""The inventory as a CycloneDX 1.6 JSON AI-BOM, built with cyclonedx-python-lib.

The library's model has no ``modelCard``, component ``data`` or service ``trustZone``
(all three are CycloneDX 1.6); they are added to the serialised document afterwards and the
whole document is checked against the 1.6 schema in the tests. docs/aibom.md maps each
inventory kind to the fields used.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.service import Service
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.output.json import Json as JsonOutputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from tutela.bom.cyclonedx import CYCLONEDX_SPEC_VERSION, PROPERTY_PREFIX
from tutela.inventory.export.identifiers import (
    dataset_url,
    endpoints,
    export_refs,
    is_local,
    package_url,
    public_properties,
    related_services,
    scrub,
    secret_count,
    sha256_of,
)
from tutela.inventory.interface import ItemKind
from tutela.inventory.model import Inventory, Item, is_pinned

__all__ = ["CYCLONEDX_SPEC_VERSION", "to_cyclonedx", "to_cyclonedx_json"]

_P = PROPERTY_PREFIX

_COMPONENT_TYPES = {
    ItemKind.MODEL: ComponentType.MACHINE_LEARNING_MODEL,
    ItemKind.DATASET: ComponentType.DATA,
    ItemKind.FRAMEWORK: ComponentType.FRAMEWORK,
    ItemKind.PACKAGE: ComponentType.LIBRARY,
    ItemKind.CONTAINER: ComponentType.CONTAINER,
}
_SERVICE_KINDS = (ItemKind.SERVICE, ItemKind.MCP_SERVER)


def _root_ref(inv: Inventory) -> str:
    return f"application:{_root_name(inv)}"


def _root_name(inv: Inventory) -> str:
    return PurePosixPath(inv.root.replace("\\", "/")).name or inv.root or "."


def _item_properties(item: Item) -> list[Property]:
    props = [
        Property(name=f"{_P}kind", value=item.kind.value),
        Property(name=f"{_P}identity", value=scrub(item.identity)),
        Property(name=f"{_P}confidence", value=item.confidence.value),
    ]
    if item.version and not is_pinned(item.version):
        props.append(Property(name=f"{_P}version-range", value=item.version))
    props += [Property(name=f"{_P}location", value=str(loc)) for loc in item.locations]
    props += [Property(name=f"{_P}detector", value=d) for d in item.detectors]
    props += [Property(name=f"{_P}endpoint", value=u) for u in endpoints(item)]
    props += [Property(name=f"{_P}property:{k}", value=v) for k, v in public_properties(item)]
    return props


def _pinned(version: str | None) -> str | None:
    """A component version is one release; a requirement range is kept as a property."""
    return version.lstrip("=") if version and is_pinned(version) else None


def _component(item: Item, ref: str) -> Component:
    digest = sha256_of(item)
    purl = package_url(item)
    return Component(
        type=_COMPONENT_TYPES[item.kind],
        name=scrub(item.name),
        version=_pinned(item.version),
        bom_ref=ref,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)] if digest else None,
        purl=PackageURL.from_string(purl) if purl else None,
        properties=_item_properties(item),
    )


def _service(item: Item, ref: str) -> Service:
    urls = endpoints(item)
    provider = item.properties.get("provider")
    crosses = None if not urls else not all(is_local(u) for u in urls)
    return Service(
        name=scrub(item.name),
        version=item.version,
        bom_ref=ref,
        provider=OrganizationalEntity(name=provider) if isinstance(provider, str) else None,
        x_trust_boundary=crosses,
        properties=_item_properties(item),
    )


def _model_card(item: Item, known: dict[str, Item], refs: dict[str, str]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for key, field in (("task", "task"), ("architecture", "architectureFamily")):
        value = item.properties.get(key)
        if isinstance(value, str) and value:
            params[field] = value
    trained_on = item.properties.get("datasets")
    if isinstance(trained_on, list):
        used = sorted(
            {
                refs[known[name].key()]
                for name in trained_on
                if isinstance(name, str) and name in known and known[name].kind is ItemKind.DATASET
            }
        )
        if used:
            params["datasets"] = [{"ref": r} for r in used]
    return {"modelParameters": params} if params else None


def _data(item: Item) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {"type": "dataset", "name": scrub(item.name)}
    url = dataset_url(item)
    if url:
        entry["contents"] = {"url": url}
    return [entry]


def _known(inv: Inventory) -> dict[str, Item]:
    """Items addressable by identity or key (how a model names its datasets)."""
    known: dict[str, Item] = {}
    for item in inv.items:
        known.setdefault(item.key(), item)
        if item.kind is ItemKind.DATASET:
            known.setdefault(item.identity, item)
    return known


def _serial(inv: Inventory) -> uuid.UUID:
    canonical = json.dumps(inv.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    return uuid.uuid5(
        uuid.NAMESPACE_URL, "tutela:cyclonedx:" + hashlib.sha256(canonical.encode()).hexdigest()
    )


def _bom(inv: Inventory, *, reproducible: bool) -> Bom:
    tool = Component(
        type=ComponentType.APPLICATION,
        name="tutela",
        version=inv.tool_version,
        bom_ref="tool:tutela",
    )
    root = Component(
        type=ComponentType.APPLICATION,
        name=_root_name(inv),
        bom_ref=_root_ref(inv),
        properties=[Property(name=f"{_P}root", value=inv.root)],
    )
    metadata_props = [
        Property(name=f"{_P}secret-count", value=str(secret_count(inv))),
        Property(name=f"{_P}problem-count", value=str(len(inv.problems))),
        Property(name=f"{_P}inventory-generated-at", value=inv.generated_at.isoformat()),
    ]
    refs = export_refs(inv)
    components = [_component(i, refs[i.key()]) for i in inv.items if i.kind in _COMPONENT_TYPES]
    services = [_service(i, refs[i.key()]) for i in inv.items if i.kind in _SERVICE_KINDS]
    bom = Bom(
        serial_number=_serial(inv) if reproducible else uuid.uuid4(),
        metadata=BomMetaData(
            tools=ToolRepository(components=[tool]),
            component=root,
            properties=metadata_props,
            timestamp=inv.generated_at if reproducible else datetime.now(UTC),
        ),
        components=components,
        services=services,
    )
    everything: list[Component | Service] = [*components, *services]
    bom.register_dependency(root, everything)
    by_ref: dict[str | None, Component | Service] = {x.bom_ref.value: x for x in everything}
    service_items = [i for i in inv.items if i.kind in _SERVICE_KINDS]
    for model in inv.by_kind(ItemKind.MODEL):
        used = [by_ref[refs[s.key()]] for s in related_services(model, service_items)]
        if used:
            bom.register_dependency(by_ref[refs[model.key()]], used)
    return bom


def _patch(
    entries: list[dict[str, Any]],
    items: dict[str, Item],
    fn: Callable[[Item], dict[str, Any] | None],
) -> None:
    for entry in entries:
        item = items.get(entry.get("bom-ref", ""))
        if item is not None:
            extra = fn(item)
            if extra:
                entry.update(extra)


def to_cyclonedx(inv: Inventory, *, reproducible: bool = False) -> dict[str, Any]:
    """The inventory as a CycloneDX 1.6 document (JSON-ready dict).

    Secrets are not components: ``metadata.properties`` carries only their count.
    With ``reproducible=True`` the serial number and timestamp derive from the inventory,
    so equal inventories give byte-identical documents.
    """
    outputter = make_outputter(
        _bom(inv, reproducible=reproducible), OutputFormat.JSON, SchemaVersion.V1_6
    )
    assert isinstance(outputter, JsonOutputter)
    document: dict[str, Any] = json.loads(outputter.output_as_string())
    refs = export_refs(inv)
    items = {refs[i.key()]: i for i in inv.items if i.key() in refs}
    known = _known(inv)

    def component_extra(item: Item) -> dict[str, Any] | None:
        if item.kind is ItemKind.MODEL:
            card = _model_card(item, known, refs)
            return {"modelCard": card} if card else None
        if item.kind is ItemKind.DATASET:
            return {"data": _data(item)}
        return None

    def service_extra(item: Item) -> dict[str, Any] | None:
        urls = endpoints(item)
        if not urls:
            return None
        zone = "local" if all(is_local(u) for u in urls) else "external"
        # Set here, not through the library, whose XsUri percent-encodes IPv6 brackets; IPv6
        # literals fail the schema's iri-reference check, so they stay in properties only.
        listed = [u for u in urls if "[" not in u]
        return {"endpoints": listed, "trustZone": zone} if listed else {"trustZone": zone}

    _patch(document.get("components", []), items, component_extra)
    _patch(document.get("services", []), items, service_extra)
    return document


def to_cyclonedx_json(inv: Inventory, *, reproducible: bool = False, indent: int = 2) -> str:
    """``to_cyclonedx`` serialised as JSON text."""
    return (
        json.dumps(to_cyclonedx(inv, reproducible=reproducible), indent=indent, ensure_ascii=False)
        + "\n"
    )
