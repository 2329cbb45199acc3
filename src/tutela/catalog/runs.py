"""Runs: one execution of code that read and wrote versions. Every change is a ledger entry.

A run's row keeps what was run (``params``) and the circumstances (``context``: code,
environment, metrics, the versions it read and wrote, the error that ended it). The
versions it read and wrote are also lineage links (``catalog.links``) carrying its id.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.errors import InputError, UsageError
from tutela.store.models import Run, RunStatus
from tutela.utc import as_utc
from tutela.workspace import Transaction, Workspace

__all__ = [
    "RunOut",
    "finish_run_in",
    "get_run",
    "jsonable",
    "list_runs",
    "require_run",
    "run_out",
    "start_run_in",
    "update_run_context_in",
]

_MAX_NAME = 255
_MAX_DEPTH = 32


class RunOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    status: RunStatus
    actor: str
    params: dict[str, Any]
    context: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None


def run_out(run: Run) -> RunOut:
    return RunOut(
        id=run.id,
        name=run.name,
        status=run.status,
        actor=run.actor,
        params=dict(run.params or {}),
        context=dict(run.context or {}),
        started_at=as_utc(run.started_at),
        ended_at=as_utc(run.ended_at) if run.ended_at else None,
    )


def jsonable(value: Any, *, _depth: int = 0) -> Any:
    """A plain-JSON rendering of a parameter or metric value.

    Parameters come from anywhere (numpy scalars, estimators, paths), and the ledger only
    takes canonical JSON: numbers and strings stay, numpy scalars become Python numbers,
    non-finite floats become strings, and anything else becomes its ``repr``.
    """
    if _depth > _MAX_DEPTH:
        return "<too deep>"
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        # RFC 8785 numbers are IEEE doubles: larger integers would lose digits silently.
        return value if abs(value) <= 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [jsonable(v, _depth=_depth + 1) for v in items]
    item = getattr(value, "item", None)  # numpy scalars, without importing numpy
    if callable(item) and type(value).__module__ == "numpy":
        try:
            return jsonable(item(), _depth=_depth + 1)
        except (TypeError, ValueError):
            pass
    text = repr(value)
    return text if len(text) <= 1000 else text[:997] + "..."


def _check_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name or len(name) > _MAX_NAME:
        raise InputError("a run needs a name of 1 to 255 characters", found=repr(name[:40]))
    return name


def start_run_in(
    tx: Transaction,
    name: str,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    actor: str | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
    status: RunStatus = RunStatus.RUNNING,
    ended_at: datetime | None = None,
) -> RunOut:
    """Create a run row (``running`` unless an importer knows it already ended)."""
    run_id = run_id or str(uuid.uuid4())
    if len(run_id) > 36:
        raise InputError("a run id has at most 36 characters", found=run_id[:40])
    if tx.session.get(Run, run_id) is not None:
        raise UsageError("the run already exists", subject=f"run:{run_id}")
    run = Run(
        id=run_id,
        name=_check_name(name),
        status=status,
        actor=actor or tx.actor,
        params=jsonable(dict(params or {})),
        context=jsonable(dict(context or {})),
        started_at=started_at or datetime.now(UTC),
        ended_at=ended_at,
    )
    tx.session.add(run)
    tx.session.flush()
    out = run_out(run)
    tx.record("run.start", f"run:{run.id}", out.model_dump(mode="json"))
    return out


def require_run(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise InputError("no such run", subject=f"run:{run_id}", hint="see `tutela lineage runs`")
    return run


def update_run_context_in(
    tx: Transaction, run_id: str, action: str, changes: Mapping[str, Any]
) -> RunOut:
    """Merge ``changes`` into the run's context; list values are appended, not replaced.

    ``action`` names the ledger entry (``run.input``, ``run.output``, ...), whose data is
    the change itself, so the ledger tells what happened, not only the end state.
    """
    run = require_run(tx.session, run_id)
    context = dict(run.context or {})
    clean = jsonable(dict(changes))
    for key, value in clean.items():
        if isinstance(value, list) and isinstance(context.get(key), list):
            context[key] = [*context[key], *value]
        elif isinstance(value, dict) and isinstance(context.get(key), dict):
            context[key] = {**context[key], **value}
        else:
            context[key] = value
    run.context = context  # a new object, so SQLAlchemy sees the JSON change
    tx.session.flush()
    tx.record(action, f"run:{run_id}", {"run_id": run_id, **clean})
    return run_out(run)


def finish_run_in(
    tx: Transaction,
    run_id: str,
    status: RunStatus,
    *,
    metrics: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    ended_at: datetime | None = None,
) -> RunOut:
    """End a running run as ``succeeded`` or ``failed``; ending it twice is an error."""
    if status is RunStatus.RUNNING:
        raise UsageError("a run ends as succeeded or failed", found=status.value)
    run = require_run(tx.session, run_id)
    if run.status is not RunStatus.RUNNING:
        raise UsageError("the run has already ended", subject=f"run:{run_id}")
    context = dict(run.context or {})
    if metrics:
        context["metrics"] = {**context.get("metrics", {}), **jsonable(dict(metrics))}
    if error:
        context["error"] = jsonable(dict(error))
    run.context = context
    run.status = status
    run.ended_at = ended_at or datetime.now(UTC)
    tx.session.flush()
    out = run_out(run)
    tx.record(
        "run.end",
        f"run:{run_id}",
        {
            "run_id": run_id,
            "status": status.value,
            "ended_at": out.ended_at.isoformat() if out.ended_at else None,
            "metrics": context.get("metrics", {}),
            "error": context.get("error"),
        },
    )
    return out


def get_run(ws: Workspace, run_id: str) -> RunOut:
    with ws.reader() as session:
        return run_out(require_run(session, run_id))


def list_runs(ws: Workspace, *, name: str | None = None, limit: int = 100) -> list[RunOut]:
    if limit < 1:
        raise InputError("limit must be at least 1", found=str(limit))
    with ws.reader() as session:
        query = select(Run).order_by(Run.started_at.desc(), Run.id).limit(limit)
        if name is not None:
            query = query.where(Run.name == name)
        return [run_out(r) for r in session.execute(query).scalars()]
