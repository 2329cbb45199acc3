"""``verify``: re-digest what is on disk and compare it with what lineage recorded.

The scope is the upstream graph of ``ASSET[@DIGEST]`` (the asset's latest version by
default), the version itself included. Every place a file or folder version was seen
(the version's location and every run's record of reading or writing it) is digested
again. In-memory tables and versions known only by identity (OpenLineage, MLflow
datasets without a local file) have nothing on disk and are reported as such, never as
verified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from tutela.errors import InputError
from tutela.lineage.graph import LineageGraph, upstream
from tutela.store.models import Run
from tutela.workspace import Workspace

__all__ = ["Check", "VerifyReport", "verify"]

Status = Literal["ok", "changed", "missing", "unreadable", "not_on_disk"]
PROBLEMS: frozenset[str] = frozenset({"changed", "missing", "unreadable"})


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    asset_id: str
    version_id: str
    recorded: str
    location: str | None
    status: Status
    found: str | None = None
    detail: str | None = None


class VerifyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    checks: list[Check]
    truncated: bool

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in PROBLEMS]


def _redigest(form: str, location: str) -> tuple[Status, str | None, str | None]:
    from tutela.digest import dir_digest, file_digest

    path = Path(location)
    if not path.exists() and not path.is_symlink():
        return "missing", None, None
    try:
        if path.is_dir():
            if form != "dir":
                return "changed", None, "now a directory"
            return "ok", dir_digest(location).digest, None
        if form == "dir":
            return "changed", None, "no longer a directory"
        return "ok", file_digest(location).digest, None
    except InputError as exc:
        return "unreadable", None, exc.diagnostics()


def _locations(graph: LineageGraph, ws: Workspace) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {n.version_id: set() for n in graph.nodes}
    for node in graph.nodes:
        if node.location and node.form in ("file", "dir"):
            seen[node.version_id].add(node.location)
    run_ids = [r.id for r in graph.runs]
    if run_ids:
        with ws.reader() as session:
            for run in session.execute(select(Run).where(Run.id.in_(run_ids))).scalars():
                context = run.context or {}
                for entry in [*context.get("inputs", []), *context.get("outputs", [])]:
                    vid, where = entry.get("version_id"), entry.get("location")
                    if vid in seen and where and entry.get("form") in ("file", "dir"):
                        seen[vid].add(where)
    return seen


def verify(ws: Workspace, ref: str) -> VerifyReport:
    graph = upstream(ws, ref)
    places = _locations(graph, ws)
    checks: list[Check] = []
    for node in graph.nodes:
        where = sorted(places[node.version_id])
        if not where or node.form not in ("file", "dir"):
            note = "an in-memory table" if node.form == "table" else "known by identity only"
            checks.append(
                Check(
                    asset_id=node.asset_id,
                    version_id=node.version_id,
                    recorded=node.digest,
                    location=node.location,
                    status="not_on_disk",
                    detail=note,
                )
            )
            continue
        for location in where:
            status, found, detail = _redigest(node.form or "file", location)
            if status == "ok" and found != node.digest:
                status = "changed"
            checks.append(
                Check(
                    asset_id=node.asset_id,
                    version_id=node.version_id,
                    recorded=node.digest,
                    location=location,
                    status=status,
                    found=found,
                    detail=detail,
                )
            )
    return VerifyReport(ref=ref, checks=checks, truncated=graph.truncated)
