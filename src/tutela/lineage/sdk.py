"""The run SDK: ``with tutela.run("train-fraud", params={...}) as run: ...``.

Entering the block records a ``running`` run with the code and environment it runs
with; ``run.input``/``run.output`` record versions and links as they happen (each its own
transaction, so a crash keeps what was already recorded); leaving the block records the
end, the metrics and the status. An exception inside the block records a ``failed`` run
with the error's type and message, then propagates unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from tutela.catalog.runs import RunOut, get_run
from tutela.lineage.recorder import Recorded, finish_run, record_input, record_output, start_run
from tutela.store.models import AssetKind, RunStatus
from tutela.workspace import Workspace

__all__ = ["RunHandle", "current_run", "run"]

_log = logging.getLogger(__name__)

# The run a `with` block opened in this thread or task: how autolog finds the run a
# fit() belongs to. A ContextVar, so threads and asyncio tasks never see each other's run.
_CURRENT: ContextVar[RunHandle | None] = ContextVar("tutela_lineage_run", default=None)


class RunHandle:
    """The open run inside a ``with tutela.run(...)`` block."""

    def __init__(self, workspace: Workspace, record: RunOut, actor: str | None) -> None:
        self.workspace = workspace
        self.id = record.id
        self.name = record.name
        self._actor = actor
        self._metrics: dict[str, Any] = {}

    def input(
        self,
        data: object,
        *,
        role: str = "input",
        name: str | None = None,
        kind: AssetKind | str = AssetKind.DATASET,
        source: str | os.PathLike[str] | None = None,
    ) -> Recorded:
        """Record a file, folder or table the run reads (``source=``: the file a table
        was read from)."""
        return record_input(
            self.workspace,
            self.id,
            data,
            role=role,
            name=name,
            kind=kind,
            source=source,
            actor=self._actor,
        )

    def output(
        self,
        data: object,
        *,
        kind: AssetKind | str = AssetKind.DATASET,
        name: str | None = None,
    ) -> Recorded:
        """Record a file, folder or table the run wrote; it is linked to every input."""
        return record_output(self.workspace, self.id, data, kind=kind, name=name, actor=self._actor)

    def metric(self, name: str, value: float) -> None:
        """Remember a metric; the last value of each name is recorded when the run ends."""
        self._metrics[str(name)] = value

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self._metrics)

    def refresh(self) -> RunOut:
        """The run as stored now."""
        return get_run(self.workspace, self.id)


def current_run() -> RunHandle | None:
    """The run of the innermost open ``with tutela.run(...)`` block, if any."""
    return _CURRENT.get()


def _capture(start: Path) -> dict[str, Any]:
    from tutela.lineage.context import capture_code, capture_environment

    return {"code": capture_code(start), "environment": capture_environment()}


@contextmanager
def run(
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
    actor: str | None = None,
) -> Iterator[RunHandle]:
    """Record a run around the block. ``workspace`` defaults to the one at or above the
    current directory; ``actor`` to ``TUTELA_ACTOR`` or user@host."""
    owned = workspace is None
    ws = workspace if workspace is not None else Workspace.open()
    try:
        record = start_run(ws, name, params=params, context=_capture(Path.cwd()), actor=actor)
        handle = RunHandle(ws, record, actor)
        token = _CURRENT.set(handle)
        try:
            yield handle
        except BaseException as exc:
            error = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}"}
            error["message"] = " ".join(str(exc).split())[:2000]
            try:
                finish_run(
                    ws,
                    record.id,
                    RunStatus.FAILED,
                    metrics=handle.metrics,
                    error=error,
                    actor=actor,
                )
            except Exception:  # the user's exception matters more than ours
                _log.exception("could not record the failure of run %s", record.id)
            raise
        else:
            finish_run(ws, record.id, RunStatus.SUCCEEDED, metrics=handle.metrics, actor=actor)
        finally:
            _CURRENT.reset(token)
    finally:
        if owned:
            ws.close()
