"""Benchmark tutela.digest: file throughput, table fingerprint time, directory walk rate.

Run: .venv/bin/python bench/digest.py [--file-gb 2] [--rows 1000000]
Goals (issue): file digest >= 1 GB/s (hashlib's speed); 1,000,000 x 20 table < 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutela.digest import dir_digest, file_digest, table_digest


def best_of(repeats: int, func: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_file(gigabytes: float) -> None:
    size = int(gigabytes * (1 << 30))
    with tempfile.TemporaryDirectory(prefix="tutela-bench-", dir="/tmp") as tmp:
        path = Path(tmp) / "big.bin"
        block = os.urandom(1 << 24)
        with path.open("wb") as out:
            written = 0
            while written < size:
                out.write(block[: min(len(block), size - written)])
                written += len(block)

        def with_hashlib() -> str:
            with path.open("rb") as f:
                return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()

        def with_openssl() -> str:
            out = subprocess.run(
                ["openssl", "dgst", "-sha256", "-r", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            return "sha256:" + out.stdout.split()[0]

        with_hashlib()  # warm the page cache so all three read from memory
        ours_t, ours = best_of(3, lambda: file_digest(path).digest)
        lib_t, lib = best_of(3, with_hashlib)
        timings = {"tutela.file_digest": ours_t, "hashlib.file_digest": lib_t}
        if shutil.which("openssl"):
            ssl_t, ssl = best_of(3, with_openssl)
            timings["openssl dgst -sha256"] = ssl_t
            assert ssl == ours, "openssl disagrees"
        assert lib == ours, "hashlib disagrees"
    print(f"\n(1) file digest, {size / 1e9:.2f} GB from page cache (best of 3)")
    for name, seconds in timings.items():
        print(
            f"  {name:24s} {seconds:7.3f} s  {size / seconds / 1e9:6.2f} GB/s  "
            f"ratio to tutela {seconds / ours_t:5.2f}"
        )


def make_arrow(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(7)
    columns: dict[str, Any] = {}
    mask = rng.random(rows) < 0.05
    for i in range(7):
        columns[f"i{i}"] = pa.array(
            rng.integers(-(10**12), 10**12, rows), mask=mask if i % 2 else None
        )
    for i in range(7):
        columns[f"f{i}"] = pa.array(rng.standard_normal(rows), mask=mask if i % 2 else None)
    words = np.array([f"w{n:06d}" * (1 + n % 3) for n in range(5000)], dtype=object)
    for i in range(6):
        picked = words[rng.integers(0, len(words), rows)]
        columns[f"s{i}"] = pa.array(picked, type=pa.large_string(), mask=mask if i % 2 else None)
    return pa.table(columns)


def bench_tables(rows: int) -> None:
    import pandas as pd
    import polars as pl

    arrow = make_arrow(rows)
    frames: dict[str, Any] = {
        "pyarrow.Table": arrow,
        "polars.DataFrame": pl.from_arrow(arrow),
        "pandas.DataFrame": arrow.to_pandas(types_mapper=pd.ArrowDtype),
        "pandas (numpy dtypes)": arrow.to_pandas(),
    }
    print(f"\n(2) table_digest, {rows:,} rows x {arrow.num_columns} columns (best of 3)")
    digests = {}
    for name, frame in frames.items():
        seconds, result = best_of(3, lambda frame=frame: table_digest(frame))
        digests[name] = result.digest
        print(f"  {name:24s} {seconds:7.3f} s  {result.digest[:23]}...")
    agree = len({digests[n] for n in ("pyarrow.Table", "polars.DataFrame", "pandas.DataFrame")})
    print(f"  pyarrow/polars/pandas(ArrowDtype) digests agree: {agree == 1}")


def bench_dir() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    dir_digest(site)  # warm the page cache
    seconds, result = best_of(2, lambda: dir_digest(site))
    files = sum(1 for e in result.manifest.entries if e.type == "file")
    size = sum(e.size or 0 for e in result.manifest.entries)
    print(f"\n(3) dir_digest over {site} (best of 2)")
    print(
        f"  {len(result.manifest.entries):,} entries, {files:,} files, {size / 1e6:.0f} MB: "
        f"{seconds:.2f} s, {files / seconds:,.0f} files/s, {size / seconds / 1e9:.2f} GB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file-gb", type=float, default=2.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-file", action="store_true")
    args = parser.parse_args()
    if not args.skip_file:
        bench_file(args.file_gb)
    bench_tables(args.rows)
    bench_dir()


if __name__ == "__main__":
    main()
