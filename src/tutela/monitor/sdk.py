"""`tutela.monitor.log`: append rows to the model's current window, close it when full.

The open window lives in the workspace (``.tutela/monitor/open/``) as a profile file, so
``log`` keeps no state in the process: several processes, or one restarted, keep adding to
the same window (callers that log concurrently from many processes should serialise the
calls; the file is replaced atomically but read-modify-write is not locked). A window
closes by count (``window_rows``) or age (``window_seconds``) and is then stored like any
profile. When ``ids`` are given, predictions are kept by id until labels arrive
(``log_labels``), which records performance for the window the labels close.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.errors import InputError
from tutela.monitor.profile import TableProfile

if TYPE_CHECKING:
    from tutela.monitor.storage import StoredWindow
    from tutela.workspace import Workspace

__all__ = ["LogResult", "log", "log_labels"]

MAX_PENDING_PREDICTIONS = 1_000_000


@dataclass
class LogResult:
    asset_id: str
    rows_in_window: int
    closed: StoredWindow | None


def _open_dir(ws: Workspace) -> Path:
    return ws.layout.dir / "monitor" / "open"


def _key(asset_id: str) -> str:
    return hashlib.sha256(asset_id.encode()).hexdigest()[:24]


def _save(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(data)
    tmp.replace(path)


def _frame(data: Any, prefix: str) -> Any:
    from tutela.monitor.ingest import _as_table

    table = _as_table(data)
    return table.rename_columns([f"{prefix}{n}" for n in table.column_names])


def log(
    model: str,
    inputs: Any,
    outputs: Any = None,
    labels: Any = None,
    *,
    ids: Any = None,
    workspace: Path | Workspace | None = None,
    window_rows: int = 10_000,
    window_seconds: float | None = None,
    version_digest: str | None = None,
    reservoir: int = 0,
) -> LogResult:
    """Profile ``inputs`` (and ``outputs`` as ``output.*``, ``labels`` as ``label.*``)."""
    import pyarrow as pa

    from tutela.monitor.ingest import profile_batches
    from tutela.monitor.storage import asset_id_for

    if window_rows < 1:
        raise InputError("window_rows must be at least 1", found=str(window_rows))
    asset_id = asset_id_for(model)
    parts = [_frame(inputs, "")]
    if outputs is not None:
        parts.append(_frame(outputs, "output."))
    if labels is not None:
        parts.append(_frame(labels, "label."))
    rows = parts[0].num_rows
    if any(p.num_rows != rows for p in parts):
        raise InputError("inputs, outputs and labels must have the same number of rows")
    table = pa.Table.from_arrays(
        [c for p in parts for c in p.columns], names=[n for p in parts for n in p.column_names]
    )
    batch = profile_batches([table], reservoir=reservoir)
    with _WorkspaceScope(workspace) as ws:
        if ids is not None and outputs is not None:
            _keep_predictions(ws, asset_id, ids, parts[1])
        return _append(ws, asset_id, batch, window_rows, window_seconds, version_digest)


class _WorkspaceScope:
    """Use a given Workspace as is; open (and close) one from a path or the cwd."""

    def __init__(self, given: Path | Workspace | None) -> None:
        self.given = given
        self.opened: Workspace | None = None

    def __enter__(self) -> Workspace:
        from tutela.workspace import Workspace

        if isinstance(self.given, Workspace):
            return self.given
        self.opened = Workspace.open(self.given)
        return self.opened

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()


def _append(
    ws: Workspace,
    asset_id: str,
    batch: TableProfile,
    window_rows: int,
    window_seconds: float | None,
    version_digest: str | None,
) -> LogResult:
    from tutela.monitor.storage import store_profile

    path = _open_dir(ws) / f"{_key(asset_id)}.tprof"
    current = TableProfile.from_bytes(path.read_bytes()) if path.exists() else None
    now = time.time()
    if current is None:
        batch.meta["opened_at"] = now
        merged = batch
    else:
        merged = current.merge(batch)
    opened = float(merged.meta.get("opened_at", now))
    full = merged.rows >= window_rows
    old = window_seconds is not None and now - opened >= window_seconds
    if not (full or old):
        _save(path, merged.to_bytes())
        return LogResult(asset_id, merged.rows, None)
    name = datetime.fromtimestamp(opened, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    merged.meta["closed_at"] = now
    stored = store_profile(
        ws, merged, asset_id=asset_id, window=name, version_digest=version_digest
    )
    path.unlink(missing_ok=True)
    return LogResult(asset_id, 0, stored)


def _keep_predictions(ws: Workspace, asset_id: str, ids: Any, outputs: Any) -> None:
    keys = [str(i) for i in list(ids)]
    if len(keys) != outputs.num_rows:
        raise InputError("ids and outputs must have the same length")
    first = outputs.columns[0].to_pylist()
    path = _open_dir(ws) / f"{_key(asset_id)}.pred.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > MAX_PENDING_PREDICTIONS * 64:
        raise InputError(
            "too many predictions waiting for labels",
            subject=asset_id,
            hint="call log_labels, or log without ids",
        )
    with path.open("a", encoding="utf-8") as out:
        for key, value in zip(keys, first, strict=True):
            out.write(json.dumps([key, value]) + "\n")


def log_labels(
    model: str,
    ids: Any,
    labels: Any,
    *,
    workspace: Path | Workspace | None = None,
    version_digest: str | None = None,
) -> dict[str, Any]:
    """Join late labels to kept predictions by id and record the window's performance."""
    from tutela.monitor.performance import performance
    from tutela.monitor.storage import asset_id_for, record_performance

    asset_id = asset_id_for(model)
    truth = dict(zip((str(i) for i in list(ids)), list(labels), strict=True))
    with _WorkspaceScope(workspace) as ws:
        path = _open_dir(ws) / f"{_key(asset_id)}.pred.jsonl"
        if not path.exists():
            raise InputError(
                "no predictions are waiting for labels",
                subject=asset_id,
                hint="log outputs with ids= first",
            )
        joined_pred, joined_true, left = [], [], []
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                key, value = json.loads(line)
                if key in truth:
                    joined_pred.append(value)
                    joined_true.append(truth[key])
                else:
                    left.append(line)
        result = performance(joined_true, joined_pred)
        result["unmatched_labels"] = len(truth) - len(joined_true)
        _save(path, "".join(left).encode())
        if joined_true:
            result["evidence_id"] = record_performance(
                ws, result, asset_id=asset_id, version_digest=version_digest
            )
    return result
