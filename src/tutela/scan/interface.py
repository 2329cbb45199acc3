"""Shared types of the scanner: severities, findings, per-file reports, limits.

Every format scanner and the pickle engine speak these types; the CLI, the store
integration and SARIF output consume them. Keep this module free of format logic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tutela.errors import TutelaError
from tutela.severity import Severity

__all__ = [
    "FileReport",
    "Finding",
    "Limits",
    "ScanError",
    "Severity",
    "Verdict",
]


class Verdict(StrEnum):
    """Per-file outcome. ``INCONCLUSIVE`` means: part of the file could not be inspected."""

    CLEAN = "clean"
    FINDINGS = "findings"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class ScanError(TutelaError):
    """Base error of the scanner; format scanners subclass it."""

    code = "scan"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the scanner found in one artifact.

    ``member`` is the path inside a container (zip member, tar entry, nested archive
    path joined with ``!``); ``offset`` is the byte offset within that member's stream.
    """

    rule_id: str
    severity: Severity
    message: str
    member: str | None = None
    offset: int | None = None
    callable: str | None = None
    args_preview: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self, artifact: str = "") -> str:
        """Stable across rescans of the same artifact: offsets and wording excluded."""
        basis = json.dumps(
            [
                artifact,
                self.rule_id,
                self.member or "",
                self.callable or "",
                self.args_preview or "",
            ],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.label(),
            "message": self.message,
            "member": self.member,
            "offset": self.offset,
            "callable": self.callable,
            "args_preview": self.args_preview,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file resource limits. Exceeding one yields a finding, never a crash."""

    max_file_bytes: int = 64 * 1024**3
    max_member_bytes: int = 16 * 1024**3  # one decompressed archive member
    max_total_uncompressed: int = 64 * 1024**3  # all members of one archive together
    max_compression_ratio: float = 200.0
    max_nesting: int = 4  # archives within archives
    max_members: int = 100_000
    max_seconds: float = 120.0
    max_pickle_opcodes: int = 50_000_000
    max_stack_depth: int = 100_000
    max_memo_entries: int = 1_000_000
    max_header_bytes: int = 100 * 1024**2  # safetensors / gguf / json headers
    max_json_depth: int = 64


@dataclass(slots=True)
class FileReport:
    """What the scanner says about one file on disk."""

    path: str
    digest: str | None  # "sha256:<hex>" of the whole file, computed in the same pass
    size: int
    format: str  # detected from content, e.g. "pickle", "pytorch-zip", "safetensors"
    verdict: Verdict
    findings: list[Finding] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)  # why parts were not inspected
    error: str | None = None
    seconds: float = 0.0

    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_dict(self) -> dict[str, Any]:
        top = self.max_severity()
        return {
            "path": self.path,
            "digest": self.digest,
            "size": self.size,
            "format": self.format,
            "verdict": self.verdict.value,
            "max_severity": top.label() if top is not None else None,
            "findings": [f.to_dict() for f in self.findings],
            "inconclusive": list(self.inconclusive),
            "error": self.error,
            "seconds": round(self.seconds, 6),
        }
