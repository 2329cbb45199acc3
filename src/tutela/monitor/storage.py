"""Profiles and drift results in the workspace.

A profile is a compressed file under ``.tutela/monitor/profiles/`` named by its SHA-256;
the Evidence record (kind ``drift``, producer ``monitor.profile``) carries that digest, the
window and a per-column summary. The ledger therefore commits to every stored profile
while the database and ledger stay small (a 1M-row reference is ~100 KB, which would bloat
every ledger entry and export if inlined), and the store schema does not change.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.errors import InputError
from tutela.monitor.profile import NumericProfile, TableProfile

if TYPE_CHECKING:
    from tutela.monitor.drift import DriftReport
    from tutela.workspace import Workspace

__all__ = [
    "DRIFT_PRODUCER",
    "PROFILE_PRODUCER",
    "StoredWindow",
    "asset_id_for",
    "list_windows",
    "load_window",
    "profile_dir",
    "record_drift",
    "record_performance",
    "store_profile",
]

PROFILE_PRODUCER = "monitor.profile"
DRIFT_PRODUCER = "monitor.drift"
PERFORMANCE_PRODUCER = "monitor.performance"
WINDOW_SCHEMA = "tutela.monitor.window/1"
DRIFT_SCHEMA = "tutela.monitor.drift/1"


def profile_dir(ws: Workspace) -> Path:
    return ws.layout.dir / "monitor" / "profiles"


def asset_id_for(name: str, default_kind: str = "model") -> str:
    """``fraud`` means ``model:fraud``; a full ``KIND:NAME`` id is kept as given."""
    return name if ":" in name else f"{default_kind}:{name}"


@dataclass
class StoredWindow:
    evidence_id: str
    asset_id: str
    window: str
    digest: str
    rows: int
    created_at: datetime
    version_digest: str | None


def _write_atomic(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(blob)
    tmp.replace(path)


def _column_summary(profile: TableProfile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, col in profile.columns.items():
        entry: dict[str, Any] = {"kind": col.kind, "count": col.count, "missing": col.missing}
        if isinstance(col, NumericProfile) and col.moments.n:
            entry["mean"] = col.moments.mean
            entry["std"] = col.moments.std
        out[name] = entry
    return out


def store_profile(
    ws: Workspace,
    profile: TableProfile,
    *,
    asset_id: str,
    window: str,
    version_digest: str | None = None,
    description: str | None = None,
) -> StoredWindow:
    """Write the profile file, then record it as drift evidence in one transaction."""
    from tutela.catalog.evidence import record_on_asset

    blob = profile.to_bytes()
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    path = profile_dir(ws) / f"{digest.removeprefix('sha256:')}.tprof"
    if not path.exists():
        _write_atomic(path, blob)
    evidence = record_on_asset(
        ws,
        asset_id=asset_id,
        description=description or "Monitored by tutela monitor",
        tags=["source:monitor"],
        kind="drift",
        producer=PROFILE_PRODUCER,
        payload={
            "schema": WINDOW_SCHEMA,
            "role": "profile",
            "window": window,
            "profile_digest": digest,
            "profile_file": str(path.relative_to(ws.layout.dir)),
            "profile_bytes": len(blob),
            "rows": profile.rows,
            "meta": profile.meta,
            "columns": _column_summary(profile),
        },
        summary={"rows": profile.rows, "columns": len(profile.columns), "window": window},
        version_digest=version_digest,
        location=profile.meta.get("source"),
    )
    return StoredWindow(
        evidence.id, asset_id, window, digest, profile.rows, evidence.created_at, version_digest
    )


def list_windows(
    ws: Workspace, asset_id: str | None = None, limit: int = 1000
) -> list[StoredWindow]:
    """Stored profile windows, oldest first."""
    from tutela.catalog.evidence import list_evidence

    found = list_evidence(
        ws, asset_id=asset_id, kind="drift", producer=PROFILE_PRODUCER, limit=limit
    )
    windows = [
        StoredWindow(
            ev.id,
            ev.asset_id,
            str(ev.payload.get("window", "")),
            str(ev.payload["profile_digest"]),
            int(ev.payload.get("rows", 0)),
            ev.created_at,
            ev.version_digest,
        )
        for ev in found
        if ev.payload.get("role") == "profile"
    ]
    return sorted(windows, key=lambda w: (w.created_at, w.evidence_id))


def load_window(ws: Workspace, ref: str) -> tuple[TableProfile, StoredWindow]:
    """A stored window by evidence id (or a unique prefix of at least 6 characters)."""
    if len(ref) < 6:
        raise InputError("a window id needs at least 6 characters", subject=ref)
    matches = [w for w in list_windows(ws, limit=100_000) if w.evidence_id.startswith(ref)]
    if len(matches) != 1:
        raise InputError(
            "no such stored window" if not matches else "ambiguous window id",
            subject=ref,
            hint="see `tutela monitor windows`",
        )
    window = matches[0]
    path = profile_dir(ws) / f"{window.digest.removeprefix('sha256:')}.tprof"
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise InputError(
            "the stored profile file is missing", subject=str(path), found=exc.strerror
        ) from None
    if "sha256:" + hashlib.sha256(blob).hexdigest() != window.digest:
        raise InputError(
            "the stored profile does not match its recorded digest",
            subject=str(path),
            hint="it was changed after it was recorded",
        )
    return TableProfile.from_bytes(blob), window


def record_drift(
    ws: Workspace,
    report: DriftReport,
    *,
    asset_id: str,
    reference: str,
    current: str,
    version_digest: str | None = None,
) -> str:
    """Record a drift decision as Evidence (kind drift, producer monitor.drift)."""
    from tutela.catalog.evidence import record_on_asset

    return record_on_asset(
        ws,
        asset_id=asset_id,
        description="Monitored by tutela monitor",
        tags=["source:monitor"],
        kind="drift",
        producer=DRIFT_PRODUCER,
        payload={
            "schema": DRIFT_SCHEMA,
            "role": "drift",
            "reference": reference,
            "current": current,
            **report.to_dict(),
            # Flat values, so alert rules can read earlier windows without re-deriving them.
            "metrics": report.metrics(),
        },
        summary={
            "drifted": report.drifted,
            "drifted_columns": report.drifted_columns,
            "drifted_share": report.drifted_share,
        },
        version_digest=version_digest,
    ).id


def record_performance(
    ws: Workspace, result: dict[str, Any], *, asset_id: str, version_digest: str | None = None
) -> str:
    """Record a window's performance (labels joined late) as drift evidence."""
    from tutela.catalog.evidence import record_on_asset

    metrics = {k: v for k, v in result.items() if isinstance(v, int | float)}
    return record_on_asset(
        ws,
        asset_id=asset_id,
        description="Monitored by tutela monitor",
        tags=["source:monitor"],
        kind="drift",
        producer=PERFORMANCE_PRODUCER,
        payload={"schema": "tutela.monitor.performance/1", "role": "performance", **result},
        summary=metrics,
        version_digest=version_digest,
    ).id
