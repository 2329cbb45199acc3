"""conda ``environment.yml``: conda dependencies and the nested ``pip:`` list.

YAML is read with PyYAML's ``safe_load`` only; without PyYAML the file is reported as a
problem rather than guessed at.
"""

from __future__ import annotations

import importlib
import posixpath
import re
from typing import Any

from tutela.inventory.interface import FileInput, Finding, Location, Problem
from tutela.inventory.manifests.common import (
    COMMENT,
    Lines,
    Out,
    first_line,
    package_findings,
    parse_text,
)
from tutela.inventory.manifests.requirements import parse_requirement_lines

__all__ = ["CondaEnvironmentDetector"]

_MAX_YAML_DEPTH = 64

# conda package names whose PyPI distribution is spelt differently.
_CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "tensorflow-base": "tensorflow",
    "huggingface_hub": "huggingface-hub",
}
_CONDA_SPEC = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.+-]*)\s*(.*)\Z")


def _yaml_depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (iteratively, aliases counted once)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen: set[int] = set()
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _conda_dependency(spec: str, out: Out, line: int | None) -> None:
    body = spec.strip()
    channel = None
    if "::" in body:
        channel, body = (part.strip() for part in body.split("::", 1))
    match = _CONDA_SPEC.match(body)
    if match is None:
        out.problem(line, f"not a conda package spec: {spec[:80]!r}")
        return
    name, rest = match.group(1).lower(), match.group(2).strip()
    version = None
    if rest.startswith("[") and rest.endswith("]"):
        inner = re.search(r"version\s*=\s*['\"]?([^'\",\]]+)", rest)
        rest = inner.group(1).strip() if inner else ""
    pinned = re.fullmatch(r"==\s*([0-9][^\s=*,|<>!]*)", rest) or re.fullmatch(
        r"=?\s*([0-9][^\s=*,|<>!]*)(?:=|\s+)[^\s=]+", rest
    )
    if pinned and not rest.startswith((">", "<", "!", "~")):
        version = pinned.group(1)
    properties: dict[str, Any] = {
        "specifier": re.sub(r"\s+", " ", rest),
        "extras": [],
        "scope": "runtime",
        "source": "conda",
    }
    if channel:
        properties["channel"] = channel
    out.findings.extend(
        package_findings(
            name,
            Location(out.rel, line),
            out.detector,
            version=version,
            properties=properties,
            identity=f"conda/{name}",
            framework_name=_CONDA_TO_PYPI.get(name, name),
        )
    )


def _yaml_item_line(lines: Lines, value: str, start: int) -> int | None:
    escaped = re.escape(value.strip())
    return lines.find(re.compile(rf"^\s*-\s*['\"]?{escaped}['\"]?\s*(#.*)?$"), start)


class CondaEnvironmentDetector:
    """``environment.yml``/``.yaml``: conda dependencies and the nested ``pip:`` list."""

    id = "discover.conda"

    def wants(self, rel: str, name: str) -> bool:
        return name in ("environment.yml", "environment.yaml")

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return parse_text(file, file.name, self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        out = Out(file.rel, self.id)
        try:
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            out.problem(None, "PyYAML is not installed: conda environment file not parsed")
            return out.result()
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            out.problem(mark.line + 1 if mark else None, f"malformed YAML: {first_line(exc)}")
            return out.result()
        except RecursionError:
            out.problem(None, "malformed YAML: nested too deeply")
            return out.result()
        if doc is None:
            return out.result()
        if not isinstance(doc, dict) or not _yaml_depth(doc, _MAX_YAML_DEPTH):
            out.problem(None, "not a conda environment: expected a mapping of modest depth")
            return out.result()
        deps = doc.get("dependencies")
        if deps is None:
            return out.result()
        if not isinstance(deps, list):
            out.problem(None, "'dependencies' is not a list")
            return out.result()
        lines = Lines(text)
        cursor = lines.find(re.compile(r"^\s*dependencies\s*:")) or 0
        for dep in deps:
            if isinstance(dep, str):
                line = _yaml_item_line(lines, dep, cursor)
                cursor = line or cursor
                _conda_dependency(dep, out, line)
            elif isinstance(dep, dict) and isinstance(dep.get("pip"), list):
                pip_start = lines.find(re.compile(r"^\s*-\s*pip\s*:"), cursor) or cursor
                items: list[tuple[int | None, str]] = []
                for entry in dep["pip"]:
                    if not isinstance(entry, str):
                        out.problem(pip_start or None, "pip: entry is not a string")
                        continue
                    line = _yaml_item_line(lines, entry, pip_start)
                    items.append((line, COMMENT.sub("", entry).strip()))
                base = posixpath.dirname(file.rel)
                parse_requirement_lines(items, out, "runtime", "conda-pip", base)
            else:
                out.problem(
                    None, f"dependency entry is neither a string nor a pip list: {str(dep)[:60]!r}"
                )
        return out.result()
