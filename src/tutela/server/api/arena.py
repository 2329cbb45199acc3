"""Arena runs (tutela.arena.service.run_arena) as background jobs with progress.

A run names a target config file in the server's targets folder: never an inline
config, since a ``python`` target imports code and an ``openai`` target reads an API
key from the server's environment.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tutela.errors import InputError
from tutela.server.auth import ENGINEER, ActingWorkspace, Principal, principal, reader, writer
from tutela.server.config import ServerConfig
from tutela.server.errors import Forbidden, NotFound
from tutela.server.jobs import JobOut, JobRegistry
from tutela.workspace import Workspace

router = APIRouter(tags=["arena"])

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
_MAX_CONFIG = 1024 * 1024
KIND = "arena"


class ArenaRunIn(BaseModel):
    target: str = Field(pattern=_NAME.pattern, description="A config in the targets folder")
    categories: list[str] = Field(default_factory=list, max_length=50)
    transforms: list[str] = Field(default_factory=lambda: ["none"], min_length=1, max_length=20)
    seeds: int = Field(default=1, ge=1, le=10)
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout: float = Field(default=30.0, gt=0, le=600)
    early_stop: float | None = Field(default=None, gt=0, le=1)


def target_config(folder: Path | None, name: str) -> dict[str, Any]:
    if folder is None:
        raise Forbidden(
            "Arena runs are disabled: no targets folder is configured",
            hint="start the server with TUTELA_SERVER_TARGETS_DIR",
        )
    for suffix in (".yaml", ".yml", ".json"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            break
    else:
        raise NotFound("no such target config", subject=name, hint=f"add {name}.yaml")
    if path.stat().st_size > _MAX_CONFIG:
        raise InputError("the target config is larger than 1 MB", subject=name)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        raise InputError("the target config is not readable YAML", subject=name) from None
    if not isinstance(loaded, dict):
        raise InputError("the target config is not a mapping", subject=name)
    return loaded


def _jobs(request: Request) -> JobRegistry:
    jobs = request.app.state.jobs
    assert isinstance(jobs, JobRegistry)
    return jobs


def _attempts_done(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


@router.post("/arena/runs", status_code=202, summary="Start an Arena run (a background job)")
def start_run(
    body: ArenaRunIn, ws: Annotated[ActingWorkspace, Depends(writer(ENGINEER))], request: Request
) -> JobOut:
    from tutela.arena.service import run_arena

    config: ServerConfig = request.app.state.config
    cfg = target_config(config.targets_dir, body.target)
    run_id = uuid.uuid4().hex[:12]
    out_dir = ws.layout.dir / "arena"

    def work() -> dict[str, Any]:
        result = run_arena(
            cfg,
            out_dir=out_dir,
            categories=body.categories,
            transforms=body.transforms,
            seeds=list(range(body.seeds)),
            concurrency=body.concurrency,
            timeout=body.timeout,
            run_id=run_id,
            workspace=ws,
            early_stop=body.early_stop,
        )
        return result.to_dict()

    def progress() -> dict[str, Any]:
        return {
            "run_id": run_id,
            "attempts_done": _attempts_done(out_dir / run_id / "attempts.jsonl"),
        }

    return _jobs(request).submit(KIND, ws.actor, work, progress)


@router.get("/arena/runs", summary="Arena runs started through this server")
def list_runs(request: Request, _: Annotated[Workspace, Depends(reader)]) -> list[JobOut]:
    return _jobs(request).list(KIND)


@router.get("/arena/runs/{job_id}", summary="An Arena run's status, progress and results")
def get_run(job_id: str, request: Request, _: Annotated[Principal, Depends(principal)]) -> JobOut:
    job = _jobs(request).get(job_id)
    if job is None or job.kind != KIND:
        raise NotFound("no such Arena run", subject=job_id)
    return job
