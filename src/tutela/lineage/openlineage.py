"""OpenLineage: emit recorded runs as RunEvents, and ingest RunEvents as runs and links.

Dataset identity is how the two worlds join (docs/lineage.md):

- Emitting: a file or folder is the dataset ``namespace="file", name=<absolute path>``;
  anything else is ``namespace="tutela", name=<asset id>``. Every dataset carries the
  standard ``version`` facet holding its Tutela digest.
- Ingesting, for each dataset in this order: a ``version`` facet that is a Tutela digest
  names that version; a ``file`` dataset whose path is a location Tutela recorded takes
  the latest version recorded there; a ``file`` dataset that exists locally is digested
  now; anything else (a warehouse table, an S3 object) is a version named by the digest of
  its ``{namespace, name}`` identity, which ``verify`` reports as not on disk.

Ingest limits: 256 MiB per file, 16 MiB per line, 100,000 events, 10,000 datasets per
event. A malformed line is an error naming the file and line; nothing is written then.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.runs import finish_run_in, require_run, start_run_in
from tutela.digest import bytes_digest, parse_digest
from tutela.errors import InputError, LimitExceeded, TutelaError, UsageError
from tutela.ledger.canonical import canonical_json
from tutela.lineage.identity import Form, Observed, asset_name, observe_path
from tutela.lineage.recorder import record_observed_in
from tutela.store.models import AssetKind, Run, RunStatus, Version
from tutela.utc import as_utc
from tutela.workspace import Transaction, Workspace

__all__ = [
    "IngestSummary",
    "emit_run",
    "file_client",
    "http_client",
    "ingest_events",
    "ingest_file",
    "run_events",
]

PRODUCER = "urn:tutela:lineage"
MAX_FILE = 256 * 1024 * 1024
MAX_LINE = 16 * 1024 * 1024
MAX_EVENTS = 100_000
MAX_DATASETS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TERMINAL = {"COMPLETE": RunStatus.SUCCEEDED, "FAIL": RunStatus.FAILED, "ABORT": RunStatus.FAILED}


def _ol(module: str) -> Any:
    try:
        return importlib.import_module(f"openlineage.client.{module}")
    except ImportError:
        raise UsageError(
            "emitting OpenLineage events needs openlineage-python",
            hint="pip install openlineage-python",
        ) from None


# -- emit -------------------------------------------------------------------------------


def file_client(path: Path) -> Any:
    """A client whose FileTransport appends one JSON event per line to ``path``."""
    client_mod, file_mod = _ol("client"), _ol("transport.file")
    config = file_mod.FileConfig(log_file_path=str(path), append=True)
    return client_mod.OpenLineageClient(transport=file_mod.FileTransport(config))


def http_client(url: str, *, timeout: float = 5.0) -> Any:
    """A client whose HttpTransport POSTs events to ``url``/api/v1/lineage."""
    client_mod, http_mod = _ol("client"), _ol("transport.http")
    config = http_mod.HttpConfig(url=url, timeout=timeout)
    return client_mod.OpenLineageClient(transport=http_mod.HttpTransport(config))


def _datasets(entries: list[Mapping[str, Any]], cls: Any, facet_v2: Any) -> list[Any]:
    out, seen = [], set()
    for entry in entries:
        if entry.get("form") in ("file", "dir") and entry.get("location"):
            namespace, name = "file", str(entry["location"])
        else:
            namespace, name = "tutela", str(entry["asset_id"])
        if (namespace, name, entry["digest"]) in seen:
            continue
        seen.add((namespace, name, entry["digest"]))
        version = facet_v2.dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=entry["digest"], producer=PRODUCER
        )
        out.append(cls(namespace=namespace, name=name, facets={"version": version}))
    return out


def run_events(ws: Workspace, run_id: str, *, namespace: str = "tutela") -> list[Any]:
    """START, then COMPLETE or FAIL when the run has ended, for a recorded run."""
    event_v2, facet_v2 = _ol("event_v2"), _ol("facet_v2")
    with ws.reader() as session:
        run = require_run(session, run_id)
        context = dict(run.context or {})
        name, status = run.name, run.status
        started = as_utc(run.started_at)
        ended = as_utc(run.ended_at) if run.ended_at else None
    try:
        uuid.UUID(run_id)
    except ValueError:
        raise InputError("OpenLineage run ids are UUIDs", subject=f"run:{run_id}") from None
    inputs = _datasets(context.get("inputs", []), event_v2.InputDataset, facet_v2)
    outputs = _datasets(context.get("outputs", []), event_v2.OutputDataset, facet_v2)
    job = event_v2.Job(namespace=namespace, name=name)
    ol_run = event_v2.Run(runId=run_id)

    def event(kind: str, when: datetime, with_outputs: bool) -> Any:
        return event_v2.RunEvent(
            eventType=getattr(event_v2.RunState, kind),
            eventTime=when.isoformat(),
            run=ol_run,
            job=job,
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs if with_outputs else [],
        )

    events = [event("START", started, False)]
    if ended is not None and status is not RunStatus.RUNNING:
        events.append(event("COMPLETE" if status is RunStatus.SUCCEEDED else "FAIL", ended, True))
    return events


def emit_run(ws: Workspace, run_id: str, client: Any, *, namespace: str = "tutela") -> int:
    """Send a recorded run through an OpenLineage client; returns the number of events."""
    events = run_events(ws, run_id, namespace=namespace)
    for event in events:
        client.emit(event)
    return len(events)


# -- ingest -----------------------------------------------------------------------------


class IngestSummary(BaseModel):
    events: int = 0
    runs_created: int = 0
    runs_updated: int = 0
    runs_skipped: int = 0
    links: int = 0


@dataclass
class _Dataset:
    namespace: str
    name: str
    version: str | None


@dataclass
class _RunBatch:
    run_id: str
    job: str
    producer: str
    started: datetime | None = None
    ended: datetime | None = None
    status: RunStatus = RunStatus.RUNNING
    inputs: dict[tuple[str, str], _Dataset] = field(default_factory=dict)
    outputs: dict[tuple[str, str], _Dataset] = field(default_factory=dict)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise LimitExceeded(
                "the OpenLineage file is too large", subject=str(path), found=f"{size} bytes"
            )
        handle = path.open("rb")
    except OSError as exc:
        raise InputError("cannot read the file", subject=str(path), found=exc.strerror) from None
    with handle:
        for number, line in enumerate(handle, 1):
            if len(line) > MAX_LINE:
                raise LimitExceeded("line too long", subject=f"{path}:{number}")
            if line.strip():
                yield number, line


def _load(path: Path) -> list[tuple[str, Any]]:
    """(``file:line``, parsed JSON) of each event; a JSON array file is accepted too."""
    out: list[tuple[str, Any]] = []
    for number, line in _lines(path):
        where = f"{path}:{number}"
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            if number == 1 and line.lstrip().startswith(b"["):
                return _load_array(path)
            raise InputError("not a JSON RunEvent", subject=where) from None
        out.append((where, value))
        if len(out) > MAX_EVENTS:
            raise LimitExceeded("too many events", subject=str(path), expected=f"<= {MAX_EVENTS}")
    return out


def _load_array(path: Path) -> list[tuple[str, Any]]:
    try:
        value = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        raise InputError(
            "not JSON lines nor a JSON array of RunEvents", subject=str(path)
        ) from None
    if not isinstance(value, list) or len(value) > MAX_EVENTS:
        raise InputError("expected a JSON array of at most 100,000 events", subject=str(path))
    return [(f"{path}[{i}]", v) for i, v in enumerate(value)]


def _text(value: Any, where: str, what: str, *, limit: int = 4096) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InputError(f"{what} must be a non-empty string", subject=where)
    return value


def _datasets_of(event: Mapping[str, Any], key: str, where: str) -> list[_Dataset]:
    items = event.get(key) or []
    if not isinstance(items, list) or len(items) > MAX_DATASETS:
        raise InputError(f"{key} must be a list of at most {MAX_DATASETS}", subject=where)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"{key} holds a non-object", subject=where)
        facets = item.get("facets") if isinstance(item.get("facets"), dict) else {}
        version = facets.get("version") if isinstance(facets, dict) else None
        digest = version.get("datasetVersion") if isinstance(version, dict) else None
        try:
            parse_digest(digest) if isinstance(digest, str) else None
        except InputError:
            digest = None
        out.append(
            _Dataset(
                _text(item.get("namespace"), where, "dataset namespace"),
                _text(item.get("name"), where, "dataset name"),
                digest if isinstance(digest, str) else None,
            )
        )
    return out


def _parse(events: list[tuple[str, Any]]) -> dict[str, _RunBatch]:
    runs: dict[str, _RunBatch] = {}
    for where, event in events:
        if not isinstance(event, dict):
            raise InputError("a RunEvent must be a JSON object", subject=where)
        run = event.get("run")
        job = event.get("job")
        if not isinstance(run, dict) or not isinstance(job, dict):
            raise InputError("a RunEvent needs run and job objects", subject=where)
        try:
            run_id = str(uuid.UUID(_text(run.get("runId"), where, "run.runId")))
        except ValueError:
            raise InputError("run.runId is not a UUID", subject=where) from None
        try:
            when = as_utc(datetime.fromisoformat(_text(event.get("eventTime"), where, "eventTime")))
        except ValueError:
            raise InputError("eventTime is not an ISO 8601 time", subject=where) from None
        kind = str(event.get("eventType") or "OTHER").upper()
        job_name = f"{_text(job.get('namespace'), where, 'job.namespace')}/" + _text(
            job.get("name"), where, "job.name"
        )
        batch = runs.setdefault(
            run_id, _RunBatch(run_id, job_name[:255], str(event.get("producer") or "")[:1000])
        )
        if kind == "START" or batch.started is None or when < batch.started:
            batch.started = when if batch.started is None else min(batch.started, when)
        if kind in _TERMINAL:
            batch.status, batch.ended = _TERMINAL[kind], when
        for ds in _datasets_of(event, "inputs", where):
            batch.inputs[(ds.namespace, ds.name)] = ds
        for ds in _datasets_of(event, "outputs", where):
            batch.outputs[(ds.namespace, ds.name)] = ds
    return runs


def _resolve(session: Session, ds: _Dataset) -> tuple[Observed, AssetKind, str | None]:
    """The version a dataset names, as (observation, asset kind, asset name or None)."""
    is_file = ds.namespace == "file" or ds.namespace.startswith("file://")
    if ds.version is not None:
        found = session.execute(
            select(Version).where(Version.digest == ds.version).order_by(Version.created_at)
        ).scalar()
        if found is not None:
            return _known(found)
    if is_file:
        found = session.execute(
            select(Version)
            .where(Version.location == ds.name)
            .order_by(Version.created_at.desc(), Version.id)
        ).scalar()
        if found is not None:
            return _known(found)
        local = Path(ds.name)
        if local.is_absolute() and local.exists():
            try:
                return observe_path(local), AssetKind.DATASET, None
            except TutelaError:
                pass
    identity = {"namespace": ds.namespace, "name": ds.name}
    seen = Observed(
        ds.version or bytes_digest(canonical_json(identity)),
        "identity",
        f"{ds.namespace}/{ds.name}" if not is_file else ds.name,
        asset_name(ds.name.rsplit("/", 1)[-1] or ds.name),
        {"identity": "openlineage", "openlineage": identity},
    )
    return seen, AssetKind.DATASET, None


def _known(version: Version) -> tuple[Observed, AssetKind, str | None]:
    meta = dict(version.meta or {})
    kind_text, _, name = version.asset_id.partition(":")
    recorded = meta.get("form")
    form: Form = recorded if recorded in ("file", "dir", "table") else "identity"
    seen = Observed(version.digest, form, version.location, name, {})
    return seen, AssetKind(kind_text), name


def _ingest_batch(tx: Transaction, batch: _RunBatch, summary: IngestSummary) -> None:
    existing = tx.session.get(Run, batch.run_id)
    if existing is not None and (existing.context or {}).get("source") != "openlineage":
        summary.runs_skipped += 1  # a run Tutela recorded itself and emitted
        return
    if existing is None:
        start_run_in(
            tx,
            batch.job,
            context={"source": "openlineage", "openlineage": {"producer": batch.producer}},
            run_id=batch.run_id,
            started_at=batch.started,
        )
        summary.runs_created += 1
    else:
        summary.runs_updated += 1
    run = require_run(tx.session, batch.run_id)
    known = {
        (e["version_id"], key)
        for key in ("inputs", "outputs")
        for e in (run.context or {}).get(key, [])
    }
    before = _link_count(tx.session, batch.run_id)
    for key, datasets in (("inputs", batch.inputs), ("outputs", batch.outputs)):
        direction = key[:-1]
        for ds in datasets.values():
            seen, kind, name = _resolve(tx.session, ds)
            version = tx.session.execute(
                select(Version.id).where(Version.digest == seen.digest)
            ).scalar()
            if version is not None and (version, key) in known:
                continue
            record_observed_in(tx, batch.run_id, seen, direction=direction, kind=kind, name=name)
    summary.links += _link_count(tx.session, batch.run_id) - before
    run = require_run(tx.session, batch.run_id)
    if batch.status is not RunStatus.RUNNING and run.status is RunStatus.RUNNING:
        finish_run_in(tx, batch.run_id, batch.status, ended_at=batch.ended)


def _link_count(session: Session, run_id: str) -> int:
    from sqlalchemy import func

    from tutela.store.models import Link

    return int(session.execute(select(func.count()).where(Link.run_id == run_id)).scalar_one())


def ingest_events(
    ws: Workspace, events: list[tuple[str, Any]], *, actor: str | None = None
) -> IngestSummary:
    """Ingest parsed events (``(where, event)`` pairs) in one transaction."""
    batches = _parse(events)
    summary = IngestSummary(events=len(events))
    with ws.transaction(actor) as tx:
        for batch in sorted(batches.values(), key=lambda b: (b.started or _EPOCH, b.run_id)):
            _ingest_batch(tx, batch, summary)
    return summary


def ingest_file(ws: Workspace, path: Path, *, actor: str | None = None) -> IngestSummary:
    """Ingest the RunEvents of a JSON lines file (what the FileTransport writes)."""
    return ingest_events(ws, _load(path), actor=actor)
