"""More real objects saved by their libraries: nothing above info.

Each case here was once reported as an unknown import; the allowlist now names it.
"""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tutela.scan.interface import Limits, Severity
from tutela.scan.pickle import ByteSource, analyze_pickle


def _above_info(obj: object) -> list[str]:
    out = []
    for proto in (2, 4, 5):
        data = pickle.dumps(obj, protocol=proto)
        result = analyze_pickle(ByteSource.from_bytes(data), member=None, limits=Limits())
        out += [f"{f.rule_id}:{f.callable}" for f in result.findings if f.severity > Severity.INFO]
    return out


def _fitted(name: str) -> object:
    from sklearn.utils import all_estimators

    cls = dict(all_estimators())[name]
    x = np.random.default_rng(0).random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls().fit(x, y)


@pytest.mark.parametrize(
    "name",
    [
        "SelectKBest",
        "SelectFdr",
        "GenericUnivariateSelect",
        "FeatureAgglomeration",
        "BisectingKMeans",
        "SplineTransformer",
        "SpectralEmbedding",
        "KMeans",
        "HistGradientBoostingClassifier",
        "KNeighborsClassifier",
    ],
)
def test_sklearn_estimators(name: str) -> None:
    """Fitted scikit-learn estimators, with function hyper-parameters, are clean."""
    assert _above_info(_fitted(name)) == []


@pytest.mark.parametrize(
    "obj",
    [
        sp.csr_matrix(np.eye(3)),
        sp.csc_matrix(np.eye(2)),
        sp.coo_matrix(np.eye(2)),
        sp.csr_array(np.eye(2)),
        re.compile(r"a+b", re.IGNORECASE),
        pd.array(["a", None], dtype="string"),
        pd.DataFrame({"i": pd.IntervalIndex.from_breaks([0, 1, 2])}),
    ],
    ids=["csr", "csc", "coo", "csr_array", "regex", "string-array", "intervals"],
)
def test_scipy_pandas_stdlib(obj: object) -> None:
    """Sparse matrices, regexes and pandas NA / interval data are clean."""
    assert _above_info(obj) == []
