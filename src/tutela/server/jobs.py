"""Background jobs for long work (Arena runs): a small thread pool and a registry.

Jobs live in memory: a restart forgets queued and running jobs, while whatever a job
recorded before is in the store and the ledger like any other evidence. The pool is
deliberately small; heavy work scales out on the engines the producers already use.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from tutela.errors import TutelaError

__all__ = ["JobOut", "JobRegistry"]

log = logging.getLogger("tutela.server")

Status = Literal["queued", "running", "succeeded", "failed"]
_KEEP = 1000  # finished jobs remembered


class JobOut(BaseModel):
    id: str
    kind: str
    actor: str
    status: Status
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class _Job:
    def __init__(self, kind: str, actor: str, progress: Callable[[], dict[str, Any]]) -> None:
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.actor = actor
        self.status: Status = "queued"
        self.progress = progress
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.created_at = datetime.now(UTC)
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None

    def out(self) -> JobOut:
        try:
            progress = self.progress() if self.status == "running" else {}
        except Exception:  # progress is advisory; never fail a status read over it
            progress = {}
        return JobOut(
            id=self.id,
            kind=self.kind,
            actor=self.actor,
            status=self.status,
            progress=progress,
            result=self.result,
            error=self.error,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )


class JobRegistry:
    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tutela-job")
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        kind: str,
        actor: str,
        work: Callable[[], dict[str, Any]],
        progress: Callable[[], dict[str, Any]] = dict,
    ) -> JobOut:
        job = _Job(kind, actor, progress)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job.out()

    def _run(self, job: _Job, work: Callable[[], dict[str, Any]]) -> None:
        job.status = "running"
        job.started_at = datetime.now(UTC)
        try:
            job.result = work()
            job.status = "succeeded"
        except TutelaError as exc:
            job.error = {"code": exc.code, "message": exc.diagnostics()}
            job.status = "failed"
        except Exception:
            log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
            job.error = {"code": "internal_error", "message": "the job failed; see server logs"}
            job.status = "failed"
        finally:
            job.finished_at = datetime.now(UTC)

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.finished_at is not None]
        for job in sorted(done, key=lambda j: j.created_at)[: max(0, len(done) - _KEEP)]:
            del self._jobs[job.id]

    def get(self, job_id: str) -> JobOut | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return None if job is None else job.out()

    def list(self, kind: str | None = None) -> list[JobOut]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j.out() for j in sorted(jobs, key=lambda j: j.created_at) if kind in (None, j.kind)]

    def wait(self, timeout: float | None = None) -> None:
        """Finish running jobs and stop (server shutdown)."""
        self._pool.shutdown(wait=timeout is None or timeout > 0, cancel_futures=True)
