"""The inventory as an SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles.

Built with spdx-python-model's 3.0.1 bindings and serialised by its own JSON-LD serializer.
SPDX 3.0.1 has no class for a network service, so AI services and MCP servers become
``software_Package`` elements with purpose ``other``, their endpoints as ``ExternalRef``
locators and a comment saying what they are (docs/aibom.md explains the choice). Fields
Tutela cannot know (release time, a supplier of a local file) are left out rather than
invented; licences nobody declared are ``NoAssertionLicense``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from spdx_python_model import v3_0_1 as spdx

from tutela.bom.spdx import NO_ASSERTION_LICENSE, SPDX_SPEC_VERSION, SpdxScaffold
from tutela.inventory.export.identifiers import (
    dataset_url,
    endpoints,
    export_refs,
    package_url,
    public_properties,
    related_services,
    scrub,
    secret_count,
    sha256_of,
)
from tutela.inventory.interface import ItemKind
from tutela.inventory.model import Inventory, Item, is_pinned

__all__ = ["SPDX_SPEC_VERSION", "to_spdx", "to_spdx_json"]

_SERVICE_KINDS = (ItemKind.SERVICE, ItemKind.MCP_SERVER)
_DATASET_TYPES = frozenset(spdx.dataset_DatasetType.NAMED_INDIVIDUALS)


def _document_id(inv: Inventory, reproducible: bool) -> str:
    if not reproducible:
        return str(uuid.uuid4())
    canonical = json.dumps(inv.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tutela:spdx:" + digest))


class _Builder(SpdxScaffold):
    """The inventory's document frame while elements are made."""

    def __init__(self, inv: Inventory, *, reproducible: bool) -> None:
        created = inv.generated_at if reproducible else datetime.now(UTC)
        super().__init__(_document_id(inv, reproducible), created, inv.tool_version)
        self.inv = inv
        self.elements: dict[str, spdx.Element] = {}
        self.relationships: list[spdx.Relationship] = []
        self.organizations: dict[str, spdx.Organization] = {}
        self.refs = export_refs(inv)

    def organization(self, name: str) -> spdx.Organization:
        if name not in self.organizations:
            self.organizations[name] = spdx.Organization(
                spdxId=self.id("organization", name), name=name, creationInfo=self.info
            )
        return self.organizations[name]

    def relate(self, source: spdx.Element, kind: str, target: spdx.Element | str) -> None:
        target_id = target if isinstance(target, str) else target.get_id() or ""
        source_id = source.get_id() or ""
        key = (source_id.removeprefix(self.base), kind, target_id.removeprefix(self.base))
        self.relationships.append(self.relationship(source, kind, target, key))


def _common(b: _Builder, item: Item, element: spdx.software_Package) -> None:
    """Fields every exported item gets: name, version, purl, hash and evidence."""
    element.name = scrub(item.name)
    if item.version and is_pinned(item.version):
        element.software_packageVersion = item.version.lstrip("=")
    purl = package_url(item)
    if purl:
        element.software_packageUrl = purl
        element.externalIdentifier.append(
            spdx.ExternalIdentifier(
                externalIdentifierType=spdx.ExternalIdentifierType.packageUrl, identifier=purl
            )
        )
    digest = sha256_of(item)
    if digest:
        element.verifiedUsing.append(
            spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=digest)
        )
    lines = [
        f"tutela: {item.kind.value} {scrub(item.identity)} ({item.confidence.value})",
        "found at: " + ", ".join(str(loc) for loc in item.locations),
        "detectors: " + ", ".join(item.detectors),
    ]
    if item.version and not is_pinned(item.version):
        lines.append(f"declared version range: {item.version}")
    lines += [f"{key}: {value}" for key, value in public_properties(item)]
    element.comment = "\n".join(lines)


def _licenses(b: _Builder, item: Item, element: spdx.software_Package) -> None:
    """AI and Dataset profile conformance: one declared and one concluded licence each."""
    declared = item.properties.get("license")
    if isinstance(declared, str) and declared.strip():
        expression = spdx.simplelicensing_LicenseExpression(
            spdxId=b.id("license", b.refs[item.key()]),
            creationInfo=b.info,
            simplelicensing_licenseExpression=declared.strip(),
        )
        b.elements[expression.get_id() or ""] = expression
        b.relate(element, "hasDeclaredLicense", expression)
    else:
        b.relate(element, "hasDeclaredLicense", NO_ASSERTION_LICENSE)
    # Tutela reads what is declared; it does not conclude a licence.
    b.relate(element, "hasConcludedLicense", NO_ASSERTION_LICENSE)


def _hub_org(item: Item) -> str | None:
    if not item.identity.startswith("hf/"):
        return None
    namespace = item.identity[3:].rpartition("/")[0]
    return namespace or None


def _model(b: _Builder, item: Item) -> spdx.ai_AIPackage:
    element = spdx.ai_AIPackage(
        spdxId=b.id(b.refs[item.key()]),
        creationInfo=b.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.model,
    )
    _common(b, item, element)
    if item.identity.startswith("hf/"):
        element.software_downloadLocation = f"https://huggingface.co/{item.identity[3:]}"
    supplier = _hub_org(item) or item.properties.get("provider")
    if isinstance(supplier, str) and supplier:
        element.suppliedBy = b.organization(supplier)
    for key in ("architecture", "model_type"):
        value = item.properties.get(key)
        if isinstance(value, str) and value and value not in element.ai_typeOfModel:
            element.ai_typeOfModel.append(value)
    task = item.properties.get("task")
    if isinstance(task, str) and task:
        element.ai_informationAboutApplication = f"task: {task}"
    _licenses(b, item, element)
    return element


def _dataset(b: _Builder, item: Item) -> spdx.dataset_DatasetPackage:
    kind = item.properties.get("dataset_type")
    element = spdx.dataset_DatasetPackage(
        spdxId=b.id(b.refs[item.key()]),
        creationInfo=b.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.data,
        # The profile requires a type; "noAssertion" is the spec's "not known".
        dataset_datasetType=[
            getattr(spdx.dataset_DatasetType, kind if kind in _DATASET_TYPES else "noAssertion")
        ],
    )
    _common(b, item, element)
    url = dataset_url(item)
    if url:
        element.software_downloadLocation = url
    org = _hub_org(item)
    if org:
        element.originatedBy.append(b.organization(org))
    _licenses(b, item, element)
    return element


_PURPOSES = {
    ItemKind.PACKAGE: "library",
    ItemKind.FRAMEWORK: "framework",
    ItemKind.CONTAINER: "container",
}


def _package(b: _Builder, item: Item) -> spdx.software_Package:
    element = spdx.software_Package(
        spdxId=b.id(b.refs[item.key()]),
        creationInfo=b.info,
        software_primaryPurpose=getattr(spdx.software_SoftwarePurpose, _PURPOSES[item.kind]),
    )
    _common(b, item, element)
    return element


def _service(b: _Builder, item: Item) -> spdx.software_Package:
    element = spdx.software_Package(
        spdxId=b.id(b.refs[item.key()]),
        creationInfo=b.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.other,
    )
    _common(b, item, element)
    what = "an MCP server" if item.kind is ItemKind.MCP_SERVER else "a network AI service"
    element.summary = f"{what} (SPDX 3.0.1 has no service class; modelled as a package)"
    urls = endpoints(item)
    if urls:
        element.externalRef.append(
            spdx.ExternalRef(
                externalRefType=spdx.ExternalRefType.other,
                locator=urls,
                comment="service endpoint",
            )
        )
    provider = item.properties.get("provider")
    if isinstance(provider, str) and provider:
        element.suppliedBy = b.organization(provider)
    return element


def _element(b: _Builder, item: Item) -> spdx.software_Package | None:
    if item.kind is ItemKind.MODEL:
        return _model(b, item)
    if item.kind is ItemKind.DATASET:
        return _dataset(b, item)
    if item.kind in _PURPOSES:
        return _package(b, item)
    if item.kind in _SERVICE_KINDS:
        return _service(b, item)
    return None  # secrets: never elements of a BOM


def _document(inv: Inventory, *, reproducible: bool) -> spdx.SHACLObjectSet:
    b = _Builder(inv, reproducible=reproducible)
    root_name = PurePosixPath(inv.root.replace("\\", "/")).name or inv.root or "."
    root = spdx.software_Package(
        spdxId=b.id("application", root_name),
        name=root_name,
        creationInfo=b.info,
        software_primaryPurpose=spdx.software_SoftwarePurpose.application,
        comment=f"the tree Tutela inventoried: {inv.root}",
    )
    packages: dict[str, spdx.software_Package] = {}
    for item in inv.items:
        element = _element(b, item)
        if element is not None:
            packages[item.key()] = element
            b.relate(root, "dependsOn", element)
    services = [i for i in inv.items if i.kind in _SERVICE_KINDS]
    for model in inv.by_kind(ItemKind.MODEL):
        for service in related_services(model, services):
            b.relate(packages[model.key()], "dependsOn", packages[service.key()])
    members: list[spdx.Element] = [
        root,
        *packages.values(),
        *b.organizations.values(),
        *b.elements.values(),
        *b.relationships,
    ]
    return b.objects(
        name=f"Tutela AI-BOM of {root_name}",
        root=root,
        members=members,
        comment=(
            f"Secrets found: {secret_count(inv)} (never exported: no values, types or places). "
            f"Files that could not be read: {len(inv.problems)}."
        ),
    )


def to_spdx(inv: Inventory, *, reproducible: bool = False) -> dict[str, Any]:
    """The inventory as an SPDX 3.0.1 JSON-LD document (JSON-ready dict).

    With ``reproducible=True`` the document namespace and creation time derive from the
    inventory, so equal inventories give identical documents.
    """
    data: dict[str, Any] = spdx.JSONLDSerializer().serialize_data(
        _document(inv, reproducible=reproducible)
    )
    return data


def to_spdx_json(inv: Inventory, *, reproducible: bool = False, indent: int = 2) -> str:
    """``to_spdx`` serialised as JSON text."""
    return (
        json.dumps(to_spdx(inv, reproducible=reproducible), indent=indent, ensure_ascii=False)
        + "\n"
    )
