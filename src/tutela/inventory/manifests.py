"""Dependency manifests and lock files: what a project says it depends on.

Each declared dependency becomes a ``PACKAGE`` finding (``pypi/<PEP 503 name>``, the exact
version only when pinned or locked) and, for an AI/ML distribution (``catalog``), also a
``FRAMEWORK`` finding with the same identity. Everything here is ``DECLARED``: the file
says so. Nothing is executed, installed or fetched; includes (``-r other.txt``) are not
followed (the walker hands every requirements file to this module on its own).

YAML (``environment.yml``) is read with PyYAML's ``safe_load`` only; without PyYAML the
file is reported as a problem rather than guessed at.
"""

from __future__ import annotations

import configparser
import importlib
import json
import logging
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from tutela.inventory.catalog import is_ai_distribution, normalise_distribution
from tutela.inventory.interface import (
    Confidence,
    FileInput,
    Finding,
    ItemKind,
    Location,
    Problem,
)

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
    "read_manifest_text",
    "redact_url",
]

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
_log = logging.getLogger(__name__)
_MAX_YAML_DEPTH = 64


def guarded(
    file: FileInput, parse: Callable[[FileInput], tuple[list[Finding], list[Problem]]]
) -> tuple[list[Finding], list[Problem]]:
    """Run ``parse``; an unexpected error becomes a problem for the file, never a crash."""
    try:
        return parse(file)
    except Exception as exc:  # a detector bug must not stop discovery: report and go on
        _log.exception("detector failed on %s", file.rel)
        return [], [Problem(file.rel, f"could not be parsed ({type(exc).__name__})")]


def read_manifest_text(file: FileInput, what: str) -> tuple[str | None, list[Problem]]:
    """The file as text, or a problem when it is too large, truncated or not UTF-8."""
    if file.truncated or file.size > MAX_MANIFEST_BYTES or len(file.data) > MAX_MANIFEST_BYTES:
        return None, [Problem(file.rel, f"{what} larger than 5 MiB: not parsed")]
    text = file.text()
    if text is None:
        return None, [Problem(file.rel, f"{what} is not UTF-8 text: not parsed")]
    return text.removeprefix("\ufeff"), []


# --- URLs ---------------------------------------------------------------------------------

_SECRET_QUERY_KEY = re.compile(
    r"(token|key|secret|sig|signature|password|passwd|auth|credential|session|x-amz-)", re.I
)


def redact_url(url: str) -> str:
    """``url`` without credentials: user info and secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = []
        for pair in query.split("&"):
            key, eq, _value = pair.partition("=")
            pairs.append(f"{key}=***" if eq and _SECRET_QUERY_KEY.search(key) else pair)
        query = "&".join(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# --- PEP 508 requirements -----------------------------------------------------------------

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_HEAD = re.compile(rf"\s*({_NAME})\s*(?:\[([^\]]*)\])?\s*(.*)\Z", re.S)
_EXTRA = re.compile(rf"{_NAME}\Z")
_CLAUSE = re.compile(r"\s*(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9*][A-Za-z0-9.*+!_-]*)\s*\Z")


@dataclass(frozen=True, slots=True)
class Requirement:
    """A parsed PEP 508 requirement (only what discovery reports)."""

    name: str
    extras: tuple[str, ...] = ()
    specifier: str = ""  # clauses without spaces, comma-separated: ">=2,<3"
    url: str | None = None
    marker: str | None = None

    @property
    def pinned(self) -> str | None:
        """The exact version when the specifier pins one (``==1.2.3``, ``===x``)."""
        if not self.specifier or "," in self.specifier:
            return None
        for op in ("===", "=="):
            if self.specifier.startswith(op):
                version = self.specifier[len(op) :]
                return None if "*" in version else version
        return None


def parse_requirement(text: str) -> Requirement:
    """Parse ``name[extras] (specifier | @ url) ; marker``; ``ValueError`` says why not."""
    match = _HEAD.match(text)
    if match is None:
        raise ValueError("no distribution name")
    name, extras_raw, rest = match.groups()
    extras: list[str] = []
    for extra in (extras_raw or "").split(","):
        extra = extra.strip()
        if not extra:
            continue
        if not _EXTRA.match(extra):
            raise ValueError(f"bad extra {extra!r}")
        extras.append(normalise_distribution(extra))
    rest = rest.strip()
    url: str | None = None
    marker: str | None = None
    specifier = ""
    if rest.startswith("@"):
        pieces = rest[1:].strip().split(None, 1)
        if not pieces:
            raise ValueError("empty URL after '@'")
        url = pieces[0]
        if len(pieces) == 2:
            tail = pieces[1].strip()
            if not tail.startswith(";"):
                raise ValueError("text after the URL is not a marker")
            marker = tail[1:].strip() or None
    else:
        spec_text, sep, marker_text = rest.partition(";")
        if sep:
            marker = marker_text.strip()
            if not marker:
                raise ValueError("empty marker after ';'")
        spec_text = spec_text.strip()
        if spec_text.startswith("(") and spec_text.endswith(")"):
            spec_text = spec_text[1:-1]
        if spec_text:
            clauses = []
            for clause in spec_text.split(","):
                found = _CLAUSE.match(clause)
                if found is None:
                    raise ValueError(f"bad version specifier {clause.strip()[:60]!r}")
                clauses.append(found.group(1) + found.group(2))
            specifier = ",".join(clauses)
    return Requirement(name, tuple(sorted(set(extras))), specifier, url, marker)


_WHEEL = re.compile(r"([A-Za-z0-9_.]+)-([0-9][^-]*)(?:-[0-9][^-]*)?-[^-]+-[^-]+-[^-]+\.whl\Z")
_SDIST = re.compile(r"([A-Za-z0-9_.-]+?)-([0-9][A-Za-z0-9.+!_]*)\.(?:tar\.gz|tar\.bz2|zip|tgz)\Z")


def name_from_archive(url: str) -> tuple[str, str] | None:
    """(name, version) from a wheel or sdist file name at the end of a URL or path."""
    base = unquote(url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    found = _WHEEL.match(base) or _SDIST.match(base)
    return (found.group(1), found.group(2)) if found else None


# --- findings -----------------------------------------------------------------------------


def package_findings(
    name: str,
    location: Location,
    detector: str,
    *,
    version: str | None,
    properties: dict[str, Any],
    identity: str | None = None,
    framework_name: str | None = None,
) -> list[Finding]:
    """A PACKAGE finding, plus a FRAMEWORK finding when it is an AI/ML distribution.

    ``identity`` defaults to ``pypi/<normalised name>``; a conda package passes its own and
    ``framework_name`` (its PyPI name) so that the framework merges with code findings.
    """
    norm = normalise_distribution(name)
    ident = identity or f"pypi/{norm}"
    found = [
        Finding(
            ItemKind.PACKAGE,
            ident,
            name,
            Confidence.DECLARED,
            location,
            detector,
            version,
            properties,
        )
    ]
    pypi_name = normalise_distribution(framework_name) if framework_name else norm
    if (framework_name or identity is None) and is_ai_distribution(pypi_name):
        found.append(
            Finding(
                ItemKind.FRAMEWORK,
                f"pypi/{pypi_name}",
                pypi_name,
                Confidence.DECLARED,
                location,
                detector,
                version,
                dict(properties),
            )
        )
    return found


def _props(req: Requirement, scope: str, source: str, **more: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "specifier": req.specifier,
        "extras": list(req.extras),
        "scope": scope,
        "source": source,
    }
    if req.marker:
        props["marker"] = req.marker
    if req.url:
        props["url"] = redact_url(req.url)
    props.update({k: v for k, v in more.items() if v not in (None, False, [], "")})
    return props


@dataclass(slots=True)
class _Out:
    rel: str
    detector: str
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int | None, message: str) -> None:
        where = f"line {line}: " if line else ""
        self.problems.append(Problem(self.rel, where + message))

    def requirement(
        self,
        req: Requirement,
        line: int | None,
        scope: str,
        source: str,
        *,
        version: str | None = None,
        **more: Any,
    ) -> None:
        pinned = version or req.pinned
        if pinned is None and req.url:
            archive = name_from_archive(req.url)
            if archive and normalise_distribution(archive[0]) == normalise_distribution(req.name):
                pinned = archive[1]
        self.findings.extend(
            package_findings(
                req.name,
                Location(self.rel, line),
                self.detector,
                version=pinned,
                properties=_props(req, scope, source, **more),
            )
        )

    def result(self) -> tuple[list[Finding], list[Problem]]:
        return self.findings, self.problems


class _Lines:
    """Find the line of an entry by scanning text: cheap, and ``None`` when unsure."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, pattern: re.Pattern[str] | str, start: int = 0) -> int | None:
        """1-based number of the first line at or after index ``start`` that matches."""
        for index in range(start, len(self.lines)):
            line = self.lines[index]
            if isinstance(pattern, str):
                if pattern in line:
                    return index + 1
            elif pattern.search(line):
                return index + 1
        return None

    def header(self, table: str) -> int:
        """Index just after the ``[table]`` header line (0 when absent)."""
        parts = [re.escape(p) for p in table.split(".")]
        line = self.find(re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(parts) + r"\s*\]"))
        return line or 0

    def quoted(self, value: str, start: int) -> int | None:
        return self.find(f'"{value}"', start) or self.find(f"'{value}'", start)

    def key(self, name: str, start: int) -> int | None:
        key = re.escape(name)
        return self.find(re.compile(rf"^\s*(?:{key}|\"{key}\"|'{key}')\s*="), start)


# --- requirements files -------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s)#.*$")
_DEV_WORDS = re.compile(r"(^|[^a-z])(dev|develop|test|tests|testing|lint|docs?|ci)([^a-z]|$)")
_REQ_DIRS = frozenset({"requirements", "reqs", "requirements.d"})
_GLOBAL_FLAGS = frozenset(
    {"--no-index", "--pre", "--prefer-binary", "--require-hashes", "--no-deps"}
)
_VALUE_OPTIONS = frozenset(
    {
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
        "--no-binary", "--only-binary", "--use-feature", "--config-settings", "-C",
        "--global-option", "--install-option",
    }
)  # fmt: skip
_INCLUDE_OPTIONS = frozenset({"-r", "--requirement"})
_CONSTRAINT_OPTIONS = frozenset({"-c", "--constraint"})
_EDITABLE_OPTIONS = frozenset({"-e", "--editable"})
_PER_REQ_OPTION = re.compile(
    r"\s+(--hash|--global-option|--install-option|--config-settings|-C)"
    r"(?:\s*=\s*|\s+)(\S+)"
)
_URLISH = re.compile(
    r"^([a-z][a-z0-9+.-]*://|git\+|hg\+|svn\+|bzr\+|file:|\.{1,2}(?:/|$)|/|~)", re.I
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def _is_requirements_name(rel: str, name: str) -> bool:
    lower = name.lower()
    if not lower.endswith((".txt", ".in")) or lower == "manifest.in":
        return False
    if "requirements" in lower:
        return True
    parent = rel.rsplit("/", 2)[-2].lower() if "/" in rel else ""
    return parent in _REQ_DIRS


def _requirements_scope(rel: str) -> str:
    stem = rel.lower().rsplit("/", 2)
    words = " ".join(stem[-2:])
    return "dev" if _DEV_WORDS.search(words) else "runtime"


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with comments removed and ``\\`` continuations joined."""
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            first = number
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            yield first, joined
    if pending:
        joined = " ".join(part.strip() for part in pending).strip()
        if joined:
            yield first, joined


def _split_option(line: str) -> tuple[str, str]:
    """``-r x`` / ``--requirement=x`` / ``-rx`` -> (option, value)."""
    if line.startswith("--"):
        head, sep, value = line.partition("=")
        if sep and " " not in head:
            return head, value.strip()
        head, _, value = line.partition(" ")
        return head, value.strip()
    head, value = line[:2], line[2:]
    return head, value.lstrip(" =").strip()


def _parse_requirement_lines(
    lines: Iterable[tuple[int | None, str]], out: _Out, scope: str, source: str, base: str
) -> None:
    """Requirements-file syntax (pip), shared by requirements files and conda's pip list."""
    for number, line in lines:
        if line.startswith("-"):
            option, value = _split_option(line)
            if option in _INCLUDE_OPTIONS:
                _report_include(option, value, number, out, base)
                continue
            if option in _CONSTRAINT_OPTIONS or option in _VALUE_OPTIONS:
                continue  # constraints add no dependency; index options are not inventory
            if option in _GLOBAL_FLAGS:
                continue
            if option in _EDITABLE_OPTIONS:
                if value:
                    _url_or_requirement(value, number, out, scope, source, editable=True)
                else:
                    out.problem(number, f"{option} without a value")
                continue
            out.problem(number, f"unknown option {option[:40]!r}")
            continue
        _url_or_requirement(line, number, out, scope, source, editable=False)


def _url_or_requirement(
    text: str, number: int | None, out: _Out, scope: str, source: str, *, editable: bool
) -> None:
    hashes = [h for opt, h in _PER_REQ_OPTION.findall(" " + text) if opt == "--hash"]
    text = _PER_REQ_OPTION.sub("", " " + text).strip()
    if _URLISH.match(text):
        target, _, marker = text.partition(" ;")
        target = target.strip()
        egg = _EGG.search(target)
        archive = name_from_archive(target)
        name = egg.group(1) if egg else archive[0] if archive else None
        if name is None:
            if "://" not in target and "+" not in target.split("/", 1)[0]:
                return  # a local folder (``.``, ``-e ./lib``): first-party code, not a dependency
            out.problem(number, f"cannot name the distribution at {redact_url(target)[:120]!r}")
            return
        req = Requirement(name, url=target, marker=marker.strip().lstrip(";").strip() or None)
        out.requirement(req, number, scope, source, hashes=hashes, editable=editable)
        return
    try:
        req = parse_requirement(text)
    except ValueError as exc:
        out.problem(number, f"not a requirement ({exc}): {redact_url(text)[:80]!r}")
        return
    out.requirement(req, number, scope, source, hashes=hashes, editable=editable)


def _report_include(option: str, value: str, number: int | None, out: _Out, base: str) -> None:
    """``-r`` is not followed; say so when the walker will not read the target itself."""
    if not value:
        out.problem(number, f"{option} without a file name")
        return
    if "://" in value:
        out.problem(number, f"{option} {redact_url(value)[:120]} is remote: not followed")
        return
    target = posixpath.normpath(posixpath.join(base, value))
    if value.startswith("/") or target == ".." or target.startswith("../"):
        out.problem(number, f"{option} {value[:120]} is outside the discovery root: not followed")
    elif not _is_requirements_name(target, target.rsplit("/", 1)[-1]):
        out.problem(
            number, f"{option} {value[:120]} is not named like a requirements file: not followed"
        )


class RequirementsDetector:
    """``requirements*.txt``, ``*requirements*.in`` and files in ``requirements/``."""

    id = "discover.requirements"

    def wants(self, rel: str, name: str) -> bool:
        return _is_requirements_name(rel, name)

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "requirements file")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        base = posixpath.dirname(file.rel)
        lines: Iterable[tuple[int | None, str]] = _logical_lines(text)
        _parse_requirement_lines(lines, out, _requirements_scope(file.rel), "requirements", base)
        return out.result()


# --- TOML manifests -----------------------------------------------------------------------


def _load_toml(text: str, out: _Out, what: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.problem(None, f"malformed {what}: {exc}")
    except RecursionError:
        out.problem(None, f"malformed {what}: nested too deeply")
    return None


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _pep508_list(
    values: Any,
    out: _Out,
    lines: _Lines,
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
        try:
            req = parse_requirement(value)
        except ValueError as exc:
            out.problem(line, f"{where}: not a requirement ({exc}): {value[:80]!r}")
            continue
        out.requirement(req, line, scope, source, **more)


# Poetry constraints: "^1.2", "~1.2", "1.2.*", ">=1,<2", a bare "1.2.3" (exact), "*".
_POETRY_EXACT = re.compile(r"^(?:==)?\s*([0-9][A-Za-z0-9.+!_-]*)$")


def _poetry_dependency(
    name: str, spec: Any, out: _Out, line: int | None, scope: str, source: str
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
    if not re.fullmatch(_NAME, name):
        out.problem(line, f"bad distribution name {name[:60]!r}")
        return
    exact = _POETRY_EXACT.match(constraint)
    version = exact.group(1) if exact and "*" not in constraint else None
    specifier = "" if constraint == "*" else constraint.replace(" ", "")
    req = Requirement(name, extras, specifier, url, marker)
    out.requirement(req, line, this_scope, source, version=version)


def _poetry_tables(poetry: Mapping[str, Any], out: _Out, lines: _Lines, source: str) -> None:
    extra_of: dict[str, str] = {}
    for extra, members in _table(poetry.get("extras")).items():
        if isinstance(members, list):
            for member in members:
                if isinstance(member, str):
                    extra_of.setdefault(normalise_distribution(member), extra)
    sections: list[tuple[str, Any, str, str | None]] = [
        ("tool.poetry.dependencies", poetry.get("dependencies"), "runtime", None),
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"), "dev", "dev"),
    ]
    for group_name, body in _table(poetry.get("group")).items():
        table = f"tool.poetry.group.{group_name}.dependencies"
        sections.append((table, _table(body).get("dependencies"), "dev", group_name))
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


class PyprojectDetector:
    """``pyproject.toml``: PEP 621, PEP 735 groups, Poetry, PDM and uv dev dependencies."""

    id = "discover.pyproject"

    def wants(self, rel: str, name: str) -> bool:
        return name == "pyproject.toml"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "pyproject.toml")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        doc = _load_toml(text, out, "pyproject.toml")
        if doc is None:
            return out.result()
        lines = _Lines(text)
        project = _table(doc.get("project"))
        start = lines.header("project")
        _pep508_list(
            project.get("dependencies"),
            out,
            lines,
            start,
            "runtime",
            "pyproject",
            "[project] dependencies",
        )
        start = lines.header("project.optional-dependencies")
        for extra, values in _table(project.get("optional-dependencies")).items():
            _pep508_list(
                values,
                out,
                lines,
                start,
                f"optional:{normalise_distribution(extra)}",
                "pyproject",
                f"optional-dependencies.{extra}",
            )
        start = lines.header("dependency-groups")
        for group, values in _table(doc.get("dependency-groups")).items():
            _pep508_list(
                values,
                out,
                lines,
                start,
                "dev",
                "pyproject",
                f"dependency-groups.{group}",
                group=group,
            )
        tool = _table(doc.get("tool"))
        start = lines.header("tool.uv")
        _pep508_list(
            _table(tool.get("uv")).get("dev-dependencies"),
            out,
            lines,
            start,
            "dev",
            "pyproject",
            "tool.uv.dev-dependencies",
            group="dev",
        )
        start = lines.header("tool.pdm.dev-dependencies")
        for group, values in _table(_table(tool.get("pdm")).get("dev-dependencies")).items():
            _pep508_list(
                values,
                out,
                lines,
                start,
                "dev",
                "pyproject",
                f"tool.pdm.dev-dependencies.{group}",
                group=group,
            )
        _poetry_tables(_table(tool.get("poetry")), out, lines, "pyproject")
        start = lines.header("build-system")
        _pep508_list(
            _table(doc.get("build-system")).get("requires"),
            out,
            lines,
            start,
            "build",
            "pyproject",
            "[build-system] requires",
        )
        return out.result()


def _package_blocks(lines: _Lines) -> dict[str, list[int]]:
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


def _next_line(where: dict[str, list[int]], name: str) -> int | None:
    lines = where.get(normalise_distribution(name))
    return lines.pop(0) if lines else None


def _locked_packages(doc: dict[str, Any], out: _Out) -> list[dict[str, Any]]:
    packages = doc.get("package", [])
    if not isinstance(packages, list):
        out.problem(None, "'package' is not an array of tables")
        return []
    good = []
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            out.problem(None, "a [[package]] entry has no name")
            continue
        if not re.fullmatch(_NAME, entry["name"]):
            out.problem(None, f"bad distribution name {entry['name'][:60]!r}")
            continue
        good.append(entry)
    return good


class PoetryLockDetector:
    """``poetry.lock``: every locked distribution with its exact version."""

    id = "discover.poetry-lock"

    def wants(self, rel: str, name: str) -> bool:
        return name == "poetry.lock"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "poetry.lock")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        doc = _load_toml(text, out, "poetry.lock")
        if doc is None:
            return out.result()
        where = _package_blocks(_Lines(text))
        for entry in _locked_packages(doc, out):
            name = entry["name"]
            version = entry.get("version") if isinstance(entry.get("version"), str) else None
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
            source = _table(entry.get("source"))
            url = source.get("url") if source.get("type") in ("git", "url", "file") else None
            line = _next_line(where, name)
            req = Requirement(name, url=url if isinstance(url, str) else None)
            out.requirement(req, line, scope, "lock", version=version, lockfile="poetry")
        return out.result()


class UvLockDetector:
    """``uv.lock``: every locked distribution except the project's own (editable) ones."""

    id = "discover.uv-lock"

    def wants(self, rel: str, name: str) -> bool:
        return name == "uv.lock"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "uv.lock")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        doc = _load_toml(text, out, "uv.lock")
        if doc is None:
            return out.result()
        where = _package_blocks(_Lines(text))
        for entry in _locked_packages(doc, out):
            name = entry["name"]
            line = _next_line(where, name)
            source = _table(entry.get("source"))
            if "editable" in source or "virtual" in source:
                continue  # the project or a workspace member: first-party code
            version = entry.get("version") if isinstance(entry.get("version"), str) else None
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
        return out.result()


class PipfileDetector:
    """``Pipfile``: ``[packages]``, ``[dev-packages]`` and custom categories."""

    id = "discover.pipfile"
    _NOT_PACKAGES = frozenset({"source", "requires", "pipenv", "scripts"})

    def wants(self, rel: str, name: str) -> bool:
        return name == "Pipfile"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "Pipfile")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        doc = _load_toml(text, out, "Pipfile")
        if doc is None:
            return out.result()
        lines = _Lines(text)
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
        return out.result()


def _pipfile_dependency(name: str, spec: Any, out: _Out, line: int | None, scope: str) -> None:
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
    try:
        req = parse_requirement(text)
    except ValueError as exc:
        out.problem(line, f"not a requirement ({exc}): {text[:80]!r}")
        return
    req = Requirement(req.name, req.extras, req.specifier, url, marker)
    out.requirement(
        req,
        line,
        scope,
        "pipfile",
        editable=isinstance(spec, dict) and spec.get("editable") is True,
    )


_PIPFILE_SECTION = re.compile(r'^ {4}"([^"]+)": \{')
_PIPFILE_ENTRY = re.compile(r'^ {8}"([^"]+)": \{')


class PipfileLockDetector:
    """``Pipfile.lock`` (JSON): ``default``, ``develop`` and custom categories."""

    id = "discover.pipfile-lock"

    def wants(self, rel: str, name: str) -> bool:
        return name == "Pipfile.lock"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "Pipfile.lock")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
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
                if not isinstance(entry, dict) or not re.fullmatch(_NAME, name):
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


# --- conda environment files --------------------------------------------------------------

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


def _conda_dependency(spec: str, out: _Out, line: int | None) -> None:
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


class CondaEnvironmentDetector:
    """``environment.yml``/``.yaml``: conda dependencies and the nested ``pip:`` list."""

    id = "discover.conda"

    def wants(self, rel: str, name: str) -> bool:
        return name in ("environment.yml", "environment.yaml")

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, file.name)
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        try:
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            out.problem(None, "PyYAML is not installed: conda environment file not parsed")
            return out.result()
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            out.problem(mark.line + 1 if mark else None, f"malformed YAML: {_first_line(exc)}")
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
        lines = _Lines(text)
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
                    items.append((line, _COMMENT.sub("", entry).strip()))
                base = posixpath.dirname(file.rel)
                _parse_requirement_lines(items, out, "runtime", "conda-pip", base)
            else:
                out.problem(
                    None, f"dependency entry is neither a string nor a pip list: {str(dep)[:60]!r}"
                )
        return out.result()


def _yaml_item_line(lines: _Lines, value: str, start: int) -> int | None:
    escaped = re.escape(value.strip())
    return lines.find(re.compile(rf"^\s*-\s*['\"]?{escaped}['\"]?\s*(#.*)?$"), start)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or ["unknown error"])[0][:160]


# --- setup.cfg ----------------------------------------------------------------------------


class SetupCfgDetector:
    """``setup.cfg``: ``install_requires``, ``extras_require``, ``tests_require``."""

    id = "discover.setup-cfg"

    def wants(self, rel: str, name: str) -> bool:
        return name == "setup.cfg"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return guarded(file, self._detect)

    def _detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        text, problems = read_manifest_text(file, "setup.cfg")
        if text is None:
            return [], problems
        out = _Out(file.rel, self.id)
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(text, source=file.rel)
        except configparser.MissingSectionHeaderError as exc:
            out.problem(exc.lineno, "malformed setup.cfg: text before the first [section]")
            return out.result()
        except configparser.ParsingError as exc:
            line = exc.errors[0][0] if exc.errors else None
            out.problem(line, "malformed setup.cfg: a line is neither a section nor a key")
            return out.result()
        except configparser.Error as exc:
            out.problem(getattr(exc, "lineno", None), f"malformed setup.cfg: {_first_line(exc)}")
            return out.result()
        lines = _Lines(text)
        sections: list[tuple[str, str, str]] = [
            ("options", "install_requires", "runtime"),
            ("options", "tests_require", "dev"),
            ("options", "setup_requires", "build"),
        ]
        if parser.has_section("options.extras_require"):
            for extra in parser.options("options.extras_require"):
                sections.append(
                    ("options.extras_require", extra, f"optional:{normalise_distribution(extra)}")
                )
        base = posixpath.dirname(file.rel)
        for section, key, scope in sections:
            if not parser.has_option(section, key):
                continue
            value = parser.get(section, key)
            start = lines.header(section)
            if value.strip().startswith("file:"):
                for name in value.strip()[5:].split(","):
                    if name.strip():
                        _report_include("file:", name.strip(), lines.key(key, start), out, base)
                continue
            items: list[tuple[int | None, str]] = []
            for raw in value.splitlines():
                entry = _COMMENT.sub("", raw).strip()
                if entry:
                    items.append((lines.find(entry, start), entry))
            _parse_requirement_lines(items, out, scope, "setup.cfg", base)
        return out.result()


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
