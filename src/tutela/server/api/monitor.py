"""Monitoring: ingest rows or profiles as windows, list windows, compare, read drift.

Each ingest request becomes one stored window (one evidence, one transaction), so
concurrent clients never share an open window file and an acknowledged request is
always in the store. Drift compares stored windows only: the API never reads a file
path on the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field, field_validator

from tutela.catalog.evidence import list_evidence
from tutela.catalog.schemas import EvidenceOut
from tutela.errors import InputError, LimitExceeded
from tutela.server.auth import ENGINEER, ActingWorkspace, reader, writer
from tutela.workspace import Workspace

router = APIRouter(tags=["monitor"])

Reader = Annotated[Workspace, Depends(reader)]
Writer = Annotated[ActingWorkspace, Depends(writer(ENGINEER))]
MAX_ROWS = 100_000
FLOAT32_MAX = 3.4028234663852886e38
MAX_PROFILE_UPLOAD = 64 * 1024 * 1024
Scalar = str | int | float | bool | None


class RowsIn(BaseModel):
    asset: str = Field(min_length=1, max_length=255, examples=["model:fraud-scorer"])
    rows: list[dict[str, Scalar]] = Field(min_length=1, max_length=MAX_ROWS)
    window: str | None = Field(default=None, max_length=200)
    version: str | None = Field(default=None, max_length=80, description="sha256:… digest")
    reservoir: int = Field(default=0, ge=0, le=10_000)

    @field_validator("rows")
    @classmethod
    def _finite(cls, rows: list[dict[str, Scalar]]) -> list[dict[str, Scalar]]:
        # Sketches hold float32: a larger magnitude would become infinity in the profile.
        for row in rows:
            for value in row.values():
                if isinstance(value, float) and not abs(value) <= FLOAT32_MAX:
                    raise ValueError(f"numbers must be finite and within ±{FLOAT32_MAX:.3g}")
        return rows


class WindowOut(BaseModel):
    evidence_id: str
    asset_id: str
    window: str
    profile_digest: str
    rows: int
    created_at: datetime
    version_digest: str | None


class DriftIn(BaseModel):
    reference: str = Field(pattern=r"^window:[A-Za-z0-9\-]{6,64}$")
    current: str = Field(pattern=r"^window:[A-Za-z0-9\-]{6,64}$")
    asset: str | None = Field(default=None, max_length=255)
    columns: list[str] | None = Field(default=None, max_length=1000)
    min_effect: dict[str, float] = Field(default_factory=dict)
    importance: dict[str, float] | None = None
    alpha: float = Field(default=0.05, gt=0, lt=1)
    window_index: int = Field(default=1, ge=1, le=1_000_000)


def _window(stored: Any) -> WindowOut:
    return WindowOut(
        evidence_id=stored.evidence_id,
        asset_id=stored.asset_id,
        window=stored.window,
        profile_digest=stored.digest,
        rows=stored.rows,
        created_at=stored.created_at,
        version_digest=stored.version_digest,
    )


def _window_name(given: str | None) -> str:
    return given or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _columns(rows: list[dict[str, Scalar]]) -> dict[str, list[Scalar]]:
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {name: [row.get(name) for row in rows] for name in names}


def _store(
    ws: ActingWorkspace, profile: Any, asset: str, window: str | None, version: str | None
) -> WindowOut:
    from tutela.monitor.storage import asset_id_for, store_profile

    stored = store_profile(
        ws,
        profile,
        asset_id=asset_id_for(asset),
        window=_window_name(window),
        version_digest=version,
    )
    return _window(stored)


@router.post("/monitor/rows", status_code=201, summary="Ingest a batch of rows as one window")
def ingest_rows(body: RowsIn, ws: Writer) -> WindowOut:
    import pyarrow as pa

    from tutela.monitor.ingest import profile_rows

    try:
        profile = profile_rows(_columns(body.rows), reservoir=body.reservoir)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError("the rows cannot form a table", found=first) from None
    return _store(ws, profile, body.asset, body.window, body.version)


@router.post("/monitor/profiles", status_code=201, summary="Ingest a profile (.tprof)")
def ingest_profile(
    ws: Writer,
    file: Annotated[
        UploadFile, File(description="A profile written by `tutela monitor profile -o`")
    ],
    asset: Annotated[str, Form(min_length=1, max_length=255)],
    window: Annotated[str | None, Form(max_length=200)] = None,
    version: Annotated[str | None, Form(max_length=80)] = None,
) -> WindowOut:
    from tutela.monitor.profile import TableProfile

    blob = file.file.read(MAX_PROFILE_UPLOAD + 1)
    if len(blob) > MAX_PROFILE_UPLOAD:
        raise LimitExceeded("the profile is too large", expected=f"<= {MAX_PROFILE_UPLOAD} bytes")
    try:
        profile = TableProfile.from_bytes(blob)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("not a Tutela profile", found=type(exc).__name__) from None
    return _store(ws, profile, asset, window, version)


@router.get("/monitor/windows", summary="Stored windows, oldest first")
def windows(
    ws: Reader,
    asset: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[WindowOut]:
    from tutela.monitor.storage import asset_id_for, list_windows

    found = list_windows(ws, asset_id_for(asset) if asset else None, limit=limit)
    return [_window(w) for w in found]


@router.post("/monitor/drift", status_code=201, summary="Compare two stored windows; record it")
def drift(body: DriftIn, ws: Writer) -> dict[str, Any]:
    from tutela.monitor.drift import DriftConfig, compare
    from tutela.monitor.sources import load_pair
    from tutela.monitor.storage import asset_id_for, record_drift

    config = DriftConfig(
        alpha=body.alpha,
        window_index=body.window_index,
        min_effect=body.min_effect,
        importances=body.importance or None,
        columns=body.columns,
    )
    ref, cur = load_pair(body.reference, body.current, ws, columns=config.columns)
    report = compare(ref, cur, config)
    asset = body.asset or body.current.removeprefix("window:")
    evidence_id = record_drift(
        ws, report, asset_id=asset_id_for(asset), reference=body.reference, current=body.current
    )
    return {**report.to_dict(), "evidence_id": evidence_id}


@router.get("/monitor/results", summary="Drift and performance results, newest first")
def results(
    ws: Reader,
    asset: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EvidenceOut]:
    from tutela.monitor.storage import asset_id_for

    found = list_evidence(
        ws, asset_id=asset_id_for(asset) if asset else None, kind="drift", limit=limit
    )
    return [ev for ev in found if ev.payload.get("role") in ("drift", "performance")]
