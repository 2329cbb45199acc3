"""The CycloneDX 1.6 export: schema-valid, complete, deterministic, and secret-free."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aibom_sample import (
    DATA_SHA,
    MODEL_SHA,
    SECRET_PATH,
    SECRET_VALUE,
    SERVICE_KEY,
    sample_inventory,
)
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tutela.inventory.export import to_cyclonedx, to_cyclonedx_json
from tutela.inventory.interface import Confidence, Finding, ItemKind, Location
from tutela.inventory.model import Inventory


@pytest.fixture(scope="module")
def bom() -> dict[str, Any]:
    return to_cyclonedx(sample_inventory(), reproducible=True)


def _by_ref(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in [*bom["components"], *bom["services"]]}


def _props(entry: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in entry.get("properties", []) if p["name"] == name]


def _assert_valid(text: str) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, str(errors)


def test_export_is_valid_cyclonedx_1_6() -> None:
    """Both the reproducible and the normal export pass the strict 1.6 JSON schema."""
    inv = sample_inventory()
    for reproducible in (True, False):
        text = to_cyclonedx_json(inv, reproducible=reproducible)
        _assert_valid(text)
        assert json.loads(text)["specVersion"] == "1.6"


def test_component_types_follow_item_kinds(bom: dict[str, Any]) -> None:
    """Models, datasets, packages, frameworks and images get the matching CycloneDX types."""
    types = {c["bom-ref"]: c["type"] for c in bom["components"]}
    assert types == {
        f"model:sha256:{MODEL_SHA}": "machine-learning-model",
        "model:hf/meta-llama/Llama-3.1-8B": "machine-learning-model",
        "model:openai/gpt-4o-mini": "machine-learning-model",
        "dataset:hf/rajpurkar/squad": "data",
        f"dataset:sha256:{DATA_SHA}": "data",
        "package:pypi/requests": "library",
        "package:pypi/numpy": "library",
        "package:pypi/typing-extensions": "library",
        "framework:pypi/torch": "framework",
        "container:oci/python:3.11-slim": "container",
    }
    root = bom["metadata"]["component"]
    assert (root["type"], root["name"]) == ("application", "demo-app")


def test_purls_versions_and_hashes(bom: dict[str, Any]) -> None:
    """Pinned packages carry their version in the purl; ranges do not; digests become hashes."""
    refs = _by_ref(bom)
    assert refs["package:pypi/requests"]["purl"] == "pkg:pypi/requests@2.32.3"
    assert refs["package:pypi/requests"]["version"] == "2.32.3"
    numpy = refs["package:pypi/numpy"]
    assert numpy["purl"] == "pkg:pypi/numpy" and "version" not in numpy
    assert _props(numpy, "tutela:version-range") == [">=1.26"]
    assert refs["package:pypi/typing-extensions"]["purl"] == "pkg:pypi/typing-extensions@4.12.2"
    assert refs["framework:pypi/torch"]["purl"] == "pkg:pypi/torch@2.4.0"
    assert (
        refs["model:hf/meta-llama/Llama-3.1-8B"]["purl"]
        == "pkg:huggingface/meta-llama/Llama-3.1-8B"
    )
    assert refs["container:oci/python:3.11-slim"]["purl"] == (
        "pkg:oci/python?repository_url=docker.io/library/python&tag=3.11-slim"
    )
    assert refs[f"model:sha256:{MODEL_SHA}"]["hashes"] == [{"alg": "SHA-256", "content": MODEL_SHA}]
    assert refs[f"dataset:sha256:{DATA_SHA}"]["hashes"] == [{"alg": "SHA-256", "content": DATA_SHA}]


def test_evidence_properties(bom: dict[str, Any]) -> None:
    """Each component says how sure discovery is, where it was seen and by which detector."""
    llama = _by_ref(bom)["model:hf/meta-llama/Llama-3.1-8B"]
    assert _props(llama, "tutela:confidence") == ["declared"]
    assert _props(llama, "tutela:location") == ["app/generate.py:12", "config/models.yaml:4"]
    assert _props(llama, "tutela:detector") == ["discover.config", "discover.python"]
    assert _props(llama, "tutela:property:license") == ["llama3.1"]


def test_model_card_and_dataset_contents(bom: dict[str, Any]) -> None:
    """A known task fills modelParameters.task; a known training set is referenced by bom-ref."""
    refs = _by_ref(bom)
    card = refs["model:hf/meta-llama/Llama-3.1-8B"]["modelCard"]["modelParameters"]
    assert card == {"task": "text-generation", "datasets": [{"ref": "dataset:hf/rajpurkar/squad"}]}
    assert "modelCard" not in refs["model:openai/gpt-4o-mini"]
    squad = refs["dataset:hf/rajpurkar/squad"]["data"]
    assert squad == [
        {
            "type": "dataset",
            "name": "rajpurkar/squad",
            "contents": {"url": "https://huggingface.co/datasets/rajpurkar/squad"},
        }
    ]


def test_services_have_endpoints_provider_and_trust_boundary(bom: dict[str, Any]) -> None:
    """Remote AI APIs cross the trust boundary, a localhost MCP server does not, stdio: no URL."""
    refs = _by_ref(bom)
    openai = refs["service:openai"]
    assert openai["endpoints"] == ["https://api.openai.com/v1"]
    assert openai["provider"] == {"name": "openai"}
    assert (openai["x-trust-boundary"], openai["trustZone"]) == (True, "external")
    bedrock = refs["service:aws-bedrock"]
    assert bedrock["endpoints"] == ["https://bedrock-runtime.us-east-1.amazonaws.com"]
    assert _props(bedrock, "tutela:property:region") == ["us-east-1"]
    local = refs["mcp-server:mcp/local-tools"]
    assert (local["x-trust-boundary"], local["trustZone"]) == (False, "local")
    stdio = refs["mcp-server:mcp/filesystem"]
    assert "endpoints" not in stdio and "x-trust-boundary" not in stdio
    assert _props(stdio, "tutela:property:transport") == ["stdio"]


def test_dependency_graph(bom: dict[str, Any]) -> None:
    """The application depends on everything exported; an API model depends on its service."""
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    root = bom["metadata"]["component"]["bom-ref"]
    assert deps[root] == set(_by_ref(bom))
    assert deps["model:openai/gpt-4o-mini"] == {"service:openai"}
    assert deps["model:hf/meta-llama/Llama-3.1-8B"] == set()
    known = set(_by_ref(bom)) | {root}
    assert set(deps) <= known and set().union(*deps.values()) <= known


def test_secrets_are_only_counted(bom: dict[str, Any]) -> None:
    """No secret component, value, place or credential-like property reaches the BOM."""
    text = json.dumps(bom)
    for needle in (SECRET_VALUE, SERVICE_KEY, SECRET_PATH, "secret/openai-key", "api_key"):
        assert needle not in text
    assert not [c for c in bom["components"] if "secret" in c["bom-ref"]]
    assert _props(bom["metadata"], "tutela:secret-count") == ["1"]


def test_reproducible_exports_are_identical_and_normal_ones_differ_only_in_id_and_time() -> None:
    """Same inventory, same bytes (reproducible); otherwise only serialNumber and timestamp move."""
    inv = sample_inventory()
    assert to_cyclonedx_json(inv, reproducible=True) == to_cyclonedx_json(inv, reproducible=True)
    first, second = to_cyclonedx(inv), to_cyclonedx(inv)
    assert first["serialNumber"] != second["serialNumber"]
    for doc in (first, second):
        del doc["serialNumber"]
        del doc["metadata"]["timestamp"]
    assert first == second


def test_endpoints_lose_credentials_and_bad_urls_are_dropped() -> None:
    """User info, query and fragment are stripped from endpoints; non-URLs are ignored."""
    finding = Finding(
        kind=ItemKind.SERVICE,
        identity="url/https://user:pw@llm.internal.example:8443/v1?key=abc#x",
        name="internal LLM",
        confidence=Confidence.INFERRED,
        location=Location("app.py", 1),
        detector="t",
        properties={"endpoints": ["not a url", "ftp://files.example/x", "http://[::1]:9/v1"]},
    )
    inv = Inventory.merge([finding], root="r", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    bom = to_cyclonedx(inv, reproducible=True)
    _assert_valid(json.dumps(bom))
    (service,) = bom["services"]
    assert service["endpoints"] == ["https://llm.internal.example:8443/v1"]
    assert _props(service, "tutela:endpoint") == [
        "http://[::1]:9/v1",
        "https://llm.internal.example:8443/v1",
    ]
    assert _props(service, "tutela:identity") == ["url/https://llm.internal.example:8443/v1"]
    assert "pw" not in json.dumps(bom) and "abc" not in json.dumps(bom)
    assert service["trustZone"] == "external"


def test_empty_inventory_is_a_valid_bom() -> None:
    """An inventory with nothing in it still exports a valid document."""
    inv = Inventory.merge([], root="empty", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    text = to_cyclonedx_json(inv, reproducible=True)
    _assert_valid(text)
    assert json.loads(text)["metadata"]["component"]["name"] == "empty"
