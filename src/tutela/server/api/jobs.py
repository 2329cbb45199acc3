"""Background jobs of every kind started through this server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from tutela.server.auth import Principal, principal
from tutela.server.errors import NotFound
from tutela.server.jobs import JobOut, JobRegistry

router = APIRouter(tags=["jobs"])


def _jobs(request: Request) -> JobRegistry:
    jobs = request.app.state.jobs
    assert isinstance(jobs, JobRegistry)
    return jobs


@router.get("/jobs", summary="Jobs started through this server (forgotten on restart)")
def list_jobs(request: Request, _: Annotated[Principal, Depends(principal)]) -> list[JobOut]:
    return _jobs(request).list()


@router.get("/jobs/{job_id}", summary="One job's status, progress and result")
def get_job(job_id: str, request: Request, _: Annotated[Principal, Depends(principal)]) -> JobOut:
    job = _jobs(request).get(job_id)
    if job is None:
        raise NotFound("no such job", subject=job_id)
    return job
