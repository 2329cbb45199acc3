"""OpenLineage: emit through the file and HTTP transports, ingest RunEvents, join by identity."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from lineage_support import lineage_cli

from tutela.errors import InputError
from tutela.lineage.graph import downstream, upstream
from tutela.lineage.openlineage import emit_run, file_client, http_client, ingest_file
from tutela.lineage.sdk import run
from tutela.lineage.verify import verify
from tutela.store.models import RunStatus
from tutela.workspace import Workspace

pytest.importorskip("openlineage.client", reason="openlineage-python is not installed")


def _recorded_run(ws: Workspace, root: Path) -> str:
    raw = root / "raw.csv"
    raw.write_text("a\n1\n2\n")
    model = root / "m.bin"
    with run("train", workspace=ws) as r:
        r.input(raw, role="training")
        model.write_bytes(b"weights")
        r.output(model, kind="model", name="m")
    return r.id


def test_emit_to_file_writes_start_and_complete_with_digests(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The FileTransport gets START and COMPLETE; datasets are file paths with the digest."""
    run_id = _recorded_run(workspace, tmp_path)
    out = tmp_path / "events.jsonl"
    assert emit_run(workspace, run_id, file_client(out)) == 2
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert events[1]["run"]["runId"] == run_id
    (inp,) = events[1]["inputs"]
    assert inp["namespace"] == "file" and inp["name"] == str(tmp_path / "raw.csv")
    assert inp["facets"]["version"]["datasetVersion"].startswith("sha256:")
    assert events[1]["outputs"][0]["name"] == str(tmp_path / "m.bin")


@pytest.fixture
def collector() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_emit_over_http(
    workspace: Workspace, tmp_path: Path, collector: tuple[str, list[dict[str, object]]]
) -> None:
    """The HttpTransport POSTs both events to a local OpenLineage endpoint."""
    url, received = collector
    run_id = _recorded_run(workspace, tmp_path)
    assert emit_run(workspace, run_id, http_client(url)) == 2
    assert [e["eventType"] for e in received] == ["START", "COMPLETE"]


def test_ingest_joins_an_airflow_job_to_model_lineage(workspace: Workspace, tmp_path: Path) -> None:
    """An extract job that wrote raw.csv from a warehouse table joins the model's lineage
    through the file's identity; show reaches the table, impact of the table reaches the
    model, and verify reports the table as not on disk rather than verified."""
    _recorded_run(workspace, tmp_path)
    run_id = str(uuid.uuid4())
    job = {"namespace": "airflow", "name": "extract.raw"}
    table = {"namespace": "postgres://db:5432", "name": "sales.public.transactions"}
    written = {"namespace": "file", "name": str(tmp_path / "raw.csv")}
    events = [
        {
            "eventType": "START",
            "eventTime": "2026-01-01T00:00:00Z",
            "run": {"runId": run_id},
            "job": job,
            "producer": "https://github.com/apache/airflow",
            "inputs": [table],
        },
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-01-01T00:05:00+00:00",
            "run": {"runId": run_id},
            "job": job,
            "producer": "airflow",
            "inputs": [table],
            "outputs": [written],
        },
    ]
    path = tmp_path / "ol.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    summary = ingest_file(workspace, path)
    assert (summary.events, summary.runs_created, summary.links) == (2, 1, 1)

    graph = upstream(workspace, "model:m")
    assert "dataset:sales.public.transactions" in graph.asset_ids()
    runs = {r.name: r for r in graph.runs}
    assert runs["airflow/extract.raw"].status is RunStatus.SUCCEEDED
    assert "model:m" in downstream(workspace, "dataset:sales.public.transactions").asset_ids()
    statuses = {c.asset_id: c.status for c in verify(workspace, "model:m").checks}
    assert statuses["dataset:sales.public.transactions"] == "not_on_disk"
    assert statuses["dataset:raw"] == "ok"

    again = ingest_file(workspace, path)
    assert (again.runs_created, again.runs_updated, again.links) == (0, 1, 0)


def test_round_trip_of_own_events_is_skipped(workspace: Workspace, tmp_path: Path) -> None:
    """Ingesting events Tutela emitted for its own run changes nothing."""
    run_id = _recorded_run(workspace, tmp_path)
    out = tmp_path / "own.jsonl"
    emit_run(workspace, run_id, file_client(out))
    result = lineage_cli("ingest-openlineage", str(out), "--json", workspace=tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["runs_skipped"] == 1


@pytest.mark.parametrize(
    "line",
    [b"{not json\n", b"[1]\n", b'{"run": {"runId": "x"}, "job": {}}\n', b'"text"\n'],
)
def test_malformed_events_are_one_line_errors(
    workspace: Workspace, tmp_path: Path, line: bytes
) -> None:
    """Malformed input names the file and line and records nothing."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(line)
    with pytest.raises(InputError) as caught:
        ingest_file(workspace, path)
    assert str(path) in caught.value.diagnostics()
    assert "\n" not in caught.value.diagnostics()
