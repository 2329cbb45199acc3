"""Dependency manifests and lock files: what a project says it depends on.

Each declared dependency becomes a ``PACKAGE`` finding (``pypi/<PEP 503 name>``, the exact
version only when pinned or locked) and, for an AI/ML distribution (``catalog``), also a
``FRAMEWORK`` finding with the same identity. Everything here is ``DECLARED``: the file
says so. Nothing is executed, installed or fetched; includes (``-r other.txt``) are not
followed (the walker hands every requirements file to this package on its own).

One module per format family: ``common`` (requirements, findings, text and URL helpers),
``requirements``, ``pyproject``, ``locks`` (poetry.lock, uv.lock, Pipfile.lock),
``pipfile``, ``conda`` and ``setupcfg``.
"""

from __future__ import annotations

from tutela.inventory.manifests.common import (
    MAX_MANIFEST_BYTES,
    Requirement,
    guarded,
    name_from_archive,
    package_findings,
    parse_requirement,
    parse_text,
    read_manifest_text,
    redact_url,
)
from tutela.inventory.manifests.conda import CondaEnvironmentDetector
from tutela.inventory.manifests.locks import (
    PipfileLockDetector,
    PoetryLockDetector,
    UvLockDetector,
)
from tutela.inventory.manifests.pipfile import PipfileDetector
from tutela.inventory.manifests.pyproject import PyprojectDetector
from tutela.inventory.manifests.requirements import RequirementsDetector
from tutela.inventory.manifests.setupcfg import SetupCfgDetector

__all__ = [
    "MANIFEST_DETECTORS",
    "MAX_MANIFEST_BYTES",
    "CondaEnvironmentDetector",
    "PipfileDetector",
    "PipfileLockDetector",
    "PoetryLockDetector",
    "PyprojectDetector",
    "Requirement",
    "RequirementsDetector",
    "SetupCfgDetector",
    "UvLockDetector",
    "guarded",
    "name_from_archive",
    "package_findings",
    "parse_requirement",
    "parse_text",
    "read_manifest_text",
    "redact_url",
]

# One instance of each (detectors hold no state).
MANIFEST_DETECTORS: tuple[
    RequirementsDetector
    | PyprojectDetector
    | PoetryLockDetector
    | UvLockDetector
    | PipfileDetector
    | PipfileLockDetector
    | CondaEnvironmentDetector
    | SetupCfgDetector,
    ...,
] = (
    RequirementsDetector(),
    PyprojectDetector(),
    PoetryLockDetector(),
    UvLockDetector(),
    PipfileDetector(),
    PipfileLockDetector(),
    CondaEnvironmentDetector(),
    SetupCfgDetector(),
)
