"""`--engine dask`: per-fragment profiles merged on a local cluster equal the local path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from tutela.monitor.drift import compare
from tutela.monitor.engine_dask import profile_parquet_dask
from tutela.monitor.ingest import profile_file
from tutela.monitor.profile import CategoricalProfile, NumericProfile


def _dataset(tmp: Path) -> Path:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    # Forty copies with jitter: 22,760 rows written as 8 fragments of a parquet dataset.
    rng = np.random.default_rng(0)
    big = pd.concat([frame] * 40, ignore_index=True)
    numeric = big.columns[:-2]
    big[numeric] = big[numeric] * rng.normal(1, 0.01, (len(big), len(numeric)))
    folder = tmp / "dataset"
    folder.mkdir()
    for i, start in enumerate(range(0, len(big), 2845)):
        big.iloc[start : start + 2845].to_parquet(folder / f"part-{i}.parquet")
    return folder


@pytest.mark.timeout(120)
def test_dask_profiles_equal_the_in_process_path(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    folder = _dataset(tmp_path)
    local = profile_file(folder)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = profile_parquet_dask(folder, client=client)
    assert remote.rows == local.rows == 22_760
    assert set(remote.columns) == set(local.columns)
    for name, col in local.columns.items():
        other = remote.columns[name]
        assert (other.count, other.missing) == (col.count, col.missing)
        if isinstance(col, NumericProfile):
            assert isinstance(other, NumericProfile)
            assert other.moments.n == col.moments.n
            assert other.moments.mean == pytest.approx(col.moments.mean, rel=1e-12)
            assert other.moments.m2 == pytest.approx(col.moments.m2, rel=1e-9)
            points = np.unique(col.quantiles(np.linspace(0.0, 1.0, 41)))
            # Both CDFs are within their rank error of the truth, hence of each other.
            gap = np.abs(col.cdf(points) - other.cdf(points))
            assert gap.max() <= col.rank_error + other.rank_error
        else:
            assert isinstance(col, CategoricalProfile) and isinstance(other, CategoricalProfile)
            assert other.counts == col.counts
    assert compare(local, remote).drifted_columns == []
