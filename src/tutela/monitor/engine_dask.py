"""`--engine dask`: one profile per parquet fragment, computed by Dask, merged pairwise.

Each task reads its own fragment with pyarrow and returns the profile's bytes (DataSketches
objects do not pickle), so a dataset larger than memory is profiled in bounded memory per
worker. The result equals the in-process path exactly for counts, missing values and
category counts, to rounding for moments, and within the sketch's rank error for quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tutela.errors import InputError
from tutela.monitor.profile import TableProfile

__all__ = ["profile_parquet_dask"]


def _fragment_profile(path: str, columns: list[str] | None, reservoir: int, seed: int) -> bytes:
    import pyarrow.parquet as pq

    from tutela.monitor.ingest import BATCH_ROWS, profile_batches

    handle = pq.ParquetFile(path)
    batches = handle.iter_batches(batch_size=BATCH_ROWS, columns=columns)
    return profile_batches(batches, columns=columns, reservoir=reservoir, seed=seed).to_bytes()


def _merge(a: bytes, b: bytes) -> bytes:
    return TableProfile.from_bytes(a).merge(TableProfile.from_bytes(b)).to_bytes()


def fragment_paths(path: Path) -> list[str]:
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet")
    files = sorted(str(f) for f in dataset.files)
    if not files:
        raise InputError("no parquet files found", subject=str(path))
    return files


def profile_parquet_dask(
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    client: Any = None,
    reservoir: int = 0,
    seed: int = 0,
) -> TableProfile:
    """Profile a parquet file or directory with Dask (the given client, else local threads)."""
    from dask.delayed import delayed

    names = list(columns) if columns is not None else None
    parts: list[Any] = [
        delayed(_fragment_profile)(f, names, reservoir, seed + i)
        for i, f in enumerate(fragment_paths(path))
    ]
    while len(parts) > 1:  # a balanced tree of merges: depth log2(fragments)
        pairs = [delayed(_merge)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    if client is not None:
        blob = client.compute(parts[0]).result()
    else:
        blob = parts[0].compute(scheduler="threads")
    profile = TableProfile.from_bytes(blob)
    profile.meta["source"] = str(path)
    profile.meta["engine"] = "dask"
    return profile
