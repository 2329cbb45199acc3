"""Targets: estimator files behind the trust gate in a worker, ONNX, HTTP, callables."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
import pytest
import skops.io
from arena_ml_helpers import malicious_pickle, train

from tutela.arena.ml.data import Dataset
from tutela.arena.ml.interface import MLArenaError, ModelRefused
from tutela.arena.ml.targets.jsonpath import compile_path, select
from tutela.arena.ml.targets.resolve import open_target
from tutela.arena.ml.trust import record_trust
from tutela.workspace import Workspace


def _save(model: Any, path: Path, fmt: str) -> Path:
    if fmt == "joblib":
        joblib.dump(model, path)
    elif fmt == "pickle":
        path.write_bytes(pickle.dumps(model))
    else:
        skops.io.dump(model, path)
    return path


@pytest.mark.parametrize("fmt", ["joblib", "pickle", "skops"])
def test_estimator_file_answers_from_a_worker(
    fmt: str, breast_cancer: Dataset, tmp_path: Path
) -> None:
    """A clean estimator file is scanned, loaded in a worker process, and answers batches
    exactly as the in-memory model does."""
    model = train("rf", breast_cancer)
    path = _save(model, tmp_path / f"model.{fmt}", fmt)
    opened = open_target(path)
    try:
        rows = breast_cancer.features[:40]
        assert opened.kind == "estimator" and opened.admission["basis"] == "scan"
        assert opened.classifier.classes == ("0", "1")
        assert list(opened.classifier.predict(rows)) == [str(v) for v in model.predict(rows)]
        np.testing.assert_allclose(opened.classifier.predict_proba(rows), model.predict_proba(rows))
        worker = opened.classifier._proc  # type: ignore[attr-defined]
        assert worker.pid is not None and worker.poll() is None
    finally:
        opened.close()
    assert worker.poll() is not None  # the worker is gone after close


def test_malicious_pickle_is_refused_before_it_is_ever_loaded(tmp_path: Path) -> None:
    """A pickle whose loading would create a marker file is refused by the gate; the
    marker never appears (not in this process, not in a worker)."""
    marker = tmp_path / "marker"
    path = malicious_pickle(tmp_path / "model.pkl", marker)
    with pytest.raises(ModelRefused) as caught:
        open_target(path)
    assert "pickle.denied" in caught.value.diagnostics()
    assert "tutela arena ml trust" in caught.value.diagnostics()
    assert not marker.exists()


def test_skops_file_with_foreign_types_needs_a_decision(
    breast_cancer: Dataset, tmp_path: Path
) -> None:
    """A clean scan does not vouch for the types a skops schema names: a pipeline naming a
    function outside scikit-learn, NumPy and SciPy is refused before any worker starts."""
    import os

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    forest = train("rf", breast_cancer)
    model = make_pipeline(FunctionTransformer(func=os.getpid), forest)
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)
    with pytest.raises(ModelRefused) as caught:
        open_target(path)
    assert "getpid" in caught.value.diagnostics()


def test_trust_decision_opens_and_revoke_closes_the_gate(
    workspace: Workspace, wine: Dataset, tmp_path: Path
) -> None:
    """A benign file the scanner cannot vouch for (a medium 'unknown import' finding) is
    refused until a trust decision is recorded in the ledger; a revocation refuses it
    again. Decisions are found by digest."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    # numpy.sqrt as a pickled callable is benign but not on the allowlist: a medium finding.
    model = make_pipeline(
        FunctionTransformer(np.sqrt), GradientBoostingClassifier(n_estimators=30, random_state=0)
    ).fit(wine.features, wine.labels.astype(int))
    path = _save(model, tmp_path / "gb.joblib", "joblib")
    with pytest.raises(ModelRefused):
        open_target(path, workspace=workspace)
    evidence = record_trust(workspace, path, asset="model:wine-gb", reason="trained here")
    assert evidence.kind == "decision"
    opened = open_target(path, workspace=workspace)
    try:
        assert opened.admission == {
            "basis": "decision",
            "digest": evidence.version_digest,
            "evidence": [evidence.id],
        }
        rows = wine.features[:10]
        assert list(opened.classifier.predict(rows)) == [str(v) for v in model.predict(rows)]
    finally:
        opened.close()
    record_trust(workspace, path, asset="model:wine-gb", reason="withdrawn", revoke=True)
    with pytest.raises(ModelRefused, match="revoked"):
        open_target(path, workspace=workspace)


def test_onnx_model_through_onnxruntime(breast_cancer: Dataset, tmp_path: Path) -> None:
    """An skl2onnx export answers labels and ZipMap probabilities in class order."""
    from skl2onnx import to_onnx

    model = train("rf", breast_cancer)
    onx = to_onnx(model, breast_cancer.features[:1].astype(np.float32))
    path = tmp_path / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    opened = open_target(path)
    rows = breast_cancer.features[:50]
    assert opened.kind == "onnx" and opened.classifier.classes == ("0", "1")
    agree = opened.classifier.predict(rows) == model.predict(rows).astype(str)
    assert agree.mean() >= 0.98  # float32 thresholds may flip a rare tie
    np.testing.assert_allclose(
        opened.classifier.predict_proba(rows), model.predict_proba(rows), atol=1e-3
    )
    opened.close()


class _Endpoint(BaseHTTPRequestHandler):
    model: ClassVar[Any] = None
    bodies: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        rows = np.asarray(body["inputs"]["instances"], dtype=np.float64)
        answer = {
            "predictions": [
                {"label": int(label), "scores": [float(p) for p in proba]}
                for label, proba in zip(
                    self.model.predict(rows), self.model.predict_proba(rows), strict=True
                )
            ]
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def endpoint(wine: Dataset) -> Iterator[str]:
    _Endpoint.model = train("rf", wine)
    _Endpoint.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/predict"
    finally:
        server.shutdown()
        server.server_close()


def test_http_endpoint_with_template_and_selectors(
    endpoint: str, wine: Dataset, tmp_path: Path
) -> None:
    """Rows go out in batches through the body template; labels and probabilities come
    back through JSONPath selectors, over real HTTP on 127.0.0.1."""
    config = {
        "kind": "http",
        "id": "wine-api",
        "url": endpoint,
        "body": {"inputs": {"instances": "$rows"}, "version": 2},
        "labels": "$.predictions[*].label",
        "probabilities": "$.predictions[*].scores",
        "classes": [0, 1, 2],
        "batch": 25,
    }
    path = tmp_path / "target.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    opened = open_target(path)
    try:
        rows = wine.features[:60]
        model = _Endpoint.model
        assert opened.kind == "http" and opened.asset == "service:wine-api"
        assert list(opened.classifier.predict(rows)) == [str(v) for v in model.predict(rows)]
        np.testing.assert_allclose(opened.classifier.predict_proba(rows), model.predict_proba(rows))
    finally:
        opened.close()
    assert len(_Endpoint.bodies) == 6  # 60 rows in batches of 25, twice
    assert (
        _Endpoint.bodies[0]["version"] == 2
        and len(_Endpoint.bodies[0]["inputs"]["instances"]) == 25
    )


def test_http_selector_mismatch_is_a_clear_error(endpoint: str, tmp_path: Path) -> None:
    """A selector that finds nothing is an error naming the problem, not a crash."""
    path = tmp_path / "target.json"
    path.write_text(
        json.dumps(
            {
                "kind": "http",
                "url": endpoint,
                "body": {"inputs": {"instances": "$rows"}},
                "labels": "$.answers[*]",
            }
        ),
        encoding="utf-8",
    )
    opened = open_target(path)
    with pytest.raises(MLArenaError, match="no value at the selector"):
        opened.classifier.predict(np.zeros((2, 13)))
    opened.close()


def test_jsonpath_subset() -> None:
    """Keys, quoted keys, indexes, negative indexes and wildcards."""
    doc = {"a": {"b c": [{"x": 1}, {"x": 2}, {"x": 3}]}, "top": 5}
    assert select(doc, compile_path("$.top")) == ([5], False)
    assert select(doc, compile_path("$.a['b c'][*].x")) == ([1, 2, 3], True)
    assert select(doc, compile_path("$.a['b c'][-1].x")) == ([3], False)
    with pytest.raises(MLArenaError):
        compile_path("a.b")
    with pytest.raises(MLArenaError):
        compile_path("$.a[")
