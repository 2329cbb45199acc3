"""Installed distributions of a Python environment, from their metadata files only.

An environment is inventoried through ``<name>.dist-info/METADATA`` (and the older
``<name>.egg-info/PKG-INFO`` or single-file ``.egg-info``) under a ``site-packages`` or
``dist-packages`` folder. Only the email-style header block is parsed, with a size limit;
nothing installed is imported or executed, and ``RECORD`` is not needed.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from pathlib import Path

from tutela.inventory.interface import FileInput, Finding, Location, Problem
from tutela.inventory.manifests import guarded, package_findings

__all__ = ["MAX_METADATA_BYTES", "DistributionDetector", "is_venv_root"]

MAX_METADATA_BYTES = 5 * 1024 * 1024
_HEADER_LIMIT = 256 * 1024  # the header block of a real METADATA is a few KiB
_SITE_DIRS = ("site-packages", "dist-packages")
# ``{name}-{version}.dist-info`` with the name's dashes escaped as ``_`` (wheel spec).
_DIST_DIR = re.compile(r"([A-Za-z0-9_.]+)-([0-9][^-]*?)(?:-py[0-9.]+)?\.(?:dist-info|egg-info)\Z")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*\Z")


def is_venv_root(path: Path) -> bool:
    """Whether ``path`` is the root of a virtual environment or a conda environment."""
    try:
        return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()
    except OSError:
        return False


def _site_dir(rel: str) -> str | None:
    """The ``site-packages`` folder (relative path) that holds ``rel``, if any."""
    parts = rel.split("/")
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in _SITE_DIRS:
            return "/".join(parts[: index + 1])
    if len(parts) == 2 and parts[0].endswith((".dist-info", ".egg-info")):
        return "."  # discovery was pointed at the site-packages folder itself
    return None


def _metadata_dir(rel: str, name: str) -> str | None:
    """The ``*.dist-info``/``*.egg-info`` entry this file describes, if it is metadata."""
    parts = rel.split("/")
    if name == "METADATA" and len(parts) >= 2 and parts[-2].endswith(".dist-info"):
        return parts[-2]
    if name == "PKG-INFO" and len(parts) >= 2 and parts[-2].endswith(".egg-info"):
        return parts[-2]
    if name.endswith(".egg-info") and len(parts) >= 2 and parts[-2] in _SITE_DIRS:
        return name  # a single-file egg-info written by distutils
    return None


class DistributionDetector:
    """Each installed distribution in a ``site-packages`` folder: name and version."""

    id = "discover.venv"

    def wants(self, rel: str, name: str) -> bool:
        site = _site_dir(rel)
        directory = _metadata_dir(rel, name)
        # the metadata folder must sit directly in site-packages (not vendored deeper)
        if site is None or directory is None:
            return False
        return site == "." or rel.count("/") - site.count("/") <= 2

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        site = _site_dir(file.rel)
        directory = _metadata_dir(file.rel, file.name)
        if site is None or directory is None:
            return [], []
        if file.truncated or file.size > MAX_METADATA_BYTES:
            return [], [Problem(file.rel, "distribution metadata larger than 5 MiB: not parsed")]
        problems: list[Problem] = []
        head = file.data[:_HEADER_LIMIT]
        end = head.find(b"\n\n")
        head = head if end < 0 else head[:end]
        text = head.decode("utf-8", "replace").replace("\r\n", "\n")
        name: str | None = None
        version: str | None = None
        try:
            message = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
            name = _clean(message.get("Name"))
            version = _clean(message.get("Version"))
        except (ValueError, TypeError, LookupError) as exc:
            problems.append(Problem(file.rel, f"unreadable distribution metadata: {exc}"))
        fallback = _DIST_DIR.match(directory)
        if name is None or not _NAME.match(name) or version is None or not _VERSION.match(version):
            if fallback is None:
                problems.append(Problem(file.rel, "distribution metadata without Name/Version"))
                return [], problems
            problems.append(
                Problem(
                    file.rel,
                    "distribution metadata without a valid Name/Version: named from its folder",
                )
            )
            name, version = fallback.group(1), fallback.group(2)
        properties = {"installed": True, "environment": site, "source": "installed"}
        findings = package_findings(
            name, Location(file.rel), self.id, version=version, properties=properties
        )
        return findings, problems


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
