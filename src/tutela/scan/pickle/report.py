"""Collect findings without flooding: one finding per (rule, callable), with a count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tutela.scan.interface import Finding, Severity

__all__ = ["Collector", "PickleResult"]

MAX_KEYS = 10_000  # distinct (rule, callable) pairs kept; the rest only counted


@dataclass(slots=True)
class PickleResult:
    """What the engine found in one pickle stream (possibly several concatenated pickles)."""

    findings: list[Finding]
    inconclusive: list[str]  # why part of the stream was not analysed (empty = fully)
    imports: list[str]  # resolved "module.qualname" names, first use order, deduplicated
    pickles: int  # complete or partial pickles read
    bytes_read: int

    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)


@dataclass(slots=True)
class _Entry:
    rule_id: str
    severity: Severity
    message: str
    offset: int | None
    callable: str | None
    args_preview: str | None
    details: dict[str, Any]
    count: int = 1


@dataclass(slots=True)
class Collector:
    member: str | None
    entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    dropped: int = 0

    def add(
        self,
        rule_id: str,
        severity: Severity,
        message: str,
        *,
        offset: int | None,
        callable: str | None = None,
        args_preview: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        key = (rule_id, callable or "")
        entry = self.entries.get(key)
        if entry is not None:
            entry.count += 1
            if severity > entry.severity:
                entry.severity = severity
                entry.message = message
            return
        if len(self.entries) >= MAX_KEYS:
            self.dropped += 1
            return
        self.entries[key] = _Entry(
            rule_id, severity, message, offset, callable, args_preview, dict(details or {})
        )

    def worst(self) -> Severity | None:
        return max((e.severity for e in self.entries.values()), default=None)

    def findings(self) -> list[Finding]:
        out = []
        for e in self.entries.values():
            details = dict(e.details)
            if e.count > 1:
                details["occurrences"] = e.count
            out.append(
                Finding(
                    rule_id=e.rule_id,
                    severity=e.severity,
                    message=e.message,
                    member=self.member,
                    offset=e.offset,
                    callable=e.callable,
                    args_preview=e.args_preview,
                    details=details,
                )
            )
        out.sort(key=lambda f: (-int(f.severity), f.offset if f.offset is not None else -1))
        return out
