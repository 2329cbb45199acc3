"""Files saved by the real libraries produce no finding above info."""

from __future__ import annotations

import collections
import datetime
import decimal
import io
import pickle
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest
from picklecraft import above_info, scan

PROTOCOLS = range(6)


def _basic() -> list[Any]:
    return [
        {1: 2, "a": [1, 2.5, None, True]},
        {1, 2},
        frozenset({3}),
        b"xy",
        bytearray(b"ab"),
        3 + 4j,
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.date(2024, 1, 2),
        datetime.timedelta(3),
        decimal.Decimal("1.5"),
        collections.OrderedDict(a=1),
        collections.defaultdict(list, a=[1]),
        collections.Counter("abc"),
        collections.deque([1, 2]),
        2**100,
        "ü" * 3,
        "x" * 5000,
        b"y" * 5000,
    ]


def _numpy() -> list[Any]:
    return [
        np.arange(10),
        np.zeros((3, 3), dtype=np.float32),
        np.array([1 + 2j]),
        np.array(["a", "bc"]),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.array([1, "x", None], dtype=object),
        np.float64(3.5),
        np.int32(2),
        np.bool_(True),
        np.datetime64("2020-01-01"),
        np.array(["2020-01-01"], dtype="datetime64[ns]"),
        np.ma.masked_array([1, 2], [0, 1]),
        np.random.RandomState(0),
        np.random.default_rng(0),
    ]


def _pandas() -> list[Any]:
    frame = pd.DataFrame(
        {
            "a": [1, 2],
            "b": [1.5, 2.5],
            "c": ["x", "y"],
            "d": pd.Categorical(["u", "v"]),
            "e": pd.to_datetime(["2020-01-01", "2021-01-01"]),
            "f": pd.to_timedelta([1, 2], unit="s"),
            "g": pd.array([1, None], dtype="Int64"),
        }
    )
    return [
        frame,
        pd.Series([1, 2], index=["a", "b"], name="s"),
        pd.date_range("2020", periods=3, tz="UTC"),
        pd.Series(pd.Categorical(["a", "b", "a"], ordered=True)),
        pd.Timestamp("2020-01-01"),
        pd.NaT,
        pd.MultiIndex.from_tuples([(1, "a")]),
        pd.Interval(1, 2),
        pd.Period("2020-01", freq="M"),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("family", ["basic", "numpy", "pandas"])
def test_standard_objects_are_clean(family: str, protocol: int) -> None:
    """Builtins, collections, numpy and pandas objects in every protocol: nothing above info."""
    objects = {"basic": _basic, "numpy": _numpy, "pandas": _pandas}[family]()
    for obj in objects:
        result = scan(pickle.dumps(obj, protocol=protocol))
        assert above_info(result) == [], (type(obj), above_info(result))
        assert result.inconclusive == []
        assert result.pickles == 1


def _estimators() -> list[Any]:
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.RandomState(0)
    x = rng.rand(40, 4)
    y = (x[:, 0] > 0.5).astype(int)
    models: list[Any] = [
        LogisticRegression(),
        RandomForestClassifier(n_estimators=2, random_state=np.random.RandomState(1)),
        GradientBoostingClassifier(n_estimators=2),
        HistGradientBoostingClassifier(max_iter=2),
        make_pipeline(StandardScaler(), PCA(2), SVC()),
        DecisionTreeRegressor(),
        KNeighborsClassifier(algorithm="kd_tree"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in models:
            model.fit(x, y)
        # Multi-class gradient boosting pickles its Cython loss through __pyx_unpickle.
        y3 = np.digitize(x[:, 0], [0.33, 0.66])
        models.append(GradientBoostingClassifier(n_estimators=2).fit(x, y3))
        table = pd.DataFrame({"a": ["x", "y"] * 20, "b": x[:, 1]})
        columns = ColumnTransformer(
            [("oh", OneHotEncoder(), ["a"]), ("sc", StandardScaler(), ["b"])]
        )
        models.append(Pipeline([("ct", columns), ("lr", LogisticRegression())]).fit(table, y))
        models.append(TfidfVectorizer().fit(["alpha beta gamma", "beta delta"]))
    return models


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_scikit_learn_estimators_are_clean(protocol: int) -> None:
    """Fitted scikit-learn estimators and pipelines: nothing above info."""
    for model in _estimators():
        result = scan(pickle.dumps(model, protocol=protocol))
        assert above_info(result) == [], (type(model).__name__, above_info(result))


def _torch_data_pkl(obj: Any) -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(obj, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return archive.read(name)


def test_torch_checkpoints_are_clean() -> None:
    """torch.save of state_dicts, whole modules and tensors: data.pkl has nothing above info."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.LSTM(3, 2), nn.Embedding(5, 2)
    )
    objects = [
        model.state_dict(),
        model,
        {"model": model.state_dict(), "opt": torch.optim.Adam(model.parameters()).state_dict()},
        torch.arange(5),
        torch.zeros(2, dtype=torch.bfloat16),
        nn.Parameter(torch.ones(2)),
    ]
    for obj in objects:
        result = scan(_torch_data_pkl(obj))
        assert above_info(result) == [], above_info(result)
        assert "torch._utils._rebuild_tensor_v2" in result.imports
        assert any(f.rule_id == "pickle.persistent-id" for f in result.findings)


def test_torch_legacy_format_reads_every_pickle() -> None:
    """The legacy torch format (several pickles, then raw storages) reads all five pickles."""
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf, _use_new_zipfile_serialization=False)
    result = scan(buf.getvalue(), max_pickles=5)
    assert result.pickles == 5
    assert above_info(result) == []
    rest = scan(buf.getvalue())
    assert {f.rule_id for f in rest.findings if f.severity > 0} == {"pickle.trailing-data"}
