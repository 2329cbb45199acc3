"""pip requirements files (``requirements*.txt``) and the requirement-line syntax they share."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator

from tutela.inventory.interface import FileInput, Finding, Problem
from tutela.inventory.manifests.common import (
    COMMENT,
    Out,
    Requirement,
    name_from_archive,
    parse_text,
    redact_url,
)

__all__ = ["RequirementsDetector", "parse_requirement_lines", "report_include"]

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
        line = COMMENT.sub("", raw).rstrip()
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


def parse_requirement_lines(
    lines: Iterable[tuple[int | None, str]], out: Out, scope: str, source: str, base: str
) -> None:
    """Requirements-file syntax (pip), shared by requirements files, conda and setup.cfg."""
    for number, line in lines:
        if line.startswith("-"):
            option, value = _split_option(line)
            if option in _INCLUDE_OPTIONS:
                report_include(option, value, number, out, base)
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
    text: str, number: int | None, out: Out, scope: str, source: str, *, editable: bool
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
    parsed = out.parsed(text, number, shown=redact_url(text))
    if parsed is not None:
        out.requirement(parsed, number, scope, source, hashes=hashes, editable=editable)


def report_include(option: str, value: str, number: int | None, out: Out, base: str) -> None:
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
        return parse_text(file, "requirements file", self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        out = Out(file.rel, self.id)
        base = posixpath.dirname(file.rel)
        lines: Iterable[tuple[int | None, str]] = _logical_lines(text)
        parse_requirement_lines(lines, out, _requirements_scope(file.rel), "requirements", base)
        return out.result()
