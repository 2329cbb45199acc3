"""The small protocol every format scanner speaks.

A format scanner is a class with a stable ``id`` (``scan.safetensors``), the detected
format ids it handles, the rules it can report, and one method ``scan(ctx, subject)``
that appends findings and inconclusive reasons to the per-file :class:`ScanContext`.
Scanners never raise on bad input on purpose: malformed bytes become a finding or an
inconclusive reason. Anything that still escapes is caught by the engine.

A :class:`Subject` is always backed by a real file on disk (the scanned file itself,
or a bounded temporary copy of a nested archive member), so scanners that need random
access (zip, hdf5, safetensors) can seek freely. Pickle streams inside containers are
never copied: the container streams them straight into the pickle engine.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from tutela.scan.interface import Finding, Limits, ScanError, Severity

__all__ = [
    "HEAD_BYTES",
    "FormatScanner",
    "LimitHit",
    "RuleInfo",
    "ScanContext",
    "Subject",
    "TimeLimit",
]

HEAD_BYTES = 4096  # how much of a file or member detection looks at


class TimeLimit(ScanError):
    """The per-file deadline passed."""

    code = "scan.time"


class LimitHit(ScanError):
    """A size, ratio, count or nesting limit was exceeded while reading a container."""

    code = "scan.limit"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule a scanner can report: stable id, default severity, one-line summary."""

    rule_id: str
    severity: Severity
    summary: str


@dataclass(frozen=True, slots=True)
class Subject:
    """Bytes to scan: a file on disk, named by its path inside the scanned artifact.

    ``member`` is ``None`` for the scanned file itself, else the ``!``-joined path of
    nested members (``inner.zip!archive/data.pkl``). ``depth`` counts the containers
    opened to reach it.
    """

    path: Path
    member: str | None
    size: int
    head: bytes
    format: str
    depth: int = 0

    def label(self) -> str:
        return self.member if self.member is not None else self.path.name

    def child(self, name: str) -> str:
        """The member path of ``name`` inside this subject."""
        return name if self.member is None else f"{self.member}!{name}"


class PickleStreamScanner(Protocol):
    """Analyse pickles read from ``stream`` (a binary file object or a ByteSource)."""

    def __call__(
        self, ctx: ScanContext, stream: Any, member: str | None, *, max_pickles: int | None = None
    ) -> None: ...


Dispatcher = Callable[["ScanContext", Subject], None]


@dataclass(slots=True)
class ScanContext:
    """Everything one file's scan accumulates; passed explicitly to every scanner."""

    root: Path
    limits: Limits
    deadline: float | None
    tmpdir: Path
    dispatch: Dispatcher
    scan_pickle_stream: PickleStreamScanner
    findings: list[Finding] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    format: str | None = None  # refined format of the scanned file, set by its scanner
    total_uncompressed: int = 0  # across every archive member read for this file
    members_seen: int = 0
    pickles: int = 0
    imports: list[str] = field(default_factory=list)
    hasher: Any = None  # hashlib object for the scanned file, when a scanner can feed it
    hashed: bool = False  # set by the scanner that fed ``hasher`` every byte of the file
    _tmp_counter: int = 0

    def add(
        self,
        rule_id: str,
        severity: Severity,
        message: str,
        *,
        member: str | None = None,
        offset: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                rule_id=rule_id,
                severity=severity,
                message=message,
                member=member,
                offset=offset,
                details=details or {},
            )
        )

    def extend(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    def note(self, reason: str) -> None:
        """Record that part of the file could not be inspected (kept once)."""
        if reason not in self.inconclusive:
            self.inconclusive.append(reason)

    def limit(self, what: str, *, member: str | None) -> None:
        """A limit was exceeded: a high finding and an inconclusive reason."""
        where = f" in {member}" if member else ""
        self.add("archive.limit", Severity.HIGH, f"limit exceeded{where}: {what}", member=member)
        self.note(f"not fully inspected{where}: {what}")

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeLimit(
                "time limit", expected=f"at most {self.limits.max_seconds:g} s per file"
            )

    def temp_path(self, suffix: str = "") -> Path:
        self._tmp_counter += 1
        return self.tmpdir / f"member-{self._tmp_counter}{suffix}"

    def count_member(self, member: str) -> None:
        self.members_seen += 1
        if self.members_seen > self.limits.max_members:
            raise LimitHit(
                "too many archive members",
                subject=member,
                expected=f"at most {self.limits.max_members}",
            )

    def count_uncompressed(self, n: int, member: str | None) -> None:
        self.total_uncompressed += n
        if self.total_uncompressed > self.limits.max_total_uncompressed:
            raise LimitHit(
                "total uncompressed size of archive members too large",
                subject=member,
                expected=f"at most {self.limits.max_total_uncompressed} bytes",
            )


class FormatScanner(ABC):
    """Base of every format scanner. Metadata lives on the class; the docstring documents it."""

    id: ClassVar[str]  # stable plugin id stored with evidence, e.g. "scan.safetensors"
    formats: ClassVar[tuple[str, ...]]  # detected format ids this scanner handles
    title: ClassVar[str]
    rules: ClassVar[tuple[RuleInfo, ...]] = ()
    # MITRE ATLAS: AML.T0010.003 (ML supply chain compromise: model) applies to all scanners.
    atlas: ClassVar[tuple[str, ...]] = ("AML.T0010.003",)
    owasp_llm: ClassVar[tuple[str, ...]] = ("LLM03:2025",)

    @abstractmethod
    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        """Inspect ``subject``; append findings and inconclusive reasons to ``ctx``."""
