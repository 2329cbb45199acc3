"""`tutela scan` as a service: scan, apply suppressions, record evidence."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tutela.scan.engine import scan_paths
from tutela.scan.interface import Limits, Severity
from tutela.scan.outcome import ScanOutcome

if TYPE_CHECKING:
    from tutela.workspace import Workspace

__all__ = ["run_scan"]


def run_scan(
    paths: Sequence[str | os.PathLike[str]],
    *,
    workspace: Workspace | None = None,
    record: bool = True,
    asset: str | None = None,
    fail_on: Severity = Severity.HIGH,
    limits: Limits | None = None,
    workers: int | None = None,
    base: Path | None = None,
) -> ScanOutcome:
    """Scan ``paths`` statically; with a workspace, apply its suppressions and (unless
    ``record`` is false) record one evidence per model artifact on its version. Findings
    are fingerprinted under their path relative to ``base`` (default: the workspace root,
    else the current directory)."""
    if base is None:
        base = workspace.layout.root if workspace is not None else Path.cwd()
    reports = list(scan_paths(paths, limits=limits or Limits(), workers=workers))
    outcome = ScanOutcome(reports=reports, base=base, fail_on=fail_on)
    if workspace is None:
        return outcome
    # The store is imported only when there is a workspace: a scan in CI with no
    # workspace starts in a fraction of the time.
    from tutela.scan.record import record_outcome
    from tutela.scan.suppressions import active_fingerprints

    outcome.workspace = str(workspace.layout.dir)
    suppressions = active_fingerprints(workspace)
    for report in reports:
        for finding in report.findings:
            fp = outcome.fingerprint(report, finding)
            if fp in suppressions:
                outcome.suppressed[fp] = suppressions[fp].id
    if record:
        record_outcome(workspace, outcome, asset=asset)
    return outcome
