"""scikit-learn autolog: fit records training data and parameters; saving records the model."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tutela.catalog.runs import list_runs
from tutela.lineage.autolog import autolog, disable_autolog, is_autologging
from tutela.lineage.graph import upstream
from tutela.lineage.identity import observe_table
from tutela.lineage.sdk import run
from tutela.store.models import LinkKind, RunStatus
from tutela.workspace import Workspace


@pytest.fixture
def autologged(workspace: Workspace) -> Iterator[Workspace]:
    autolog(workspace=workspace)
    try:
        yield workspace
    finally:
        disable_autolog()


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 3})
    return frame, (np.arange(40) % 2).astype(np.int64)


def test_fit_outside_a_run_is_its_own_run_and_pickle_dump_records_the_model(
    autologged: Workspace, tmp_path: Path
) -> None:
    """A bare fit() becomes a run with the estimator's params and the data's fingerprint;
    pickle.dump of that estimator records a model trained_on that data."""
    x, y = _data()
    model = LogisticRegression(C=2.0).fit(x, y)
    (fit_run,) = list_runs(autologged)
    assert fit_run.name == "sklearn.LogisticRegression.fit"
    assert fit_run.status is RunStatus.SUCCEEDED
    assert fit_run.params["C"] == 2.0
    roles = {e["role"]: e["digest"] for e in fit_run.context["inputs"]}
    assert roles == {"training": observe_table(x).digest, "target": observe_table(y).digest}

    target = tmp_path / "lr.pkl"
    with target.open("wb") as handle:
        pickle.dump(model, handle)
    graph = upstream(autologged, "model:lr")
    assert graph.node(graph.roots[0]).location == str(target)
    kinds = {(e.kind, graph.node(e.dst).digest) for e in graph.edges}
    assert kinds == {
        (LinkKind.TRAINED_ON, observe_table(x).digest),
        (LinkKind.TRAINED_ON, observe_table(y).digest),
    }


def test_fit_inside_a_run_joins_it_and_joblib_dump_records_the_model(
    autologged: Workspace, tmp_path: Path
) -> None:
    """Inside a run, a Pipeline fit is recorded once (not its steps) and joblib.dump to a
    path records the model as that run's output, linked to the named training table."""
    x, y = _data()
    with run("train", workspace=autologged) as r:
        r.input(x, name="features")
        pipe = Pipeline([("scale", StandardScaler()), ("rf", RandomForestClassifier(3))])
        pipe.fit(x, y)
        joblib.dump(pipe, tmp_path / "pipe.joblib")
    (found,) = list_runs(autologged)
    assert [e["class"] for e in found.context["estimators"]] == ["sklearn.pipeline.Pipeline"]
    assert [o["asset_id"] for o in found.context["outputs"]] == ["model:pipe"]
    graph = upstream(autologged, "model:pipe")
    assert "dataset:features" in graph.asset_ids()  # same fingerprint, same asset


def test_objects_not_fitted_under_autolog_pass_through(
    autologged: Workspace, tmp_path: Path
) -> None:
    """Dumping anything else records nothing, and disable_autolog restores pickle.dump."""
    with (tmp_path / "x.pkl").open("wb") as handle:
        pickle.dump({"plain": 1}, handle)
    assert list_runs(autologged) == []
    assert is_autologging()
    disable_autolog()
    assert not is_autologging()
    assert pickle.dump.__module__ in {"_pickle", "pickle"}
    LogisticRegression().fit(*_data())
    assert list_runs(autologged) == []


def test_skops_dump_records_the_model(autologged: Workspace, tmp_path: Path) -> None:
    """skops.io.dump of a fitted estimator records the model too."""
    sio = pytest.importorskip("skops.io", reason="skops is not installed")
    model = LogisticRegression().fit(*_data())
    sio.dump(model, tmp_path / "m.skops")
    assert "model:m" in upstream(autologged, "model:m").asset_ids()
