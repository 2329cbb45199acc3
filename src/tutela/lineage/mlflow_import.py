"""Import a local MLflow tracking store: runs, params, metrics, inputs and artifacts.

Only local stores are read (``file://`` folders, ``sqlite:///`` databases, or a plain
folder path), through MLflow's own client, so the store's format is MLflow's business.
Each MLflow run becomes a Tutela run whose id is the MLflow run id in UUID form, so a
second import of the same store skips what it already imported.

- params → the run's params; metrics (last values) and tags → its context; the git
  commit MLflow saw (``mlflow.source.git.commit``) → the run's code.
- dataset inputs (``mlflow.log_input``) → inputs in their ``mlflow.data.context`` role. A
  source that is a local file or folder is digested by content, so the import joins
  whatever else recorded that data; any other source is a version named by the digest
  of its MLflow identity (name, MLflow digest, source), which ``verify`` reports as
  ``not_on_disk``.
- logged models (MLflow 3) and artifact folders holding an ``MLmodel`` file → ``model``
  outputs (``model:<run name>-<model name>``) linked ``trained_on`` the inputs; every other
  artifact file → a ``dataset`` output ``dataset:<run name>/<path>``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from tutela.catalog.runs import start_run_in
from tutela.digest import bytes_digest
from tutela.errors import InputError, UsageError
from tutela.ledger.canonical import canonical_json
from tutela.lineage.identity import Observed, asset_name, observe_path
from tutela.lineage.recorder import record_observed_in
from tutela.store.models import AssetKind, Run, RunStatus
from tutela.workspace import Workspace

__all__ = ["MlflowImportSummary", "import_mlflow"]

MAX_RUNS = 100_000
MAX_ARTIFACTS_PER_RUN = 10_000
_STATUS = {
    "FINISHED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.FAILED,
}


class MlflowImportSummary(BaseModel):
    imported: int = 0
    skipped: int = 0
    inputs: int = 0
    outputs: int = 0
    runs: list[str] = []


def _local_uri(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path) if parsed.scheme else uri)
        if not path.is_dir():
            raise InputError("no MLflow store folder here", subject=str(path))
        return path.resolve().as_uri()
    if parsed.scheme == "sqlite":
        return uri
    raise UsageError(
        "only local MLflow stores are imported",
        subject=uri,
        expected="file:///path/to/mlruns, a folder path, or sqlite:///path/to/mlflow.db",
    )


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    # MLflow 3 refuses to open folder stores unless told they are wanted; reading one
    # is exactly what an import is for. Restored afterwards.
    key = "MLFLOW_ALLOW_FILE_STORE"
    before = os.environ.get(key)
    os.environ[key] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _client(uri: str) -> Any:
    try:
        tracking = importlib.import_module("mlflow.tracking")
    except ImportError:
        raise UsageError(
            "importing MLflow stores needs MLflow", hint="pip install mlflow-skinny"
        ) from None
    return tracking.MlflowClient(tracking_uri=uri)


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _local_path(uri: str | None) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and uri.startswith("/"):
        return Path(uri)
    return None


def _dataset_input(dataset_input: Any) -> tuple[Observed, str | None, str]:
    dataset = dataset_input.dataset
    role = next((t.value for t in dataset_input.tags if t.key == "mlflow.data.context"), "input")
    try:
        source = json.loads(dataset.source) if dataset.source else {}
    except ValueError:
        source = {"raw": str(dataset.source)[:1000]}
    uri = source.get("uri") if isinstance(source, dict) else None
    local = _local_path(uri) if isinstance(uri, str) else None
    name = asset_name(dataset.name or "mlflow-dataset")
    if local is not None and local.exists():
        return observe_path(local), None, role  # named like any other copy of that data
    identity = {"mlflow_dataset": dataset.name, "digest": dataset.digest, "source": source}
    seen = Observed(
        bytes_digest(canonical_json(identity)),
        "identity",
        None,
        name,
        {"identity": "mlflow", "mlflow": identity},
    )
    return seen, name, role


def _artifact_outputs(client: Any, run_id: str, root: Path | None) -> list[tuple[Path, str]]:
    """(local path, relative path) of each artifact: model folders whole, other files."""
    if root is None or not root.is_dir():
        return []
    out: list[tuple[Path, str]] = []
    stack = [""]
    while stack and len(out) < MAX_ARTIFACTS_PER_RUN:
        for info in client.list_artifacts(run_id, stack.pop() or None):
            local = root / info.path
            if info.is_dir and (local / "MLmodel").is_file():
                out.append((local, info.path))
            elif info.is_dir:
                stack.append(info.path)
            elif local.is_file():
                out.append((local, info.path))
    return out


def _logged_models(client: Any, experiment_ids: Sequence[str]) -> dict[str, list[Any]]:
    search = getattr(client, "search_logged_models", None)
    if search is None:  # MLflow 2: models are run artifacts
        return {}
    by_run: dict[str, list[Any]] = {}
    for model in search(experiment_ids=list(experiment_ids)):
        if model.source_run_id:
            by_run.setdefault(model.source_run_id, []).append(model)
    return by_run


def _runs(client: Any, experiment_ids: list[str]) -> Iterator[Any]:
    token: str | None = None
    seen = 0
    while True:
        page = client.search_runs(experiment_ids, max_results=1000, page_token=token)
        for item in page:
            seen += 1
            if seen > MAX_RUNS:
                raise InputError("too many runs in the MLflow store", expected=f"<= {MAX_RUNS}")
            yield item
        token = getattr(page, "token", None)
        if not token:
            return


def import_mlflow(
    ws: Workspace,
    tracking_uri: str,
    *,
    experiments: Sequence[str] | None = None,
    actor: str | None = None,
) -> MlflowImportSummary:
    uri = _local_uri(tracking_uri)
    summary = MlflowImportSummary()
    with _file_store_allowed():
        client = _client(uri)
        found = client.search_experiments()
        chosen = [e for e in found if not experiments or e.name in experiments]
        if experiments and len(chosen) != len(set(experiments)):
            missing = sorted(set(experiments) - {e.name for e in chosen})
            raise InputError("no such MLflow experiment", subject=", ".join(missing))
        names = {e.experiment_id: e.name for e in chosen}
        if not names:
            return summary
        models = _logged_models(client, list(names))
        for mlrun in _runs(client, list(names)):
            _import_run(ws, client, uri, mlrun, names, models, summary, actor)
    return summary


def _import_run(
    ws: Workspace,
    client: Any,
    uri: str,
    mlrun: Any,
    names: dict[str, str],
    models: dict[str, list[Any]],
    summary: MlflowImportSummary,
    actor: str | None,
) -> None:
    info, data = mlrun.info, mlrun.data
    run_id = str(uuid.UUID(hex=info.run_id))
    with ws.reader() as session:
        if session.get(Run, run_id) is not None:
            summary.skipped += 1
            return
    run_name = info.run_name or info.run_id
    tags = dict(data.tags)
    commit = tags.get("mlflow.source.git.commit")
    inputs = [_dataset_input(d) for d in getattr(mlrun.inputs, "dataset_inputs", None) or []]
    outputs: list[tuple[Observed, AssetKind, str]] = []
    base = asset_name(run_name)
    for model in models.get(info.run_id, []):
        local = _local_path(model.artifact_location)
        if local is not None and local.is_dir():
            outputs.append((observe_path(local), AssetKind.MODEL, f"{base}-{model.name}"))
    for local, rel in _artifact_outputs(client, info.run_id, _local_path(info.artifact_uri)):
        if local.is_dir():
            outputs.append((observe_path(local), AssetKind.MODEL, f"{base}-{asset_name(rel)}"))
        else:
            outputs.append((observe_path(local), AssetKind.DATASET, f"{base}/{asset_name(rel)}"))
    context = {
        "source": "mlflow",
        "mlflow": {
            "tracking_uri": uri,
            "experiment": names.get(info.experiment_id),
            "run_id": info.run_id,
            "status": info.status,
            "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.log-model")},
        },
        "metrics": dict(data.metrics),
        "code": {"vcs": "git", "commit": commit} if commit else None,
    }
    status = _STATUS.get(info.status, RunStatus.RUNNING)
    with ws.transaction(actor) as tx:
        start_run_in(
            tx,
            f"mlflow:{names.get(info.experiment_id)}/{run_name}",
            params=dict(data.params),
            context=context,
            actor=tags.get("mlflow.user") or info.user_id or None,
            run_id=run_id,
            started_at=_when(info.start_time),
            status=status,
            ended_at=_when(info.end_time),
        )
        for seen, name, role in inputs:
            record_observed_in(tx, run_id, seen, direction="input", role=role, name=name)
        for seen, kind, name in outputs:
            record_observed_in(tx, run_id, seen, direction="output", kind=kind, name=name)
    summary.imported += 1
    summary.inputs += len(inputs)
    summary.outputs += len(outputs)
    summary.runs.append(run_id)
