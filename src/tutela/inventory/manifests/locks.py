"""Lock files: ``poetry.lock`` and ``uv.lock`` (TOML) and ``Pipfile.lock`` (JSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from tutela.inventory.catalog import normalise_distribution
from tutela.inventory.interface import FileInput, Finding, Problem
from tutela.inventory.manifests.common import (
    NAME,
    Lines,
    Out,
    Requirement,
    TomlManifestDetector,
    parse_text,
    table,
)

__all__ = ["PipfileLockDetector", "PoetryLockDetector", "UvLockDetector"]


def _package_blocks(lines: Lines) -> dict[str, list[int]]:
    """Normalised name -> line numbers of its ``[[package]]`` entries, in file order."""
    found: dict[str, list[int]] = {}
    header: int | None = None
    name_line = re.compile(r'^\s*name\s*=\s*"([^"]+)"')
    for index, line in enumerate(lines.lines):
        if line.strip() == "[[package]]":
            header = index + 1
            continue
        if header is not None:
            match = name_line.match(line)
            if match:
                found.setdefault(normalise_distribution(match.group(1)), []).append(header)
                header = None
    return found


def _locked_packages(
    doc: dict[str, Any], text: str, out: Out
) -> Iterator[tuple[str, str | None, Mapping[str, Any], dict[str, Any], int | None]]:
    """(name, version, source table, entry, line) of each well-formed ``[[package]]``."""
    packages = doc.get("package", [])
    if not isinstance(packages, list):
        out.problem(None, "'package' is not an array of tables")
        return
    good = []
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            out.problem(None, "a [[package]] entry has no name")
            continue
        if not re.fullmatch(NAME, entry["name"]):
            out.problem(None, f"bad distribution name {entry['name'][:60]!r}")
            continue
        good.append(entry)
    where = _package_blocks(Lines(text))
    for entry in good:
        name = entry["name"]
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        lines = where.get(normalise_distribution(name))
        line = lines.pop(0) if lines else None
        yield name, version, table(entry.get("source")), entry, line


class PoetryLockDetector(TomlManifestDetector):
    """``poetry.lock``: every locked distribution with its exact version."""

    id = "discover.poetry-lock"
    file_name = "poetry.lock"

    def parse(self, doc: dict[str, Any], text: str, out: Out) -> None:
        for name, version, source, entry, line in _locked_packages(doc, text, out):
            groups = entry.get("groups")
            category = entry.get("category")
            if entry.get("optional") is True:
                scope = "optional"
            elif isinstance(groups, list):
                scope = "runtime" if "main" in groups else "dev"
            elif isinstance(category, str):
                scope = "runtime" if category == "main" else "dev"
            else:
                scope = "unknown"
            url = source.get("url") if source.get("type") in ("git", "url", "file") else None
            req = Requirement(name, url=url if isinstance(url, str) else None)
            out.requirement(req, line, scope, "lock", version=version, lockfile="poetry")


class UvLockDetector(TomlManifestDetector):
    """``uv.lock``: every locked distribution except the project's own (editable) ones."""

    id = "discover.uv-lock"
    file_name = "uv.lock"

    def parse(self, doc: dict[str, Any], text: str, out: Out) -> None:
        for name, version, source, _entry, line in _locked_packages(doc, text, out):
            if "editable" in source or "virtual" in source:
                continue  # the project or a workspace member: first-party code
            url = next(
                (
                    source[k]
                    for k in ("git", "url", "path", "directory")
                    if isinstance(source.get(k), str)
                ),
                None,
            )
            req = Requirement(name, url=url)
            # uv.lock records the graph, not each package's scope; say so rather than guess.
            out.requirement(req, line, "unknown", "lock", version=version, lockfile="uv")


_PIPFILE_SECTION = re.compile(r'^ {4}"([^"]+)": \{')
_PIPFILE_ENTRY = re.compile(r'^ {8}"([^"]+)": \{')


class PipfileLockDetector:
    """``Pipfile.lock`` (JSON): ``default``, ``develop`` and custom categories."""

    id = "discover.pipfile-lock"

    def wants(self, rel: str, name: str) -> bool:
        return name == "Pipfile.lock"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return parse_text(file, "Pipfile.lock", self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        out = Out(file.rel, self.id)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            out.problem(exc.lineno, f"malformed Pipfile.lock: {exc.msg}")
            return out.result()
        except RecursionError:
            out.problem(None, "malformed Pipfile.lock: nested too deeply")
            return out.result()
        if not isinstance(doc, dict):
            out.problem(None, "malformed Pipfile.lock: not a JSON object")
            return out.result()
        where: dict[tuple[str, str], int] = {}
        section = ""
        for number, text_line in enumerate(text.splitlines(), 1):
            if match := _PIPFILE_SECTION.match(text_line):
                section = match.group(1)
            elif match := _PIPFILE_ENTRY.match(text_line):
                where.setdefault((section, match.group(1)), number)
        for category, deps in doc.items():
            if category == "_meta" or not isinstance(deps, dict):
                continue
            scope = "runtime" if category == "default" else "dev"
            for name, entry in deps.items():
                line = where.get((category, name))
                if not isinstance(entry, dict) or not re.fullmatch(NAME, name):
                    out.problem(line, f"bad entry {name[:60]!r} in {category!r}")
                    continue
                raw = entry.get("version")
                version = raw[2:] if isinstance(raw, str) and raw.startswith("==") else None
                url = next(
                    (entry[k] for k in ("git", "file", "path") if isinstance(entry.get(k), str)),
                    None,
                )
                extras = entry.get("extras", [])
                req = Requirement(
                    name,
                    tuple(sorted(normalise_distribution(e) for e in extras if isinstance(e, str)))
                    if isinstance(extras, list)
                    else (),
                    specifier=raw if isinstance(raw, str) else "",
                    url=url,
                    marker=entry.get("markers") if isinstance(entry.get("markers"), str) else None,
                )
                out.requirement(
                    req,
                    line,
                    scope,
                    "lock",
                    version=version,
                    lockfile="pipfile",
                    group=category if category not in ("default", "develop") else None,
                )
        return out.result()
