"""``pyproject.toml``: PEP 621 dependencies, PEP 735 groups, Poetry, PDM and uv tables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tutela.inventory.catalog import normalise_distribution
from tutela.inventory.manifests.common import (
    NAME,
    Lines,
    Out,
    Requirement,
    TomlManifestDetector,
    table,
)

__all__ = ["PyprojectDetector"]

# (table header, the list, scope, where it is for messages, dependency group)
_DeclaredList = tuple[str, Any, str, str, str | None]


def _pep508_list(
    values: Any,
    out: Out,
    lines: Lines,
    start: int,
    scope: str,
    source: str,
    where: str,
    **more: Any,
) -> None:
    if not isinstance(values, list):
        if values is not None:
            out.problem(lines.find(where) if where else None, f"{where}: not a list")
        return
    for value in values:
        if isinstance(value, dict):
            continue  # {include-group = "..."}: the included group is read on its own
        if not isinstance(value, str):
            out.problem(None, f"{where}: entry is not a string")
            continue
        line = lines.quoted(value, start)
        req = out.parsed(value, line, where=f"{where}: ")
        if req is not None:
            out.requirement(req, line, scope, source, **more)


def _declared_lists(doc: Mapping[str, Any]) -> list[_DeclaredList]:
    """The PEP 508 lists before the Poetry tables, in the order they are reported."""
    project = table(doc.get("project"))
    tool = table(doc.get("tool"))
    optional = table(project.get("optional-dependencies"))
    pdm_dev = table(table(tool.get("pdm")).get("dev-dependencies"))
    found: list[_DeclaredList] = [
        ("project", project.get("dependencies"), "runtime", "[project] dependencies", None)
    ]
    found += [
        (
            "project.optional-dependencies",
            values,
            f"optional:{normalise_distribution(extra)}",
            f"optional-dependencies.{extra}",
            None,
        )
        for extra, values in optional.items()
    ]
    found += [
        ("dependency-groups", values, "dev", f"dependency-groups.{group}", group)
        for group, values in table(doc.get("dependency-groups")).items()
    ]
    uv_dev = table(tool.get("uv")).get("dev-dependencies")
    found.append(("tool.uv", uv_dev, "dev", "tool.uv.dev-dependencies", "dev"))
    found += [
        ("tool.pdm.dev-dependencies", values, "dev", f"tool.pdm.dev-dependencies.{group}", group)
        for group, values in pdm_dev.items()
    ]
    return found


# Poetry constraints: "^1.2", "~1.2", "1.2.*", ">=1,<2", a bare "1.2.3" (exact), "*".
_POETRY_EXACT = re.compile(r"^(?:==)?\s*([0-9][A-Za-z0-9.+!_-]*)$")


def _poetry_dependency(
    name: str, spec: Any, out: Out, line: int | None, scope: str, source: str
) -> None:
    if name.lower() == "python":
        return
    if isinstance(spec, list):  # multiple-constraint form: one entry per marker
        for each in spec:
            _poetry_dependency(name, each, out, line, scope, source)
        return
    constraint = ""
    extras: tuple[str, ...] = ()
    url = None
    marker = None
    this_scope = scope
    if isinstance(spec, str):
        constraint = spec.strip()
    elif isinstance(spec, dict):
        raw = spec.get("version", "")
        constraint = raw.strip() if isinstance(raw, str) else ""
        raw_extras = spec.get("extras", [])
        if isinstance(raw_extras, list):
            extras = tuple(
                sorted(normalise_distribution(e) for e in raw_extras if isinstance(e, str))
            )
        for key in ("git", "url", "path", "file"):
            if isinstance(spec.get(key), str):
                url = spec[key]
                break
        if isinstance(spec.get("markers"), str):
            marker = spec["markers"]
        if spec.get("optional") is True and scope == "runtime":
            this_scope = "optional"
    else:
        out.problem(line, f"dependency {name[:60]!r}: not a string or a table")
        return
    if not re.fullmatch(NAME, name):
        out.problem(line, f"bad distribution name {name[:60]!r}")
        return
    exact = _POETRY_EXACT.match(constraint)
    version = exact.group(1) if exact and "*" not in constraint else None
    specifier = "" if constraint == "*" else constraint.replace(" ", "")
    req = Requirement(name, extras, specifier, url, marker)
    out.requirement(req, line, this_scope, source, version=version)


def _poetry_tables(poetry: Mapping[str, Any], out: Out, lines: Lines, source: str) -> None:
    extra_of: dict[str, str] = {}
    for extra, members in table(poetry.get("extras")).items():
        if isinstance(members, list):
            for member in members:
                if isinstance(member, str):
                    extra_of.setdefault(normalise_distribution(member), extra)
    sections: list[tuple[str, Any, str, str | None]] = [
        ("tool.poetry.dependencies", poetry.get("dependencies"), "runtime", None),
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"), "dev", "dev"),
    ]
    for group_name, body in table(poetry.get("group")).items():
        name = f"tool.poetry.group.{group_name}.dependencies"
        sections.append((name, table(body).get("dependencies"), "dev", group_name))
    for table_name, deps, scope, group in sections:
        if deps is None:
            continue
        if not isinstance(deps, dict):
            out.problem(None, f"[{table_name}] is not a table")
            continue
        start = lines.header(table_name)
        before = len(out.findings)
        for name, spec in deps.items():
            this_scope = scope
            if scope == "runtime" and isinstance(spec, dict) and spec.get("optional") is True:
                this_scope = f"optional:{extra_of.get(normalise_distribution(name), '')}".rstrip(
                    ":"
                )
            _poetry_dependency(name, spec, out, lines.key(name, start), this_scope, source)
        if group:
            for finding in out.findings[before:]:
                finding.properties["group"] = group


class PyprojectDetector(TomlManifestDetector):
    """``pyproject.toml``: PEP 621, PEP 735 groups, Poetry, PDM and uv dev dependencies."""

    id = "discover.pyproject"
    file_name = "pyproject.toml"

    def parse(self, doc: dict[str, Any], text: str, out: Out) -> None:
        lines = Lines(text)
        starts: dict[str, int] = {}
        for header, values, scope, where, group in _declared_lists(doc):
            if header not in starts:
                starts[header] = lines.header(header)
            start = starts[header]
            _pep508_list(values, out, lines, start, scope, "pyproject", where, group=group)
        _poetry_tables(table(table(doc.get("tool")).get("poetry")), out, lines, "pyproject")
        _pep508_list(
            table(doc.get("build-system")).get("requires"),
            out,
            lines,
            lines.header("build-system"),
            "build",
            "pyproject",
            "[build-system] requires",
        )
