"""Shared types of the training-data checks: findings, severities, limits, the report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from tutela.errors import InputError, LimitExceeded, UsageError
from tutela.severity import Severity

__all__ = [
    "MAX_LISTED_ROWS",
    "DataCheckError",
    "DataCheckReport",
    "Deadline",
    "Finding",
    "FindingKind",
    "Limits",
    "Severity",
    "one_blas_thread",
    "require_libraries",
]

_LIBRARIES: Final = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "cleanlab", "threadpoolctl")


def require_libraries() -> None:
    """A missing optional dependency is a usage error with the fix, not a traceback."""
    from importlib.util import find_spec

    missing = [m for m in _LIBRARIES if find_spec(m) is None]
    if missing:
        raise UsageError(
            "`tutela data check` needs the ml extra",
            found=f"missing {', '.join(missing)}",
            hint="pip install 'tutela[ml]'",
        )


# Row lists in findings are capped so a report stays readable and the evidence small;
# ``row_count`` always carries the full number.
MAX_LISTED_ROWS: Final = 1000


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run BLAS and OpenMP single-threaded: the checks fit many small models, where
    thread start-up and contention on a shared machine cost far more than they save (25x
    measured for a logistic regression on digits with 2 busy cores)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1):
        yield


class DataCheckError(InputError):
    """A dataset or an option the data checks cannot use."""

    code = "datacheck"


class FindingKind(StrEnum):
    LABEL_ERROR = "label_error"
    DUPLICATE = "duplicate"
    LEAKAGE = "leakage"
    OUTLIER = "outlier"
    IMBALANCE = "imbalance"
    PII = "pii"
    BACKDOOR = "backdoor"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one check may read and spend."""

    max_bytes: int = 2 << 30
    max_rows: int = 1_000_000
    max_columns: int = 2_000
    max_seconds: float = 600.0


class Deadline:
    """Wall-clock budget shared by the checks of one run."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self.seconds = seconds

    def expired(self) -> bool:
        return time.monotonic() > self._end

    def check(self, what: str) -> None:
        if self.expired():
            raise LimitExceeded(
                f"time limit of {self.seconds:g} s reached while {what}",
                hint="raise the limit or use --max-rows to check a sample",
            )


@dataclass(slots=True)
class Finding:
    """One problem found in the data; ``details`` holds the kind-specific fields."""

    kind: FindingKind
    check: str  # a stable sub-check id, e.g. "duplicate.exact"
    severity: Severity
    message: str
    rows: list[int] = field(default_factory=list)
    row_count: int = 0
    columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "check": self.check,
            "severity": self.severity.label(),
            "message": self.message,
            "rows": self.rows,
            "row_count": self.row_count,
            "rows_truncated": self.row_count > len(self.rows),
            "columns": self.columns,
            **self.details,
        }


def capped(rows: Any, limit: int = MAX_LISTED_ROWS) -> list[int]:
    """The first ``limit`` row indices as plain ints, in ascending order."""
    return [int(r) for r in sorted(int(x) for x in rows)[:limit]]


@dataclass(slots=True)
class DataCheckReport:
    dataset: str
    digest: str
    format: str
    rows: int
    columns: list[str]
    label_column: str | None
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    skipped: dict[str, str] = field(default_factory=dict)  # check -> why it did not run
    methods: dict[str, str] = field(default_factory=dict)  # check -> method used
    evidence_id: str | None = None

    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def counts(self) -> dict[str, int]:
        out = {kind.value: 0 for kind in FindingKind}
        for finding in self.findings:
            out[finding.kind.value] += 1
        return out

    def failed(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        top = self.max_severity()
        return {
            "dataset": self.dataset,
            "digest": self.digest,
            "format": self.format,
            "rows": self.rows,
            "columns": self.columns,
            "label_column": self.label_column,
            "truncated": self.truncated,
            "findings": [f.to_dict() for f in self.findings],
            "summary": {
                "by_kind": self.counts(),
                "total": len(self.findings),
                "max_severity": top.label() if top is not None else None,
            },
            "methods": self.methods,
            "skipped": self.skipped,
            "evidence": self.evidence_id,
        }
