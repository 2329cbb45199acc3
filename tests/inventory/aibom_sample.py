"""A hand-built inventory holding every kind of item, shared by the export tests."""

from __future__ import annotations

from datetime import UTC, datetime

from tutela.inventory.interface import Confidence, Finding, ItemKind, Location
from tutela.inventory.model import Inventory

MODEL_SHA = "a" * 64
DATA_SHA = "b" * 64
SECRET_VALUE = "sk-proj-NEVER-EXPORT-THIS-1234567890"
SERVICE_KEY = "sk-live-ALSO-NEVER-EXPORTED"
SECRET_PATH = "deploy/.env.production"
GENERATED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

D, INF = Confidence.DECLARED, Confidence.INFERRED


def _f(
    kind: ItemKind,
    identity: str,
    name: str,
    where: str,
    confidence: Confidence = D,
    version: str | None = None,
    detector: str = "discover.test",
    **props: object,
) -> Finding:
    path, _, line = where.partition(":")
    return Finding(
        kind=kind,
        identity=identity,
        name=name,
        confidence=confidence,
        location=Location(path, int(line) if line else None),
        detector=detector,
        version=version,
        properties=dict(props),
    )


def sample_findings() -> list[Finding]:
    """Every kind, some found twice, in no particular order."""
    return [
        _f(
            ItemKind.SECRET,
            "secret/openai-key/" + SECRET_PATH,
            "OpenAI API key",
            SECRET_PATH + ":3",
            INF,
            match=SECRET_VALUE,
        ),
        _f(
            ItemKind.MODEL,
            f"sha256:{MODEL_SHA}",
            "classifier.safetensors",
            "models/classifier.safetensors",
            INF,
            format="safetensors",
            task="text-classification",
        ),
        _f(
            ItemKind.MODEL,
            "hf/meta-llama/Llama-3.1-8B",
            "meta-llama/Llama-3.1-8B",
            "app/generate.py:12",
            INF,
            detector="discover.python",
            task="text-generation",
            datasets=["hf/rajpurkar/squad"],
        ),
        _f(
            ItemKind.MODEL,
            "hf/meta-llama/Llama-3.1-8B",
            "meta-llama/Llama-3.1-8B",
            "config/models.yaml:4",
            D,
            detector="discover.config",
            license="llama3.1",
            datasets=["hf/rajpurkar/squad", "hf/other/unknown"],
        ),
        _f(
            ItemKind.MODEL,
            "openai/gpt-4o-mini",
            "gpt-4o-mini",
            "app/chat.py:8",
            INF,
            detector="discover.python",
            provider="openai",
        ),
        _f(
            ItemKind.DATASET,
            "hf/rajpurkar/squad",
            "rajpurkar/squad",
            "app/train.py:20",
            INF,
            dataset_type="text",
        ),
        _f(ItemKind.DATASET, f"sha256:{DATA_SHA}", "train.parquet", "data/train.parquet", INF),
        _f(ItemKind.PACKAGE, "pypi/requests", "requests", "requirements.txt:1", D, "==2.32.3"),
        _f(ItemKind.PACKAGE, "pypi/numpy", "numpy", "requirements.txt:2", D, ">=1.26"),
        _f(
            ItemKind.PACKAGE,
            "pypi/typing-extensions",
            "Typing_Extensions",
            ".venv/lib/typing_extensions.dist-info/METADATA",
            INF,
            "4.11.0",
            detector="discover.venv",
        ),
        _f(
            ItemKind.PACKAGE,
            "pypi/typing-extensions",
            "typing-extensions",
            "uv.lock:40",
            D,
            "4.12.2",
            detector="discover.lock",
        ),
        _f(ItemKind.FRAMEWORK, "pypi/torch", "torch", "requirements.txt:3", D, "2.4.0"),
        _f(
            ItemKind.FRAMEWORK,
            "pypi/torch",
            "torch",
            "app/train.py:1",
            INF,
            detector="discover.python",
        ),
        _f(
            ItemKind.SERVICE,
            "openai",
            "OpenAI API",
            "app/chat.py:5",
            INF,
            detector="discover.python",
            provider="openai",
            base_url="https://api.openai.com/v1",
            api_key=SERVICE_KEY,
        ),
        _f(
            ItemKind.SERVICE,
            "aws-bedrock",
            "Amazon Bedrock",
            "app/bedrock.py:3",
            INF,
            detector="discover.python",
            provider="aws",
            region="us-east-1",
            endpoint="https://bedrock-runtime.us-east-1.amazonaws.com",
        ),
        _f(
            ItemKind.MCP_SERVER,
            "mcp/filesystem",
            "filesystem",
            ".mcp.json:3",
            D,
            transport="stdio",
            command="npx",
        ),
        _f(
            ItemKind.MCP_SERVER,
            "mcp/local-tools",
            "local-tools",
            ".mcp.json:9",
            D,
            url="http://localhost:8931/mcp",
        ),
        _f(ItemKind.CONTAINER, "oci/python:3.11-slim", "python", "Dockerfile:1", D, "3.11-slim"),
    ]


def sample_inventory() -> Inventory:
    """The sample findings merged, with a fixed time and tool version."""
    return Inventory.merge(
        sample_findings(),
        [],
        root="/src/demo-app",
        generated_at=GENERATED_AT,
        tool_version="0.1.0",
    )
