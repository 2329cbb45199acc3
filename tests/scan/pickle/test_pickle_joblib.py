"""joblib files: inline array bytes are stepped over as joblib.load does, and whatever
follows them, or hides in an object array's nested pickle, is still analysed."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
import pytest

from tutela.scan.engine import scan_path
from tutela.scan.interface import Severity, Verdict


class _Payload:
    """Pickles to os.system(cmd); pickling never runs it, only loading would."""

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.cmd,))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a payload ran"


def test_sklearn_pipeline_joblib_is_clean_and_complete(tmp_path: Path) -> None:
    """A real scikit-learn Pipeline saved with joblib scans clean and fully inspected."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.random((200, 4)), rng.integers(0, 2, 200)
    model = Pipeline([("scale", StandardScaler()), ("rf", RandomForestClassifier(5))]).fit(x, y)
    for compress in (0, 3):
        path = tmp_path / f"model-{compress}.joblib"
        joblib.dump(model, path, compress=compress)
        report = scan_path(path)
        assert report.verdict is Verdict.CLEAN, (report.findings, report.inconclusive)
        assert not report.inconclusive


def test_arrays_of_every_layout(tmp_path: Path) -> None:
    """Scalars, empty, strings, structured and object arrays are all stepped over exactly."""
    data = {
        "scalar": np.float32(1.5) * np.ones(()),
        "empty": np.zeros((3, 0)),
        "strings": np.array(["abc", "de"]),
        "bytes": np.array([b"xy", b"z"]),
        "structured": np.zeros(4, dtype=[("a", "<i4"), ("b", "<f8")]),
        "objects": np.array(["x", None, 3], dtype=object),
        "bools": np.array([True, False]),
        "dates": np.array(["2026-01-01"], dtype="datetime64[D]"),
    }
    path = tmp_path / "arrays.joblib"
    joblib.dump(data, path)
    report = scan_path(path)
    assert report.verdict is Verdict.CLEAN, (report.findings, report.inconclusive)


def test_payload_after_array_bytes_is_found(tmp_path: Path, marker: Path) -> None:
    """A REDUCE placed after a large inline array is analysed, not hidden by it."""
    path = tmp_path / "after.joblib"
    joblib.dump([np.arange(100_000), _Payload(f"touch {marker}")], path)
    report = scan_path(path)
    rules = {f.rule_id: f for f in report.findings}
    assert "pickle.denied-call" in rules
    assert rules["pickle.denied-call"].severity is Severity.CRITICAL


def test_payload_inside_object_array_is_found(tmp_path: Path, marker: Path) -> None:
    """An object array's nested pickle is analysed like the outer one."""
    path = tmp_path / "objects.joblib"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(f"touch {marker}")
    joblib.dump({"weights": np.ones(10), "meta": evil}, path)
    report = scan_path(path)
    assert any(f.rule_id == "pickle.denied-call" for f in report.findings)


def test_forged_shape_is_not_clean(tmp_path: Path) -> None:
    """A wrapper claiming more array bytes than the file holds is malformed, never clean."""
    path = tmp_path / "forged.joblib"
    joblib.dump(np.arange(1000), path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    report = scan_path(path)
    assert report.verdict is not Verdict.CLEAN
