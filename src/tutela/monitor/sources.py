"""Resolve what a command compares: a table file, a saved profile file, or a stored window."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tutela.errors import InputError
from tutela.monitor.profile import TableProfile

if TYPE_CHECKING:
    from tutela.workspace import Workspace

__all__ = ["PROFILE_SUFFIX", "load_pair", "load_profile", "profile_path"]

PROFILE_SUFFIX = ".tprof"
MAX_PROFILE_FILE = 256 << 20


def profile_path(
    path: Path,
    *,
    engine: str = "local",
    columns: Sequence[str] | None = None,
    reservoir: int = 0,
    client: object = None,
) -> TableProfile:
    """Profile a table file (or load a saved profile) with the chosen engine."""
    if path.suffix == PROFILE_SUFFIX:
        size = path.stat().st_size if path.exists() else -1
        if size < 0:
            raise InputError("no such file", subject=str(path))
        if size > MAX_PROFILE_FILE:
            raise InputError(
                "profile file too large",
                subject=str(path),
                expected=f"at most {MAX_PROFILE_FILE} bytes",
            )
        return TableProfile.from_bytes(path.read_bytes())
    if engine == "dask":
        from tutela.monitor.engine_dask import profile_parquet_dask
        from tutela.monitor.ingest import table_format

        if table_format(path) != "parquet":
            raise InputError("--engine dask reads parquet only", subject=str(path))
        return profile_parquet_dask(path, columns=columns, client=client, reservoir=reservoir)
    if engine != "local":
        raise InputError("unknown engine", found=engine, expected="local or dask")
    from tutela.monitor.ingest import profile_file

    return profile_file(path, columns=columns, reservoir=reservoir)


def load_profile(
    ref: str,
    ws: Workspace | None,
    *,
    engine: str = "local",
    columns: Sequence[str] | None = None,
    reservoir: int = 0,
) -> TableProfile:
    """``window:ID`` a stored window, ``lineage:MODEL`` its training data, else a file."""
    if ref.startswith("lineage:"):
        if ws is None:
            raise InputError("lineage references need a workspace", subject=ref)
        path = training_data(ws, ref.removeprefix("lineage:"))
        return profile_path(path, engine=engine, columns=columns, reservoir=reservoir)
    if ref.startswith("window:"):
        if ws is None:
            raise InputError(
                "stored windows need a workspace",
                subject=ref,
                hint="run inside a workspace or pass --workspace",
            )
        from tutela.monitor.storage import load_window

        profile, _ = load_window(ws, ref.removeprefix("window:"))
        return profile
    return profile_path(Path(ref), engine=engine, columns=columns, reservoir=reservoir)


def load_pair(
    reference: str,
    current: str,
    ws: Workspace | None,
    *,
    engine: str = "local",
    columns: Sequence[str] | None = None,
    reservoir: int = 0,
) -> tuple[TableProfile, TableProfile]:
    """Both sides of a comparison, profiled at the same time.

    Two threads: parquet decoding and numpy release the GIL, so profiling two tables side
    by side takes little more than the larger one alone. Stored windows need the workspace's
    session, which is not shared across threads, so those load one after the other.
    """

    def one(ref: str) -> TableProfile:
        return load_profile(ref, ws, engine=engine, columns=columns, reservoir=reservoir)

    if engine != "local" or any(
        r.startswith(("window:", "lineage:")) for r in (reference, current)
    ):
        return one(reference), one(current)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tutela-profile") as pool:
        ref_future, cur_future = pool.submit(one, reference), pool.submit(one, current)
        return ref_future.result(), cur_future.result()


def training_data(ws: Workspace, model: str) -> Path:
    """The file the model's latest version was ``trained_on``, from the lineage links."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from tutela.store.models import Link, LinkKind, Version

    asset_id = model if ":" in model else f"model:{model}"
    data = aliased(Version)
    with ws.reader() as session:
        latest = session.execute(
            select(Version)
            .where(Version.asset_id == asset_id)
            .order_by(Version.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if latest is None:
            raise InputError(
                "no recorded version of the model",
                subject=asset_id,
                hint="record its training run with tutela.run(...)",
            )
        rows = (
            session.execute(
                select(data.location)
                .join(Link, Link.dst_version_id == data.id)
                .where(Link.src_version_id == latest.id, Link.kind == LinkKind.TRAINED_ON)
            )
            .scalars()
            .all()
        )
    tables = [Path(r) for r in rows if r and Path(r).suffix.lower() in _TABLES]
    if not tables:
        raise InputError(
            "the model has no trained_on table file in its lineage",
            subject=asset_id,
            hint="pass the reference table explicitly",
        )
    if len(tables) > 1:
        raise InputError(
            "the model was trained on several tables",
            subject=asset_id,
            found=", ".join(str(t) for t in tables[:5]),
            hint="pass the one to use as reference explicitly",
        )
    return tables[0]


_TABLES = {".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json"}
