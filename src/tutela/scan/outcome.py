"""A whole scan's result: per-file reports, which findings are suppressed, the exit code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.errors import ExitCode
from tutela.scan.interface import FileReport, Finding, Severity, Verdict
from tutela.version import tutela_version

__all__ = ["ScanOutcome", "artifact_name", "is_model_artifact", "scanner_version"]

# Detected formats that are not model artifacts: recorded only when something was found.
_NOT_MODELS = frozenset(
    {
        "text", "other", "empty", "unknown", "png", "jpeg", "gif", "pdf", "parquet",
        "sqlite", "arrow", "avro", "ogg", "flac", "mp3", "elf", "riff", "tiff",
    }
)  # fmt: skip


def scanner_version() -> str:
    return tutela_version()


def is_model_artifact(report: FileReport) -> bool:
    return bool(report.findings) or report.format not in _NOT_MODELS


def artifact_name(path: str, base: Path) -> str:
    """The name findings are fingerprinted under: the path relative to ``base`` when the
    file is inside it (so a suppression survives moving the checkout), else absolute."""
    # abspath, not resolve(): the name a person used, symlinks included, is the stable one.
    resolved = Path(os.path.abspath(path))  # noqa: PTH100
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


@dataclass
class ScanOutcome:
    reports: list[FileReport]
    base: Path
    fail_on: Severity
    suppressed: dict[str, str] = field(
        default_factory=dict
    )  # finding fingerprint -> suppression id
    recorded: list[str] = field(default_factory=list)  # evidence ids
    workspace: str | None = None

    def fingerprint(self, report: FileReport, finding: Finding) -> str:
        return finding.fingerprint(artifact_name(report.path, self.base))

    def active(self, report: FileReport) -> list[Finding]:
        return [f for f in report.findings if self.fingerprint(report, f) not in self.suppressed]

    def worst(self) -> Severity | None:
        return max((f.severity for r in self.reports for f in self.active(r)), default=None)

    def inconclusive(self) -> list[FileReport]:
        """Files not fully inspected: their verdict says so, or parts were left unread."""
        return [
            r
            for r in self.reports
            if r.verdict in (Verdict.INCONCLUSIVE, Verdict.ERROR) or r.inconclusive
        ]

    def exit_code(self) -> int:
        worst = self.worst()
        if worst is not None and worst >= self.fail_on:
            return ExitCode.FINDINGS
        if self.inconclusive():
            return ExitCode.INCONCLUSIVE
        return ExitCode.OK

    def report_dict(self, report: FileReport) -> dict[str, Any]:
        data = report.to_dict()
        for finding, out in zip(report.findings, data["findings"], strict=True):
            fp = self.fingerprint(report, finding)
            out["fingerprint"] = fp
            out["suppressed_by"] = self.suppressed.get(fp)
        data["artifact"] = artifact_name(report.path, self.base)
        return data

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst()
        return {
            "fail_on": self.fail_on.label(),
            "max_severity": worst.label() if worst is not None else None,
            "exit_code": self.exit_code(),
            "files": len(self.reports),
            "inconclusive": len(self.inconclusive()),
            "workspace": self.workspace,
            "evidence": self.recorded,
            "reports": [self.report_dict(r) for r in self.reports],
        }
