"""Corpus helpers for the format scanner tests: payloads that would only touch a marker."""

from __future__ import annotations

import os
from pathlib import Path

from tutela.scan.engine import scan_path
from tutela.scan.interface import FileReport, Limits, Severity


class Payload:
    """Pickles to ``os.system('touch <marker>')``; never unpickled by the tests."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def scan(path: Path, **limits: object) -> FileReport:
    return scan_path(path, limits=Limits(**limits))  # type: ignore[arg-type]


def rules(report: FileReport, minimum: Severity = Severity.LOW) -> set[str]:
    return {f.rule_id for f in report.findings if f.severity >= minimum}


def is_benign(report: FileReport) -> bool:
    return report.error is None and not rules(report) and not report.inconclusive


def pickle_caught(report: FileReport) -> bool:
    """The pickle engine reported the os.system payload (whatever its rule id)."""
    return any(
        f.severity >= Severity.HIGH and (f.rule_id.startswith("pickle") or "system" in f.message)
        for f in report.findings
    )
