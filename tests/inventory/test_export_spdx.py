"""The SPDX 3.0.1 export: loads back with spdx-python-model, AI/Dataset profiles honoured."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import spdx_python_model
from aibom_sample import (
    DATA_SHA,
    MODEL_SHA,
    SECRET_PATH,
    SECRET_VALUE,
    SERVICE_KEY,
    sample_inventory,
)
from spdx_python_model import v3_0_1 as spdx

from tutela.inventory.export import to_spdx, to_spdx_json
from tutela.inventory.model import Inventory

NO_ASSERTION_LICENSE = "expandedlicensing_NoAssertionLicense"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return to_spdx(sample_inventory(), reproducible=True)


def _graph(doc: dict[str, Any]) -> list[dict[str, Any]]:
    graph: list[dict[str, Any]] = doc["@graph"]
    return graph


def _by_name(doc: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in _graph(doc) if o["type"] == type_}


def _ids(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["spdxId"]: o for o in _graph(doc) if "spdxId" in o}


def _rels(doc: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [
        (o["from"], to)
        for o in _graph(doc)
        if o["type"] == "Relationship" and o["relationshipType"] == kind
        for to in o["to"]
    ]


def test_document_loads_back_and_reserialises_identically(doc: dict[str, Any]) -> None:
    """The library reads our JSON-LD, links every reference, and writes the same document."""
    model, objset = spdx_python_model.load_data(json.loads(json.dumps(doc)))
    assert model is spdx
    assert objset.link() == set()
    assert spdx.JSONLDSerializer().serialize_data(objset) == doc


def test_serialiser_enforces_required_properties() -> None:
    """The validation we rely on is live: a dataset without its required type cannot be written."""
    info = spdx.CreationInfo(specVersion="3.0.1", created=datetime(2026, 1, 1, tzinfo=UTC))
    agent = spdx.SoftwareAgent(spdxId="urn:t:agent", name="t", creationInfo=info)
    info.createdBy.append(agent)
    bad = spdx.dataset_DatasetPackage(spdxId="urn:t:d", name="d", creationInfo=info)
    with pytest.raises(ValueError, match="dataset_datasetType"):
        spdx.JSONLDSerializer().serialize_data(spdx.SHACLObjectSet([agent, bad]))


def test_document_header_and_profiles(doc: dict[str, Any]) -> None:
    """SPDX 3.0.1 context, creation info, and conformance to core/software/ai/dataset."""
    assert doc["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    (info,) = [o for o in _graph(doc) if o["type"] == "CreationInfo"]
    assert info["specVersion"] == "3.0.1"
    assert info["created"] == "2026-01-02T03:04:05Z"
    (document,) = [o for o in _graph(doc) if o["type"] == "SpdxDocument"]
    assert {"core", "software", "ai", "dataset"} <= set(document["profileConformance"])
    (sbom,) = [o for o in _graph(doc) if o["type"] == "software_Sbom"]
    assert document["rootElement"] == [sbom["spdxId"]]
    assert sbom["software_sbomType"] == ["analyzed"]


def test_models_are_ai_packages(doc: dict[str, Any]) -> None:
    """Each model is an ai_AIPackage with what is known: purl, hash, supplier, download page."""
    models = _by_name(doc, "ai_AIPackage")
    assert set(models) == {"classifier.safetensors", "meta-llama/Llama-3.1-8B", "gpt-4o-mini"}
    assert all(m["software_primaryPurpose"] == "model" for m in models.values())
    local = models["classifier.safetensors"]
    assert local["verifiedUsing"] == [
        {"type": "Hash", "algorithm": "sha256", "hashValue": MODEL_SHA}
    ]
    assert local["ai_informationAboutApplication"] == "task: text-classification"
    assert "suppliedBy" not in local  # unknown, so not invented
    llama = models["meta-llama/Llama-3.1-8B"]
    assert llama["software_packageUrl"] == "pkg:huggingface/meta-llama/Llama-3.1-8B"
    assert llama["software_downloadLocation"] == "https://huggingface.co/meta-llama/Llama-3.1-8B"
    assert _ids(doc)[llama["suppliedBy"]]["name"] == "meta-llama"


def test_datasets_are_dataset_packages(doc: dict[str, Any]) -> None:
    """A known dataset type is used; otherwise the spec's noAssertion, never a guess."""
    datasets = _by_name(doc, "dataset_DatasetPackage")
    squad, parquet = datasets["rajpurkar/squad"], datasets["train.parquet"]
    assert squad["dataset_datasetType"] == ["text"]
    assert squad["software_downloadLocation"] == "https://huggingface.co/datasets/rajpurkar/squad"
    assert parquet["dataset_datasetType"] == ["noAssertion"]
    assert parquet["verifiedUsing"][0]["hashValue"] == DATA_SHA
    assert all(d["software_primaryPurpose"] == "data" for d in datasets.values())


def test_ai_and_dataset_packages_have_one_declared_and_one_concluded_licence(
    doc: dict[str, Any],
) -> None:
    """AI and Dataset profile conformance: exactly one of each licence relationship."""
    ai_and_data = [
        o["spdxId"] for o in _graph(doc) if o["type"] in {"ai_AIPackage", "dataset_DatasetPackage"}
    ]
    declared = _rels(doc, "hasDeclaredLicense")
    concluded = _rels(doc, "hasConcludedLicense")
    for element in ai_and_data:
        assert len([t for f, t in declared if f == element]) == 1
        assert [t for f, t in concluded if f == element] == [NO_ASSERTION_LICENSE]
    llama = _by_name(doc, "ai_AIPackage")["meta-llama/Llama-3.1-8B"]["spdxId"]
    (licence,) = [t for f, t in declared if f == llama]
    assert _ids(doc)[licence]["simplelicensing_licenseExpression"] == "llama3.1"


def test_packages_frameworks_and_images(doc: dict[str, Any]) -> None:
    """Libraries, frameworks and images are software_Packages with purls; ranges stay comments."""
    packages = _by_name(doc, "software_Package")
    assert packages["requests"]["software_packageUrl"] == "pkg:pypi/requests@2.32.3"
    assert packages["requests"]["software_packageVersion"] == "2.32.3"
    assert packages["requests"]["software_primaryPurpose"] == "library"
    assert "software_packageVersion" not in packages["numpy"]
    assert "declared version range: >=1.26" in packages["numpy"]["comment"]
    assert packages["torch"]["software_primaryPurpose"] == "framework"
    assert packages["python"]["software_primaryPurpose"] == "container"
    assert packages["python"]["software_packageUrl"].startswith("pkg:oci/python?")
    assert packages["requests"]["externalIdentifier"] == [
        {
            "type": "ExternalIdentifier",
            "externalIdentifierType": "packageUrl",
            "identifier": "pkg:pypi/requests@2.32.3",
        }
    ]


def test_services_are_packages_with_endpoints(doc: dict[str, Any]) -> None:
    """Services and MCP servers: purpose other, endpoints as ExternalRef locators, said so."""
    packages = _by_name(doc, "software_Package")
    openai = packages["OpenAI API"]
    assert openai["software_primaryPurpose"] == "other"
    assert openai["externalRef"][0]["locator"] == ["https://api.openai.com/v1"]
    assert "no service class" in openai["summary"]
    assert _ids(doc)[openai["suppliedBy"]]["name"] == "openai"
    assert packages["Amazon Bedrock"]["externalRef"][0]["locator"] == [
        "https://bedrock-runtime.us-east-1.amazonaws.com"
    ]
    assert "MCP server" in packages["filesystem"]["summary"]
    assert "externalRef" not in packages["filesystem"]


def test_relationships(doc: dict[str, Any]) -> None:
    """The application depends on every exported element; an API model on its service."""
    ids = _ids(doc)
    names = {i: o.get("name") for i, o in ids.items()}
    root = _by_name(doc, "software_Package")["demo-app"]["spdxId"]
    depends = _rels(doc, "dependsOn")
    from_root = {names[t] for f, t in depends if f == root}
    exported = {
        o["name"]
        for o in _graph(doc)
        if o["type"] in {"ai_AIPackage", "dataset_DatasetPackage", "software_Package"}
    } - {"demo-app"}
    assert from_root == exported and len(exported) == 14
    assert {(names[f], names[t]) for f, t in depends if f != root} == {
        ("gpt-4o-mini", "OpenAI API")
    }


def test_secrets_are_only_counted(doc: dict[str, Any]) -> None:
    """No secret element, value, place or credential-like property reaches the document."""
    text = json.dumps(doc)
    for needle in (SECRET_VALUE, SERVICE_KEY, SECRET_PATH, "secret/openai-key", "api_key"):
        assert needle not in text
    (document,) = [o for o in _graph(doc) if o["type"] == "SpdxDocument"]
    assert "Secrets found: 1" in document["comment"]


def test_reproducible_exports_are_identical() -> None:
    """Same inventory, same bytes when reproducible; a fresh namespace otherwise."""
    inv = sample_inventory()
    assert to_spdx_json(inv, reproducible=True) == to_spdx_json(inv, reproducible=True)
    first, second = to_spdx(inv), to_spdx(inv)
    first_ids = {o.get("spdxId") for o in _graph(first)}
    assert first_ids.isdisjoint({o.get("spdxId") for o in _graph(second)} - {None})


def test_empty_inventory_exports() -> None:
    """An inventory with nothing in it still writes and loads back."""
    inv = Inventory.merge([], root="empty", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    data = json.loads(to_spdx_json(inv, reproducible=True))
    _, objset = spdx_python_model.load_data(data)
    assert objset.link() == set()
