"""``Pipfile`` (TOML): ``[packages]``, ``[dev-packages]`` and custom categories."""

from __future__ import annotations

from typing import Any

from tutela.inventory.manifests.common import (
    Lines,
    Out,
    Requirement,
    TomlManifestDetector,
)

__all__ = ["PipfileDetector"]


class PipfileDetector(TomlManifestDetector):
    """``Pipfile``: ``[packages]``, ``[dev-packages]`` and custom categories."""

    id = "discover.pipfile"
    file_name = "Pipfile"
    _NOT_PACKAGES = frozenset({"source", "requires", "pipenv", "scripts"})

    def parse(self, doc: dict[str, Any], text: str, out: Out) -> None:
        lines = Lines(text)
        for category, deps in doc.items():
            if category in self._NOT_PACKAGES or not isinstance(deps, dict):
                continue
            scope = "runtime" if category == "packages" else "dev"
            start = lines.header(category)
            for name, spec in deps.items():
                line = lines.key(name, start)
                if isinstance(spec, dict):
                    spec = dict(spec)
                    if isinstance(spec.get("version"), str) and spec["version"].strip() == "*":
                        spec["version"] = ""
                elif isinstance(spec, str) and spec.strip() == "*":
                    spec = ""
                before = len(out.findings)
                if (
                    isinstance(spec, str)
                    and spec
                    and not spec.lstrip().startswith(("=", "<", ">", "~", "!"))
                ):
                    spec = "==" + spec.strip()  # a bare Pipfile version is exact
                _pipfile_dependency(name, spec, out, line, scope)
                if category not in ("packages", "dev-packages"):
                    for finding in out.findings[before:]:
                        finding.properties["group"] = category


def _pipfile_dependency(name: str, spec: Any, out: Out, line: int | None, scope: str) -> None:
    if isinstance(spec, dict):
        version = spec.get("version", "")
        extras = spec.get("extras", [])
        url = next((spec[k] for k in ("git", "file", "path") if isinstance(spec.get(k), str)), None)
        marker = spec.get("markers") if isinstance(spec.get("markers"), str) else None
        text = name
        if isinstance(extras, list) and extras:
            text += "[" + ",".join(str(e) for e in extras) + "]"
        text += version if isinstance(version, str) else ""
    elif isinstance(spec, str):
        text, url, marker = name + spec, None, None
    else:
        out.problem(line, f"dependency {name[:60]!r}: not a string or a table")
        return
    parsed = out.parsed(text, line)
    if parsed is None:
        return
    req = Requirement(parsed.name, parsed.extras, parsed.specifier, url, marker)
    out.requirement(
        req,
        line,
        scope,
        "pipfile",
        editable=isinstance(spec, dict) and spec.get("editable") is True,
    )
