"""What every manifest parser shares: PEP 508 requirements, findings, text and URL helpers."""

from __future__ import annotations

import logging
import re
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
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
    "COMMENT",
    "MAX_MANIFEST_BYTES",
    "NAME",
    "Lines",
    "Out",
    "Requirement",
    "TomlManifestDetector",
    "first_line",
    "guarded",
    "load_toml",
    "name_from_archive",
    "package_findings",
    "parse_requirement",
    "parse_text",
    "read_manifest_text",
    "redact_url",
    "table",
]

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
_log = logging.getLogger(__name__)

Result = tuple[list[Finding], list[Problem]]


def guarded(file: FileInput, parse: Callable[[FileInput], Result]) -> Result:
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


def parse_text(file: FileInput, what: str, parse: Callable[[FileInput, str], Result]) -> Result:
    """``guarded`` reading of ``file`` as text (see ``read_manifest_text``), then ``parse``."""

    def run(file: FileInput) -> Result:
        text, problems = read_manifest_text(file, what)
        if text is None:
            return [], problems
        return parse(file, text)

    return guarded(file, run)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, short enough for a problem."""
    return (str(exc).strip().splitlines() or ["unknown error"])[0][:160]


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

NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
COMMENT = re.compile(r"(^|\s)#.*$")
_HEAD = re.compile(rf"\s*({NAME})\s*(?:\[([^\]]*)\])?\s*(.*)\Z", re.S)
_EXTRA = re.compile(rf"{NAME}\Z")
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
class Out:
    """What one manifest yields: findings and problems, collected as it is read."""

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

    def parsed(
        self, text: str, line: int | None, *, where: str = "", shown: str = ""
    ) -> Requirement | None:
        """``parse_requirement(text)``, or ``None`` and a problem showing ``shown or text``."""
        try:
            return parse_requirement(text)
        except ValueError as exc:
            self.problem(line, f"{where}not a requirement ({exc}): {(shown or text)[:80]!r}")
            return None

    def result(self) -> Result:
        return self.findings, self.problems


class Lines:
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


# --- TOML ---------------------------------------------------------------------------------


def load_toml(text: str, out: Out, what: str) -> dict[str, Any] | None:
    """The parsed document, or ``None`` with a problem recorded in ``out``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.problem(None, f"malformed {what}: {exc}")
    except RecursionError:
        out.problem(None, f"malformed {what}: nested too deeply")
    return None


def table(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a TOML table, else an empty one."""
    return value if isinstance(value, dict) else {}


class TomlManifestDetector(ABC):
    """A detector for the TOML manifest named ``file_name``: ``parse`` fills an ``Out``."""

    id: str
    file_name: str

    def wants(self, rel: str, name: str) -> bool:
        return name == self.file_name

    def detect(self, file: FileInput) -> Result:
        return parse_text(file, self.file_name, self._read)

    def _read(self, file: FileInput, text: str) -> Result:
        out = Out(file.rel, self.id)
        doc = load_toml(text, out, self.file_name)
        if doc is not None:
            self.parse(doc, text, out)
        return out.result()

    @abstractmethod
    def parse(self, doc: dict[str, Any], text: str, out: Out) -> None:
        """Record the findings and problems of the parsed document ``doc`` in ``out``."""
