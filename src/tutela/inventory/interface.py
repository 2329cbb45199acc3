"""Shared types of discovery: what a detector reports and how the inventory holds it.

A *detector* reads one file (already read once by the walker: path, bytes) and returns
``Finding``s. The inventory merges findings that name the same thing (same ``kind`` and
``identity``) into one ``Item`` carrying every evidence location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from tutela.errors import TutelaError

__all__ = [
    "Confidence",
    "DiscoveryError",
    "FileDetector",
    "FileInput",
    "Finding",
    "ItemKind",
    "Location",
    "Problem",
]


class DiscoveryError(TutelaError):
    code = "discovery"


class ItemKind(StrEnum):
    MODEL = "model"  # a model file or folder, or a model named in code (a hub id)
    DATASET = "dataset"
    SERVICE = "service"  # a third-party AI API / endpoint (OpenAI, Bedrock, any base_url)
    FRAMEWORK = "framework"  # an AI/ML library used in code or declared
    PACKAGE = "package"  # any declared or installed distribution (for the BOM)
    MCP_SERVER = "mcp-server"
    CONTAINER = "container"  # a Dockerfile base image
    SECRET = "secret"  # noqa: S105 - a kind name: a credential is reported by type and place only


class Confidence(StrEnum):
    DECLARED = "declared"  # a manifest, config or lock file says so
    INFERRED = "inferred"  # code or content suggests it


@dataclass(frozen=True, slots=True)
class Location:
    path: str  # relative to the discovery root, '/'-separated
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(slots=True)
class Finding:
    """One thing one detector saw in one place.

    ``identity`` is the normalised name used to merge findings across files:
    ``openai/gpt-4o-mini`` (provider/model), ``pypi/torch`` (package, version kept in
    ``version``), ``hf/meta-llama/Llama-3.1-8B``, ``sha256:…`` (a file), ``url/https://…``.
    """

    kind: ItemKind
    identity: str
    name: str
    confidence: Confidence
    location: Location
    detector: str  # stable id, e.g. "discover.python"
    version: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """A file that could not be read or parsed: reported and skipped, never fatal."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class FileInput:
    """One file as the walker hands it to detectors: read once, shared by all."""

    root: Path
    rel: str  # '/'-separated, relative to root
    data: bytes  # the first ``max_bytes`` bytes (whole file when smaller)
    size: int  # the real size on disk
    truncated: bool

    @property
    def path(self) -> Path:
        return self.root / self.rel

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    def text(self) -> str | None:
        """The content as UTF-8 text, or ``None`` when it is not text."""
        if b"\x00" in self.data[:8192]:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


class FileDetector(Protocol):
    """A detector: a class with a stable ``id``, a cheap ``wants`` and ``detect``."""

    id: str

    def wants(self, rel: str, name: str) -> bool:
        """Whether this detector needs the file (decided on the name alone)."""
        ...

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        """Findings in the file; problems for what could not be parsed. Never raises."""
        ...
